/**
 * core/stats — the small statistics the back end and the renderer share: average ranks with ties,
 * mean, standard deviation, Pearson and Spearman correlation (learn's metrics, variant scores
 * against measurements, the renderer's predicted-vs-measured scatter). Pure: no I/O, no
 * dependencies, so the renderer may import it.
 */

/**
 * 1-based ranks; tied values all get the mean of the ranks they span (scipy's rankdata
 * 'average'), which is what Spearman's ρ and the Mann–Whitney AUROC need.
 */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => at(values, a) - at(values, b));
  const out = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && at(values, order[end]!) === at(values, order[start]!)) end++;
    // Positions start..end-1 (0-based) hold ranks start+1..end; their mean is (start+1+end)/2.
    const rank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) out[order[i]!] = rank;
    start = end;
  }
  return out;
}

/** Arithmetic mean; NaN for an empty input (there is no mean of nothing). */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += at(values, i);
  return sum / values.length;
}

/**
 * Standard deviation. `ddof` = 1 (default) is the sample sd (n − 1 in the denominator) used to
 * report spread across folds; `ddof` = 0 is the population sd that StandardScaler uses. NaN when
 * n ≤ ddof, because the spread is then undefined.
 */
export function sd(values: ArrayLike<number>, ddof: 0 | 1 = 1): number {
  const n = values.length;
  if (n <= ddof) return NaN;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (at(values, i) - m) ** 2;
  return Math.sqrt(ss / (n - ddof));
}

/**
 * Pearson's r. NaN when either input is constant (or has fewer than 2 values): the correlation
 * is 0/0 there, as in scipy. Centred sums keep it accurate when values share a large offset.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assertSameLength(x, y);
  const n = x.length;
  // Exact check first: the mean of identical floats need not equal them, so a constant input
  // could otherwise leave rounding-noise deviations and a meaningless r.
  if (n < 2 || isConstant(x) || isConstant(y)) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = at(x, i) - mx;
    const dy = at(y, i) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Clamp: rounding can push |r| a hair past 1 for perfectly (anti)correlated inputs.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's ρ: Pearson's r of the average ranks. NaN when either input is constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assertSameLength(x, y);
  return pearson(ranks(x), ranks(y));
}

/** True when every value equals the first (exactly); true for an empty input. */
/** Cosine similarity of two vectors of the same length (how alike two embeddings are, whatever their scale). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertSameLength(a, b);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += at(a, i) * at(b, i);
    aa += at(a, i) ** 2;
    bb += at(b, i) ** 2;
  }
  return dot / Math.sqrt(aa * bb);
}

export function isConstant(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (at(values, i) !== at(values, 0)) return false;
  return true;
}

/** Indexed read for ArrayLike that satisfies noUncheckedIndexedAccess; callers keep i in range. */
export function at(values: ArrayLike<number>, i: number): number {
  return values[i] as number;
}

export function assertSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new RangeError(`Length mismatch: ${a.length} values vs ${b.length}.`);
}
