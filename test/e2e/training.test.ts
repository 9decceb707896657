/**
 * End-to-end: fine-tuning from the Training page. A short LoRA fine-tune of the tiny golden model
 * on a label that depends on sequence content draws its loss curves while it trains; a longer
 * one is cancelled part-way, resumed from its checkpoint (Resume in the Jobs panel) and finishes;
 * a finished run predicts a dataset into a CSV with one row per sequence; a head-only run
 * (LoRA settings greyed out) trains on vectors computed once and predicts the same way.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Metric, Run } from '../../src-main/api/schemas';
import { launchChromium, screenshot } from '../support/browser';
import { loadGolden } from '../support/golden';
import { alphaFoldMmcif, alphaFoldResidues } from '../support/alphafold-mmcif';
import { labelledCsv } from '../support/scan-setup';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;
let projectId: number;
const COUNT = 40;
const pageErrors: string[] = [];

const jobsOf = (kind: string) => async (): Promise<Job[]> => (await api.call<Job[]>('jobs.list', { projectId })).filter((j) => j.kind === kind);

beforeAll(async () => {
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  const install = await api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
  expect((await api.waitForJob(install.id)).state).toBe('done');
  projectId = (await api.call<{ id: number }>('projects.create', { name: 'Fine-tuning' })).id;
  await api.call('datasets.import', { projectId, source: { kind: 'text', fileName: 'oily.csv', text: labelledCsv(COUNT) } });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1100 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text())));
});

afterAll(async () => {
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

async function openTraining(): Promise<void> {
  await page.goto(server.url);
  await page.getByTestId('nav-projects').click();
  await page.getByTestId('project-row').first().getByTestId('project-open').click();
  await page.getByTestId('nav-training').click();
  await page.getByTestId('finetune-start').waitFor();
}

/** Fills the form for the hydrophobic-fraction regression with `epochs` epochs. */
async function fillForm(epochs: number): Promise<void> {
  const form = page.getByTestId('finetune-form');
  await form.getByTestId('finetune-target').selectOption('hydrophobic');
  await expect.poll(() => form.getByTestId('finetune-task').inputValue()).toBe('regression');
  await form.getByTestId('finetune-epochs').fill(String(epochs));
  await form.getByTestId('finetune-lr').fill('0.005');
  await form.getByTestId('finetune-loraDropout').fill('0');
  await form.getByTestId('finetune-batchTokens').fill('400');
}

describe('fine-tuning from the Training page', () => {
  it('trains with live curves, and the validation loss falls', async () => {
    await openTraining();
    // Every setting carries its explanation.
    expect(await page.getByTestId('finetune-form').locator('.hint').count()).toBeGreaterThan(10);
    await fillForm(6);
    await page.getByTestId('finetune-start').click();
    await page.getByTestId('finetune-started').waitFor();

    // Curves while it runs: the card shows the run and draws as steps arrive.
    await page.getByTestId('curves-run').first().waitFor({ timeout: 60_000 });
    const [job] = await jobsOf('train.finetune')();
    expect(job).toBeDefined();
    const done = await api.waitForJob(job!.id);
    expect(done.state, done.error ?? '').toBe('done');
    const metrics = await api.call<Metric[]>('runs.metrics', { runId: done.runId });
    const valLoss = metrics.filter((m) => m.name === 'val_loss').sort((a, b) => a.step - b.step).map((m) => m.value);
    expect(valLoss).toHaveLength(6);
    expect(valLoss.at(-1)!).toBeLessThan(valLoss[0]!);
    expect(metrics.filter((m) => m.name === 'train_loss').length).toBeGreaterThan(6);

    await expect.poll(() => page.getByTestId('finetune-run').first().getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    // The curves follow the run to its last step.
    const lastStep = Math.max(...metrics.map((m) => m.step));
    await expect.poll(() => page.getByTestId('curves-run').first().innerText(), { timeout: 20_000 }).toContain(`last step ${lastStep}`);
    await expect.poll(() => page.getByTestId('training-curves-card').locator('canvas, svg').count()).toBeGreaterThan(0);
    await page.getByTestId('training-curves-card').scrollIntoViewIfNeeded();
    await screenshot(page, '70-training-curves');
  });

  it('cancels a run part-way, resumes it from its checkpoint and finishes', async () => {
    await openTraining();
    await fillForm(40);
    await page.getByTestId('finetune-start').click();
    await page.getByTestId('finetune-started').waitFor();
    const job = (await jobsOf('train.finetune')()).find((j) => j.state === 'queued' || j.state === 'running')!;
    // Wait for the first checkpoint (every 10 steps), then cancel from the Jobs panel.
    await expect.poll(async () => (await api.call<Metric[]>('runs.metrics', { runId: job.runId })).filter((m) => m.name === 'train_loss').length, { timeout: 120_000, interval: 250 }).toBeGreaterThanOrEqual(12);
    const row = page.getByTestId('job-row').filter({ hasText: 'Fine-tune' }).first();
    await row.getByTestId('job-cancel').click();
    // A run over a minute old asks first (on a busy machine it may be that old already).
    const confirmCancel = page.getByTestId('confirm-ok');
    await expect
      .poll(async () => {
        if (await confirmCancel.isVisible()) await confirmCancel.click();
        return (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.id === job.id)?.state;
      }, { timeout: 30_000 })
      .toBe('cancelled');
    const before = (await api.call<Metric[]>('runs.metrics', { runId: job.runId })).filter((m) => m.name === 'train_loss').length;

    await row.getByTestId('job-resume').click();
    // The panel follows the resumed job (it used to stay on "cancelled").
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toMatch(/queued|running|done/);
    const done = await api.waitForJob(job.id);
    expect(done.state, done.error ?? '').toBe('done');
    const run = (await api.call<Run[]>('runs.list', { projectId })).find((r) => r.id === job.runId)!;
    expect(run.summary.resumedFromStep).toBeGreaterThanOrEqual(10);
    expect(run.summary.steps as number).toBeGreaterThan(before);
    // One value per step, none lost or doubled by the restart.
    const steps = (await api.call<Metric[]>('runs.metrics', { runId: job.runId })).filter((m) => m.name === 'train_loss').map((m) => m.step);
    expect(steps).toEqual(Array.from({ length: run.summary.steps as number }, (_, i) => i + 1));
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    expect(pageErrors).toEqual([]);
  });

  it('predicts a dataset with a finished run: a CSV with one row per sequence', async () => {
    await openTraining();
    const finished = page.getByTestId('finetune-run').filter({ has: page.getByTestId('finetune-predict') }).first();
    await finished.getByTestId('finetune-predict').click();
    await finished.getByTestId('finetune-predict-message').waitFor();
    await expect.poll(async () => (await jobsOf('train.predict')())[0]?.state, { timeout: 60_000 }).toBe('done');
    // "Predicting…" ends when the prediction does.
    await expect.poll(() => finished.getByTestId('finetune-predict-message').innerText(), { timeout: 20_000 }).toBe('Done: the predictions are a CSV in Exports.');
    const exports = await api.call<{ name: string }[]>('exports.list', { projectId });
    const file = exports.find((e) => e.name.includes('finetuned'));
    expect(file, JSON.stringify(exports)).toBeDefined();
    const link = page.locator(`[data-testid="export-row"][data-name="${file!.name}"] [data-testid="export-download"]`);
    await link.waitFor({ timeout: 20_000 });
    const href = (await link.getAttribute('href'))!;
    const text = await page.evaluate(async (url) => (await fetch(url)).text(), href);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('id,predicted_hydrophobic');
    expect(lines).toHaveLength(COUNT + 1);
    for (const line of lines.slice(1)) expect(Number.isFinite(Number(line.split(',')[1]))).toBe(true);
  });

  it('trains the head only, with the LoRA settings switched off, and predicts with it', async () => {
    await openTraining();
    await fillForm(8);
    const form = page.getByTestId('finetune-form');
    await form.getByTestId('finetune-mode-head-only').check();
    // The LoRA fields are greyed out (a disabled fieldset disables what it holds).
    await expect.poll(() => form.getByTestId('finetune-loraR').isDisabled()).toBe(true);
    expect(await form.getByTestId('finetune-lora-settings').getAttribute('disabled')).not.toBeNull();
    await form.getByTestId('finetune-lr').fill('0.02');
    await page.getByTestId('finetune-start').click();
    await page.getByTestId('finetune-started').waitFor();
    const job = (await jobsOf('train.finetune')()).find((j) => j.title.includes('head only'))!;
    expect(job, 'a job titled "head only"').toBeDefined();
    const done = await api.waitForJob(job.id);
    expect(done.state, done.error ?? '').toBe('done');
    const run = (await api.call<Run[]>('runs.list', { projectId })).find((r) => r.id === job.runId)!;
    expect(run.summary.mode).toBe('head-only');
    const valLoss = (await api.call<Metric[]>('runs.metrics', { runId: job.runId })).filter((m) => m.name === 'val_loss').sort((a, b) => a.step - b.step).map((m) => m.value);
    expect(Math.min(...valLoss)).toBeLessThan(valLoss[0]!);

    const row = page.getByTestId('finetune-run').filter({ hasText: 'head only' }).first();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    await expect.poll(() => row.innerText()).toContain('The head (head.safetensors, head.onnx) is');
    const predictions = (await jobsOf('train.predict')()).length;
    await row.getByTestId('finetune-predict').click();
    await expect.poll(async () => (await jobsOf('train.predict')()).length, { timeout: 20_000 }).toBe(predictions + 1);
    const predict = (await jobsOf('train.predict')()).find((j) => j.title.includes(`run ${job.runId}`))!;
    const finished = await api.waitForJob(predict.id);
    expect(finished.state, finished.error ?? '').toBe('done');

    // Its title says what differs; overlaid with the first run, the legend names each by its
    // differences (head only, learning rate) and stays inside its card.
    expect(run.title).toContain('lr 0.02');
    const card = page.getByTestId('training-curves-card');
    for (const toggle of await card.getByTestId('curves-run-toggle').all()) if (!(await toggle.isChecked())) await toggle.check();
    const legend = card.locator('.u-legend').first();
    await expect.poll(() => legend.innerText()).toContain(`#${job.runId} head only yes, lr 0.02`);
    // The chart redraws as runs are ticked: measure once its legend is laid out.
    await expect.poll(async () => (await legend.boundingBox()) !== null).toBe(true);
    const [legendBox, cardBox] = [(await legend.boundingBox())!, (await card.boundingBox())!];
    expect(legendBox.x + legendBox.width).toBeLessThanOrEqual(cardBox.x + cardBox.width + 1);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, '73-training-legend');
  });

  it('continues the adapter of a finished run, starting where that run ended; a missing folder is refused', async () => {
    const first = (await api.call<Run[]>('runs.list', { projectId })).filter((r) => r.kind === 'train.finetune' && r.state === 'done' && r.summary.mode !== 'head-only').sort((a, b) => a.id - b.id)[0]!;
    const firstLoss = (runId: number) => async (): Promise<number> =>
      (await api.call<Metric[]>('runs.metrics', { runId })).filter((m) => m.name === 'train_loss').sort((a, b) => a.step - b.step)[0]!.value;
    await openTraining();
    await fillForm(1);
    const form = page.getByTestId('finetune-form');

    await form.getByTestId('finetune-start-from').selectOption('folder');
    // Inside an allowed folder (serve reads paths only there; see test/support/serve), so the check that runs is "is it there?".
    const missingAdapter = join(tmpdir(), 'nowhere', 'adapter');
    await form.getByTestId('finetune-adapter-folder').fill(missingAdapter);
    await page.getByTestId('finetune-start').click();
    await expect.poll(() => form.getByTestId('finetune-error').innerText()).toContain(`There is no folder ${missingAdapter}`);

    await form.getByTestId('finetune-start-from').selectOption(`run:${first.id}`);
    await expect.poll(() => form.getByTestId('finetune-loraR').isDisabled()).toBe(true);
    await page.getByTestId('finetune-start').click();
    await expect.poll(async () => (await jobsOf('train.finetune')()).find((j) => j.title.includes(`from run ${first.id}`)), { timeout: 20_000 }).toBeDefined();
    const job = (await jobsOf('train.finetune')()).find((j) => j.title.includes(`from run ${first.id}`))!;
    const done = await api.waitForJob(job.id);
    expect(done.state, done.error ?? '').toBe('done');
    // Same data, same seed: the continued adapter and head start far below where new ones did.
    expect(await firstLoss(job.runId!)()).toBeLessThan(0.5 * (await firstLoss(first.id)()));
  });

  it('imports a fine-tuned model from its four small files and predicts as the run it came from', async () => {
    const first = (await api.call<Run[]>('runs.list', { projectId })).filter((r) => r.kind === 'train.finetune' && r.state === 'done' && r.summary.mode !== 'head-only').sort((a, b) => a.id - b.id)[0]!;
    const projectDir = join(server.home, 'projects', readdirSync(join(server.home, 'projects'))[0]!);
    const shared = mkdtempSync(join(tmpdir(), 'esm-shared-adapter-'));
    for (const file of ['adapter_model.safetensors', 'adapter_config.json', 'head.safetensors', 'head_config.json']) copyFileSync(join(projectDir, 'runs', String(first.id), file), join(shared, file));

    await openTraining();
    const card = page.getByTestId('finetune-import');
    await card.locator('summary').click();
    await card.getByTestId('finetune-import-path').fill(join(shared, 'nothing-here'));
    await card.getByTestId('finetune-import-start').click();
    await expect.poll(() => card.getByTestId('finetune-import-message').innerText()).toContain('There is no folder');
    await card.getByTestId('finetune-import-path').fill(shared);
    await card.getByTestId('finetune-import-start').click();
    await expect.poll(async () => (await jobsOf('train.import')())[0]?.state, { timeout: 60_000 }).toBe('done');
    const imported = (await jobsOf('train.import')())[0]!;
    const row = page.locator(`[data-testid="finetune-run"][data-run-id="${imported.runId}"]`);
    await expect.poll(() => row.innerText(), { timeout: 20_000 }).toContain(`imported from ${shared}`);

    // Its predictions are the original run's, to float32 printing.
    const predictCsv = async (runId: number, start: () => Promise<void>): Promise<string> => {
      const before = (await jobsOf('train.predict')()).length;
      await start();
      await expect.poll(async () => (await jobsOf('train.predict')()).length, { timeout: 20_000 }).toBe(before + 1);
      const job = (await jobsOf('train.predict')()).find((j) => j.title.includes(`run ${runId})`))!;
      const done = await api.waitForJob(job.id);
      expect(done.state, done.error ?? '').toBe('done');
      const name = readdirSync(join(projectDir, 'exports')).find((f) => f.startsWith(`run${runId}-finetuned-`))!;
      return readFileSync(join(projectDir, 'exports', name), 'utf8');
    };
    const ours = await predictCsv(imported.runId!, () => row.getByTestId('finetune-predict').click());
    const theirs = await predictCsv(first.id, async () => {
      await api.call('jobs.start', { kind: 'train.predict', runId: first.id, datasetId: (await api.call<{ id: number }[]>('datasets.list', { projectId }))[0]!.id });
    });
    expect(ours.split('\n').length).toBe(COUNT + 2);
    expect(ours).toBe(theirs);
  });

  it('opens on a project without labelled data, with no page error (its form effects settle)', async () => {
    const bare = await api.call<{ id: number }>('projects.create', { name: 'No labels yet' });
    await api.call('datasets.import', { projectId: bare.id, source: { kind: 'text', fileName: 'plain.fasta', text: '>a\nMKTAYIAKQR\n>b\nGSHMLEDPVD\n' } });
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').filter({ hasText: 'No labels yet' }).getByTestId('project-open').click();
    await page.getByTestId('nav-training').click();
    await page.getByTestId('finetune-form').waitFor();
    await page.getByTestId('nav-runs').click();
    expect(pageErrors).toEqual([]);
  });
  it('explains a protein with integrated gradients and colours its structure by the attributions', { timeout: 240_000 }, async () => {
    // The fine-tuning project (the test before this one opened another).
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').filter({ hasText: 'Fine-tuning' }).first().getByTestId('project-open').click();
    await page.getByTestId('nav-training').click();
    await page.getByTestId('finetune-runs').waitFor();
    const lora = page.getByTestId('finetune-run').filter({ has: page.getByTestId('explain-panel') }).first();
    const panel = lora.getByTestId('explain-panel');
    await panel.getByTestId('explain-start').click();
    const summary = panel.getByTestId('explain-summary');
    await summary.waitFor({ timeout: 120_000 });
    // Completeness: the attributions add up to the prediction's difference from the all-<mask> input, within 1 %.
    const within = Number(/within ([\d.]+) %/.exec(await summary.innerText())![1]);
    expect(within).toBeLessThan(1);
    const dataset = (await api.call<{ id: number; name: string }[]>('datasets.list', { projectId }))[0]!;
    const [first] = (await api.call<{ rows: { sequence: string }[] }>('datasets.sequences', { datasetId: dataset.id, offset: 0, limit: 1 })).rows;
    expect(await panel.getByTestId('explain-strip').locator('.residue').count()).toBe(first!.sequence.length);
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, '74-training-attributions');

    // On the structure: an ideal backbone carrying this protein's sequence, coloured by the attributions.
    await panel.getByTestId('explain-structure').click();
    const residues = alphaFoldResidues().slice(0, first!.sequence.length).map((r, i) => ({ ...r, code: first!.sequence[i]! }));
    await page.getByTestId('structure-file').setInputFiles({ name: 'explained.cif', mimeType: 'chemical/x-cif', buffer: Buffer.from(alphaFoldMmcif(residues)) });
    await page.getByTestId('structure-dataset').selectOption({ label: dataset.name });
    await expect.poll(() => page.getByTestId('structure-legend').textContent(), { timeout: 60_000 }).toContain('Attribution to the prediction (integrated gradients');
    await expect.poll(() => page.getByTestId('structure-viewer').getAttribute('data-coloring'), { timeout: 60_000 }).toBe('shared');
    await screenshot(page, '75-structure-attributions');
  });
});
