/**
 * End-to-end: a scan over an ESM-2 model (the golden tiny, installed as int8) and an ESM C model
 * (the golden ESM C tiny, Hugging Face layout) draws both families on the score-against-model-size
 * plot, each at its parameter count from the checkpoint — counted here independently from the
 * safetensors headers, as PyTorch counts parameters (ESM-2's decoder is tied to its embeddings,
 * its rotary inv_freq a buffer; ESM C's HF file adds empty _extra_state tensors). An int8 model's
 * file size would put it at a quarter of its size, as the plot did before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { screenshot } from '../support/browser';
import { useBrowserSession } from '../support/browser-session';
import { GOLDEN } from '../support/golden';
import { labelledCsv } from '../support/scan-setup';

const session = useBrowserSession();

/** Parameters of a safetensors file: every tensor's elements except those `skip` names. */
function parametersIn(file: string, skip: (name: string) => boolean): number {
  const bytes = readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape: number[] }>;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__' && !skip(name))
    .reduce((total, [, info]) => total + info.shape.reduce((n, s) => n * s, 1), 0);
}

const ESM2_DIR = join(GOLDEN, 'tiny', 'checkpoint');
const ESMC_DIR = join(GOLDEN, 'esmc-tiny', 'checkpoint', 'hf');
const ESM2_PARAMETERS = parametersIn(join(ESM2_DIR, 'model.safetensors'), (name) => name === 'lm_head.decoder.weight' || name.endsWith('inv_freq'));
const ESMC_PARAMETERS = parametersIn(join(ESMC_DIR, 'model.safetensors'), (name) => name.endsWith('_extra_state'));

describe('a scan across model families', () => {
  it('shows ESM-2 and ESM C on the model-size plot at their checkpoint parameter counts', async () => {
    const call = <T,>(method: string, input: unknown) => session.api.call<T>(method, input);
    for (const [path, precision] of [[ESM2_DIR, 'int8'], [ESMC_DIR, 'fp32']] as const) {
      const job = await call<Job>('jobs.start', { kind: 'model.install', path, precision });
      const done = await session.api.waitForJob(job.id);
      expect(done.state, `install ${path}: ${done.error ?? ''}`).toBe('done');
    }
    const models = await call<{ id: number; family: string; parameters: number; hasContacts: boolean; sizeBytes: number }[]>('models.list', {});
    expect(models.map((m) => [m.family, m.parameters, m.hasContacts]).sort()).toEqual([
      ['ESM C', ESMC_PARAMETERS, false],
      ['ESM-2', ESM2_PARAMETERS, true],
    ]);
    const esm2 = models.find((m) => m.family === 'ESM-2')!;
    expect(Math.round(esm2.sizeBytes / 4)).not.toBe(ESM2_PARAMETERS); // what the plot used before

    const project = await call<{ id: number }>('projects.create', { name: 'Families' });
    const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', {
      projectId: project.id,
      source: { kind: 'text', fileName: 'oily.csv', text: labelledCsv(40) },
    });
    const embed = await call<Job>('jobs.start', {
      kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: models.map((m) => m.id), layers: [-1], pool: ['mean'],
    });
    expect((await session.api.waitForJob(embed.id)).state).toBe('done');
    const matrices = await call<{ id: number }[]>('embeddings.list', { projectId: project.id });
    expect(matrices).toHaveLength(2);
    const scan = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'hydrophobic', embeddingIds: matrices.map((m) => m.id),
      learners: ['ridgecv'], split: { scheme: 'random', k: 3, seed: 7 },
    });
    expect((await session.api.waitForJob(scan.id)).state).toBe('done');

    await session.page.goto(session.server.url);
    await session.page.getByTestId('nav-projects').click();
    await session.page.getByTestId('project-row').first().getByTestId('project-open').click();
    await session.page.getByTestId('nav-runs').click();
    await session.page.getByTestId('run-row').filter({ hasText: 'Scan' }).first().click();
    await expect.poll(() => session.page.getByTestId('fit-row').count(), { timeout: 20_000 }).toBe(2);

    const plot = session.page.getByTestId('scan-plot');
    await plot.locator('canvas').first().waitFor();
    expect(await plot.getAttribute('data-families')).toBe('ESM-2,ESM C');
    expect(await plot.getAttribute('data-lines')).toBe('2');
    expect(await plot.getAttribute('data-points')).toBe('2');
    // uPlot's legend: one series per pooling and family (the first entry is the x axis).
    const legend = await plot.locator('.u-legend .u-series .u-label').allTextContents();
    expect(legend.slice(1)).toEqual(['Mean · ESM-2', 'Mean · ESM C']);
    expect(await session.page.getByTestId('scan-plot-families').textContent()).toMatch(/ESM-2.*solid.*ESM C.*dashed/s);

    const points = session.page.getByTestId('scan-plot-point');
    const drawn = await points.evaluateAll((items) => items.map((li) => [li.getAttribute('data-family'), Number(li.getAttribute('data-parameters'))]));
    expect(drawn).toEqual([
      ['ESM-2', ESM2_PARAMETERS],
      ['ESM C', ESMC_PARAMETERS],
    ]);
    // Each point is on the canvas where the plot says it drew it: the pooling's colour (#2f6fdb) is
    // there, ESM-2's point left of ESM C's (fewer parameters).
    const placed = JSON.parse((await plot.getAttribute('data-drawn-points'))!) as { family: string; parameters: number; x: number; y: number }[];
    expect(placed.map((p) => [p.family, p.parameters])).toEqual([['ESM-2', ESM2_PARAMETERS], ['ESM C', ESMC_PARAMETERS]]);
    expect(placed[0]!.x).toBeLessThan(placed[1]!.x);
    const coloured = await plot.locator('canvas').first().evaluate((canvas: HTMLCanvasElement, spots: { x: number; y: number }[]) => {
      const ctx = canvas.getContext('2d')!;
      const near = (r: number, g: number, b: number) => Math.abs(r - 0x2f) + Math.abs(g - 0x6f) + Math.abs(b - 0xdb) < 60;
      return spots.map(({ x, y }) => {
        const { data } = ctx.getImageData(x - 8, y - 8, 17, 17);
        let hits = 0;
        for (let i = 0; i < data.length; i += 4) if (near(data[i]!, data[i + 1]!, data[i + 2]!)) hits++;
        return hits;
      });
    }, [...placed, { x: placed[0]!.x - 40, y: placed[0]!.y }]);
    expect(coloured.slice(0, 2).every((hits) => hits >= 6)).toBe(true);
    expect(coloured[2]).toBe(0); // left of the smallest model: nothing drawn there

    await session.page.locator('details.points summary').click();
    await plot.scrollIntoViewIfNeeded();
    await screenshot(session.page, '33-scan-families');

    // The embed form names each model's family and says what a layer index means for them.
    const form = session.page.getByTestId('embed-form');
    const choices = await form.getByTestId('embed-model').evaluateAll((boxes) => boxes.map((box) => box.closest('label')!.textContent!.replace(/\s+/g, ' ')));
    expect(choices.map((text) => /· (ESM-2|ESM C) ·/.exec(text)?.[1]).sort()).toEqual(['ESM C', 'ESM-2']);
    await form.getByTestId('embed-model').nth(choices.findIndex((text) => text.includes('ESM C'))).check();
    await expect.poll(() => form.getByTestId('embed-layer-meaning').textContent()).toMatch(/In ESM C models, .*0 = the token embeddings.*after block k.*\(2 or −1\) = after the final LayerNorm/s);

    // The models page shows each model's family and parameter count.
    await session.page.getByTestId('nav-models').click();
    const rows = await session.page.getByTestId('model-row').evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('[data-testid="model-family"]')!.textContent!.trim(), Number(tr.querySelector('[data-testid="model-parameters"]')!.getAttribute('data-parameters'))]),
    );
    expect(rows.sort()).toEqual([['ESM C', ESMC_PARAMETERS], ['ESM-2', ESM2_PARAMETERS]]);
    expect(await session.page.getByTestId('catalog-family').allTextContents()).toEqual(expect.arrayContaining(['ESM-2', 'ESM C']));
  }, 240_000);
});
