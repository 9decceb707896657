/**
 * End-to-end: an embedding run in Chromium against serve. A FASTA of 200 sequences, an 8M-shaped
 * random model installed through a local imitation of the Hugging Face hub, mean + BOS
 * embeddings with progress, the server killed about half-way and restarted, the run resumed:
 * its files are byte-identical to those of an uninterrupted run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../support/browser';
import { loadGolden } from '../support/golden';
import { startHubServer, type HubServer } from '../support/hub-server';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { fastaText, randomProteins } from '../support/random-proteins';

const home = temporaryHome();
let hub: HubServer;
let server: ServeHandle;
let browser: Browser;
let page: Page;

function fasta(count: number): string {
  return fastaText(randomProteins(21, count, 60, 199), 'prot');
}

const db = () => new Database(join(home, 'esm-studio.sqlite'), { readonly: true });

function embedJobs(): { id: number; state: string; fraction: number; run_id: number }[] {
  const d = db();
  const rows = d.prepare("SELECT id, state, fraction, run_id FROM jobs WHERE kind = 'embed.dataset' ORDER BY id").all() as { id: number; state: string; fraction: number; run_id: number }[];
  d.close();
  return rows;
}

function runFiles(runId: number): Buffer[] {
  const d = db();
  const folder = (d.prepare('SELECT folder FROM projects').get() as { folder: string }).folder;
  const paths = d.prepare('SELECT path FROM embeddings WHERE run_id = ? ORDER BY pooling').all(runId) as { path: string }[];
  d.close();
  return paths.map((p) => readFileSync(join(folder, p.path)));
}

async function startEmbedding(): Promise<void> {
  await page.getByTestId('nav-runs').click();
  const form = page.getByTestId('embed-form');
  await form.getByTestId('embed-dataset').selectOption({ label: 'proteins' }).catch(async () => form.getByTestId('embed-dataset').selectOption({ index: 0 }));
  await form.getByTestId('embed-model').first().check();
  await form.getByTestId('embed-pool-bos').check();
  await form.getByTestId('embed-batch-tokens').fill('1200');
  await form.getByTestId('embed-start').click();
}

beforeAll(async () => {
  hub = await startHubServer({ dir: loadGolden('esm2-8M-random').checkpoint, repo: 'facebook/esm2_t6_8M_UR50D' });
  process.env.ESM_STUDIO_HUB = hub.url;
  server = await startServe(home);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.goto(server.url);
});

afterAll(async () => {
  delete process.env.ESM_STUDIO_HUB;
  await browser?.close();
  if (server) await stopServe(server);
  await hub?.close();
});

describe('embedding runs in the browser', () => {
  it('imports 200 sequences and installs a model from the hub', async () => {
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-name-input').fill('Embeddings');
    await page.getByTestId('project-create').click();
    await page.getByTestId('project-row').filter({ hasText: 'Embeddings' }).getByTestId('project-open').click();
    await page.getByTestId('import-file').setInputFiles({ name: 'proteins.fasta', mimeType: 'text/plain', buffer: Buffer.from(fasta(200)) });
    await page.getByTestId('import-accept').click();
    await expect.poll(() => page.getByTestId('sequence-row').count()).toBeGreaterThan(0);

    await page.getByTestId('nav-models').click();
    await page.locator('[data-testid="catalog-row"][data-model-id="esm2_t6_8M_UR50D"]').getByTestId('catalog-download').click();
    await expect.poll(() => page.getByTestId('model-row').count(), { timeout: 60_000 }).toBe(1);
    expect(hub.requests.some((r) => r.path.includes('/resolve/'))).toBe(true);
    await screenshot(page, '20-models');
  });

  it('resumes an embedding run after the server is killed half-way, to byte-identical files', async () => {
    await startEmbedding();
    await expect.poll(() => embedJobs().length).toBe(1);
    const [interruptedJob] = embedJobs();
    await expect.poll(() => embedJobs()[0]!.fraction, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(0.3);
    await screenshot(page, '21-embedding-progress');
    expect(embedJobs()[0]!.fraction).toBeLessThan(1);

    await stopServe(server, 'SIGKILL');
    server = await startServe(home, { port: server.port, token: server.token });
    await page.reload();
    const row = page.locator(`[data-testid="job-row"][data-job-id="${interruptedJob!.id}"]`);
    await page.locator(`[data-testid="job-row"][data-job-id="${interruptedJob!.id}"][data-state="interrupted"]`).waitFor({ timeout: 20_000 });
    await row.getByTestId('job-resume').click();
    await page.locator(`[data-testid="job-row"][data-job-id="${interruptedJob!.id}"][data-state="done"]`).waitFor({ timeout: 120_000 });

    // The same run again, uninterrupted, for reference.
    await startEmbedding();
    await expect.poll(() => embedJobs().length).toBe(2);
    await expect.poll(() => embedJobs()[1]!.state, { timeout: 120_000 }).toBe('done');
    const [resumed, clean] = embedJobs();
    const resumedFiles = runFiles(resumed!.run_id);
    const cleanFiles = runFiles(clean!.run_id);
    expect(resumedFiles.length).toBe(2);
    resumedFiles.forEach((bytes, i) => expect(bytes.equals(cleanFiles[i]!), `matrix ${i}`).toBe(true));

    await page.getByTestId('nav-runs').click();
    await page.getByTestId('run-row').first().click();
    await expect.poll(() => page.getByTestId('embedding-row').count()).toBe(2);
    await screenshot(page, '22-embedding-run');
  });
});
