/**
 * Variant-effect jobs through the job runner and the compute process (real models): scoring a
 * mutation-scan dataset with two methods and an ensemble of two installed copies of the tiny model,
 * and a saturation map whose long and wide CSV exports read back to the stored map.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportFile, Job, SaturationMap, VariantScores, StoredJob } from '../../src-main/api/schemas';
import { residueToken, VOCAB_SIZE } from '../../src-main/models/esm2/tokenizer';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { spearman } from '../../src-main/core/stats';
import { readSaturationCsv } from '../../src-main/variants/tables';
import { loadGolden, seqKey } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const COMPUTE = join(ROOT, 'out', 'main', 'compute.js');
const golden = loadGolden('tiny');
const protein = golden.sequences.find((s) => s.length === 30)!;

let host: Host;
let projectId: number;
let modelIds: number[];
let names: string[];

async function call<T>(method: string, input: unknown): Promise<T> {
  const envelope = await host.dispatch(method, input);
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as T;
}

function finished(id: number, timeoutMs = 90_000): Promise<StoredJob> {
  return new Promise((resolve, reject) => {
    const done = (job: StoredJob | undefined): boolean => {
      if (!job || !['done', 'failed', 'cancelled'].includes(job.state)) return false;
      clearTimeout(timer);
      unsubscribe();
      resolve(job);
      return true;
    };
    const timer = setTimeout(() => reject(new Error(`job ${id}: ${JSON.stringify(host.store.jobs.get(id))}`)), timeoutMs);
    const unsubscribe = host.events.subscribe((event) => void (event.type === 'job' && event.job.id === id && done(event.job)));
    done(host.store.jobs.get(id));
  });
}

async function runJob(request: unknown): Promise<StoredJob> {
  const job = await finished((await call<Job>('jobs.start', request)).id);
  expect(job.state, job.error ?? '').toBe('done');
  return job;
}

/** Masked-marginal score from the golden pll_log_probs (position 1-based). */
function goldenMasked(position: number, wt: string, mut: string): number {
  const lp = golden.array(seqKey(protein.index, 'pll_log_probs')).data;
  return lp[(position - 1) * VOCAB_SIZE + residueToken(mut)]! - lp[(position - 1) * VOCAB_SIZE + residueToken(wt)]!;
}

beforeAll(async () => {
  assertBuilt();
  host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-variant-jobs-')), transport: 'cli', launcher: nodeComputeLauncher(COMPUTE) });
  projectId = (await call<{ id: number }>('projects.create', { name: 'Variants' })).id;
  for (let copy = 0; copy < 2; copy++) await runJob({ kind: 'model.install', path: golden.checkpoint });
  const models = await call<{ id: number; name: string }[]>('models.list', {});
  modelIds = models.map((m) => m.id);
  names = models.map((m) => m.name);
}, 120_000);
afterAll(() => host?.close());

describe('variant-effect jobs', () => {
  it('scores a mutation dataset per model and method, with the ensemble mean and Spearman against the measured column', async () => {
    const wt = protein.sequence;
    const letters = 'ACDEFGHIKLMNPQRSTVWY';
    const rows = Array.from({ length: 12 }, (_, i) => {
      const p = (i * 7) % 30;
      const mut = [...letters].find((a, j) => a !== wt[p] && j >= (i * 3) % 20) ?? 'A';
      return `${wt[p]}${p + 1}${mut},${(i % 5) - 2 + i / 10}`;
    });
    const text = ['mutant,fitness', ...rows].join('\n');
    const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', {
      projectId,
      source: { kind: 'text', fileName: 'scan.csv', text },
      options: { mutations: { wildType: `>${protein.id}\n${wt}` } },
      accept: false,
    });
    const job = await runJob({ kind: 'variants.score', projectId, datasetId: dataset.id, modelIds, methods: ['wt-marginal', 'masked-marginal'] });
    const scores = await call<VariantScores>('variants.scores', { runId: job.runId, threshold: 0 });
    expect(scores.columns.map((c) => c.key).sort()).toEqual(
      [...names.flatMap((name) => ['wt-marginal', 'masked-marginal'].map((method) => `${name}:${method}`)), 'ensemble:wt-marginal', 'ensemble:masked-marginal'].sort(),
    );
    const masked = scores.columns.find((c) => c.model === 'ensemble' && c.method === 'masked-marginal')!;
    scores.variants.forEach((v, i) => {
      const [, wtAa, pos, mut] = /^([A-Z])(\d+)([A-Z])$/.exec(v)!;
      expect(Math.abs(masked.values[i]! - goldenMasked(Number(pos), wtAa!, mut!))).toBeLessThan(1e-4);
    });
    const evaluation = scores.evaluations.find((e) => e.key === masked.key && e.column === 'fitness')!;
    expect(evaluation.n).toBe(12);
    expect(evaluation.spearman).toBeCloseTo(spearman(masked.values as number[], scores.measured.fitness as number[]), 12);
    expect(evaluation.auroc).not.toBeNull();
    const exported = await call<ExportFile>('variants.export', { runId: job.runId });
    const scoreColumns = ['wt-marginal', 'masked-marginal'].flatMap((method) => [...names, 'ensemble'].map((name) => `score_${name}_${method}`));
    expect(readFileSync(exported.path, 'utf8').split('\n')[0]).toBe(['id', 'mutant', 'fitness', ...scoreColumns].join(','));
  }, 120_000);

  it('never compares the scores with a column that only counts rows', async () => {
    const wt = protein.sequence;
    // row_index runs 0..n-1 in file order, and the file is sorted by position: a row counter that
    // would "correlate" with any position-dependent score.
    const rows = Array.from({ length: 8 }, (_, i) => `${i},${wt[i]}${i + 1}${wt[i] === 'A' ? 'G' : 'A'},${((i * 5) % 8) / 4 - 1}`);
    const { dataset } = await call<{ dataset: { id: number; labelColumns: { name: string; role?: string }[] } }>('datasets.import', {
      projectId,
      name: 'indexed scan',
      source: { kind: 'text', fileName: 'indexed.csv', text: ['row_index,mutant,fitness', ...rows].join('\n') },
      options: { mutations: { wildType: wt } },
      accept: false,
    });
    expect(dataset.labelColumns.find((c) => c.name === 'row_index')?.role).toBe('index');
    const job = await runJob({ kind: 'variants.score', projectId, datasetId: dataset.id, modelIds: [modelIds[0]], methods: ['wt-marginal'] });
    const scores = await call<VariantScores>('variants.scores', { runId: job.runId, threshold: 0 });
    expect(Object.keys(scores.measured)).toEqual(['fitness']);
    expect([...new Set(scores.evaluations.map((e) => e.column))]).toEqual(['fitness']);
  }, 120_000);

  it('makes a saturation map whose long and wide CSV exports read back to the same map', async () => {
    const job = await runJob({ kind: 'variants.saturate', projectId, modelIds: [modelIds[0]], method: 'masked-marginal', wildType: protein.sequence, name: 'insulin B', offset: 24 });
    const map = await call<SaturationMap>('variants.saturation', { runId: job.runId });
    expect(map.maps).toHaveLength(1);
    const scores = map.maps[0]!.scores;
    expect(scores.filter((v) => v !== 0)).toHaveLength(570);
    for (const layout of ['long', 'wide'] as const) {
      const file = await call<ExportFile>('variants.export', { runId: job.runId, layout });
      const back = readSaturationCsv(file.name, readFileSync(file.path, 'utf8'));
      expect(back.wildType).toBe(protein.sequence);
      expect(back.offset).toBe(24);
      expect(Array.from(back.scores)).toEqual(scores);
    }
    expect(await host.dispatch('variants.saturate', {})).toMatchObject({ ok: false });
    const bad = await host.dispatch('jobs.start', { kind: 'variants.saturate', projectId, modelIds, wildType: 'MKJLV' });
    expect(bad).toMatchObject({ ok: false, error: { message: 'The wild type has "J" at position 3; a saturation map needs the 20 standard one-letter amino-acid codes.' } });
  }, 120_000);
});

describe('variant-effect tasks resume', () => {
  it('skips the (model, method) parts an interrupted attempt finished and computes only the rest', async () => {
    const { saturateProtein } = await import('../../src-main/jobs/tasks/variants');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const workDir = mkdtempSync(join(tmpdir(), 'esm-variant-resume-'));
    const models = (await call<{ id: number; name: string; path: string }[]>('models.list', {})).map((m) => ({ id: m.id, name: m.name, dir: m.path }));
    const L = protein.length;
    const marker = Array.from({ length: L * 20 }, (_, i) => i / 1000);
    mkdirSync(join(workDir, 'runs/1/parts'), { recursive: true });
    writeFileSync(join(workDir, 'runs/1/parts/model0-wt-marginal.json'), JSON.stringify(marker));
    const checkpoints: unknown[] = [];
    const summary = await saturateProtein.run({
      params: { runDir: 'runs/1', models, method: 'wt-marginal', wildType: protein.sequence, wildTypeName: 'x', offset: 0, device: 'cpu', batchTokens: 4096 },
      input: null,
      checkpoint: { done: ['model0-wt-marginal'] },
      workDir,
      signal: new AbortController().signal,
      progress: () => {},
      checkpointed: (state) => checkpoints.push(state),
      metrics: () => {},
      artifact: async () => {},
    });
    expect(summary.maps).toEqual([models[0]!.name, models[1]!.name, 'ensemble']);
    expect(checkpoints).toEqual([{ done: ['model0-wt-marginal', 'model1-wt-marginal'] }]);
    const results = JSON.parse(readFileSync(join(workDir, 'runs/1/saturation.json'), 'utf8')) as { maps: { scores: number[] }[] };
    expect(results.maps[0]!.scores).toEqual(marker);
    const computed = results.maps[1]!.scores;
    expect(computed.filter((v) => v !== 0)).toHaveLength(570);
    expect(results.maps[2]!.scores[5]).toBeCloseTo((marker[5]! + computed[5]!) / 2, 12);
  });
});
