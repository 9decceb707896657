/**
 * The job runner with the real compute process (out/main/compute.js, built by `npm test`):
 * progress and metrics arrive, cancel stops a job, a resumed job continues from its checkpoint,
 * a force-stopped job never fails the next one, light jobs run beside heavy ones, and one process
 * at a time runs jobs on a data folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job, StoredJob } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const COMPUTE = join(ROOT, 'out', 'main', 'compute.js');
let host: Host;
afterEach(() => host?.close());

function newHost(home = mkdtempSync(join(tmpdir(), 'esm-runner-'))): Host {
  assertBuilt();
  host = createHost({ home, transport: 'cli', launcher: nodeComputeLauncher(COMPUTE) });
  return host;
}

function waitFor(h: Host, id: number, test: (job: StoredJob) => boolean, timeoutMs = 20_000): Promise<StoredJob> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${id} never reached the expected state`)), timeoutMs);
    const current = h.store.jobs.get(id);
    if (current && test(current)) {
      clearTimeout(timer);
      return resolve(current);
    }
    const unsubscribe = h.events.subscribe((event) => {
      if (event.type === 'job' && event.job.id === id && test(event.job)) {
        clearTimeout(timer);
        unsubscribe();
        resolve(event.job);
      }
    });
  });
}

async function call<T>(h: Host, method: string, input: unknown): Promise<T> {
  const envelope = await h.dispatch(method, input);
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as T;
}

/** `size` 2048 makes one step take many seconds: a task that does not notice a cancel for a while. */
async function startBenchmark(h: Host, seconds: number, size = 64): Promise<Job> {
  const project = h.projects.create(`P${Math.random()}`);
  return call<Job>(h, 'jobs.start', { kind: 'system.benchmark', projectId: project.id, seconds, size });
}

describe('job runner', () => {
  it('runs a job in the compute process to the end, with progress, ETA, metrics and a summary', async () => {
    const h = newHost();
    const job = await startBenchmark(h, 1.5);
    expect(job.state).toMatch(/queued|running/);
    const midway = await waitFor(h, job.id, (j) => j.state === 'running' && j.fraction > 0);
    expect(midway.message).toMatch(/GFLOP\/s/);
    const done = await waitFor(h, job.id, (j) => j.state === 'done');
    expect(done.fraction).toBe(1);
    const run = h.store.runs.get(done.runId!)!;
    expect(run.state).toBe('done');
    expect(Number(run.summary.meanGflops)).toBeGreaterThan(0);
    const metrics = h.store.runs.metrics(run.id);
    expect(metrics.length).toBe(run.summary.steps);
    expect(metrics.every((m) => m.name === 'gflops' && m.value > 0)).toBe(true);
  });

  it('cancels a running job and runs the next queued one', async () => {
    const h = newHost();
    const long = await startBenchmark(h, 600);
    const next = await startBenchmark(h, 0.5 + 0.5);
    await waitFor(h, long.id, (j) => j.state === 'running' && j.fraction > 0);
    expect(h.store.jobs.get(next.id)?.state).toBe('queued');
    await h.dispatch('jobs.cancel', { id: long.id });
    const cancelled = await waitFor(h, long.id, (j) => j.state === 'cancelled');
    expect(cancelled.fraction).toBeLessThan(0.1);
    await waitFor(h, next.id, (j) => j.state === 'done');
    expect(await h.dispatch('jobs.cancel', { id: long.id })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('resumes an interrupted job from its checkpoint instead of starting over', async () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-runner-'));
    const first = newHost(home);
    const job = await startBenchmark(first, 2);
    await waitFor(first, job.id, (j) => j.fraction >= 0.3);
    first.close(); // as when the app quits mid-job

    const second = newHost(home);
    expect(second.store.jobs.get(job.id)?.state).toBe('interrupted');
    const stepsBefore = second.store.runs.metrics(job.runId!).length;
    expect(stepsBefore).toBeGreaterThan(0);
    await second.dispatch('jobs.resume', { id: job.id });
    await waitFor(second, job.id, (j) => j.state === 'done');
    const steps = second.store.runs.metrics(job.runId!).map((m) => m.step);
    expect(steps).toEqual(steps.map((_, i) => i + 1));
    // Two seconds in total at ~0.25 s a step: a restart from zero would have made ~16 steps.
    expect(steps.length).toBeLessThanOrEqual(10);
  });

  it('force-stops a job that ignores its cancel, and the job started right after it succeeds', { timeout: 180_000 }, async () => {
    const h = newHost();
    const stubborn = await startBenchmark(h, 600, 2048);
    await waitFor(h, stubborn.id, (j) => j.state === 'running', 60_000);
    const cancelledAt = await call<Job>(h, 'jobs.cancel', { id: stubborn.id });
    expect(cancelledAt.state).toBe('running'); // It is asked to stop; it does not yet.
    const next = await startBenchmark(h, 1);
    const stopped = await waitFor(h, stubborn.id, (j) => j.state === 'cancelled', 60_000);
    expect(stopped.message).toMatch(/stopped/);
    const done = await waitFor(h, next.id, (j) => j.state === 'done' || j.state === 'failed', 120_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('done');
  });

  it('runs a light job (installing a model) beside a heavy one, and a queued heavy job says what it waits for', { timeout: 180_000 }, async () => {
    const h = newHost();
    const heavy = await startBenchmark(h, 600);
    await waitFor(h, heavy.id, (j) => j.state === 'running' && j.fraction > 0, 60_000);
    const queued = await startBenchmark(h, 1);
    expect(queued.state).toBe('queued');
    expect(queued.lane).toBe('heavy');
    expect(queued.waitingFor).toMatch(/^Benchmark this computer \(600 s\) \(\d+ %\)$/);
    const install = await call<Job>(h, 'jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    expect(install.lane).toBe('light');
    const installed = await waitFor(h, install.id, (j) => j.state === 'done' || j.state === 'failed', 120_000);
    expect(installed.error).toBeNull();
    expect(h.store.jobs.get(heavy.id)?.state).toBe('running'); // The install did not wait for it.
    expect(h.store.jobs.get(queued.id)?.state).toBe('queued');
    await call(h, 'jobs.cancel', { id: heavy.id });
    await waitFor(h, queued.id, (j) => j.state === 'done', 60_000);
  });

  it('says a job is starting while its compute process loads, and counts every change of a job', { timeout: 60_000 }, async () => {
    const h = newHost();
    const seen: Job[] = [];
    h.events.subscribe((event) => void (event.type === 'job' && seen.push(event.job)));
    const job = await startBenchmark(h, 1);
    await waitFor(h, job.id, (j) => j.state === 'done');
    expect(seen.find((j) => j.state === 'running')?.message).toBe('Starting…');
    const revisions = seen.filter((j) => j.id === job.id).map((j) => j.revision);
    expect(revisions.every((r, i) => i === 0 || r > revisions[i - 1]!)).toBe(true);
    const listed = await call<Job[]>(h, 'jobs.list', {});
    expect(listed[0]).toMatchObject({ id: job.id, state: 'done', resumable: false, waitingFor: null });
    expect(await call(h, 'jobs.clear', { ids: [job.id, job.id + 1] })).toEqual({ cleared: [job.id] });
    expect(await call<Job[]>(h, 'jobs.list', {})).toEqual([]);
  });

  it('refuses to delete a dataset, model or project that a queued or running job uses, naming the job', { timeout: 120_000 }, async () => {
    const h = newHost();
    const install = await call<Job>(h, 'jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    await waitFor(h, install.id, (j) => j.state === 'done', 60_000);
    const [model] = await call<{ id: number }[]>(h, 'models.list', {});
    const project = await call<{ id: number }>(h, 'projects.create', { name: 'Busy' });
    const text = Array.from({ length: 40 }, (_, i) => `>s${i}\n${'MKTAYIAKQRQISFVKSHFSRQ'.repeat(8)}\n`).join('');
    const { dataset } = await call<{ dataset: { id: number } }>(h, 'datasets.import', { projectId: project.id, name: 'TEM-1', source: { kind: 'text', fileName: 'tem1.fasta', text } });
    const blocker = await startBenchmark(h, 600); // keeps the embedding queued: the check covers queued jobs too
    const embedding = await call<Job>(h, 'jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [model!.id], pool: ['mean'] });
    for (const [method, id] of [['datasets.delete', dataset.id], ['models.delete', model!.id], ['projects.delete', project.id]] as const) {
      const refused = await h.dispatch(method, { id });
      expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });
      expect(!refused.ok && refused.error.message).toContain(`"${embedding.title}" (queued)`);
    }
    await call(h, 'jobs.cancel', { id: embedding.id });
    await call(h, 'jobs.cancel', { id: blocker.id });
    expect(await h.dispatch('datasets.delete', { id: dataset.id })).toMatchObject({ ok: true });
  });

  it('lets one process at a time run jobs on a data folder, and takes over the lock of a dead one', { timeout: 60_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-runner-'));
    const serve = spawn(process.execPath, [join(ROOT, 'out', 'main', 'serve.js')], { env: { ...process.env, ESM_STUDIO_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        serve.stdout.on('data', (chunk: Buffer) => void (String(chunk).includes('Open http') && resolve()));
        serve.once('exit', () => reject(new Error('serve stopped')));
      });
      expect(() => newHost(home)).toThrow(new RegExp(`already running on this data folder .*serve mode, process ${serve.pid}`));
      // A process that runs no jobs (e.g. listing projects) still works beside it.
      const reader = createHost({ home, transport: 'cli' });
      expect(reader.projects.list()).toEqual([]);
      reader.close();
    } finally {
      serve.kill('SIGKILL');
      await new Promise((resolve) => serve.once('exit', resolve));
    }
    const lock = join(home, 'esm-studio.lock');
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: serve.pid }); // left behind by the killed process
    const h = newHost(home);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    h.close();
    expect(existsSync(lock)).toBe(false);
    writeFileSync(lock, 'half-written');
    newHost(home).close();
  });
});
