/**
 * End-to-end: the Jobs panel tells the truth. A job that ignores its cancel is force-stopped and
 * the job started right after it succeeds; a queued job says what it waits for; a light job
 * (installing a model) does not wait behind a heavy one; a dataset in use cannot be deleted (the
 * message names the job); finished jobs can be cleared and a job opens its result; and a page
 * whose server went away says it is disconnected. No page error on the way.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { launchChromium, screenshot } from '../support/browser';
import { loadGolden } from '../support/golden';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;
let projectId: number;
const pageErrors: string[] = [];

const row = (id: number) => page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
const stateOf = (id: number) => row(id).getAttribute('data-state', { timeout: 60_000 });

beforeAll(async () => {
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  projectId = (await api.call<{ id: number }>('projects.create', { name: 'Jobs' })).id;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text())));
  await page.goto(server.url);
  await page.getByTestId('nav-projects').click();
  await page.getByTestId('project-row').first().getByTestId('project-open').click();
});

afterAll(async () => {
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

describe('the Jobs panel', () => {
  it('force-stops a job that ignores its cancel; a job started at once after it succeeds', async () => {
    // size 2048: one step of this benchmark takes many seconds, far past the 5 s cancel grace.
    const stubborn = await api.call<Job>('jobs.start', { kind: 'system.benchmark', projectId, seconds: 600, size: 2048 });
    await expect.poll(() => stateOf(stubborn.id), { timeout: 60_000 }).toBe('running');
    await row(stubborn.id).getByTestId('job-cancel').click();
    // Start the next job at once, from the Runs page.
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('benchmark-seconds').fill('1');
    await page.getByTestId('benchmark-start').click();
    await page.getByTestId('benchmark-started').waitFor();
    const next = (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.id > stubborn.id)!;
    expect(next.state).toBe('queued');
    await expect.poll(() => row(next.id).getByTestId('job-waiting').innerText()).toContain('Waiting for: Benchmark this computer (600 s)');
    await screenshot(page, '06-job-waiting');
    await expect.poll(() => stateOf(stubborn.id), { timeout: 60_000 }).toBe('cancelled');
    await expect.poll(() => stateOf(next.id), { timeout: 120_000 }).toBe('done');
    expect(await row(next.id).getByTestId('job-error').count()).toBe(0);
  });

  it('installs a model beside a running heavy job, and refuses to delete a dataset that a job uses, naming the job', async () => {
    const heavy = await api.call<Job>('jobs.start', { kind: 'system.benchmark', projectId, seconds: 600, size: 64 });
    await expect.poll(() => stateOf(heavy.id), { timeout: 60_000 }).toBe('running');
    const install = await api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    await expect.poll(() => stateOf(install.id), { timeout: 120_000 }).toBe('done');
    expect(await stateOf(heavy.id)).toBe('running');

    const [model] = await api.call<{ id: number }[]>('models.list', {});
    const text = Array.from({ length: 30 }, (_, i) => `>s${i}\n${'MKTAYIAKQRQISFVKSHFSRQ'.repeat(6)}\n`).join('');
    const { dataset } = await api.call<{ dataset: { id: number } }>('datasets.import', { projectId, name: 'TEM-1', source: { kind: 'text', fileName: 'tem1.fasta', text } });
    const embedding = await api.call<Job>('jobs.start', { kind: 'embed.dataset', projectId, datasetId: dataset.id, modelIds: [model!.id], pool: ['mean'] });
    await page.getByTestId('nav-data').click();
    await page.locator(`[data-testid="dataset-row"][data-dataset-id="${dataset.id}"] [data-testid="dataset-delete"]`).click();
    const ok = page.getByTestId('confirm-ok');
    if (await ok.isVisible()) await ok.click();
    const toast = page.locator('[data-testid="toast"][data-kind="error"]').last();
    await expect.poll(() => toast.innerText(), { timeout: 20_000 }).toContain(`used by the job "${embedding.title}"`);
    await screenshot(page, '07-delete-refused');
    expect(await page.locator(`[data-testid="dataset-row"][data-dataset-id="${dataset.id}"]`).count()).toBe(1);
    await api.call('jobs.cancel', { id: embedding.id });
    await api.call('jobs.cancel', { id: heavy.id });
    await expect.poll(() => stateOf(heavy.id), { timeout: 60_000 }).toBe('cancelled');
  });

  it('opens a job\'s result, clears finished jobs, and says when the server has gone away', async () => {
    const install = (await api.call<Job[]>('jobs.list', {})).find((j) => j.kind === 'model.install')!;
    await row(install.id).getByTestId('job-title').click();
    await expect.poll(() => page.url()).toMatch(/#models$/);

    const finished = (await api.call<Job[]>('jobs.list', {})).filter((j) => ['done', 'failed', 'cancelled'].includes(j.state));
    expect(finished.length).toBeGreaterThan(2);
    await page.getByTestId('jobs-all-projects').check();
    await page.getByTestId('jobs-clear').click();
    await expect.poll(() => page.getByTestId('job-row').count()).toBe(0);
    expect((await api.call<Job[]>('jobs.list', {})).filter((j) => ['done', 'failed', 'cancelled'].includes(j.state))).toEqual([]);

    await stopServe(server);
    await page.getByTestId('disconnected').waitFor({ timeout: 20_000 });
    await screenshot(page, '08-disconnected');
    expect(pageErrors.filter((text) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(text))).toEqual([]);
  });
});
