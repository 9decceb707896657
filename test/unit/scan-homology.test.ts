/**
 * A scan with similarity folds through the API and the compute process (built bundle): the
 * service hands the sequences to the task, the run folder gets homology-clusters.csv, planted
 * families never straddle folds, every fit's metrics carry a bootstrap interval, and the run's
 * summary says how the sequences were grouped.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Fit, Job, StoredJob } from '../../src-main/api/schemas';
import { summaryOf } from '../../src-main/api/tasks';
import { createRng } from '../../src-main/core/rng';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { loadGolden } from '../support/golden';
import { plantedFamilies } from '../support/planted-families';
import { assertBuilt, ROOT } from '../support/serve';

describe('learn.scan with similarity folds', () => {
  it('keeps planted families in one fold and stores the cluster assignment with the run', { timeout: 300_000 }, async () => {
    assertBuilt();
    const host: Host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-scan-homology-')), transport: 'cli', launcher: nodeComputeLauncher(join(ROOT, 'out', 'main', 'compute.js')) });
    const call = async <T>(method: string, input: unknown): Promise<T> => {
      const envelope = await host.dispatch(method, input);
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.value as T;
    };
    const waitFor = (id: number): Promise<StoredJob> =>
      new Promise((resolve) => {
        const finished = (job?: StoredJob): boolean => !!job && ['done', 'failed', 'cancelled'].includes(job.state);
        if (finished(host.store.jobs.get(id))) return resolve(host.store.jobs.get(id)!);
        const unsubscribe = host.events.subscribe((event) => {
          if (event.type === 'job' && event.job.id === id && finished(event.job)) {
            unsubscribe();
            resolve(event.job);
          }
        });
      });
    const install = await call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    expect((await waitFor(install.id)).state).toBe('done');
    const models = await call<{ id: number }[]>('models.list', {});
    const project = await call<{ id: number }>('projects.create', { name: 'Similarity' });
    const set = plantedFamilies(12, { families: 6, membersPerFamily: 5, length: 60, identityToAncestor: [0.75, 0.95], indelRate: 0.01 });
    const rng = createRng(1);
    const csv = ['id,sequence,y', ...set.sequences.map((s, i) => `q${i},${s},${(set.family[i]! + rng.next()).toFixed(3)}`)].join('\n') + '\n';
    const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'families.csv', text: csv } });
    const embed = await call<Job>('jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: models.map((m) => m.id), layers: [1], pool: ['mean'] });
    expect((await waitFor(embed.id)).state).toBe('done');
    const matrices = await call<{ id: number }[]>('embeddings.list', { projectId: project.id });

    const job = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'y',
      embeddingIds: matrices.map((m) => m.id), learners: ['ridgecv'], split: { scheme: 'homology', k: 3, seed: 42 },
    });
    const done = await waitFor(job.id);
    expect(done.error).toBeNull();
    const run = host.store.runs.get(done.runId!)!;
    expect(summaryOf('learn.scan', run)?.split).toMatch(/group 30 sequences into 6 clusters \(largest 5\); the folds hold 10, 10, 10 sequences\./);
    const folder = host.store.projects.folderOf(project.id)!;
    const clusters = parse(readFileSync(join(folder, 'runs', String(done.runId), 'homology-clusters.csv'), 'utf8'), { columns: true }) as { id: string; fold: string }[];
    const foldOf = new Map(clusters.map((c) => [c.id, c.fold]));
    for (let f = 0; f < 6; f++) expect(new Set(set.family.flatMap((g, i) => (g === f ? [foldOf.get(`q${i}`)] : []))).size).toBe(1);
    const fits = await call<Fit[]>('fits.list', { runId: done.runId });
    expect(fits.length).toBe(1);
    const r2 = fits[0]!.summary.r2!;
    expect(r2.low).toBeLessThanOrEqual(r2.high!);
    host.close();
  });
});
