/**
 * End-to-end: signal peptides the PEFT-SP way in the app (issue 16). The synthetic SignalP 6.0 file
 * (test/fixtures/golden/signalp-tiny/data.fasta) is imported on the Data page; the Training page
 * offers the signal-peptide task for it, trains the 8M golden model for a few steps (partition 0
 * trains, 1 validates, 2 is tested), draws its curves, and shows its results: the per-kingdom table
 * (its numbers recomputed here from the predictions with learn/signal-peptide-metrics), the
 * predictions of the held-out partition, and one protein's coloured regions and probability plot
 * (screenshots in light and dark); a SignalP summary export lists every tested protein.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Output } from '../../src-main/api/contract';
import type { Job, Metric } from '../../src-main/api/schemas';
import { benchmarkTable, meanOverRuns, signalPeptideRunMetrics } from '../../src-main/learn/signal-peptide-metrics';
import { SIGNALP_TYPES } from '../../src-main/datasets/signalp';
import { launchChromium, screenshot } from '../support/browser';
import { GOLDEN, loadGolden } from '../support/golden';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

const DATA = join(GOLDEN, 'signalp-tiny', 'data.fasta');
/** The file's records: `>id|KINGDOM|TYPE|PARTITION`, sequence, labels. */
const RECORDS = readFileSync(DATA, 'utf8')
  .trim()
  .split('\n')
  .reduce<{ id: string; partition: number }[]>((records, line, i) => {
    if (i % 3 === 0) records.push({ id: line.slice(1).split('|')[0]!, partition: Number(line.split('|')[3]) });
    return records;
  }, []);
const TESTED = RECORDS.filter((r) => r.partition === 2).map((r) => r.id);

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;
let projectId: number;
let runId: number;
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  const install = await api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('esm2-8M-random').checkpoint });
  expect((await api.waitForJob(install.id)).state).toBe('done');
  projectId = (await api.call<{ id: number }>('projects.create', { name: 'Signal peptides' })).id;
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

async function openProject(): Promise<void> {
  await page.goto(server.url);
  await page.getByTestId('nav-projects').click({ timeout: 20_000 }).catch((error: unknown) => {
    throw new Error(`${String(error)}\nThe page's errors: ${pageErrors.join('\n')}`);
  });
  await page.getByTestId('project-row').first().getByTestId('project-open').click();
}

describe('signal peptides from the Training page', () => {
  it('imports the SignalP file on the Data page', async () => {
    await openProject();
    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-file').setInputFiles({ name: 'signalp-tiny.fasta', mimeType: 'text/plain', buffer: readFileSync(DATA) });
    await page.getByTestId('import-accept').click();
    await page.getByTestId('import-done').waitFor({ timeout: 30_000 });
    const [dataset] = await api.call<{ id: number; sequenceCount: number; labelColumns: { name: string }[] }[]>('datasets.list', { projectId });
    expect(dataset!.sequenceCount).toBe(RECORDS.length);
    expect(dataset!.labelColumns.map((c) => c.name)).toEqual(expect.arrayContaining(['kingdom', 'type', 'partition', 'residue_labels']));
  });

  it('offers the signal-peptide task for it with PEFT-SP defaults, trains a few steps and draws the curves', async () => {
    await page.getByTestId('nav-training').click();
    const form = page.getByTestId('finetune-form');
    // A SignalP dataset chooses the task by itself; its own form replaces the label choice.
    await expect.poll(() => form.getByTestId('finetune-task').inputValue(), { timeout: 20_000 }).toBe('signal-peptide');
    // On failure, say what the form shows instead (a refusal, an error loading the settings).
    await form.getByTestId('sp-start').waitFor().catch(async (error: unknown) => {
      throw new Error(`${String(error)}\nThe form shows: ${await form.innerText()}`);
    });
    expect(await form.getByTestId('finetune-target').count()).toBe(0);
    expect(await form.getByTestId('sp-maxGradNorm').inputValue()).toBe('0.25');
    expect(await form.getByTestId('sp-loraDropout').inputValue()).toBe('0.1');
    const targets = await form.getByTestId('sp-lora-target').evaluateAll((boxes) => boxes.filter((b) => (b as HTMLInputElement).checked).map((b) => (b as HTMLInputElement).value));
    expect(targets.sort()).toEqual(['attention-output', 'key', 'query', 'value']);
    // The partitions and their sizes, read from the data: 0 trains, 1 validates, 2 is tested.
    await expect.poll(() => form.getByTestId('sp-partition').count()).toBe(3);
    expect(await form.locator('[data-partition="2"]').innerText()).toContain(String(TESTED.length));
    expect(await form.locator('[data-partition="2"] [data-testid="sp-partition-test"]').isChecked()).toBe(true);
    // Prompt tuning and adapters are offered beside LoRA, each with its sentence.
    expect(await form.getByTestId('sp-peft-method').count()).toBe(3);

    await form.getByTestId('sp-epochs').fill('2');
    await form.getByTestId('sp-top-k').fill('2');
    await screenshot(page, '80-signal-peptide-form');
    await form.getByTestId('sp-start').click();
    await form.getByTestId('sp-started').waitFor();

    const job = (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.kind === 'train.signalPeptide')!;
    expect(job, 'a train.signalPeptide job').toBeDefined();
    const done = await api.waitForJob(job.id, 280_000);
    expect(done.state, done.error ?? '').toBe('done');
    runId = done.runId!;
    const metrics = await api.call<Metric[]>('runs.metrics', { runId });
    for (const name of ['val_loss', 'val_detection_mcc', 'val_cs_mcc']) expect(metrics.some((m) => m.name === name), name).toBe(true);
    await expect.poll(() => page.locator(`[data-testid="curves-run"][data-run-id="${runId}"]`).count(), { timeout: 20_000 }).toBe(1);
  }, 300_000);

  it('shows the per-kingdom table and the held-out predictions, with the numbers of the predictions', async () => {
    const results = page.getByTestId('sp-results');
    await results.getByTestId('sp-kingdom-table').waitFor({ timeout: 30_000 });
    const data = await api.call<Output<'signalPeptide.results'>>('signalPeptide.results', { runId });

    // Every protein of partition 2, and only those, is in the table.
    await expect.poll(() => results.getByTestId('sp-prediction-row').count()).toBe(TESTED.length);
    const shownIds = await results.getByTestId('sp-prediction-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(shownIds.sort()).toEqual([...TESTED].sort());

    // The table's cells are PEFT-SP's metrics of these predictions (recomputed here, independently of the service).
    const typeId = (name: string | null): number => SIGNALP_TYPES.indexOf(name as (typeof SIGNALP_TYPES)[number]);
    const rows = data.predictions.map((p) => ({ kingdom: p.kingdom!, trueType: typeId(p.trueType), predType: typeId(p.predictedType), trueCs: p.trueCleavageSite ?? -1, predCs: p.cleavageSite ?? -1 }));
    const expected = benchmarkTable(meanOverRuns([signalPeptideRunMetrics(rows)]));
    const shown = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '—');
    for (const cell of expected.cells) {
      const row = results.locator(`[data-testid="sp-kingdom-row"][data-kingdom="${cell.kingdom}"][data-type="${cell.type}"]`);
      expect(await row.getByTestId('sp-kingdom-mcc2').innerText(), `${cell.kingdom} ${cell.type}`).toBe(shown(cell.mcc2));
    }
    expect(await results.getByTestId('sp-kingdom-mean').innerText()).toBe(shown(expected.meanMcc2));

    // Sorting by probability puts the most confident prediction first.
    await results.locator('[data-testid="sp-sort"][data-column="probability"]').click();
    const best = [...data.predictions].sort((a, b) => b.probability - a.probability)[0]!;
    expect(await results.getByTestId('sp-prediction-row').first().getAttribute('data-id')).toBe(best.id);
  });

  it('opens a protein: the sequence coloured by its Viterbi regions, the cleavage site and the probability plot (light and dark)', async () => {
    const results = page.getByTestId('sp-results');
    const data = await api.call<Output<'signalPeptide.results'>>('signalPeptide.results', { runId });
    // A protein predicted to have a signal peptide when there is one (the model is small and barely trained).
    const chosen = data.predictions.find((p) => p.predictedType !== 'NO_SP' && p.cleavageSite !== null) ?? data.predictions[0]!;
    await results.locator(`[data-testid="sp-prediction-row"][data-id="${chosen.id}"] [data-testid="sp-open-protein"]`).click();
    const detail = results.getByTestId('sp-protein');
    await expect.poll(() => detail.getAttribute('data-id')).toBe(chosen.id);
    const protein = await api.call<Output<'signalPeptide.protein'>>('signalPeptide.protein', { runId, index: chosen.index });

    // Each coloured run lies inside a segment of its region.
    const runs = await detail.getByTestId('sp-run').evaluateAll((spans) => spans.map((s) => ({ region: s.getAttribute('data-region'), start: Number(s.getAttribute('data-start')), length: s.textContent!.length })));
    expect(runs.map((r) => r.length).reduce((a, b) => a + b, 0)).toBe(protein.sequence.length);
    for (const run of runs) {
      const segment = protein.segments.find((s) => s.start <= run.start && run.start + run.length - 1 <= s.end);
      expect(segment?.region, `residues ${run.start}+${run.length}`).toBe(run.region);
    }
    // The cleavage site is marked once, after its residue; the plot has the seven region tracks and the cleavage track.
    expect(await detail.getByTestId('sp-cs-mark').count()).toBe(protein.cleavageSite === null ? 0 : 1);
    const tracks = await detail.getByTestId('sp-plot-track').evaluateAll((paths) => paths.map((p) => p.getAttribute('data-region')));
    expect(tracks).toEqual([...protein.tracks.map((t) => t.region), 'cs']);
    expect(await detail.getByTestId('sp-plot-site').count()).toBe(protein.cleavageSite !== null && protein.cleavageSite < protein.sequence.length ? 1 : 0);

    // Screenshots of the table and of the protein, in both themes (the page scrolls inside its own pane).
    const shoot = async (suffix: string): Promise<void> => {
      await results.getByTestId('sp-kingdom').scrollIntoViewIfNeeded();
      await screenshot(page, `81-signal-peptide-table${suffix}`);
      await detail.getByTestId('sp-plot').scrollIntoViewIfNeeded();
      await screenshot(page, `82-signal-peptide-protein${suffix}`);
    };
    await shoot('');
    await page.getByTestId('theme-toggle').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await shoot('-dark');
    await page.getByTestId('theme-toggle').click();
  });

  it('trains with prompt tuning chosen in the form instead of LoRA', async () => {
    const form = page.getByTestId('finetune-form');
    await form.getByTestId('sp-start').scrollIntoViewIfNeeded();
    await form.locator('[data-testid="sp-peft-method"][value="prompt"]').check();
    // LoRA's settings step aside; the prompt's appear.
    await expect.poll(() => form.getByTestId('sp-loraR').isDisabled()).toBe(true);
    await form.getByTestId('sp-prompt-length').fill('5');
    await form.getByTestId('sp-epochs').fill('1');
    const before = (await api.call<Job[]>('jobs.list', { projectId })).filter((j) => j.kind === 'train.signalPeptide').length;
    await form.getByTestId('sp-start').click();
    await expect.poll(async () => (await api.call<Job[]>('jobs.list', { projectId })).filter((j) => j.kind === 'train.signalPeptide').length, { timeout: 20_000 }).toBe(before + 1);
    const job = (await api.call<Job[]>('jobs.list', { projectId })).filter((j) => j.kind === 'train.signalPeptide').sort((a, b) => b.id - a.id)[0]!;
    const done = await api.waitForJob(job.id, 200_000);
    expect(done.state, done.error ?? '').toBe('done');
    const run = (await api.call<{ id: number; params: { settings: { peft?: unknown } } }[]>('runs.list', { projectId })).find((r) => r.id === done.runId)!;
    expect(run.params.settings.peft).toMatchObject({ method: 'prompt', prompt: { length: 5, layers: 'input' } });
  }, 240_000);

  it('predicts pasted proteins with the model: a run of their own, without a true type column', async () => {
    const results = page.getByTestId('sp-results');
    const lines = readFileSync(DATA, 'utf8').split('\n');
    // Two proteins of the file under new names, as a biologist would paste them (plain FASTA, no labels).
    const fasta = `>new_one\n${lines[1]}\n>new_two\n${lines[4]}\n`;
    await results.getByTestId('sp-predict').locator('summary').click();
    await results.getByTestId('sp-predict-fasta').fill(fasta);
    await results.getByTestId('sp-predict-start').click();
    await results.getByTestId('sp-predict-started').waitFor();
    const job = (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.kind === 'train.signalPeptidePredict')!;
    expect(job, 'a train.signalPeptidePredict job').toBeDefined();
    const done = await api.waitForJob(job.id, 120_000);
    expect(done.state, done.error ?? '').toBe('done');
    await expect.poll(() => results.getByTestId('sp-results-run').locator(`option[value="${done.runId}"]`).count(), { timeout: 20_000 }).toBe(1);
    await results.getByTestId('sp-results-run').selectOption(String(done.runId));
    await expect.poll(() => results.getByTestId('sp-prediction-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')).sort())).toEqual(['new_one', 'new_two']);
    expect(await results.locator('[data-testid="sp-sort"][data-column="trueType"]').count()).toBe(0);
    await results.getByTestId('sp-protein').waitFor();
    await results.getByTestId('sp-results-run').selectOption(String(runId));
    await expect.poll(() => results.getByTestId('sp-prediction-row').count()).toBe(TESTED.length);
  }, 150_000);

  it('starts the six partition arrangements as one cross-validation run', async () => {
    const form = page.getByTestId('finetune-form');
    await form.getByTestId('sp-cross-validate').check();
    // The per-partition roles give way to the six arrangements.
    await expect.poll(() => form.locator('[data-partition="0"] [data-testid="sp-partition-train"]').isDisabled()).toBe(true);
    await form.getByTestId('sp-epochs').fill('1');
    await form.getByTestId('sp-start').click();
    await expect.poll(async () => (await api.call<Job[]>('jobs.list', { projectId })).some((j) => j.kind === 'train.signalPeptideCv'), { timeout: 20_000 }).toBe(true);
    const job = (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.kind === 'train.signalPeptideCv')!;
    const run = (await api.call<{ id: number; params: { partitions?: number[] } }[]>('runs.list', { projectId })).find((r) => r.id === job.runId)!;
    expect(run.params.partitions).toEqual([0, 1, 2]);
    // While it runs, the results show the arrangements finished so far (none yet: each trains for a while).
    const results = page.getByTestId('sp-results');
    await expect.poll(() => results.getByTestId('sp-results-run').locator(`option[value="${job.runId}"]`).count(), { timeout: 20_000 }).toBe(1);
    await results.getByTestId('sp-results-run').selectOption(String(job.runId));
    await results.getByText('No arrangement has finished yet').waitFor({ timeout: 20_000 });
    expect(await results.getByTestId('sp-results-refresh').count()).toBe(1);
    // Six trainings take minutes: stop it here (its finished arrangements would still be shown).
    await api.call('jobs.cancel', { id: job.id });
    await expect.poll(async () => (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.id === job.id)?.state, { timeout: 60_000 }).toMatch(/cancelled|done/);
    await results.getByTestId('sp-results-run').selectOption(String(runId));
    await expect.poll(() => results.getByTestId('sp-prediction-row').count()).toBe(TESTED.length);
  }, 120_000);

  it('offers the PEFT methods in the general fine-tune form too: adapters on a classification of the type column', async () => {
    const form = page.getByTestId('finetune-form');
    await form.getByTestId('finetune-task').selectOption('classification');
    await form.getByTestId('finetune-target').selectOption('type');
    await form.locator('[data-testid="finetune-peft-method"][value="adapter"]').check();
    await expect.poll(() => form.getByTestId('finetune-loraR').isDisabled()).toBe(true);
    await form.getByTestId('finetune-adapter-size').fill('8');
    await form.getByTestId('finetune-epochs').fill('1');
    await form.getByTestId('finetune-start').click();
    await form.getByTestId('finetune-started').waitFor();
    const job = (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.kind === 'train.finetune')!;
    const done = await api.waitForJob(job.id, 120_000);
    expect(done.state, done.error ?? '').toBe('done');
    const run = (await api.call<{ id: number; params: { settings: { peft?: unknown; task?: string } } }[]>('runs.list', { projectId })).find((r) => r.id === done.runId)!;
    expect(run.params.settings.task).toBe('classification');
    expect(run.params.settings.peft).toMatchObject({ method: 'adapter', adapter: { size: 8, layers: 'all' } });
    // Back to the signal-peptide task for the tests after this one.
    await form.getByTestId('finetune-task').selectOption('signal-peptide');
    await form.getByTestId('sp-start').waitFor();
  }, 150_000);

  it('saves the predictions as SignalP 6.0 does: a summary that lists every tested protein', async () => {
    const results = page.getByTestId('sp-results');
    await results.locator('[data-testid="sp-export"][data-format="summary"]').click();
    const link = results.getByTestId('sp-export-download');
    await link.waitFor({ timeout: 30_000 });
    const text = await page.evaluate(async (url) => (await fetch(url)).text(), (await link.getAttribute('href'))!);
    const listed = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).map((line) => line.split('\t')[0]);
    expect(listed.sort()).toEqual([...TESTED].sort());
    expect(pageErrors).toEqual([]);
  });
});
