/**
 * End-to-end: a SWAT-style scan from the UI — 2 models × 2 layers × 3 compressions × 2 learners —
 * shows its results table and the metric-against-model-size plot.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../support/browser';
import { setUpScanProject } from '../support/scan-setup';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
});

afterAll(async () => {
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

describe('a scan from the UI', () => {
  it('fits 24 combinations and shows the table and the plot', async () => {
    const { project } = await setUpScanProject((method, input) => api.call(method, input), (id) => api.waitForJob(id));
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').first().getByTestId('project-open').click();
    await page.getByTestId('nav-runs').click();
    const form = page.getByTestId('scan-form');
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

    await expect.poll(async () => (await api.call<{ kind: string; state: string }[]>('jobs.list', { projectId: project.id })).find((j) => j.kind === 'learn.scan')?.state, { timeout: 120_000 }).toBe('done');
    await page.getByTestId('run-row').filter({ hasText: 'Scan' }).first().click();
    await expect.poll(() => page.getByTestId('fit-row').count(), { timeout: 20_000 }).toBe(24);
    await page.getByTestId('scan-plot').waitFor();
    expect(await page.getByTestId('scan-plot').locator('canvas, svg').count()).toBeGreaterThan(0);
    await page.getByTestId('scan-plot').scrollIntoViewIfNeeded();
    await screenshot(page, '30-scan-results');
  });
});
