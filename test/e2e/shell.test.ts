/**
 * End-to-end: the app shell in Debian's Chromium against the real serve process. Creates a
 * project, imports a FASTA with one bad record, cancels a running job, and kills the server
 * mid-job to see the job come back "interrupted" and resume from its checkpoint.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../support/browser';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';

const FASTA_WITH_ONE_BAD_RECORD = [
  '>sp|P1|first first protein',
  'MKTAYIAKQR',
  'QISFVKSHFS',
  '>second',
  'mktayiakqrqisfvk*',
  '>broken has a digit',
  'MKTAY1AKQR',
  '>fourth',
  'GSHMLEDPVDAFQ',
  '',
].join('\n');

let browser: Browser;
let page: Page;
let server: ServeHandle;
const home = temporaryHome();

/** The percentage a job row's progress bar shows. */
const percentDone = async (row: ReturnType<Page['locator']>): Promise<number> =>
  Number(await row.getByRole('progressbar').getAttribute('aria-valuenow'));

const jobRow = (page: Page, state?: string) =>
  page.locator(state ? `[data-testid="job-row"][data-state="${state}"]` : '[data-testid="job-row"]');

async function startBenchmark(page: Page, seconds: number): Promise<void> {
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('benchmark-seconds').fill(String(seconds));
  await page.getByTestId('benchmark-start').click();
}

beforeAll(async () => {
  server = await startServe(home);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  if (server) await stopServe(server);
});

describe('ESM Studio in the browser (serve mode)', () => {
  it('creates a project and opens it', async () => {
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-name-input').fill('Lysozyme study');
    await page.getByTestId('project-create').click();
    const row = page.getByTestId('project-row').filter({ hasText: 'Lysozyme study' });
    await expect.poll(() => row.count()).toBe(1);
    await screenshot(page, '01-projects');
    await row.getByTestId('project-open').click();
    await expect.poll(() => page.getByTestId('current-project').textContent()).toContain('Lysozyme study');
  });

  it('reports the bad record of a FASTA before importing, then lists the sequences', async () => {
    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-file').setInputFiles({
      name: 'mixed.fasta',
      mimeType: 'text/plain',
      buffer: Buffer.from(FASTA_WITH_ONE_BAD_RECORD),
    });
    const report = page.getByTestId('import-report');
    await report.waitFor();
    const errors = page.getByTestId('import-error-row');
    await expect.poll(() => errors.count()).toBe(1);
    const errorText = (await errors.first().textContent()) ?? '';
    expect(errorText).toContain('broken');
    expect(errorText).toContain('6'); // line 7 holds the sequence; residue 6 is the "1"
    await screenshot(page, '02-import-report');

    // Nothing is written before the user accepts.
    const db = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM sequences').get()).toEqual({ n: 0 });

    await page.getByTestId('import-accept').click();
    await expect.poll(() => page.getByTestId('sequence-row').count()).toBe(3);
    const ids = await page.getByTestId('sequence-row').allTextContents();
    expect(ids.join(' ')).toContain('sp|P1|first');
    expect(db.prepare('SELECT COUNT(*) AS n FROM sequences').get()).toEqual({ n: 3 });
    expect(db.prepare('SELECT sequence FROM sequences WHERE seq_id = ?').get('second')).toEqual({ sequence: 'MKTAYIAKQRQISFVK' });
    db.close();
    await screenshot(page, '03-data');
  });

  it('cancels a running job', async () => {
    await startBenchmark(page, 120);
    await jobRow(page, 'running').first().waitFor();
    await expect.poll(() => percentDone(jobRow(page, 'running').first()), { timeout: 15_000 }).toBeGreaterThan(0);
    await screenshot(page, '04-job-running');
    await jobRow(page, 'running').first().getByTestId('job-cancel').click();
    await jobRow(page, 'cancelled').first().waitFor({ timeout: 15_000 });
    expect(await jobRow(page, 'running').count()).toBe(0);
    await screenshot(page, '05-job-cancelled');
  });

  it('shows a job interrupted by a killed server, and resumes it', async () => {
    await startBenchmark(page, 8);
    const running = jobRow(page, 'running').first();
    await running.waitFor();
    await expect.poll(() => percentDone(running), { timeout: 15_000 }).toBeGreaterThan(10);

    await stopServe(server, 'SIGKILL');
    const db = new Database(join(home, 'esm-studio.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const before = db.prepare("SELECT id, fraction FROM jobs WHERE state = 'running'").get() as { id: number; fraction: number };
    expect(before.fraction).toBeGreaterThan(0);
    db.close();

    server = await startServe(home, { port: server.port, token: server.token });
    await page.reload();
    const interrupted = page.locator(`[data-testid="job-row"][data-job-id="${before.id}"][data-state="interrupted"]`);
    await interrupted.waitFor({ timeout: 20_000 });
    await screenshot(page, '06-job-interrupted');

    await interrupted.getByTestId('job-resume').click();
    const done = page.locator(`[data-testid="job-row"][data-job-id="${before.id}"][data-state="done"]`);
    await done.waitFor({ timeout: 30_000 });

    const after = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    // The resumed attempt continued from the checkpoint: no step was measured twice and none is missing.
    const steps = after.prepare("SELECT step FROM metrics WHERE name = 'gflops' ORDER BY step").all() as { step: number }[];
    const runId = (after.prepare('SELECT run_id FROM jobs WHERE id = ?').get(before.id) as { run_id: number }).run_id;
    const ownSteps = (after.prepare("SELECT step FROM metrics WHERE run_id = ? AND name = 'gflops' ORDER BY step").all(runId) as { step: number }[]).map((r) => r.step);
    expect(steps.length).toBeGreaterThan(0);
    expect(ownSteps).toEqual(ownSteps.map((_, i) => i + 1));
    after.close();
  });

  it('shows every screen, in both themes', async () => {
    for (const view of ['models', 'runs', 'map', 'structure', 'variants', 'training', 'reports', 'projects']) {
      await page.getByTestId(`nav-${view}`).click();
      await screenshot(page, `10-${view}`);
    }
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.getByTestId('theme-toggle').click();
    const after = await page.evaluate(() => document.documentElement.dataset.theme);
    expect(after).not.toBe(before);
    await screenshot(page, '11-projects-other-theme');
  });

  it('shows the back end\'s message when a request fails', async () => {
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-name-input').fill('Lysozyme study');
    await page.getByTestId('project-create').click();
    const toast = page.getByTestId('toast').filter({ hasText: 'already exists' });
    await toast.first().waitFor();
    await screenshot(page, '12-error-toast');
  });

  it('goes on after garbage on the API socket: errors answered, then the UI still works', async () => {
    // A second socket from the page sends what a broken or hostile client might; each gets an error answer.
    const garbage = ['null', '[1, 2]', '42', 'not json at all', '{"id": 1}', '{"method": "app.info"}'];
    const replies = await page.evaluate(async (messages) => {
      const token = new URLSearchParams(location.search).get('token') ?? '';
      const socket = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}`);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = () => reject(new Error('the API socket did not open'));
      });
      const errors: unknown[] = [];
      const all = new Promise<void>((resolve) => {
        socket.onmessage = (message) => {
          const data = JSON.parse(String(message.data)) as { error?: unknown; envelope?: { ok: boolean } };
          if (data.error || data.envelope?.ok === false) errors.push(data);
          if (errors.length === messages.length + 1) resolve();
        };
      });
      for (const text of messages) socket.send(text);
      socket.send(new Uint8Array([0xff, 0x00, 0x7b]));
      await all;
      socket.close();
      return errors;
    }, garbage);
    expect(replies).toHaveLength(garbage.length + 1);
    for (const reply of replies) expect(JSON.stringify(reply)).toMatch(/"code":"invalid-input"/);

    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-name-input').fill('After garbage');
    await page.getByTestId('project-create').click();
    await expect.poll(() => page.getByTestId('project-row').filter({ hasText: 'After garbage' }).count()).toBe(1);
  });

  it('refuses the API without the token', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(403);
  });
});
