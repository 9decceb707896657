/**
 * Cluster jobs in the app (serve mode + Debian's Chromium), on the loopback Slurm of
 * slurm-setup.ts — here rather than in test/e2e because only the `cluster` project starts Slurm.
 * 1. The embedding form's "Where to run" puts a run on `local-slurm` in 3 shards; the Jobs panel
 *    shows the array (its shards waiting, running, done, with progress) and the run ends done
 *    (screenshot while it runs).
 * 2. Serve is killed (SIGKILL) while an array runs; started again on the same data folder, it
 *    picks the job up from the run's job folder, follows the same Slurm array (no new submission
 *    of it) and merges: the run's files are the local run's, byte for byte.
 * 3. Cancel in the panel scancels the array; Resume finishes it with the local run's files.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClusterJobView } from '../../src-main/api/cluster';
import type { Job } from '../../src-main/api/schemas';
import { createRng } from '../../src-main/core/rng';
import { launchChromium, screenshot } from '../support/browser';
import { loadGolden } from '../support/golden';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

const slurm = inject('slurm');
const LETTERS = 'ACDEFGHIKLMNPQRSTVWY';

let home: string;
let server: ServeHandle;
let api: ApiClient;
let browser: Browser | null = null;
let projectId: number;
let datasetId: number;
let modelId: number;
let page: Page;
/** The same embedding run on this computer: what every cluster run must reproduce. */
let localRunId: number;

/** Every file below `dir` (relative path → bytes). */
function files(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else found.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return found;
}

function runFolder(runId: number): string {
  const [project] = readdirSync(join(home, 'projects'));
  return join(home, 'projects', project!, 'runs', String(runId));
}

const settings = { layers: [1, 2], pool: ['mean', 'per-token'], batchTokens: 300, threads: 1 };

describe.skipIf(!slurm)('cluster jobs in the app (serve, Chromium, loopback Slurm)', () => {
  beforeAll(async () => {
    home = temporaryHome('esm-cluster-app-');
    // Serve's compute process hands SLURM_CONF to sbatch/squeue; a profile that runs one shard at a time keeps an array under way long enough to kill serve.
    process.env.SLURM_CONF = slurm!.SLURM_CONF;
    process.env.ESM_STUDIO_CLUSTERS = join(home, 'clusters.json');
    writeFileSync(process.env.ESM_STUDIO_CLUSTERS, JSON.stringify({ profiles: { 'one-at-a-time': { kind: 'local-slurm', maxAtOnce: 1, pollSeconds: 1 } } }));
    server = await startServe(home);
    api = await connectApi(server);
    projectId = (await api.call<{ id: number }>('projects.create', { name: 'Cluster app' })).id;
    const install = await api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    expect((await api.waitForJob(install.id)).state).toBe('done');
    modelId = (await api.call<{ id: number }[]>('models.list', {}))[0]!.id;
    const rng = createRng(23);
    const text = Array.from({ length: 90 }, (_, i) => `>p${i}\n${Array.from({ length: 20 + rng.nextInt(80) }, () => LETTERS[rng.nextInt(20)]).join('')}\n`).join('');
    datasetId = (await api.call<{ dataset: { id: number } }>('datasets.import', { projectId, name: 'proteins', source: { kind: 'text', fileName: 'p.fasta', text } })).dataset.id;
    const local = await api.call<Job>('jobs.start', { kind: 'embed.dataset', projectId, datasetId, modelIds: [modelId], ...settings });
    const localDone = await api.waitForJob(local.id);
    expect(localDone.state, localDone.error ?? '').toBe('done');
    localRunId = localDone.runId!;
  }, 180_000);

  afterAll(async () => {
    api?.close();
    await browser?.close();
    if (server) await stopServe(server);
    delete process.env.ESM_STUDIO_CLUSTERS;
  });

  it('"Where to run: local-slurm, 3 shards" from the embedding form; the Jobs panel shows the array\'s shards and progress', { timeout: 240_000 }, async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').first().getByTestId('project-open').click();
    await page.getByTestId('nav-runs').click();
    const form = page.getByTestId('embed-form');
    await form.getByTestId('embed-layers').fill('1, 2');
    const where = form.getByTestId('embed-where-select');
    await expect.poll(() => where.locator('option').allInnerTexts()).toEqual(['This computer', 'local-slurm (Slurm on this machine)', 'one-at-a-time (Slurm on this machine)']);
    await where.selectOption('local-slurm');
    await form.getByTestId('embed-where-shards').fill('3');
    await form.getByTestId('embed-start').click();
    await form.getByTestId('embed-started').waitFor();

    const row = page.locator('[data-testid="job-row"]', { has: page.getByTestId('cluster-array') }).first();
    await expect.poll(() => row.getByTestId('cluster-shard').count(), { timeout: 60_000 }).toBe(3);
    expect(await row.getByTestId('cluster-profile').innerText()).toBe('local-slurm');
    // Seen while it runs: some shard has started (running with progress, or done) before the run ends.
    await expect
      .poll(async () => (await row.getByTestId('cluster-shard').evaluateAll((shards) => shards.map((s) => s.getAttribute('data-state')))).some((s) => s === 'running' || s === 'done'), { timeout: 120_000 })
      .toBe(true);
    await screenshot(page, '40-cluster-job-array');
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 180_000 }).toBe('done');
    await expect.poll(() => row.getByTestId('cluster-counts').innerText()).toBe('3 of 3 shards done · 0 running · 0 waiting');
    expect(await row.getByTestId('cluster-shard').evaluateAll((shards) => shards.map((s) => s.getAttribute('data-state')))).toEqual(['done', 'done', 'done']);
    // The project remembers the choice as its default for the next run.
    await page.reload();
    await page.getByTestId('nav-runs').click();
    await expect.poll(() => page.getByTestId('embed-where-select').inputValue()).toBe('local-slurm');
    expect(pageErrors).toEqual([]);
  });

  it('serve killed (SIGKILL) while the array runs: started again, it follows the same array and merges the local run\'s files', { timeout: 300_000 }, async () => {
    const job = await api.call<Job>('jobs.start', { kind: 'embed.dataset', projectId, datasetId, modelIds: [modelId], ...settings, cluster: { profile: 'one-at-a-time', shards: 3 } });
    // Killed once the array is submitted and its first shard has started, before the last is done.
    let before: ClusterJobView | null = null;
    await expect
      .poll(async () => {
        before = await api.call<ClusterJobView | null>('jobs.cluster', { id: job.id });
        return before !== null && before.arrays.length > 0 && before.shards.some((s) => s.state !== 'pending') && before.shards.some((s) => s.state !== 'done');
      }, { timeout: 120_000, interval: 100 })
      .toBe(true);
    api.close();
    await stopServe(server, 'SIGKILL');

    server = await startServe(home);
    api = await connectApi(server);
    const finished = await api.waitForJob(job.id, 240_000);
    expect(finished.state, finished.error ?? '').toBe('done');
    // Merged: the job folder is gone, the panel shows every shard done.
    const after = await api.call<ClusterJobView | null>('jobs.cluster', { id: job.id });
    expect(after).toMatchObject({ state: 'done', shards: [{ state: 'done' }, { state: 'done' }, { state: 'done' }] });
    const expected = files(runFolder(localRunId));
    const actual = files(runFolder(finished.runId!));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
    // The same array was followed: Slurm knows no embedding array submitted after it (squeue lists finished jobs for MinJobAge, 300 s).
    const listed = spawnSync('squeue', ['-h', '-t', 'all', '-r', '-o', '%j|%F|%K|%T|%r'], { encoding: 'utf8', env: process.env });
    expect(listed.status, listed.stderr).toBe(0);
    const arrays = new Set(listed.stdout.split('\n').filter((line) => line.startsWith('esm-studio-embed.dataset|')).map((line) => Number(line.split('|')[1])));
    expect([...arrays].filter((id) => id >= Number(before!.arrays[0])), listed.stdout).toEqual([Number(before!.arrays[0])]);
  });

  it('Cancel in the Jobs panel runs scancel (nothing of the array stays queued); Resume submits the unfinished shards and merges the local run\'s files', { timeout: 300_000 }, async () => {
    // Serve was started again (test 2) on another port: open its page.
    await page.goto(server.url);
    const job = await api.call<Job>('jobs.start', { kind: 'embed.dataset', projectId, datasetId, modelIds: [modelId], ...settings, cluster: { profile: 'one-at-a-time', shards: 3 } });
    const row = page.locator(`[data-testid="job-row"][data-job-id="${job.id}"]`);
    try {
      // The array has started and not finished: a shard running, or one done while others wait (a
      // shard of the tiny model can start and end between two looks of the follower, so "running"
      // alone may never show). Waits on progress, however slow the machine: the test's timeout bounds it.
      const started = (states: (string | null)[]): boolean => states.some((s) => s === 'running') || (states.some((s) => s === 'done') && states.some((s) => s !== 'done'));
      await expect.poll(async () => started(await row.getByTestId('cluster-shard').evaluateAll((shards) => shards.map((s) => s.getAttribute('data-state')))), { timeout: 240_000, interval: 100 }).toBe(true);
    } catch (error) {
      await screenshot(page, '41-debug');
      console.log(JSON.stringify(await api.call('jobs.cluster', { id: job.id })), JSON.stringify(await api.call('jobs.list', { projectId })));
      throw error;
    }
    const view = (await api.call<ClusterJobView>('jobs.cluster', { id: job.id }))!;
    await row.getByTestId('job-cancel').click();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 60_000 }).toBe('cancelled');
    const queued = spawnSync('squeue', ['-h', '-r', '-j', view.arrays[0]!, '-t', 'PENDING,RUNNING', '-o', '%K|%T'], { encoding: 'utf8', env: process.env });
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stdout.trim()).toBe('');
    const cancelled = (await api.call<ClusterJobView>('jobs.cluster', { id: job.id }))!;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.shards.some((s) => s.state === 'failed' && s.why !== null)).toBe(true);

    await row.getByTestId('job-resume').click();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
    const finished = (await api.call<Job[]>('jobs.list', { projectId })).find((j) => j.id === job.id)!;
    const expected = files(runFolder(localRunId));
    const actual = files(runFolder(finished.runId!));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
  });
});
