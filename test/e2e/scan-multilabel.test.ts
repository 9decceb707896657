/**
 * End-to-end: a multi-label scan from the UI — several 0/1 columns predicted together by the
 * one-vs-rest learner — and the form refusing a "multi-label" scan of only one column.
 */
import { describe, expect, it } from 'vitest';
import type { Fit, Job, Run } from '../../src-main/api/schemas';
import { screenshot } from '../support/browser';
import { useBrowserSession } from '../support/browser-session';
import { loadGolden } from '../support/golden';
import { labelledCsv } from '../support/scan-setup';

const session = useBrowserSession();

/**
 * The scan fixture's proteins with 0/1 labels: "oily" (more than half hydrophobic residues),
 * "long" (longer than the median, so both values are common) and "secreted" (0 everywhere:
 * offered but not choosable); "hydrophobic" stays a plain number and "group" a category, neither
 * of which a multi-label scan may offer.
 */
function labelsCsv(count: number): string {
  const [header, ...rows] = labelledCsv(count).trim().split('\n');
  const lengths = rows.map((row) => row.split(',')[1]!.length).sort((a, b) => a - b);
  const median = lengths[Math.floor(lengths.length / 2)]!;
  const lines = [`${header},oily,long,secreted`];
  for (const row of rows) {
    const [, sequence, , group] = row.split(',');
    lines.push(`${row},${group === 'oily' ? 1 : 0},${sequence!.length > median ? 1 : 0},0`);
  }
  return `${lines.join('\n')}\n`;
}

async function setUpProject(): Promise<{ projectId: number }> {
  const install = await session.api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
  expect((await session.api.waitForJob(install.id)).state).toBe('done');
  const [model] = await session.api.call<{ id: number }[]>('models.list', {});
  const project = await session.api.call<{ id: number }>('projects.create', { name: 'Multi-label' });
  const { dataset } = await session.api.call<{ dataset: { id: number } }>('datasets.import', {
    projectId: project.id,
    source: { kind: 'text', fileName: 'labels.csv', text: labelsCsv(40) },
  });
  const embed = await session.api.call<Job>('jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [model!.id], layers: [-1], pool: ['mean'] });
  expect((await session.api.waitForJob(embed.id)).state).toBe('done');
  return { projectId: project.id };
}

describe('a multi-label scan from the UI', () => {
  it('predicts two 0/1 columns together, refuses one, and shows Fmax', { timeout: 240_000 }, async () => {
    const { projectId } = await setUpProject();
    await session.page.goto(session.server.url);
    await session.page.getByTestId('nav-projects').click();
    await session.page.getByTestId('project-row').first().getByTestId('project-open').click();
    await session.page.getByTestId('nav-runs').click();
    const form = session.page.getByTestId('scan-form');
    await form.getByTestId('scan-select-all').click();

    await form.getByTestId('scan-predict-several').check();
    await form.getByTestId('scan-labels').waitFor();
    // Only the columns holding 0 and 1 are offered, in the file's order.
    expect(await form.getByTestId('scan-label').evaluateAll((boxes) => boxes.map((box) => [(box as HTMLInputElement).value, (box as HTMLInputElement).disabled]))).toEqual([
      ['oily', false],
      ['long', false],
      ['secreted', true],
    ]);
    expect(await form.getByTestId('scan-label-constant').innerText()).toBe('(always 0: nothing to learn)');
    await expect.poll(() => form.getByTestId('scan-task').getAttribute('data-task')).toBe('multilabel');
    // The learners on offer are the multi-label ones, the one-vs-rest learner chosen.
    const learners = form.getByTestId('scan-learner');
    expect(await learners.evaluateAll((boxes) => boxes.map((box) => [(box as HTMLInputElement).value, (box as HTMLInputElement).checked]))).toEqual([['ovr-logreg', true]]);
    // Stratified folds need one class per protein: not on offer, and random folds chosen.
    expect(await form.locator('[data-testid="scan-split"] option[value="stratified"]').isDisabled()).toBe(true);
    expect(await form.getByTestId('scan-split').inputValue()).toBe('random');

    // One column is not a multi-label scan: the form says so and starts nothing.
    await form.getByTestId('scan-label').first().check();
    await form.getByTestId('scan-start').click();
    await expect.poll(() => form.getByTestId('scan-problem').allTextContents()).toEqual([
      'Choose at least two 0/1 label columns to predict together (only “oily” is chosen); for one column, choose “One column”.',
    ]);
    expect((await session.api.call<Job[]>('jobs.list', { projectId })).filter((j) => j.kind === 'learn.scan')).toEqual([]);

    await form.getByTestId('scan-label').nth(1).check();
    await form.getByTestId('scan-labels').scrollIntoViewIfNeeded();
    await screenshot(session.page, '31-scan-multilabel-form');
    await form.getByTestId('scan-start').click();
    await form.getByTestId('scan-started').waitFor();
    const started = (await session.api.call<Job[]>('jobs.list', { projectId })).find((j) => j.kind === 'learn.scan');
    expect((await session.api.waitForJob(started!.id)).state).toBe('done');

    // The request carried both columns: the run predicts them together.
    const run = (await session.api.call<Run[]>('runs.list', { projectId })).find((r) => r.kind === 'learn.scan')!;
    expect(run.params).toMatchObject({ target: 'oily,long', targets: ['oily', 'long'], task: 'multilabel', learners: ['ovr-logreg'] });
    const [fit] = await session.api.call<Fit[]>('fits.list', { runId: run.id });
    const fmax = fit!.summary.fmax!.mean;
    expect(fmax).toBeGreaterThan(0);
    expect(fmax).toBeLessThanOrEqual(1);

    await session.page.getByTestId('run-row').filter({ hasText: 'Scan' }).first().click();
    const results = session.page.getByTestId('scan-results');
    await expect.poll(() => results.getByTestId('fit-row').count(), { timeout: 20_000 }).toBe(1);
    expect(await results.getByTestId('run-params').innerText()).toContain('oily, long');
    for (const key of ['fmax', 'macroF1', 'microF1']) expect(await results.getByTestId(`fit-sort-${key}`).count()).toBe(1);
    const shown = await results.locator('[data-testid="fit-row"] [data-metric="fmax"] .mean').innerText();
    expect(Number(shown)).toBeCloseTo(fmax, 2);
    // Predicting new proteins is not available for multi-label fits: the button says why instead of failing.
    expect(await results.getByTestId('fit-predict').isDisabled()).toBe(true);
    await results.getByTestId('fits-table').scrollIntoViewIfNeeded();
    await screenshot(session.page, '32-scan-multilabel-results');
  });
});
