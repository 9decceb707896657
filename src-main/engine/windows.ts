/**
 * engine/windows — sequences longer than the model's 1022-residue limit: plans overlapping
 * windows of residues, and blends per-window outputs (per-residue rows such as embeddings or
 * logits, and residue-pair maps such as contacts) back into one whole-sequence result.
 * Pure: no model, no I/O. Indices here are residue indices, without the BOS/EOS tokens.
 */

/** Residue indices [start, end), 0-based. */
export interface Window {
  start: number;
  end: number;
}

/**
 * One window when the sequence fits; otherwise windows of exactly `maxResidues`, evenly spaced,
 * the first starting at 0 and the last ending at `residues`, with as few windows as keep every
 * consecutive overlap ≥ `minOverlap`. The overlap gives each residue context on both sides in
 * at least one window, and room to blend.
 */
export function planWindows(residues: number, maxResidues = 1022, minOverlap = 512): Window[] {
  checkCount('residues', residues);
  checkCount('maxResidues', maxResidues);
  checkCount('minOverlap', minOverlap);
  if (maxResidues < 1) throw new Error('maxResidues must be at least 1');
  if (minOverlap >= maxResidues) throw new Error(`minOverlap (${minOverlap}) must be below maxResidues (${maxResidues})`);
  if (residues <= maxResidues) return [{ start: 0, end: residues }];

  const span = residues - maxResidues; // how far the last window's start is from the first's
  const maxStride = maxResidues - minOverlap;
  const gaps = Math.ceil(span / maxStride);
  const windows: Window[] = [];
  for (let k = 0; k <= gaps; k += 1) {
    // round(k · span / gaps) in integers; every stride is then ≤ ceil(span / gaps) ≤ maxStride.
    const start = Math.floor((2 * k * span + gaps) / (2 * gaps));
    windows.push({ start, end: start + maxResidues });
  }
  return windows;
}

/** The first `maxResidues` residues, for callers that cut long sequences instead of windowing. */
export function truncate(residues: number, maxResidues = 1022): Window {
  checkCount('residues', residues);
  checkCount('maxResidues', maxResidues);
  return { start: 0, end: Math.min(residues, maxResidues) };
}

/**
 * Blending weight of each position in the window: a triangle, 1 in the middle and small but > 0
 * at the edges, because positions near a window edge lack context on one side and the model is
 * less sure of them there. An edge at the sequence start or end is a true end of the protein,
 * not a cut, and no other window covers it, so the weight stays 1 up to that edge.
 */
export function windowWeights(window: Window, residues: number): Float32Array {
  checkWindow(window, residues);
  const length = window.end - window.start;
  const peak = Math.ceil(length / 2) - 0.5; // distance from the middle position to the nearer edge
  const cutAtStart = window.start > 0;
  const cutAtEnd = window.end < residues;
  const weights = new Float32Array(length);
  for (let position = 0; position < length; position += 1) {
    const fromStart = cutAtStart ? (position + 0.5) / peak : 1;
    const fromEnd = cutAtEnd ? (length - position - 0.5) / peak : 1;
    weights[position] = Math.min(1, fromStart, fromEnd);
  }
  return weights;
}

/**
 * Weighted average, per residue, of the rows of every window covering it.
 * `rows[k]` is `[windowLength × width]` for `windows[k]`; returns `[residues × width]`.
 * Residues that no window covers are 0.
 */
export function blendRows(residues: number, width: number, windows: Window[], rows: Float32Array[]): Float32Array {
  checkCount('width', width);
  checkParts(windows, rows, residues, (length) => length * width, 'rows');
  const weights = windows.map((window) => windowWeights(window, residues));
  const out = new Float32Array(residues * width);
  const sums = new Float64Array(width); // accumulate in float64 so equal inputs blend back exactly
  for (let residue = 0; residue < residues; residue += 1) {
    sums.fill(0);
    let totalWeight = 0;
    windows.forEach((window, k) => {
      if (residue < window.start || residue >= window.end) return;
      const local = residue - window.start;
      const weight = weights[k]?.[local] as number;
      const row = rows[k] as Float32Array;
      for (let column = 0; column < width; column += 1) {
        sums[column] = (sums[column] as number) + weight * (row[local * width + column] as number);
      }
      totalWeight += weight;
    });
    if (totalWeight === 0) continue;
    for (let column = 0; column < width; column += 1) out[residue * width + column] = (sums[column] as number) / totalWeight;
  }
  return out;
}

/**
 * Weighted average of pair maps: pair (i, j) averages every window that contains both residues,
 * weighted by w_i · w_j. `maps[k]` is `[windowLength × windowLength]`; returns
 * `[residues × residues]`. Pairs farther apart than any window spans are never seen together by
 * the model, so they are 0.
 */
export function blendPairs(residues: number, windows: Window[], maps: Float32Array[]): Float32Array {
  checkParts(windows, maps, residues, (length) => length * length, 'maps');
  const weights = windows.map((window) => windowWeights(window, residues));
  const out = new Float32Array(residues * residues);
  // One output row at a time keeps the float64 accumulators at O(residues), not O(residues²).
  const sums = new Float64Array(residues);
  const totals = new Float64Array(residues);
  for (let i = 0; i < residues; i += 1) {
    sums.fill(0);
    totals.fill(0);
    windows.forEach((window, k) => {
      if (i < window.start || i >= window.end) return;
      accumulatePairRow(i, window, weights[k] as Float32Array, maps[k] as Float32Array, sums, totals);
    });
    for (let j = 0; j < residues; j += 1) {
      const total = totals[j] as number;
      if (total > 0) out[i * residues + j] = (sums[j] as number) / total;
    }
  }
  return out;
}

function accumulatePairRow(i: number, window: Window, weights: Float32Array, map: Float32Array, sums: Float64Array, totals: Float64Array): void {
  const length = window.end - window.start;
  const localI = i - window.start;
  const weightI = weights[localI] as number;
  for (let localJ = 0; localJ < length; localJ += 1) {
    const weight = weightI * (weights[localJ] as number);
    const j = window.start + localJ;
    sums[j] = (sums[j] as number) + weight * (map[localI * length + localJ] as number);
    totals[j] = (totals[j] as number) + weight;
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
}

function checkWindow(window: Window, residues: number): void {
  const { start, end } = window;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > residues) {
    throw new Error(`window [${start}, ${end}) does not fit a sequence of ${residues} residues`);
  }
}

function checkParts(windows: Window[], parts: Float32Array[], residues: number, expectedLength: (windowLength: number) => number, what: string): void {
  checkCount('residues', residues);
  if (parts.length !== windows.length) throw new Error(`${windows.length} windows but ${parts.length} ${what}`);
  windows.forEach((window, k) => {
    checkWindow(window, residues);
    const expected = expectedLength(window.end - window.start);
    const actual = parts[k]?.length;
    if (actual !== expected) throw new Error(`${what}[${k}] has ${actual} values, expected ${expected} for window [${window.start}, ${window.end})`);
  });
}
