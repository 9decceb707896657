// components/charts/stats — the numbers a predicted-vs-measured scatter shows: R² (as scikit-learn's r2_score), Spearman ρ (average ranks for ties) and n.

export interface ScatterStats {
  n: number;
  /** Null when undefined (fewer than 2 points). */
  r2: number | null;
  /** Null when either side is constant. */
  spearman: number | null;
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** 1-based ranks, ties sharing the mean of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    for (let i = start; i < end; i++) out[order[i]!] = (start + 1 + end) / 2;
    start = end;
  }
  return out;
}

function pearson(x: readonly number[], y: readonly number[]): number | null {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i]! - my);
    sxx += (xi - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  });
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
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
  return { n, r2, spearman: pearson(averageRanks(y), averageRanks(yhat)) };
}
