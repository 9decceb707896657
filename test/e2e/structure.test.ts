/**
 * End-to-end: the Structure page (Mol*, WebGL through Chromium's SwiftShader) in Chromium against
 * serve. The hand-written hairpin PDB is
 * opened in the page, its chain A aligned to a dataset sequence that differs at one residue
 * (identity 27 / 28, computed here independently), the tiny golden model's contacts and attention
 * computed by a job, contact lines counted against the API's probabilities at two thresholds, a
 * residue clicked in 3D and a position clicked on the contact map (each selects it in both views),
 * with screenshots. A 300-residue AlphaFold-format mmCIF (pLDDT in the B-factor column) is coloured
 * by pLDDT and by attention (pixels sampled, light and dark themes), its contacts filtered by top L /
 * L/5 and by sequence separation, and both canvases' tooltips read; the console reports no CSP block
 * (Mol* runs under the app's script-src 'self'). The golden ESM C
 * tiny model (no contact head) is offered for attention only: its attention colours the residues and
 * fills the linked map, the contact parts say why they are off, and its last layer's attention
 * matches the golden reference.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { alphaFoldResidues, LENGTH as AF_LENGTH } from '../support/alphafold-mmcif';
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
/** The three-letter name of residue A<n> in hairpin.pdb (14 is selenomethionine, MSE, read as M). */
const threeLetter = (n: number): string =>
  n === 14 ? 'MSE' : ({ A: 'ALA', D: 'ASP', E: 'GLU', G: 'GLY', K: 'LYS', L: 'LEU', M: 'MET', P: 'PRO', R: 'ARG' } as Record<string, string>)[CHAIN_A[n - 1]!]!;
const AF_FILE = readFileSync(join(ROOT, 'test', 'fixtures', 'structures', 'AF-ESMSTUDIO300-F1-model_v4.cif'));
/** The AlphaFold-format model's residues as its generator made them (sequence and pLDDT). */
const AF = alphaFoldResidues();
const AF_SEQUENCE = AF.map((r) => r.code).join('');

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;
let projectId: number;
/** Console reports of blocked content: Mol* must run under the app's strict CSP (script-src 'self', no eval, no remote content). */
const cspViolations: string[] = [];

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

/**
 * Shares of the 3D canvas's pixels: painted (not the transparent background), clearly blue (pLDDT's
 * very high / confident bands) and warm (red, orange, yellow: the secondary-structure colours, pLDDT's low bands).
 */
function canvasColours(): Promise<{ painted: number; blue: number; warm: number }> {
  return page.evaluate(() => {
    const source = document.querySelector('[data-testid="structure-canvas-host"] canvas') as HTMLCanvasElement;
    const copy = document.createElement('canvas');
    copy.width = source.width;
    copy.height = source.height;
    const context = copy.getContext('2d')!;
    context.drawImage(source, 0, 0);
    const data = context.getImageData(0, 0, copy.width, copy.height).data;
    let painted = 0;
    let blue = 0;
    let warm = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! === 0) continue;
      painted++;
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      if (b > r + 60 && b > 100) blue++;
      if (r > b + 80 && r > g) warm++;
    }
    return { painted: painted / (data.length / 4), blue: blue / Math.max(1, painted), warm: warm / Math.max(1, painted) };
  });
}

/**
 * A point (page coordinates) on the structure as drawn: the painted pixel with the most painted pixels
 * around it (a solid part of a helix, not an edge or a contact line), so a click or hover there hits a residue.
 */
async function pointOnStructure(awayFrom?: { x: number; y: number }): Promise<{ x: number; y: number }> {
  const found = await page.evaluate((away) => {
    const source = document.querySelector('[data-testid="structure-canvas-host"] canvas') as HTMLCanvasElement;
    const copy = document.createElement('canvas');
    copy.width = source.width;
    copy.height = source.height;
    const context = copy.getContext('2d')!;
    context.drawImage(source, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, copy.width, copy.height);
    // Painted and not orange: predicted-contact lines are orange, and a click on one picks no residue.
    const painted = (x: number, y: number): boolean => {
      if (x < 0 || y < 0 || x >= width || y >= height) return false;
      const at = (y * width + x) * 4;
      const orange = data[at]! > 180 && data[at + 1]! > 60 && data[at + 1]! < 200 && data[at + 2]! < 120;
      return data[at + 3]! > 0 && !orange;
    };
    const rect = source.getBoundingClientRect();
    // At least 40 px from `away` (page coordinates), for a second, different residue.
    const farEnough = (x: number, y: number): boolean => !away || Math.hypot(rect.left + x * (rect.width / width) - away.x, rect.top + y * (rect.height / height) - away.y) > 40;
    let best = { x: -1, y: -1, score: -1 };
    for (let y = 40; y < height - 4; y += 2) {
      for (let x = 4; x < width - 4; x += 2) {
        if (!painted(x, y) || !farEnough(x, y)) continue;
        let score = 0;
        for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) if (painted(x + dx, y + dy)) score++;
        if (score > best.score) best = { x, y, score };
      }
    }
    return { x: rect.left + (best.x + 0.5) * (rect.width / width), y: rect.top + (best.y + 0.5) * (rect.height / height), score: best.score };
  }, awayFrom ?? null);
  expect(found.score).toBeGreaterThan(20);
  return found;
}

/** Contacts the page should draw at `threshold`: pairs ≥ `separation` apart whose both residues are in the structure. */
function expectedLines(probabilities: number[], length: number, threshold: number, separation = 6, first = OFFSET, count = CHAIN_A.length): number {
  let lines = 0;
  const inStructure = (p: number): boolean => p >= first && p < first + count;
  for (let i = 0; i < length; i++) {
    for (let j = i + separation; j < length; j++) if (inStructure(i) && inStructure(j) && probabilities[i * length + j]! >= threshold) lines++;
  }
  return lines;
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
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (load|execute|evaluate|create)/i.test(message.text())) cspViolations.push(message.text());
  });
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

    await expect.poll(() => page.getByTestId('structure-viewer').getAttribute('data-ready'), { timeout: 60_000 }).toBe('true');
    await expect.poll(() => page.getByTestId('structure-viewer').getAttribute('data-coloring'), { timeout: 30_000 }).toBe('secondary');
    await page.getByTestId('structure-legend').waitFor();
    expect(await page.getByTestId('structure-legend').textContent()).toContain('Secondary structure');
    // The cartoon is drawn: a real share of the canvas is painted, in several colours.
    await expect.poll(async () => (await canvasPixels()).painted / (await canvasPixels()).total).toBeGreaterThan(0.02);
    await screenshot(page, '80-structure-loaded');

    // A molecular surface covers more of the view than the cartoon; ball-and-stick adds the side chains.
    const viewer = page.getByTestId('structure-viewer');
    const cartoon = (await canvasPixels()).painted;
    await page.getByTestId('structure-style-surface').check();
    await expect.poll(async () => (await canvasPixels()).painted, { timeout: 60_000 }).toBeGreaterThan(cartoon * 1.3);
    await page.getByTestId('structure-style-ball-and-stick').check();
    await screenshot(page, '80b-structure-surface-sticks');
    await page.getByTestId('structure-style-surface').uncheck();
    await page.getByTestId('structure-style-ball-and-stick').uncheck();
    await expect.poll(async () => (await canvasPixels()).painted, { timeout: 60_000 }).toBeLessThan(cartoon * 1.1);

    // Measuring: two clicked residues get a Cα–Cα distance.
    await viewer.scrollIntoViewIfNeeded();
    await page.getByTestId('structure-measure').click();
    const first = await pointOnStructure();
    await page.mouse.click(first.x, first.y);
    await expect.poll(() => page.getByTestId('structure-measure').textContent(), { timeout: 30_000 }).toMatch(/Distance from [AB]\d+: click a second residue/);
    const second = await pointOnStructure(first);
    await page.mouse.click(second.x, second.y);
    await expect.poll(() => viewer.getAttribute('data-measurements'), { timeout: 30_000 }).toBe('1');
    await screenshot(page, '80c-structure-measurement');
    await page.getByTestId('structure-clear-measurements').click();
    await expect.poll(() => viewer.getAttribute('data-measurements')).toBe('0');
    await page.getByTestId('structure-measure').click();
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
    await expect.poll(() => page.getByTestId('structure-viewer').getAttribute('data-coloring'), { timeout: 30_000 }).toBe('attention');
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
    await page.getByTestId('structure-viewer').scrollIntoViewIfNeeded();
    // Click where the structure is drawn (read off the canvas's pixels).
    const point = await pointOnStructure();
    await page.mouse.click(point.x, point.y);
    await page.getByTestId('structure-picked').waitFor({ timeout: 30_000 });
    const picked = (await page.getByTestId('structure-picked').textContent())!;
    // One wording: the file's chain, residue name and number, then the aligned sequence's position and letter.
    const [, chain, name, number] = /Selected: chain ([AB]) · ([A-Z]{3}) (\d+) \(file numbering\)/.exec(picked)!;
    const map = page.getByTestId('contact-map');
    const viewer = page.getByTestId('structure-viewer');
    if (chain === 'A') {
      // A residue of the aligned chain selects its sequence position: residue A<n> is position n + 2, the same letter.
      const residue = Number(number);
      const position = residue + OFFSET;
      expect(picked).toContain(`· position ${position} (${PROTEIN[position - 1]}) of hairpin_l5i`);
      expect(name).toBe(threeLetter(residue));
      await expect.poll(() => map.getAttribute('data-selected')).toBe(String(position));
      await expect.poll(() => viewer.getAttribute('data-selected')).toBe(`A:${residue}`);
      await expect.poll(() => page.getByTestId('structure-legend').textContent()).toContain(`to residue ${position}`);
    } else {
      expect(picked).toContain('chain A is the one aligned to the sequence');
    }
    await screenshot(page, '82-structure-residue-clicked');

    // Clicking the contact map's column of position 10 selects it in both views (A8 in 3D), and the attention follows.
    const mapBox = (await map.boundingBox())!;
    await map.click({ position: { x: ((10 - 0.5) / PROTEIN.length) * mapBox.width, y: mapBox.height * 0.9 } });
    await expect.poll(() => map.getAttribute('data-selected')).toBe('10');
    await expect.poll(() => viewer.getAttribute('data-selected')).toBe(`A:${10 - OFFSET}`);
    await expect.poll(() => page.getByTestId('structure-picked').textContent()).toContain(`Selected: chain A · ${threeLetter(10 - OFFSET)} ${10 - OFFSET} (file numbering) · position 10 (${PROTEIN[9]}) of hairpin_l5i`);
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

  it('opens a 300-residue AlphaFold mmCIF: pLDDT and attention colouring, top-L contacts, tooltips, in both themes', async () => {
    await api.call('datasets.import', { projectId, source: { kind: 'text', fileName: 'alphafold.fasta', text: `>af300\n${AF_SEQUENCE}\n` } });
    await page.getByTestId('nav-data').click();
    await page.getByTestId('nav-structure').click();
    await expect.poll(() => page.getByTestId('structure-dataset').locator('option').allTextContents()).toContain('alphafold');
    await page.getByTestId('structure-dataset').selectOption({ label: 'alphafold' });
    await page.getByTestId('structure-file').setInputFiles({ name: 'AF-ESMSTUDIO300-F1-model_v4.cif', mimeType: 'chemical/x-cif', buffer: AF_FILE });
    await expect.poll(async () => (await page.getByTestId('structure-summary').textContent())?.replace(/\s+/g, ' ')).toContain(`1 chain, ${AF_LENGTH} residues, ${4 * AF_LENGTH} atoms`);
    await expect.poll(() => page.getByTestId('structure-sequence').locator('option:checked').textContent()).toContain('af300');
    const viewer = page.getByTestId('structure-viewer');
    await expect.poll(() => viewer.getAttribute('data-coloring'), { timeout: 60_000 }).toBe('secondary');
    const secondary = await canvasColours();
    expect(secondary.painted).toBeGreaterThan(0.01);

    // pLDDT: AlphaFold's bands; the helices (pLDDT > 90 in this model) turn blue.
    await page.getByTestId('structure-track').selectOption('plddt');
    await expect.poll(() => viewer.getAttribute('data-coloring'), { timeout: 30_000 }).toBe('plddt');
    expect(await page.getByTestId('structure-legend').textContent()).toContain('Very high (> 90)');
    await expect.poll(async () => (await canvasColours()).blue, { timeout: 30_000 }).toBeGreaterThan(0.3);
    const plddt = await canvasColours();
    expect(plddt.painted).toBeGreaterThan(0.01);
    expect(secondary.blue).toBeLessThan(0.05);
    expect(plddt.warm).toBeGreaterThan(0); // the low and very low bands (loops, termini) are yellow and orange
    await viewer.scrollIntoViewIfNeeded();
    await screenshot(page, '85-structure-alphafold-plddt-light');
    await page.getByTestId('theme-toggle').click();
    await expect.poll(async () => (await canvasColours()).blue).toBeGreaterThan(0.3);
    await screenshot(page, '86-structure-alphafold-plddt-dark');
    await page.getByTestId('theme-toggle').click();

    // Hovering a residue names it, with its pLDDT read from the file (the generator's value).
    await viewer.scrollIntoViewIfNeeded();
    const tooltip = page.getByTestId('structure-tooltip');
    const onStructure = await pointOnStructure();
    await page.mouse.move(onStructure.x - 2, onStructure.y);
    await page.mouse.move(onStructure.x, onStructure.y);
    await tooltip.waitFor({ timeout: 30_000 });
    const hovered = (await tooltip.textContent())!;
    const [, residueName, residueNumber, position, letter, shownPlddt] = /chain A · ([A-Z]{3}) (\d+) \(file numbering\) · position (\d+) \(([A-Z])\) of af300 · B-factor\/pLDDT ([\d.]+)/.exec(hovered)!;
    expect(Number(position)).toBe(Number(residueNumber));
    expect(letter).toBe(AF_SEQUENCE[Number(position) - 1]);
    expect(residueName!.length).toBe(3);
    expect(Number(shownPlddt)).toBeCloseTo(AF[Number(residueNumber) - 1]!.plddt, 1);

    // Attention from the ESM-2 model: the track theme recolours the residues.
    const models = await api.call<{ id: number; name: string; family: string; hasContacts: boolean }[]>('models.list', {});
    const esm2 = models.find((m) => m.hasContacts)!;
    await page.getByTestId('structure-model').selectOption({ label: `${esm2.name} (ESM-2)` });
    await page.getByTestId('structure-compute').click();
    await expect.poll(() => page.getByTestId('structure-analysis-ready').textContent(), { timeout: 90_000 }).toContain(esm2.name);
    await page.getByTestId('structure-track').selectOption('attention');
    await expect.poll(() => viewer.getAttribute('data-coloring'), { timeout: 30_000 }).toBe('attention');
    await expect.poll(async () => (await canvasColours()).blue, { timeout: 30_000 }).toBeLessThan(plddt.blue / 2);
    await viewer.scrollIntoViewIfNeeded();
    await screenshot(page, '87-structure-alphafold-attention-light');
    await page.getByTestId('theme-toggle').click();
    await expect.poll(async () => (await canvasColours()).painted).toBeGreaterThan(0.01);
    await screenshot(page, '88-structure-alphafold-attention-dark');
    await page.getByTestId('theme-toggle').click();

    // Contacts: top L, L/5 (counts by arithmetic: every position is in the structure), and a separation.
    const analysis = await api.call<{ key: string }>('structure.inspect', { projectId, modelId: esm2.id, sequence: AF_SEQUENCE });
    const { contacts, length } = await api.call<{ contacts: number[]; length: number }>('structure.contacts', { projectId, key: analysis.key });
    expect(length).toBe(AF_LENGTH);
    await page.getByTestId('structure-contact-mode').selectOption('L');
    await expect.poll(() => viewer.getAttribute('data-contact-lines'), { timeout: 30_000 }).toBe(String(AF_LENGTH));
    await page.getByTestId('structure-contact-mode').selectOption('L/5');
    await expect.poll(() => viewer.getAttribute('data-contact-lines'), { timeout: 30_000 }).toBe(String(AF_LENGTH / 5));
    await screenshot(page, '89-structure-alphafold-top-l5');
    await page.getByTestId('structure-contact-mode').selectOption('threshold');
    await page.getByTestId('structure-threshold').fill('0.05');
    await page.getByTestId('structure-separation').fill('24');
    const separated = expectedLines(contacts, length, 0.05, 24, 0, AF_LENGTH);
    expect(separated).toBeLessThan(expectedLines(contacts, length, 0.05, 6, 0, AF_LENGTH));
    await expect.poll(() => viewer.getAttribute('data-contact-lines'), { timeout: 30_000 }).toBe(String(Math.min(separated, 3000)));

    // The contact map's tooltip: the pair, its probability and the structure's answer.
    const map = page.getByTestId('contact-map');
    await map.scrollIntoViewIfNeeded();
    const mapBox = (await map.boundingBox())!;
    const [i, j] = [40, 120];
    await page.mouse.move(mapBox.x + ((j + 0.5) / length) * mapBox.width, mapBox.y + ((i + 0.5) / length) * mapBox.height);
    await expect.poll(() => page.getByTestId('contact-map-tooltip').textContent()).toContain(
      `positions ${i + 1} (${AF_SEQUENCE[i]}) and ${j + 1} (${AF_SEQUENCE[j]}) of af300: predicted contact ${contacts[i * length + j]!.toFixed(2)}`,
    );

    // A click in 3D selects the residue in both views (with few contact lines, so the click lands on the protein).
    await page.getByTestId('structure-contact-mode').selectOption('L/5');
    await expect.poll(() => viewer.getAttribute('data-contact-lines'), { timeout: 30_000 }).toBe(String(AF_LENGTH / 5));
    await viewer.scrollIntoViewIfNeeded();
    const picked = page.getByTestId('structure-picked');
    const clickedBefore = await map.getAttribute('data-selected');
    const target = await pointOnStructure();
    await page.mouse.move(target.x - 2, target.y);
    await page.mouse.move(target.x, target.y);
    await expect.poll(() => tooltip.textContent(), { timeout: 30_000 }).toContain('of af300');
    await page.mouse.click(target.x, target.y);
    await expect.poll(() => map.getAttribute('data-selected'), { timeout: 30_000 }).not.toBe(clickedBefore);
    const selected = Number(await map.getAttribute('data-selected'));
    expect(await picked.textContent()).toContain(`position ${selected} (${AF_SEQUENCE[selected - 1]}) of af300`);
    await expect.poll(() => viewer.getAttribute('data-selected')).toBe(`A:${selected}`);
    await screenshot(page, '90-structure-alphafold-clicked');
    expect(cspViolations).toEqual([]);
  }, 240_000);

  it('offers a mutation scan’s wild type and colours residues by a saturation map’s mean effect, remembered across a reload', async () => {
    // A scan of the hairpin protein: its rows are variants; the wild type heads the Sequence list.
    const scanCsv = ['mutant,fitness', 'A3G,0.2', 'E4D,-0.4', 'I7V,0.1'].join('\n');
    await api.call('datasets.import', { projectId, source: { kind: 'text', fileName: 'hairpin-scan.csv', text: scanCsv }, options: { mutations: { wildType: PROTEIN } } });
    const models = await api.call<{ id: number; hasContacts: boolean }[]>('models.list', {});
    const job = await api.call<Job>('jobs.start', { kind: 'variants.saturate', projectId, modelIds: [models.find((m) => m.hasContacts)!.id], method: 'wt-marginal', wildType: PROTEIN, name: 'hairpin map' });
    expect((await api.waitForJob(job.id)).state).toBe('done');
    const map = await api.call<{ wildType: string; aminoAcids: string[]; maps: { scores: (number | null)[] }[] }>('variants.saturation', { runId: job.runId });
    // The legend's bound, computed here: the largest |mean over a position's 19 substitutions|.
    const scores = map.maps[map.maps.length - 1]!.scores;
    let bound = 0;
    for (let p = 0; p < PROTEIN.length; p++) {
      const values = map.aminoAcids.flatMap((aa, a) => (aa === PROTEIN[p] || scores[p * map.aminoAcids.length + a] === null ? [] : [scores[p * map.aminoAcids.length + a]!]));
      if (values.length > 0) bound = Math.max(bound, Math.abs(values.reduce((x, y) => x + y, 0) / values.length));
    }
    expect(bound).toBeGreaterThan(0);

    const openScanStructure = async (): Promise<void> => {
      await page.getByTestId('nav-projects').click();
      await page.getByTestId('project-row').filter({ hasText: 'Structures' }).getByTestId('project-open').click();
      await page.getByTestId('nav-structure').click();
      await page.getByTestId('structure-file').setInputFiles({ name: 'hairpin.pdb', mimeType: 'chemical/x-pdb', buffer: PDB });
      await expect.poll(() => page.getByTestId('structure-dataset').locator('option').allTextContents()).toContain('hairpin-scan');
      await page.getByTestId('structure-dataset').selectOption({ label: 'hairpin-scan' });
      await expect.poll(() => page.getByTestId('structure-sequence').locator('option').first().textContent()).toContain('Wild type');
      await expect.poll(() => page.getByTestId('structure-sequence').locator('option:checked').textContent()).toContain('Wild type');
    };
    await page.reload();
    await openScanStructure();
    expect(await page.getByTestId('structure-sequence').locator('option').count()).toBe(4); // the wild type and 3 variants
    await page.getByTestId('structure-track').selectOption('variants');
    await page.getByTestId('structure-variant-run').selectOption({ index: 1 });
    const viewer = page.getByTestId('structure-viewer');
    await expect.poll(() => viewer.getAttribute('data-coloring'), { timeout: 60_000 }).toBe('variants');
    expect(await page.getByTestId('structure-legend').textContent()).toContain('Mean variant effect (hairpin map');
    const max = Number(await page.getByTestId('legend-max').textContent());
    expect(Math.abs(max - bound) / bound).toBeLessThan(0.01);
    expect(Number(await page.getByTestId('legend-min').textContent())).toBeCloseTo(-max, 6);
    await screenshot(page, '91-structure-variant-effect');

    // After a reload the same colouring comes back once the structure is opened again.
    await page.reload();
    await openScanStructure();
    expect(await page.getByTestId('structure-track').inputValue()).toBe('variants');
    await expect.poll(() => viewer.getAttribute('data-coloring'), { timeout: 60_000 }).toBe('variants');
    expect(await page.getByTestId('structure-legend').textContent()).toContain('Mean variant effect (hairpin map');
  }, 180_000);
});
