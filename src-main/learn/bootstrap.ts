/**
 * learn/bootstrap — confidence intervals for a scan's metrics by resampling test proteins: the
 * out-of-fold (or test) predictions are drawn with replacement `replicates` times (1,000 by
 * default, seeded with core/rng), every metric is recomputed on each resample, and the 2.5th and
 * 97.5th percentiles of each metric are its 95 % interval (the percentile bootstrap). The
 * interval is of the metric over all predictions together, so it is shown next to the fold mean
 * as "0.71 (0.65–0.77)". Pure numerics.
 */
import { createRng } from '../core/rng';

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  replicates?: number;
  seed?: number;
  /** Two-sided coverage, 0.95 by default. */
  level?: number;
}

/** The q-quantile of sorted values, with linear interpolation (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/**
 * Percentile intervals of every metric `metricsOf` returns, over `n` resampled rows. A metric that
 * is undefined (null or NaN) on more than half the resamples gets no interval.
 */
export function bootstrapIntervals(n: number, metricsOf: (rows: Int32Array) => Record<string, number | null | undefined>, options: BootstrapOptions = {}): Record<string, Interval> {
  const replicates = options.replicates ?? 1000;
  const level = options.level ?? 0.95;
  if (n < 2) return {};
  const rng = createRng(options.seed ?? 42);
  const draws = new Map<string, number[]>();
  const rows = new Int32Array(n);
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) rows[i] = rng.nextInt(n);
    for (const [name, value] of Object.entries(metricsOf(rows))) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const list = draws.get(name) ?? [];
      list.push(value);
      draws.set(name, list);
    }
  }
  const out: Record<string, Interval> = {};
  for (const [name, values] of draws) {
    if (values.length * 2 < replicates) continue;
    values.sort((a, b) => a - b);
    out[name] = { low: quantile(values, (1 - level) / 2), high: quantile(values, 1 - (1 - level) / 2) };
  }
  return out;
}

/** "0.71 (0.65–0.77)": a value with its interval, to `digits` decimals. */
export function formatWithInterval(value: number, interval: Interval | undefined, digits = 2): string {
  const show = (x: number): string => x.toFixed(digits);
  return interval ? `${show(value)} (${show(interval.low)}–${show(interval.high)})` : show(value);
}
