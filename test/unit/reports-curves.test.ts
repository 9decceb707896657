/**
 * The renderer's pure chart helpers: TensorBoard smoothing, runs × metrics aligned on one step
 * axis, log-axis filtering, and the scatter's R² / Spearman ρ checked against learn/metrics (an
 * independent implementation) on data with ties.
 */
import { describe, expect, it } from 'vitest';
import { alignCurves, defaultMetrics, displayValues, metricNames, smoothEma } from '../../src-renderer/src/lib/curves';
import { scatterStats } from '../../src-renderer/src/components/charts/stats';
import { regressionMetrics } from '../../src-main/learn/metrics';
import { createRng } from '../../src-main/core/rng';

describe('smoothing', () => {
  it('is the debiased exponential moving average TensorBoard draws', () => {
    expect(smoothEma([1, 5, 3], 0)).toEqual([1, 5, 3]);
    // A constant stays constant (the debiasing undoes the pull towards 0).
    smoothEma([2, 2, 2, 2], 0.9).forEach((v) => expect(v).toBeCloseTo(2, 12));
    // By hand, weight ½: m1 = 0 → 0 / (1 − ½); m2 = ½·0 + ½·10 = 5 → 5 / (1 − ¼).
    const [a, b] = smoothEma([0, 10], 0.5);
    expect(a).toBeCloseTo(0, 12);
    expect(b).toBeCloseTo(20 / 3, 12);
    expect(smoothEma([1, null, NaN, 3], 0.5)).toEqual([1, null, NaN, expect.closeTo((0.25 + 1.5) / 0.75, 12)]);
  });
});

describe('aligned curves', () => {
  const metrics = {
    1: [{ step: 1, name: 'loss', value: 3 }, { step: 2, name: 'loss', value: 2 }, { step: 1, name: 'lr', value: 0.1 }],
    2: [{ step: 2, name: 'loss', value: 4 }, { step: 4, name: 'loss', value: -1 }],
  };
  const runs = [{ id: 1, label: 'A' }, { id: 2, label: 'B' }];

  it('puts every run on the union of steps, with gaps where a run has no value', () => {
    const aligned = alignCurves(runs, metrics, ['loss']);
    expect(aligned.steps).toEqual([1, 2, 4]);
    expect(aligned.series.map((s) => s.label)).toEqual(['A', 'B']);
    expect(aligned.values).toEqual([[3, 2, null], [null, 4, -1]]);
    const two = alignCurves(runs, metrics, ['loss', 'lr']);
    expect(two.series.map((s) => s.label)).toEqual(['A · loss', 'A · lr', 'B · loss']);
  });

  it('smooths each series over its own points and hides values a log axis cannot show', () => {
    const [a, b] = displayValues([[3, 2, null], [null, 4, -1]], 0, true);
    expect(a).toEqual([3, 2, null]);
    expect(b).toEqual([null, 4, null]);
    const [smoothed] = displayValues([[0, null, 10]], 0.5, false);
    expect(smoothed![1]).toBeNull();
    expect(smoothed![2]).toBeCloseTo(20 / 3, 12);
  });

  it('lists the usual training series first and picks a default', () => {
    expect(metricNames({ 1: [{ step: 1, name: 'val_spearman', value: 0 }, { step: 1, name: 'lr', value: 0 }, { step: 1, name: 'val_loss', value: 0 }] })).toEqual(['val_loss', 'lr', 'val_spearman']);
    expect(defaultMetrics(['lr', 'loss'])).toEqual(['loss']);
    expect(defaultMetrics(['lr', 'train_loss', 'val_loss'])).toEqual(['train_loss', 'val_loss']);
    expect(defaultMetrics(['val_r2'])).toEqual(['val_r2']);
  });
});

describe('scatter statistics', () => {
  it('match learn/metrics on data with ties', () => {
    const rng = createRng(11);
    const next = (): number => rng.next();
    const measured = Array.from({ length: 40 }, () => Math.round(next() * 8) / 2);
    const predicted = measured.map((y) => y + Math.round((next() - 0.5) * 6) / 2);
    const ours = scatterStats(measured, predicted);
    const reference = regressionMetrics(measured, predicted);
    expect(ours.n).toBe(40);
    expect(ours.r2!).toBeCloseTo(reference.r2, 12);
    expect(ours.spearman!).toBeCloseTo(reference.spearman, 12);
  });

  it('leave out non-finite pairs and say when a statistic is undefined', () => {
    expect(scatterStats([1, 2, NaN, 4], [1, 2, 3, Infinity])).toEqual({ n: 2, r2: 1, spearman: 1 });
    expect(scatterStats([1], [1])).toEqual({ n: 1, r2: null, spearman: null });
    expect(scatterStats([1, 2, 3], [5, 5, 5]).spearman).toBeNull();
  });
});
