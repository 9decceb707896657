/**
 * End-to-end: a SWAT-style scan from the UI — 2 models × 2 layers × 3 compressions × 2 learners —
 * shows its results table and the metric-against-model-size plot.
 */
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser';
import { useBrowserSession } from '../support/browser-session';
import { setUpScanProject } from '../support/scan-setup';

const session = useBrowserSession();

describe('a scan from the UI', () => {
  it('fits 24 combinations and shows the table and the plot', async () => {
    const { project } = await setUpScanProject((method, input) => session.api.call(method, input), (id) => session.api.waitForJob(id));
    await session.page.goto(session.server.url);
    await session.page.getByTestId('nav-projects').click();
    await session.page.getByTestId('project-row').first().getByTestId('project-open').click();
    await session.page.getByTestId('nav-runs').click();
    const form = session.page.getByTestId('scan-form');
    await form.getByTestId('scan-dataset').selectOption({ label: 'oily' }).catch(() => form.getByTestId('scan-dataset').selectOption({ index: 1 }));
    await form.getByTestId('scan-target').selectOption('hydrophobic');
    await form.getByTestId('scan-select-all').click();
    await expect.poll(() => form.getByTestId('scan-embedding').count()).toBe(12);
    for (const learner of await form.getByTestId('scan-learner').all()) {
      const value = await learner.getAttribute('value');
      if (value === 'ridgecv' || value === 'knn') await learner.check();
      else await learner.uncheck();
    }
    await form.getByTestId('scan-split').selectOption('random');
    await form.getByTestId('scan-start').click();

    await expect.poll(async () => (await session.api.call<{ kind: string; state: string }[]>('jobs.list', { projectId: project.id })).find((j) => j.kind === 'learn.scan')?.state, { timeout: 120_000 }).toBe('done');
    await session.page.getByTestId('run-row').filter({ hasText: 'Scan' }).first().click();
    await expect.poll(() => session.page.getByTestId('fit-row').count(), { timeout: 20_000 }).toBe(24);
    await session.page.getByTestId('scan-plot').waitFor();
    expect(await session.page.getByTestId('scan-plot').locator('canvas, svg').count()).toBeGreaterThan(0);
    await session.page.getByTestId('scan-plot').scrollIntoViewIfNeeded();
    await screenshot(session.page, '30-scan-results');

    // The table fits its box (no scores hidden behind a sideways scroll); all scores on request.
    const wrap = session.page.getByTestId('fits-table').locator('xpath=..');
    const [scrollWidth, clientWidth] = await wrap.evaluate((el) => [el.scrollWidth, el.clientWidth]);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth + 1);
    // Beside it, the best fit's out-of-fold predictions, and what the two R² are.
    const plot = session.page.getByTestId('fit-plot');
    await plot.getByTestId('fit-scatter').waitFor();
    expect(await session.page.getByTestId('r2-explained').innerText()).toContain('pools every out-of-fold prediction');
    const best = await session.page.getByTestId('fit-row').first().getAttribute('data-fit-id');
    expect(await plot.getAttribute('data-fit-id')).toBe(best);
    const other = session.page.getByTestId('fit-row').nth(3);
    await other.locator('td').first().click();
    await expect.poll(() => plot.getAttribute('data-fit-id')).toBe(await other.getAttribute('data-fit-id'));
    // kNN has no coefficients, so no "non-zero coefficients" (Ridge has).
    await session.page.getByTestId('fits-all-scores').check();
    const knnCells = await session.page.locator('[data-testid="fit-row"][data-learner="knn"] [data-metric="nonZero"] .mean').allInnerTexts();
    expect(knnCells.length).toBe(12);
    expect(new Set(knnCells)).toEqual(new Set(['—']));
    expect(await session.page.locator('[data-testid="fit-row"][data-learner="ridgecv"] [data-metric="nonZero"] .mean').first().innerText()).toMatch(/^\d/);
    await session.page.getByTestId('fits-all-scores').uncheck();
    await session.page.getByTestId('fit-plot').scrollIntoViewIfNeeded();
    await screenshot(session.page, '31-scan-table-and-plot');
  });
});
