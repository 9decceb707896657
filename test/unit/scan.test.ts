/** A scan job: 2 models × 2 layers × 3 compressions × 2 learners, cross-validated on the same folds. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Fit, Job, StoredJob } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { pearson } from '../../src-main/core/stats';
import { loadGolden } from '../support/golden';
import { labelledCsv, setUpScanProject } from '../support/scan-setup';
import { assertBuilt, ROOT } from '../support/serve';

function hostAndHelpers() {
  assertBuilt();
  const host: Host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-scan-')), transport: 'cli', launcher: nodeComputeLauncher(join(ROOT, 'out', 'main', 'compute.js')) });
  const call = async <T>(method: string, input: unknown): Promise<T> => {
    const envelope = await host.dispatch(method, input);
    if (!envelope.ok) throw new Error(envelope.error.message);
    return envelope.value as T;
  };
  const waitFor = (id: number): Promise<StoredJob> =>
    new Promise((resolve) => {
      const finished = (job?: StoredJob): boolean => !!job && ['done', 'failed', 'cancelled'].includes(job.state);
      const now = host.store.jobs.get(id);
      if (finished(now)) return resolve(now!);
      const unsubscribe = host.events.subscribe((event) => {
        if (event.type === 'job' && event.job.id === id && finished(event.job)) {
          unsubscribe();
          resolve(event.job);
        }
      });
    });
  return { host, call, waitFor };
}

describe('learn.scan', () => {
  it('fits every embedding × learner on the same folds and records the results', async () => {
    const { host, call, waitFor } = hostAndHelpers();
    const { project, dataset, matrices } = await setUpScanProject(call, waitFor);
    expect(matrices.length).toBe(12);
    const job = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'hydrophobic',
      embeddingIds: matrices.map((m) => m.id), learners: ['ridgecv', 'knn'], split: { scheme: 'random', k: 5, seed: 42 },
    });
    const done = await waitFor(job.id);
    expect(done.error).toBeNull();
    const fits = await call<Fit[]>('fits.list', { runId: done.runId });
    expect(fits.length).toBe(24);
    expect(new Set(fits.map((f) => f.pooling))).toEqual(new Set(['mean', 'bos', 'idct_3x8']));
    expect(fits.every((f) => f.perFold.length === 5 && Number.isFinite(f.summary.r2!.mean))).toBe(true);
    // The label is the hydrophobic share: a ridge model on mean embeddings of the first layer recovers it.
    const ridgeMean = fits.filter((f) => f.learner === 'ridgecv' && f.pooling === 'mean' && f.layer === 1);
    expect(Math.max(...ridgeMean.map((f) => f.summary.r2!.mean))).toBeGreaterThan(0.5);
    // Every fit used the same folds: the fold column of all prediction files is identical.
    const folder = host.store.projects.folderOf(project.id)!;
    const foldsOf = (f: Fit): string => (parse(readFileSync(join(folder, f.predictionsPath), 'utf8'), { columns: true }) as { fold: string }[]).map((r) => r.fold).join(',');
    expect(new Set(fits.map(foldsOf)).size).toBe(1);

    // Predicting new proteins with a fit: mean of the fold models, their spread as uncertainty.
    const { dataset: fresh } = await call<{ dataset: { id: number } }>('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'new.csv', text: labelledCsv(25, 99) } });
    const best = ridgeMean.sort((a, b) => b.summary.r2!.mean - a.summary.r2!.mean)[0]!;
    const predict = await call<Job>('jobs.start', { kind: 'learn.predict', fitId: best.id, datasetId: fresh.id });
    expect((await waitFor(predict.id)).error).toBeNull();
    const exported = (await call<{ name: string; path: string }[]>('exports.list', { projectId: project.id })).find((f) => f.name.includes('predicts-new'))!;
    const predicted = parse(readFileSync(exported.path, 'utf8'), { columns: true }) as { id: string; prediction: string; uncertainty_sd: string }[];
    const truth = parse(labelledCsv(25, 99), { columns: true }) as { id: string; hydrophobic: string }[];
    expect(predicted.map((p) => p.id)).toEqual(truth.map((t) => t.id));
    expect(predicted.every((p) => Number(p.uncertainty_sd) >= 0)).toBe(true);
    expect(pearson(predicted.map((p) => Number(p.prediction)), truth.map((t) => Number(t.hydrophobic)))).toBeGreaterThan(0.7);
    host.close();
  });

  it('refuses a learner of the wrong task and a scheme that needs positions', async () => {
    const { host, call } = hostAndHelpers();
    const project = await call<{ id: number }>('projects.create', { name: 'P' });
    const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'x.csv', text: 'id,sequence,y\na,MKV,1\nb,MKL,2\n' } });
    await expect(call('jobs.start', { kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'y', embeddingIds: [1], learners: ['logreg'] })).rejects.toThrow(/classification learner, but "y" needs regression/);
    await expect(call('jobs.start', { kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'nope', embeddingIds: [1], learners: ['ridgecv'] })).rejects.toThrow(/has no label column "nope"/);
    const options = await call<{ defaultScheme: string; positionsKnown: boolean }>('learn.options', { datasetId: dataset.id });
    expect(options).toMatchObject({ defaultScheme: 'random', positionsKnown: false });
    host.close();
  });

  it('fits several yes/no labels at once (one-vs-rest logistic with tuned cut-offs), scored by Fmax', { timeout: 300_000 }, async () => {
    const { host, call, waitFor } = hostAndHelpers();
    const install = await call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('esm2-8M-random').checkpoint });
    expect((await waitFor(install.id)).state).toBe('done');
    const [model] = await call<{ id: number }[]>('models.list', {});
    const project = await call<{ id: number }>('projects.create', { name: 'GO terms' });
    // Three composition labels (above the median share of hydrophobic, acidic, aromatic residues): learnable from mean embeddings.
    const rows = parse(labelledCsv(90), { columns: true }) as { id: string; sequence: string }[];
    const share = (sequence: string, letters: string): number => [...sequence].filter((c) => letters.includes(c)).length / sequence.length;
    const GROUPS = { oily: 'AILMFVW', acidic: 'DE', aromatic: 'FWY' } as const;
    const medians = Object.fromEntries(Object.entries(GROUPS).map(([name, letters]) => [name, rows.map((r) => share(r.sequence, letters)).sort((a, b) => a - b)[45]!]));
    const label = (r: { sequence: string }, name: keyof typeof GROUPS): number => (share(r.sequence, GROUPS[name]) > medians[name]! ? 1 : 0);
    // "secreted" is 0 everywhere: a label with nothing to learn.
    const text = ['id,sequence,oily,acidic,aromatic,secreted', ...rows.map((r) => `${r.id},${r.sequence},${label(r, 'oily')},${label(r, 'acidic')},${label(r, 'aromatic')},0`)].join('\n');
    const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'go.csv', text } });
    const embed = await call<Job>('jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [model!.id], layers: [1], pool: ['mean'] });
    expect((await waitFor(embed.id)).state).toBe('done');
    const [matrix] = await call<{ id: number }[]>('embeddings.list', { projectId: project.id });

    // A multi-label scan takes only multi-label learners.
    await expect(call('jobs.start', { kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'oily,acidic,aromatic', targets: ['oily', 'acidic', 'aromatic'], embeddingIds: [matrix!.id], learners: ['logreg'] })).rejects.toThrow(/classification learner, but .* needs multilabel/);
    const job = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'oily,acidic,aromatic', targets: ['oily', 'acidic', 'aromatic'],
      embeddingIds: [matrix!.id], learners: ['ovr-logreg'], split: { scheme: 'random', k: 3, seed: 1 },
    });
    const done = await waitFor(job.id);
    expect(done.error).toBeNull();
    const [fit] = await call<Fit[]>('fits.list', { runId: done.runId });
    expect(fit!.task).toBe('multilabel');
    expect(fit!.perFold).toHaveLength(3);
    // Chance is an AUROC of 0.5; the composition labels are read from the embeddings.
    expect(fit!.summary.auroc!.mean).toBeGreaterThan(0.75);
    expect(fit!.summary.fmax!.mean).toBeGreaterThan(0.6);
    const predictions = parse(readFileSync(join(host.store.projects.folderOf(project.id)!, fit!.predictionsPath), 'utf8'), { columns: true }) as { id: string; y: string; yhat: string }[];
    expect(predictions).toHaveLength(90);
    const first = rows[0]!;
    expect(predictions[0]!.y).toBe((['oily', 'acidic', 'aromatic'] as const).filter((name) => label(first, name) === 1).join(';'));
    expect(predictions.every((p) => /^((oily|acidic|aromatic)(;(oily|acidic|aromatic))*)?$/.test(p.yhat))).toBe(true);

    // A label no protein has would count as perfectly predicted: the scan refuses it by name.
    const constant = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'oily,secreted', targets: ['oily', 'secreted'],
      embeddingIds: [matrix!.id], learners: ['ovr-logreg'], split: { scheme: 'random', k: 3, seed: 1 },
    });
    expect((await waitFor(constant.id)).error).toMatch(/Label column "secreted" is 0 for every protein with all labels known \(90\), so there is nothing to learn/);
    host.close();
  });
});
