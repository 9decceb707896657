/**
 * End-to-end: the Runs page puts results first, keeps a form's choices when the user leaves and
 * comes back, and renames and deletes runs — naming the runs that use the one deleted, which go
 * with it (here a scan of an embedding run's matrix).
 */
import { describe, expect, it } from 'vitest';
import type { Job, Run } from '../../src-main/api/schemas';
import { screenshot } from '../support/browser';
import { useBrowserSession } from '../support/browser-session';
import { fastaText, randomProteins } from '../support/random-proteins';
import { setUpScanProject } from '../support/scan-setup';

const session = useBrowserSession();

describe('the Runs page', () => {
  it('shows results first, keeps the form, renames a run and deletes it with the scan that uses it', { timeout: 240_000 }, async () => {
    const { project, dataset, matrices } = await setUpScanProject((method, input) => session.api.call(method, input), (id) => session.api.waitForJob(id), 30);
    const scan = await session.api.call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'hydrophobic',
      embeddingIds: [matrices[0]!.id], learners: ['ridgecv'], split: { scheme: 'random', k: 3, seed: 1 },
    });
    expect((await session.api.waitForJob(scan.id)).state).toBe('done');
    const embedRun = (await session.api.call<Run[]>('runs.list', { projectId: project.id })).find((r) => r.kind === 'embed.dataset')!;

    await session.page.goto(session.server.url);
    await session.page.getByTestId('nav-projects').click();
    await session.page.getByTestId('project-row').first().getByTestId('project-open').click();
    await session.page.getByTestId('nav-runs').click();
    const runsTop = (await session.page.getByTestId('run-row').first().boundingBox())!.y;
    const formTop = (await session.page.getByTestId('embed-form').boundingBox())!.y;
    expect(runsTop).toBeLessThan(formTop);

    // Choices made in the forms are still there after a visit to another page (Runs, Variants, Map).
    const page = session.page;
    await page.getByTestId('embed-form').locator('#embed-layers').fill('1, -1');
    await page.getByTestId('scan-seed').fill('7');
    await page.getByTestId('nav-variants').click();
    await page.getByTestId('saturation-name').fill('my favourite protein');
    await page.getByTestId('nav-map').click();
    await page.getByTestId('map-seed').fill('11');
    await page.getByTestId('nav-data').click();
    await page.getByTestId('nav-runs').click();
    expect(await page.getByTestId('embed-form').locator('#embed-layers').inputValue()).toBe('1, -1');
    expect(await page.getByTestId('scan-seed').inputValue()).toBe('7');
    await page.getByTestId('nav-variants').click();
    expect(await page.getByTestId('saturation-name').inputValue()).toBe('my favourite protein');
    await page.getByTestId('nav-map').click();
    expect(await page.getByTestId('map-seed').inputValue()).toBe('11');
    await page.getByTestId('nav-runs').click();

    // Rename.
    await session.page.locator(`[data-testid="run-row"][data-run-id="${embedRun.id}"]`).getByTestId('run-select').click();
    await session.page.getByTestId('run-rename').click();
    await session.page.getByTestId('run-rename-input').fill('Tiny and 8M, layers 1 and last');
    await session.page.getByTestId('run-rename-save').click();
    await expect.poll(() => session.page.locator(`[data-testid="run-row"][data-run-id="${embedRun.id}"]`).getByTestId('run-title').innerText()).toBe('Tiny and 8M, layers 1 and last');

    // Predict new proteins with the scan's fit: pasted sequences need a dataset name; the result shows as a table.
    await session.page.locator(`[data-testid="run-row"][data-run-id="${scan.runId}"]`).getByTestId('run-select').click();
    // One model size in this scan: no "score by model size" plot.
    await session.page.getByTestId('fits-table').waitFor();
    expect(await session.page.getByTestId('scan-plot').count()).toBe(0);
    await session.page.getByTestId('fit-predict').first().click();
    const panel = session.page.getByTestId('predict-panel');
    const pasted = fastaText(randomProteins(4, 5, 30, 60), 'design');
    await panel.getByTestId('predict-fasta').fill(pasted);
    await panel.getByTestId('predict-start').click();
    expect(await panel.getByTestId('predict-problem').innerText()).toContain('Name the new dataset');
    await panel.getByTestId('predict-dataset-name').fill('designs round 2');
    await panel.getByTestId('predict-start').click();
    await panel.getByTestId('predict-done').waitFor({ timeout: 120_000 });
    const table = panel.getByTestId('predict-table');
    await expect.poll(() => table.getByTestId('predict-table-row').count()).toBe(5);
    expect(await table.locator('th').allInnerTexts()).toEqual(['Protein', 'Predicted hydrophobic', 'Uncertainty (sd over the fold models)']);
    // Sorted by uncertainty, largest first (two clicks).
    await table.locator('[data-column="uncertainty_sd"]').click();
    await table.locator('[data-column="uncertainty_sd"]').click();
    const spreads = (await table.getByTestId('predict-table-row').locator('td:nth-child(3)').allInnerTexts()).map(Number);
    expect(spreads).toEqual([...spreads].sort((a, b) => b - a));
    expect((await session.api.call<{ name: string }[]>('datasets.list', { projectId: project.id })).map((d) => d.name)).toContain('designs round 2');
    await screenshot(session.page, '71-runs-prediction-table');
    await session.page.locator(`[data-testid="run-row"][data-run-id="${embedRun.id}"]`).getByTestId('run-select').click();

    // Delete: the dialog names the scan, and both go.
    await session.page.getByTestId('run-delete').click();
    const dialog = session.page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain(`(run ${scan.runId})`);
    await screenshot(session.page, '70-runs-delete-dependents');
    await session.page.getByTestId('confirm-ok').click();
    await expect.poll(async () => (await session.api.call<Run[]>('runs.list', { projectId: project.id })).map((r) => r.id).sort()).toEqual([]);
    await expect.poll(() => session.page.getByTestId('run-row').count()).toBe(0);
  });
});
