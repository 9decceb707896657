/**
 * Signal peptides as project runs (issue 16) through the API with the real compute process
 * (out/main/compute.js): a SignalP file imported as a dataset trains a `train.signalPeptide` run
 * whose per-epoch metrics reach the run, whose test partition comes back as the per-kingdom table
 * and prediction list (`signalPeptide.results`), one protein's tracks and segments
 * (`signalPeptide.protein`) and SignalP 6.0's exports; the finished run predicts new sequences; a
 * dataset without SignalP's columns and a bad FASTA are refused with messages that say why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, ExportFile, Job, Metric, Project, StoredJob } from '../../src-main/api/schemas';
import type { SignalPeptideProtein, SignalPeptideResults } from '../../src-main/api/signal-peptide';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { assertBuilt, ROOT, temporaryHome } from '../support/serve';

const COMPUTE = join(ROOT, 'out', 'main', 'compute.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'golden');
const CHECKPOINT = join(FIXTURES, 'esm2-8M-random', 'checkpoint');
const DATA = join(FIXTURES, 'signalp-tiny', 'data.fasta');

let host: Host;
let projectId: number;
let dataset: Dataset;
let modelId: number;

async function call<T>(method: string, input: unknown): Promise<T> {
  const envelope = await host.dispatch(method, input);
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as T;
}

async function refusal(method: string, input: unknown): Promise<string> {
  const envelope = await host.dispatch(method, input);
  if (envelope.ok) throw new Error(`${method} was accepted`);
  return envelope.error.message;
}

function finished(id: number, timeoutMs = 240_000): Promise<StoredJob> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${id} did not finish`)), timeoutMs);
    const check = (job: StoredJob | undefined): boolean => {
      if (!job || !['done', 'failed', 'cancelled'].includes(job.state)) return false;
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

/** Resolves once the run has recorded a metric that passes `test`. */
async function metricSeen(runId: number, test: (metric: Metric) => boolean, timeoutMs = 240_000): Promise<void> {
  const seen = async (): Promise<boolean> => (await call<Metric[]>('runs.metrics', { runId })).some(test);
  if (await seen()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`run ${runId} never recorded the metric`)), timeoutMs);
    const unsubscribe = host.events.subscribe((event) => {
      if (event.type !== 'metrics' || event.runId !== runId) return;
      void seen().then((yes) => {
        if (!yes) return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
    });
  });
}

beforeAll(async () => {
  assertBuilt();
  host = createHost({ home: temporaryHome('esm-signal-peptide-'), transport: 'cli', launcher: nodeComputeLauncher(COMPUTE) });
  projectId = (await call<Project>('projects.create', { name: 'signal peptides' })).id;
  ({ dataset } = await call<{ dataset: Dataset }>('datasets.import', { projectId, source: { kind: 'path', path: DATA } }));
  const install = await finished((await call<Job>('jobs.start', { kind: 'model.install', path: CHECKPOINT })).id);
  expect(install.error).toBeNull();
  modelId = (await call<{ id: number }[]>('models.list', {}))[0]!.id;
}, 240_000);
afterAll(() => host?.close());

describe('signal-peptide runs in a project', () => {
  let runId: number;

  it('offers PEFT-SP defaults and explains every setting', async () => {
    const options = await call<{ defaults: Record<string, unknown>; explanations: Record<string, string>; types: { id: string; label: string }[] }>('signalPeptide.options', {});
    expect(options.defaults).toMatchObject({ loraDropout: 0.1, loraTargets: ['query', 'key', 'value', 'attention-output'], batchSize: 20, maxGradNorm: 0.25, regularization: 0.5 });
    for (const key of Object.keys(options.defaults)) expect(options.explanations[key], key).toBeTruthy();
    expect(options.types.find((t) => t.id === 'LIPO')!.label).toContain('Sec/SPII');
  });

  it('trains from the imported dataset, streams per-epoch metrics and predicts the test partition', async () => {
    const job = await call<Job>('signalPeptide.train', { projectId, datasetId: dataset.id, modelId, epochs: 1, loraLayers: 1, loraR: 2 });
    expect(job.kind).toBe('train.signalPeptide');
    expect(job.resumable || job.keepsWorkOnCancel).toBe(true);
    const done = await finished(job.id);
    expect(done.error).toBeNull();
    runId = done.runId!;
    const metrics = await call<Metric[]>('runs.metrics', { runId });
    expect(metrics.filter((m) => m.name === 'val_loss').map((m) => m.step)).toEqual([0, 2]);
    expect(metrics.some((m) => m.name === 'val_detection_mcc')).toBe(true);

    const results = await call<SignalPeptideResults>('signalPeptide.results', { runId });
    expect(results).toMatchObject({ runId, source: 'test', modelRunId: runId, usesKingdom: false });
    expect(results.arrangements).toEqual([{ train: [0], validation: [1], test: [2], state: 'done', bestEpoch: 1 }]);
    expect(results.predictions).toHaveLength(39);
    expect(results.predictions.every((row, i) => row.index === i && row.partition === 2 && row.trueType !== null)).toBe(true);
    expect(results.table!.runs).toBe(1);
    expect(results.table!.cells.map((c) => `${c.kingdom} ${c.type}`).slice(0, 6)).toEqual(['ARCHAEA SP', 'ARCHAEA LIPO', 'ARCHAEA PILIN', 'ARCHAEA TAT', 'ARCHAEA TATLIPO', 'EUKARYA SP']);

    const row = results.predictions.find((r) => r.trueType === 'SP')!;
    const protein = await call<SignalPeptideProtein>('signalPeptide.protein', { runId, index: row.index });
    expect(protein).toMatchObject({ id: row.id, predictedType: row.predictedType, cleavageSite: row.cleavageSite });
    expect(protein.sequence).toHaveLength(protein.predictedLength);
    expect(protein.trueLabels).toHaveLength(protein.predictedLength);
    expect(protein.tracks.map((t) => t.region)).toEqual(['n', 'h', 'c', 'rr', 'lipobox', 'pilin', 'other']);
    expect(protein.tracks.every((t) => t.values.length === protein.predictedLength)).toBe(true);
    expect(protein.cleavage).toHaveLength(protein.predictedLength);
    expect(protein.segments.at(-1)!.end).toBe(protein.predictedLength);
    expect(await refusal('signalPeptide.protein', { runId, index: 39 })).toMatch(/Protein 39 of run/);
  }, 300_000);

  it('exports SignalP 6.0’s summary and GFF3, and a CSV, into the exports folder', async () => {
    const results = await call<SignalPeptideResults>('signalPeptide.results', { runId });
    const summary = await call<ExportFile>('signalPeptide.export', { runId, format: 'summary' });
    const lines = readFileSync(summary.path, 'utf8').trimEnd().split('\n');
    expect(lines[1]).toBe('# ID\tPrediction\tOTHER\tSP(Sec/SPI)\tLIPO(Sec/SPII)\tTAT(Tat/SPI)\tTATLIPO(Tat/SPII)\tPILIN(Sec/SPIII)\tCS Position');
    expect(lines).toHaveLength(2 + 39);
    expect(lines[2]!.split('\t')[0]).toBe(results.predictions[0]!.id);
    const gff = readFileSync((await call<ExportFile>('signalPeptide.export', { runId, format: 'gff3' })).path, 'utf8');
    expect(gff.startsWith('##gff-version 3\n')).toBe(true);
    const withSp = results.predictions.filter((r) => r.predictedType !== 'NO_SP' && r.cleavageSite !== null);
    expect(gff.split('\n').filter((l) => l.includes('\tsignal_peptide\t'))).toHaveLength(withSp.length);
    const csv = await call<ExportFile>('signalPeptide.export', { runId, format: 'csv' });
    expect(readFileSync(csv.path, 'utf8').trimEnd().split('\n')).toHaveLength(40);
    expect((await call<ExportFile[]>('exports.list', { projectId })).map((e) => e.name)).toContain(csv.name);
  });

  it('predicts new sequences from FASTA with the trained run, without a kingdom', async () => {
    const fasta = '>new1 a secreted protein\nMKKLLLALAVLLSAVAQAAEFTQQWYVKDRE\n>new2\nMSTEIIKQLAEKAGVSPEEAQKLLDELGLRKGD\n';
    const job = await call<Job>('signalPeptide.predict', { runId, source: { kind: 'fasta', fileName: 'new.fasta', text: fasta } });
    const done = await finished(job.id);
    expect(done.error).toBeNull();
    const results = await call<SignalPeptideResults>('signalPeptide.results', { runId: done.runId });
    expect(results).toMatchObject({ source: 'new-sequences', modelRunId: runId, table: null });
    expect(results.predictions.map((r) => [r.id, r.kingdom, r.trueType])).toEqual([['new1', null, null], ['new2', null, null]]);
    expect(await refusal('signalPeptide.predict', { runId, source: { kind: 'fasta', fileName: 'bad.fasta', text: '>x\nMK*V\n' } })).toMatch(/bad\.fasta, line 1: x has "\*" at position 3/);
  }, 120_000);

  it('continues a cancelled training run from its last finished epoch', async () => {
    const job = await call<Job>('signalPeptide.train', { projectId, datasetId: dataset.id, modelId, epochs: 2, loraLayers: 1, loraR: 2, seed: 9 });
    await metricSeen(job.runId!, (m) => m.name === 'epoch' && m.value === 1);
    const cancelled = await call<Job>('jobs.cancel', { id: job.id });
    expect((await finished(cancelled.id)).state).toBe('cancelled');
    const listed = (await call<Job[]>('jobs.list', { projectId })).find((j) => j.id === job.id)!;
    expect(listed.resumable).toBe(true);
    await call<Job>('jobs.resume', { id: job.id });
    const done = await finished(job.id);
    expect(done.error).toBeNull();
    const epochs = (await call<Metric[]>('runs.metrics', { runId: job.runId })).filter((m) => m.name === 'epoch').map((m) => m.value);
    // Epoch 2 may have started before the cancel arrived; it is redone, never an earlier one.
    expect(epochs.slice(0, 2)).toEqual([0, 1]);
    expect(epochs.at(-1)).toBe(2);
    const results = await call<SignalPeptideResults>('signalPeptide.results', { runId: job.runId });
    expect(results.predictions).toHaveLength(39);
  }, 300_000);

  it('shows a cross-validation’s finished arrangements while the others wait', async () => {
    const job = await call<Job>('signalPeptide.crossValidate', { projectId, datasetId: dataset.id, modelId, epochs: 1, loraLayers: 1, loraR: 2 });
    expect(job.kind).toBe('train.signalPeptideCv');
    await metricSeen(job.runId!, (m) => m.name === 'arrangement' && m.value === 2);
    await call<Job>('jobs.cancel', { id: job.id });
    await finished(job.id);
    const results = await call<SignalPeptideResults>('signalPeptide.results', { runId: job.runId });
    expect(results.source).toBe('cross-validation');
    expect(results.arrangements.map((a) => [a.train[0], a.validation[0], a.test[0]])).toEqual([[2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2], [0, 1, 2]]);
    expect(results.arrangements[0]!.state).toBe('done');
    expect(results.arrangements.slice(2).every((a) => a.state === 'pending')).toBe(true);
    const done = results.arrangements.filter((a) => a.state === 'done').length;
    expect(results.predictions).toHaveLength(39 * done);
    expect(results.predictions.every((r) => r.partition === results.arrangements[r.arrangement]!.test[0])).toBe(true);
    expect(results.table!.runs).toBe(done);
    const protein = await call<SignalPeptideProtein>('signalPeptide.protein', { runId: job.runId, index: results.predictions.length - 1 });
    expect(protein.id).toBe(results.predictions.at(-1)!.id);
  }, 300_000);

  it('refuses a dataset without SignalP’s columns, and partitions the dataset does not have', async () => {
    const { dataset: plain } = await call<{ dataset: Dataset }>('datasets.import', { projectId, source: { kind: 'text', fileName: 'plain.fasta', text: '>a\nMKV\n>b\nMLL\n' } });
    expect(await refusal('signalPeptide.train', { projectId, datasetId: plain.id, modelId })).toMatch(/no kingdom, type, partition, residue_labels column/);
    expect(await refusal('signalPeptide.train', { projectId, datasetId: dataset.id, modelId, testPartitions: [7] })).toMatch(/no partition 7 \(for test\); its partitions are 0, 1, 2/);
  });
});
