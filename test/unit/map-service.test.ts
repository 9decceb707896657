/**
 * The map service with the real compute process (out/main/compute.js, built by `npm test`): a
 * `map.project` job writes coordinates that `map.points` serves with the dataset's labels, a
 * cancelled projection leaves no map, a scan's out-of-fold predictions become colour columns,
 * and `datasets.subset` saves chosen rows as a new dataset.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dataset, Job, MapColumn, MapPoints, Projection, SequenceRow, StoredJob } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { readNpy } from '../../src-main/store/npy';
import { FAMILIES, seedMapProject, type MapProject } from '../support/map-setup';
import { assertBuilt, ROOT } from '../support/serve';

const COMPUTE = join(ROOT, 'out', 'main', 'compute.js');
let host: Host;
afterEach(() => host?.close());

function setUp(count = 240): MapProject {
  assertBuilt();
  const home = mkdtempSync(join(tmpdir(), 'esm-map-'));
  const seeded = seedMapProject(home, count, 8);
  host = createHost({ home, transport: 'cli', launcher: nodeComputeLauncher(COMPUTE) });
  return seeded;
}

async function call<T>(method: string, input: unknown): Promise<T> {
  const envelope = await host.dispatch(method, input);
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as T;
}

function waitFor(id: number, test: (job: StoredJob) => boolean, timeoutMs = 60_000): Promise<StoredJob> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${id} never reached the expected state`)), timeoutMs);
    const check = (job: StoredJob | undefined): boolean => {
      if (!job || !test(job)) return false;
      clearTimeout(timer);
      resolve(job);
      return true;
    };
    if (check(host.store.jobs.get(id))) return;
    const unsubscribe = host.events.subscribe((event) => {
      if (event.type === 'job' && event.job.id === id && check(event.job)) unsubscribe();
    });
  });
}

describe('map.project jobs and map.points', () => {
  it('projects with PCA and serves the coordinates with IDs and label columns', async () => {
    const seeded = setUp();
    const job = await call<Job>('jobs.start', { kind: 'map.project', embeddingId: seeded.embeddingId, method: 'pca' });
    const done = await waitFor(job.id, (j) => j.state === 'done' || j.state === 'failed');
    expect(done.error).toBeNull();
    const [map] = await call<Projection[]>('map.list', { projectId: seeded.projectId });
    expect(map).toMatchObject({ id: done.runId, method: 'pca', ready: true, rows: 240, datasetName: 'families', modelName: 'synthetic', layer: 6, pooling: 'mean' });
    expect(map!.explainedVariance![0]).toBeGreaterThanOrEqual(map!.explainedVariance![1]!);

    const points = await call<MapPoints>('map.points', { projectionId: map!.id });
    expect(points.ids).toEqual(Array.from({ length: 240 }, (_, i) => `s${i}`));
    const artifact = host.store.runs.artifacts(map!.id).find((a) => a.kind === 'map')!;
    const stored = readNpy(join(host.store.projects.folderOf(seeded.projectId)!, artifact.path));
    expect(stored.shape).toEqual([240, 2]);
    points.x.forEach((x, i) => expect(Math.fround(x)).toBe((stored.data as Float32Array)[i * 2]));
    points.y.forEach((y, i) => expect(Math.fround(y)).toBe((stored.data as Float32Array)[i * 2 + 1]));

    const family = points.columns.find((c) => c.name === 'family') as Extract<MapColumn, { type: 'category' }>;
    expect(family.categories).toEqual([...FAMILIES].sort());
    expect(family.codes.map((c) => family.categories[c])).toEqual(seeded.family);
    const score = points.columns.find((c) => c.name === 'score') as Extract<MapColumn, { type: 'number' }>;
    expect(score.values).toEqual(seeded.score);
    expect(points.columns.some((c) => c.name === 'length' && c.type === 'number')).toBe(true);
  });

  it('runs UMAP with progress, and a cancelled projection leaves no map', async () => {
    const seeded = setUp(300);
    const quick = await call<Job>('jobs.start', { kind: 'map.project', embeddingId: seeded.embeddingId, method: 'umap', nEpochs: 30, nNeighbors: 10 });
    const done = await waitFor(quick.id, (j) => j.state === 'done' || j.state === 'failed');
    expect(done.state).toBe('done');
    expect((await call<MapPoints>('map.points', { projectionId: done.runId })).x).toHaveLength(300);

    const long = await call<Job>('jobs.start', { kind: 'map.project', embeddingId: seeded.embeddingId, method: 'umap', nEpochs: 5000 });
    const midway = await waitFor(long.id, (j) => j.state === 'running' && /epoch/.test(j.message));
    expect(midway.fraction).toBeGreaterThan(0);
    await call('jobs.cancel', { id: long.id });
    const cancelled = await waitFor(long.id, (j) => j.state === 'cancelled');
    const maps = await call<Projection[]>('map.list', { projectId: seeded.projectId });
    expect(maps.find((m) => m.id === cancelled.runId)).toMatchObject({ ready: false, state: 'cancelled' });
    await expect(call('map.points', { projectionId: cancelled.runId })).rejects.toThrow(/not ready/);
  });

  it('colours by a scan fit: predicted + residual equals the measured score', async () => {
    const seeded = setUp();
    const scan = await call<Job>('jobs.start', { kind: 'learn.scan', projectId: seeded.projectId, datasetId: seeded.datasetId, target: 'score', embeddingIds: [seeded.embeddingId], learners: ['ridgecv'] });
    expect((await waitFor(scan.id, (j) => j.state === 'done' || j.state === 'failed')).state).toBe('done');
    const job = await call<Job>('jobs.start', { kind: 'map.project', embeddingId: seeded.embeddingId, method: 'pca' });
    const done = await waitFor(job.id, (j) => j.state === 'done' || j.state === 'failed');
    const points = await call<MapPoints>('map.points', { projectionId: done.runId });
    expect(points.fits).toHaveLength(1);
    const [predicted, residual] = await call<MapColumn[]>('map.predictions', { projectionId: done.runId, fitId: points.fits[0]!.id });
    expect(predicted).toMatchObject({ type: 'number' });
    expect(residual).toMatchObject({ type: 'number' });
    const p = (predicted as Extract<MapColumn, { type: 'number' }>).values;
    const r = (residual as Extract<MapColumn, { type: 'number' }>).values;
    seeded.score.forEach((y, i) => expect(p[i]! + r[i]!).toBeCloseTo(y, 4));
  });
});

describe('datasets.subset', () => {
  it('saves chosen rows with their IDs, sequences and labels, in order', async () => {
    const seeded = setUp(50);
    const subset = await call<Dataset>('datasets.subset', { datasetId: seeded.datasetId, rows: [7, 0, 5, 7], name: 'picked' });
    expect(subset).toMatchObject({ name: 'picked', sequenceCount: 3, projectId: seeded.projectId });
    const source = await call<{ rows: SequenceRow[] }>('datasets.sequences', { datasetId: seeded.datasetId, limit: 50 });
    const copied = await call<{ rows: SequenceRow[] }>('datasets.sequences', { datasetId: subset.id });
    expect(copied.rows.map((r) => [r.seqId, r.sequence, r.labels])).toEqual([0, 5, 7].map((i) => [source.rows[i]!.seqId, source.rows[i]!.sequence, source.rows[i]!.labels]));
    expect(subset.labelColumns.map((c) => c.name)).toEqual(['family', 'score']);
    await expect(call('datasets.subset', { datasetId: seeded.datasetId, rows: [1], name: 'picked' })).rejects.toThrow(/already has a dataset named/);
    await expect(call('datasets.subset', { datasetId: seeded.datasetId, rows: [50], name: 'other' })).rejects.toThrow(/Row 50 is not in/);
  });
});
