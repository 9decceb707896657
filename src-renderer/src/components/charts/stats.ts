// components/charts/stats — the numbers a predicted-vs-measured scatter shows: R² (as scikit-learn's r2_score), Spearman ρ (core/stats: average ranks for ties, the same ρ as the back end's) and n.
import { mean, spearman } from '../../../../src-main/core/stats';

export interface ScatterStats {
  n: number;
  /** Null when undefined (fewer than 2 points). */
  r2: number | null;
  /** Null when either side is constant. */
  spearman: number | null;
}

/** Statistics of predictions against measurements, over the pairs where both are finite. */
export function scatterStats(measured: readonly number[], predicted: readonly number[]): ScatterStats {
  const keep = measured.flatMap((m, i) => (Number.isFinite(m) && Number.isFinite(predicted[i]) ? [i] : []));
  const y = keep.map((i) => measured[i]!);
  const yhat = keep.map((i) => predicted[i]!);
  const n = y.length;
  if (n < 2) return { n, r2: null, spearman: null };
  const my = mean(y);
  const ssTot = y.reduce((s, v) => s + (v - my) ** 2, 0);
  const ssRes = y.reduce((s, v, i) => s + (v - yhat[i]!) ** 2, 0);
  // As scikit-learn: a constant target gives 1 for a perfect fit, else 0.
  const r2 = ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
  const rho = spearman(y, yhat);
  return { n, r2, spearman: Number.isNaN(rho) ? null : rho };
}
