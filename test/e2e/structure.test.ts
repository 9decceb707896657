/**
 * End-to-end: the Structure page in Chromium against serve. The hand-written hairpin PDB is
 * opened in the page, its chain A aligned to a dataset sequence that differs at one residue
 * (identity 27 / 28, computed here independently), the tiny golden model's contacts and attention
 * computed by a job, contact lines counted against the API's probabilities at two thresholds, a
 * residue clicked in 3D and a position clicked on the contact map, with screenshots. The golden ESM C
 * tiny model (no contact head) is offered for attention only: its attention colours the residues and
 * fills the linked map, the contact parts say why they are off, and its last layer's attention
 * matches the golden reference.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { launchChromium, screenshot } from '../support/browser';
import { loadGolden, seqKey } from '../support/golden';
import { ROOT, startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

const PDB = readFileSync(join(ROOT, 'test', 'fixtures', 'structures', 'hairpin.pdb'));
/** Chain A of hairpin.pdb, read off its ATOM/HETATM records by hand (MSE 14 counts as M). */
const CHAIN_A = 'AEELLKRAEELLGMPDKALEELAKKLLE';
/** The dataset's protein: two extra residues before chain A, and L5 → I (one difference in 28). */
const PROTEIN = `MS${CHAIN_A.slice(0, 4)}I${CHAIN_A.slice(5)}GS`;
const OFFSET = 2;

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;
let projectId: number;

/** Pixels of the 3D canvas that are not background (the clear colour is transparent), and a colour checksum. */
function canvasPixels(): Promise<{ painted: number; total: number; checksum: number }> {
  return page.evaluate(() => {
    const source = document.querySelector('[data-testid="structure-canvas-host"] canvas') as HTMLCanvasElement;
    const copy = document.createElement('canvas');
    copy.width = source.width;
    copy.height = source.height;
    const context = copy.getContext('2d')!;
    context.drawImage(source, 0, 0);
    const data = context.getImageData(0, 0, copy.width, copy.height).data;
    let painted = 0;
    let checksum = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 0) painted++;
      checksum = (checksum * 31 + data[i]! * 7 + data[i + 1]! * 3 + data[i + 2]!) % 1_000_000_007;
    }
    return { painted, total: data.length / 4, checksum };
  });
}

/** Contacts the page should draw at `threshold`: pairs ≥ 6 apart whose both residues are in the structure. */
function expectedLines(probabilities: number[], length: number, threshold: number): number {
  let count = 0;
  const inStructure = (p: number): boolean => p >= OFFSET && p < OFFSET + CHAIN_A.length;
  for (let i = 0; i < length; i++) {
    for (let j = i + 6; j < length; j++) if (inStructure(i) && inStructure(j) && probabilities[i * length + j]! >= threshold) count++;
  }
  return count;
}

async function setThreshold(value: number): Promise<void> {
  await page.getByTestId('structure-threshold').fill(value.toFixed(2));
  await expect.poll(() => page.getByTestId('structure-threshold-value').textContent()).toBe(value.toFixed(2));
}

beforeAll(async () => {
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1100 } });
  const project = await api.call<{ id: number }>('projects.create', { name: 'Structures' });
  projectId = project.id;
  const fasta = `>decoy1\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n>hairpin_l5i\n${PROTEIN}\n>decoy2\nGSHMSSGLVPRGSHMASMTGGQQMGRGS\n`;
  await api.call('datasets.import', { projectId, source: { kind: 'text', fileName: 'hairpins.fasta', text: fasta } });
});

afterAll(async () => {
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

describe('the Structure page', () => {
  it('opens a PDB file in the page and aligns its chain to the dataset sequence', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').filter({ hasText: 'Structures' }).getByTestId('project-open').click();
    await page.getByTestId('nav-structure').click();
    await expect.poll(() => page.getByTestId('empty-state').filter({ hasText: 'No structure loaded' }).count()).toBe(1);

    await page.getByTestId('structure-file').setInputFiles({ name: 'hairpin.pdb', mimeType: 'chemical/x-pdb', buffer: PDB });
    await expect.poll(async () => (await page.getByTestId('structure-summary').textContent())?.replace(/\s+/g, ' ')).toContain('2 chains, 34 residues, 178 atoms, 1 ligand, 2 waters');
    // No model yet: the page says where to get one.
    await page.getByTestId('structure-goto-models').waitFor();

    // Chain A (the longest) is matched to the one sequence it belongs to.
    expect(await page.getByTestId('structure-sequence').locator('option:checked').textContent()).toContain('hairpin_l5i');
    let identical = 0;
    for (let k = 0; k < CHAIN_A.length; k++) if (CHAIN_A[k] === PROTEIN[OFFSET + k]) identical++;
    expect(identical).toBe(27);
    const identity = page.getByTestId('structure-identity');
    await expect.poll(() => identity.textContent()).toBe(`Identity ${((identical / CHAIN_A.length) * 100).toFixed(1)} %`);

    await expect.poll(() => page.getByTestId('structure-viewer').getAttribute('data-ready')).toBe('true');
    await page.getByTestId('structure-legend').waitFor();
    expect(await page.getByTestId('structure-legend').textContent()).toContain('Secondary structure');
    // The cartoon is drawn: a real share of the canvas is painted, in several colours.
    await expect.poll(async () => (await canvasPixels()).painted / (await canvasPixels()).total).toBeGreaterThan(0.02);
    await screenshot(page, '80-structure-loaded');
  });

  it('computes attention and contacts with a model and draws contacts above the threshold', async () => {
    // ESM C has no contact head: with only an ESM C model it is offered for attention only, and the page says so.
    const esmc = await api.call<Job>('jobs.start', { kind: 'model.install', path: join(loadGolden('esmc-tiny').checkpoint, 'esm') });
    expect((await api.waitForJob(esmc.id)).state).toBe('done');
    await page.getByTestId('structure-model').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('structure-model').locator('option').allTextContents()).toEqual([expect.stringContaining('(ESM C, attention only)')]);
    expect(await page.getByTestId('structure-no-contact-head').textContent()).toContain('ESM C has no contact head: attention only.');
    expect(await page.getByTestId('structure-compute').textContent()).toContain('Compute attention');
    expect(await page.getByTestId('structure-threshold').count()).toBe(0);

    const install = await api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    expect((await api.waitForJob(install.id)).state).toBe('done');
    await expect.poll(() => page.getByTestId('structure-model').locator('option').count(), { timeout: 20_000 }).toBe(2);
    // Both are offered, the ESM C one marked attention only; with the ESM-2 model chosen the contact parts are on.
    const esm2 = (await api.call<{ name: string; family: string }[]>('models.list', {})).find((m) => m.family === 'ESM-2')!;
    await page.getByTestId('structure-model').selectOption({ label: `${esm2.name} (ESM-2)` });
    await expect.poll(() => page.getByTestId('structure-no-contact-head').count()).toBe(0);
    expect(await page.getByTestId('structure-compute').textContent()).toContain('Compute attention and contacts');

    const before = await canvasPixels();
    await page.getByTestId('structure-compute').click();
    await page.getByTestId('structure-analysis-ready').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('structure-analysis-ready').textContent()).toContain('2 layers × 4 heads');
    // The residues are now coloured by attention, and the legend says so with its range.
    await expect.poll(() => page.getByTestId('structure-legend').textContent()).toContain('Attention received on average (layer 1, mean of heads)');
    await expect.poll(async () => (await canvasPixels()).checksum).not.toBe(before.checksum);

    // The same analysis, read through the API, gives the probabilities to count lines independently.
    const model = (await api.call<{ id: number; hasContacts: boolean }[]>('models.list', {})).find((m) => m.hasContacts);
    const analysis = await api.call<{ key: string; ready: boolean }>('structure.inspect', { projectId, modelId: model!.id, sequence: PROTEIN });
    expect(analysis.ready).toBe(true);
    const { contacts, length } = await api.call<{ contacts: number[]; length: number }>('structure.contacts', { projectId, key: analysis.key });
    expect(length).toBe(PROTEIN.length);
    const inside: number[] = [];
    for (let i = OFFSET; i < OFFSET + CHAIN_A.length; i++) for (let j = i + 6; j < OFFSET + CHAIN_A.length; j++) inside.push(contacts[i * length + j]!);
    inside.sort((a, b) => a - b);
    const clamp = (t: number): number => Math.min(0.95, Math.max(0.05, t));
    const low = clamp(Math.floor(inside[Math.floor(inside.length * 0.2)]! * 100) / 100);
    const high = clamp(Math.ceil(inside[Math.floor(inside.length * 0.8)]! * 100) / 100);
    const lowCount = expectedLines(contacts, length, low);
    const highCount = expectedLines(contacts, length, high);
    expect(lowCount).toBeGreaterThan(highCount);

    const viewer = page.getByTestId('structure-viewer');
    await setThreshold(low);
    await expect.poll(() => viewer.getAttribute('data-contact-lines')).toBe(String(lowCount));
    await screenshot(page, '81-structure-contacts-low-threshold');
    await setThreshold(high);
    await expect.poll(() => viewer.getAttribute('data-contact-lines')).toBe(String(highCount));
    expect(await page.getByTestId('structure-contact-count').textContent()).toContain(`${highCount} predicted contact`);

    // Another layer and head recolour the residues.
    const layerOne = await canvasPixels();
    await page.getByTestId('structure-layer').selectOption('2');
    await page.getByTestId('structure-head').selectOption({ label: '2' });
    await expect.poll(() => page.getByTestId('structure-legend').textContent()).toContain('layer 2, head 2');
    await expect.poll(async () => (await canvasPixels()).checksum).not.toBe(layerOne.checksum);
  });

  it('selects a residue by clicking it in 3D and a position on the contact map', async () => {
    const canvas = page.locator('[data-testid="structure-canvas-host"] canvas');
    const box = (await canvas.boundingBox())!;
    // Sweep clicks across the middle of the view until one lands on a residue.
    for (let fx = 0.2; fx <= 0.8 && !(await page.getByTestId('structure-picked').count()); fx += 0.02) {
      for (const fy of [0.5, 0.4, 0.6, 0.3, 0.7]) {
        await canvas.click({ position: { x: box.width * fx, y: box.height * fy } });
        if (await page.getByTestId('structure-picked').count()) break;
      }
    }
    const picked = await page.getByTestId('structure-picked').textContent();
    expect(picked).toMatch(/Clicked [AB]\d+/);
    const map = page.getByTestId('contact-map');
    if (picked!.startsWith('Clicked A')) {
      // A residue of the aligned chain selects its sequence position: residue A<n> is position n + 2.
      const residue = Number(/Clicked A(\d+)/.exec(picked!)![1]);
      await expect.poll(() => map.getAttribute('data-selected')).toBe(String(residue + OFFSET));
      await expect.poll(() => page.getByTestId('structure-legend').textContent()).toContain(`to residue ${residue + OFFSET}`);
    }
    await screenshot(page, '82-structure-residue-clicked');

    // Clicking the contact map's column of position 10 selects it (and the attention follows).
    const mapBox = (await map.boundingBox())!;
    await map.click({ position: { x: ((10 - 0.5) / PROTEIN.length) * mapBox.width, y: mapBox.height * 0.9 } });
    await expect.poll(() => map.getAttribute('data-selected')).toBe('10');
    await expect.poll(() => page.getByTestId('structure-legend').textContent()).toContain('to residue 10');
    await screenshot(page, '83-structure-contact-map');
  });

  it('offers an ESM C model for attention only: attention colours the residues and fills the linked map', async () => {
    const models = await api.call<{ id: number; name: string; family: string; hasContacts: boolean }[]>('models.list', {});
    const esmc = models.find((m) => m.family === 'ESM C')!;
    expect(esmc.hasContacts).toBe(false);
    await page.getByTestId('structure-model').selectOption({ label: `${esmc.name} (ESM C, attention only)` });
    await expect.poll(() => page.getByTestId('structure-no-contact-head').textContent()).toContain('ESM C has no contact head: attention only.');
    // The contact parts are off, each saying why.
    expect(await page.getByTestId('structure-threshold').count()).toBe(0);
    expect(await page.getByTestId('structure-threshold-off').textContent()).toContain('Contact threshold off. ESM C has no contact head');
    expect(await page.getByTestId('structure-track').locator('option[value="contacts"]').isDisabled()).toBe(true);

    const before = await canvasPixels();
    await page.getByTestId('structure-compute').click();
    await expect.poll(() => page.getByTestId('structure-analysis-ready').textContent(), { timeout: 60_000 }).toContain(esmc.name);
    const ready = await page.getByTestId('structure-analysis-ready').textContent();
    const [, layers, heads] = /(\d+) layers × (\d+) heads/.exec(ready!)!;
    expect(await page.getByTestId('structure-track').inputValue()).toBe('attention');
    await expect.poll(() => page.getByTestId('structure-legend').textContent()).toMatch(/Attention .*\(layer \d+, /);
    await expect.poll(async () => (await canvasPixels()).checksum).not.toBe(before.checksum);
    expect(await page.getByTestId('structure-viewer').getAttribute('data-contact-lines')).toBe('0');
    expect(await page.getByTestId('structure-contact-count').textContent()).toContain('no contact head');
    expect(await page.getByTestId('contact-map').getAttribute('data-upper')).toBe('attention');
    await page.getByTestId('structure-layer').selectOption(layers!);
    await page.getByTestId('structure-head').selectOption({ label: '1' });
    await expect.poll(() => page.getByTestId('structure-legend').textContent()).toContain(`layer ${layers}, head 1`);
    await page.getByTestId('contact-map').scrollIntoViewIfNeeded();
    await screenshot(page, '84-structure-esmc-attention');

    // Through the API: attention only (no contacts), and the analysis is marked so.
    const analysis = await api.call<{ key: string; ready: boolean; hasContacts: boolean }>('structure.inspect', { projectId, modelId: esmc.id, sequence: PROTEIN });
    expect(analysis).toMatchObject({ ready: true, hasContacts: false });
    const result = await api.call<{ contacts: number[] | null; heads: number }>('structure.contacts', { projectId, key: analysis.key });
    expect(result.contacts).toBeNull();
    expect(result.heads).toBe(Number(heads));

    // The last layer's attention of a golden sequence matches the original ESM C's within 1e-4.
    const golden = loadGolden('esmc-tiny');
    const reference = golden.sequences.find((s) => golden.has(seqKey(s.index, 'attn_last')) && s.length <= 40)!;
    const attnLast = golden.array(seqKey(reference.index, 'attn_last'));
    const goldenAnalysis = await api.call<{ key: string; ready: boolean; job: Job | null }>('structure.inspect', { projectId, modelId: esmc.id, sequence: reference.sequence });
    if (goldenAnalysis.job) expect((await api.waitForJob(goldenAnalysis.job.id)).state).toBe('done');
    const L = reference.length;
    const T = L + 2;
    for (let h = 0; h < Number(heads); h++) {
      const map = await api.call<{ values: number[]; length: number }>('structure.attentionMap', { projectId, key: goldenAnalysis.key, layer: Number(layers), head: h });
      expect(map.length).toBe(L);
      let worst = 0;
      for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) worst = Math.max(worst, Math.abs(map.values[i * L + j]! - attnLast.data[h * T * T + (i + 1) * T + (j + 1)]!));
      expect(worst).toBeLessThan(1e-4);
    }
  }, 120_000);
});
