/**
 * The job runner with the real compute process (out/main/compute.js, built by `npm test`):
 * progress and metrics arrive, cancel stops a job, and a resumed job continues from its checkpoint.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { assertBuilt, ROOT } from '../support/serve';

const COMPUTE = join(ROOT, 'out', 'main', 'compute.js');
let host: Host;
afterEach(() => host?.close());

function newHost(home = mkdtempSync(join(tmpdir(), 'esm-runner-'))): Host {
  assertBuilt();
  host = createHost({ home, transport: 'cli', launcher: nodeComputeLauncher(COMPUTE) });
  return host;
}

function waitFor(h: Host, id: number, test: (job: Job) => boolean, timeoutMs = 20_000): Promise<Job> {
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

async function startBenchmark(h: Host, seconds: number): Promise<Job> {
  const project = h.projects.create(`P${Math.random()}`);
  const envelope = await h.dispatch('jobs.start', { kind: 'system.benchmark', projectId: project.id, seconds, size: 64 });
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as Job;
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
});
