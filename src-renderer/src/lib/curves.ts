// lib/curves — the numbers behind training curves: TensorBoard's smoothing, series per run and metric aligned on one step axis for uPlot, and which metrics to show first.
import type { Metric } from './types';

/**
 * TensorBoard's smoothing: an exponential moving average with weight `weight` in [0, 1), debiased
 * so that the first points are not pulled towards 0. Non-finite values are passed through and do
 * not disturb the average.
 */
export function smoothEma(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return [...values];
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count++;
    return last / (1 - weight ** count);
  });
}

export interface CurveSeries {
  runId: number;
  metric: string;
  /** Legend text: "<run label> · <metric>". */
  label: string;
}

export interface AlignedCurves {
  /** Every step any series has, ascending. */
  steps: number[];
  series: CurveSeries[];
  /** One array per series, aligned with `steps` (null where the series has no value). */
  values: (number | null)[][];
}

/** Series for each run × chosen metric, aligned on the union of their steps (uPlot's data layout). */
export function alignCurves(
  runs: readonly { id: number; label: string }[],
  metricsByRun: Readonly<Record<number, readonly Metric[]>>,
  names: readonly string[],
): AlignedCurves {
  const series: CurveSeries[] = [];
  const points: Map<number, number>[] = [];
  for (const run of runs) {
    for (const name of names) {
      const map = new Map<number, number>();
      for (const m of metricsByRun[run.id] ?? []) if (m.name === name) map.set(m.step, m.value);
      if (map.size === 0) continue;
      series.push({ runId: run.id, metric: name, label: names.length > 1 ? `${run.label} · ${name}` : run.label });
      points.push(map);
    }
  }
  const steps = [...new Set(points.flatMap((map) => [...map.keys()]))].sort((a, b) => a - b);
  return { steps, series, values: points.map((map) => steps.map((step) => map.get(step) ?? null)) };
}

/** Smooths each series over its own points (gaps stay gaps), and drops values a log axis cannot show. */
export function displayValues(values: readonly (number | null)[][], weight: number, log: boolean): (number | null)[][] {
  return values.map((row) => {
    const present = row.flatMap((v, i) => (v === null ? [] : [i]));
    const smoothed = smoothEma(present.map((i) => row[i]!), weight);
    const out: (number | null)[] = row.map(() => null);
    present.forEach((i, k) => (out[i] = smoothed[k]!));
    return log ? out.map((v) => (v !== null && v > 0 ? v : null)) : out;
  });
}

/** The metric names recorded for any of the runs, the usual training ones first. */
export function metricNames(metricsByRun: Readonly<Record<number, readonly Metric[]>>): string[] {
  const names = new Set(Object.values(metricsByRun).flatMap((list) => list.map((m) => m.name)));
  // Signal-peptide runs' selection metrics right after the losses.
  const order = ['loss', 'train_loss', 'val_loss', 'val_detection_mcc', 'val_cs_mcc', 'lr'];
  return [...names].sort((a, b) => rank(a, order) - rank(b, order) || a.localeCompare(b));
}

function rank(name: string, order: readonly string[]): number {
  const i = order.indexOf(name);
  return i >= 0 ? i : order.length;
}

/** What to show before the user chooses: the step loss, else train and validation loss, else the first series. */
export function defaultMetrics(names: readonly string[]): string[] {
  if (names.includes('loss')) return ['loss'];
  const epoch = names.filter((n) => n === 'train_loss' || n === 'val_loss');
  if (epoch.length > 0) return epoch;
  return names.slice(0, 1);
}
