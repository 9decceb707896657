/**
 * The temporal split (learn/splits) and bootstrap intervals (learn/bootstrap), and both — with
 * similarity folds — through the scan task itself (jobs/tasks/learn-scan run here): the cluster
 * table it writes, folds that keep families whole, and an interval around every metric.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { runTaskHere } from '../../src-main/jobs/run-here';
import { bootstrapIntervals, formatWithInterval } from '../../src-main/learn/bootstrap';
import { buildFolds, parseDate, temporalSplit } from '../../src-main/learn/splits';
import { writeNpyAtomic } from '../../src-main/store/npy';
import { plantedFamilies } from '../support/planted-families';

describe('temporal split', () => {
  it('trains on rows dated before the date and tests on the rest', () => {
    const dates = ['2018-03-01', '2021', '2019-12-31', '2020-01-01', 2022, '2020/06/15'];
    expect(temporalSplit(dates, 'released', '2020-01-01')).toEqual({ train: Int32Array.from([0, 2]), test: Int32Array.from([1, 3, 4, 5]) });
    expect(parseDate('2020-01-01')! - parseDate('2019-12-31')!).toBe(1);
    const folds = buildFolds({ scheme: 'temporal', k: 5, seed: 1, column: 'released', date: '2020-01-01' }, { rows: [0, 3, 4], labels: null, classes: [], positions: null, splitValues: dates, homologyFolds: null });
    expect(folds).toEqual([{ train: Int32Array.from([0]), test: Int32Array.from([1, 2]) }]);
  });

  it('names undated rows and refuses a date that leaves one side empty', () => {
    expect(() => temporalSplit(['2019-01-01', 'soon', null], 'released', '2020-01-01')).toThrow('Rows 2 and 3 have no readable date in column "released"');
    expect(() => temporalSplit(['2019-01-01', '2019-05-01'], 'released', '2020-01-01')).toThrow(/nothing is held out for testing; choose an earlier date/);
    expect(() => temporalSplit(['2019-01-01'], 'released', 'next year')).toThrow('"next year" is not a date');
  });
});

describe('bootstrap intervals', () => {
  it('is seeded, brackets the value on all rows, and is narrower with more proteins', () => {
    const rng = createRng(3);
    const values = Float64Array.from({ length: 400 }, () => rng.next());
    const meanOf = (rows: Int32Array): { mean: number } => ({ mean: rows.reduce((t, r) => t + values[r]!, 0) / rows.length });
    const a = bootstrapIntervals(400, meanOf, { seed: 9 });
    expect(bootstrapIntervals(400, meanOf, { seed: 9 })).toEqual(a);
    const all = meanOf(Int32Array.from(values.keys())).mean;
    expect(a.mean!.low).toBeLessThan(all);
    expect(a.mean!.high).toBeGreaterThan(all);
    // The mean of 400 uniforms has sd √(1/12/400) ≈ 0.0144: a 95 % interval is ≈ 2 × 1.96 × 0.0144 ≈ 0.057 wide.
    expect(a.mean!.high - a.mean!.low).toBeGreaterThan(0.045);
    expect(a.mean!.high - a.mean!.low).toBeLessThan(0.07);
    const few = bootstrapIntervals(25, meanOf, { seed: 9 });
    expect(few.mean!.high - few.mean!.low).toBeGreaterThan(a.mean!.high - a.mean!.low);
    expect(formatWithInterval(0.7123, { low: 0.6512, high: 0.7711 })).toBe('0.71 (0.65–0.77)');
  });

  it('gives no interval to a metric undefined on most resamples', () => {
    expect(bootstrapIntervals(10, () => ({ auroc: null, r2: 1 }))).toEqual({ r2: { low: 1, high: 1 } });
  });
});

describe('scan with similarity folds', () => {
  it('keeps planted families in one fold, writes the cluster table, and puts an interval on every metric', { timeout: 180_000 }, async () => {
    const set = plantedFamilies(31, { families: 10, membersPerFamily: 4, length: 80, identityToAncestor: [0.75, 0.95], indelRate: 0.01 });
    const n = set.sequences.length;
    // Features that carry the family (so a random split would leak it), and a target that depends on it.
    const rng = createRng(4);
    const features = Float32Array.from({ length: n * 3 }, (_, i) => set.family[Math.floor(i / 3)]! * (i % 3) + rng.next());
    const dir = mkdtempSync(join(tmpdir(), 'scan-homology-'));
    writeNpyAtomic(join(dir, 'x.npy'), { dtype: 'float32', shape: [n, 3], data: features });
    const ids = set.sequences.map((_, i) => `P${i}`);
    let fitMetrics: { summary: Record<string, { mean: number; low?: number; high?: number }> } | null = null;
    const summary = await runTaskHere(
      'learn.scan',
      {
        runDir: 'run',
        target: 'y',
        task: 'regression',
        learners: ['ridgecv'],
        split: { scheme: 'homology', k: 5, seed: 7, identity: 30, coverage: 80 },
        scaling: 'standard',
        classWeight: null,
        items: [{ embeddingId: 1, modelName: 'm', modelParameters: 0, layer: 0, pooling: 'mean', path: join(dir, 'x.npy') }],
      },
      { ids, target: set.family.map((f) => f + rng.next()), positions: null, splitValues: null, sequences: set.sequences },
      dir,
      { signal: new AbortController().signal, onArtifact: (_kind, _path, meta) => void (fitMetrics = (meta as { metrics: NonNullable<typeof fitMetrics> }).metrics) },
    );
    expect(summary.split).toMatch(/^\d+ related pairs .* group 40 sequences into 10 clusters \(largest 4\); the folds hold 8, 8, 8, 8, 8 sequences\.$/);
    const table = readFileSync(join(dir, 'run', 'homology-clusters.csv'), 'utf8').trim().split('\n');
    expect(table[0]).toBe('id,cluster,cluster_size,fold');
    const foldOf = new Map(table.slice(1).map((line) => [line.split(',')[0]!, line.split(',')[3]!]));
    for (let f = 0; f < 10; f++) expect(new Set(ids.filter((_, i) => set.family[i] === f).map((id) => foldOf.get(id))).size).toBe(1);
    const predictions = readFileSync(join(dir, 'run', '1-ridgecv-predictions.csv'), 'utf8').trim().split('\n').slice(1);
    for (const line of predictions) expect(Number(line.split(',')[1]) + 1).toBe(Number(foldOf.get(line.split(',')[0]!)));
    for (const [name, s] of Object.entries(fitMetrics!.summary)) {
      if (name === 'nonZero') continue;
      expect(s.low, name).toBeLessThanOrEqual(s.high!);
    }
    expect(fitMetrics!.summary.r2!.low).toBeDefined();
  });
});
