/**
 * embeddings/compress — SWAT's ways ("Compressing and interpreting per-residue protein
 * embeddings") of turning one protein's per-residue embedding matrix X [L residues × D dims]
 * into one fixed-length vector: mean, max, the BOS/<cls> token, per-protein PCA (component 1
 * or 2) and a truncated 2-D DCT ("iDCT"), and the small float64 numerics they need (products
 * with a per-residue matrix for learn/eigen's top-eigenpair solver, and cosine tables). Their
 * names ('pca1', 'idct_5x44') and UI explanations are core/compression's. Pure: no I/O.
 */
import { checkCoefficientCount, checkComponent, type Compression } from '../core/compression';
import { multiplyRows, plainDot as dot, sumOfSquares, topEigenpairsOf } from '../learn/eigen';

// ---------------------------------------------------------------------------------------------
// Entry points

/** Length of the vector `compress` returns for a protein of `residues` × `dims`. */
export function outputLength(c: Compression, residues: number, dims: number): number {
  checkShape(residues, dims);
  switch (c.kind) {
    case 'mean':
    case 'bos':
    case 'max':
      return dims;
    case 'pca':
      checkComponent(c.component);
      return dims;
    case 'idct':
      checkCoefficientCount('n', c.n);
      checkCoefficientCount('m', c.m);
      return c.n * c.m;
  }
}

/**
 * One protein's vector. `perResidue` is X [residues × dims], row-major, without the BOS/EOS
 * tokens; `bosVector` (length dims) is the <cls> token's embedding, needed only for 'bos'.
 */
export function compress(c: Compression, perResidue: Float32Array, residues: number, dims: number, bosVector?: Float32Array): Float32Array {
  checkShape(residues, dims);
  if (perResidue.length !== residues * dims) {
    throw new RangeError(`per-residue matrix has ${perResidue.length} values, expected ${residues} residues × ${dims} dims = ${residues * dims}`);
  }
  switch (c.kind) {
    case 'mean':
      return meanOverResidues(perResidue, residues, dims);
    case 'max':
      return maxOverResidues(perResidue, residues, dims);
    case 'bos':
      return bosCopy(bosVector, dims);
    case 'pca': {
      checkComponent(c.component);
      const [first, second] = principalComponents(perResidue, residues, dims);
      return Float32Array.from((c.component === 1 ? first : second).scores);
    }
    case 'idct':
      checkCoefficientCount('n', c.n);
      checkCoefficientCount('m', c.m);
      return dct2d(perResidue, residues, dims, c.n, c.m);
  }
}

// ---------------------------------------------------------------------------------------------
// mean / max / bos

function meanOverResidues(x: Float32Array, residues: number, dims: number): Float32Array {
  const sum = new Float64Array(dims); // float64: a float32 running sum over ~1000 rows loses digits
  for (let r = 0; r < residues; r += 1) {
    const row = r * dims;
    for (let d = 0; d < dims; d += 1) sum[d]! += x[row + d]!;
  }
  const out = new Float32Array(dims);
  for (let d = 0; d < dims; d += 1) out[d] = sum[d]! / residues;
  return out;
}

function maxOverResidues(x: Float32Array, residues: number, dims: number): Float32Array {
  const out = x.slice(0, dims);
  for (let r = 1; r < residues; r += 1) {
    const row = r * dims;
    for (let d = 0; d < dims; d += 1) if (x[row + d]! > out[d]!) out[d] = x[row + d]!;
  }
  return out;
}

function bosCopy(bosVector: Float32Array | undefined, dims: number): Float32Array {
  if (!bosVector) {
    throw new Error("The 'bos' compression needs the <cls> token's vector (bosVector): it is not part of the per-residue matrix");
  }
  if (bosVector.length !== dims) throw new RangeError(`bosVector has ${bosVector.length} values, expected ${dims}`);
  return bosVector.slice(); // a copy, so the caller's buffer and ours never alias
}

// ---------------------------------------------------------------------------------------------
// iDCT: truncated orthonormal 2-D DCT-II

/**
 * Rows k < keep of the orthonormal DCT-II matrix of size `length` (scipy's
 * dct(type=2, norm='ortho')): T[k, j] = s_k cos(π (2j + 1) k / (2N)), s_0 = √(1/N), s_k = √(2/N).
 */
export function dctTable(length: number, keep: number): Float64Array {
  const rows = Math.min(keep, length);
  const table = new Float64Array(rows * length);
  for (let k = 0; k < rows; k += 1) {
    const scale = Math.sqrt((k === 0 ? 1 : 2) / length);
    for (let j = 0; j < length; j += 1) table[k * length + j] = scale * Math.cos((Math.PI * (2 * j + 1) * k) / (2 * length));
  }
  return table;
}

/**
 * DCT along residues keeping n coefficients, then along dims keeping m, flattened row-major
 * [n × m]. A length-N signal has only N coefficients, so when L < n (or D < m) the missing
 * ones are 0: short proteins still give the same vector length as long ones.
 * Cost O(L·n·D + n·D·m) with precomputed tables; no FFT needed for a handful of coefficients.
 */
function dct2d(x: Float32Array, residues: number, dims: number, n: number, m: number): Float32Array {
  const alongResidues = dctTable(residues, n);
  const alongDims = dctTable(dims, m);
  const keptN = Math.min(n, residues);
  const keptM = Math.min(m, dims);

  // Y [keptN × D] = T_L · X: accumulate whole rows of X so the inner loop is contiguous.
  const y = new Float64Array(keptN * dims);
  for (let k = 0; k < keptN; k += 1) {
    const yRow = k * dims;
    for (let j = 0; j < residues; j += 1) {
      const weight = alongResidues[k * residues + j]!;
      const xRow = j * dims;
      for (let d = 0; d < dims; d += 1) y[yRow + d]! += weight * x[xRow + d]!;
    }
  }

  // Z [keptN × keptM] = Y · T_Dᵀ, written into the zero-padded [n × m] output.
  const out = new Float32Array(n * m);
  for (let k = 0; k < keptN; k += 1) {
    for (let q = 0; q < keptM; q += 1) out[k * m + q] = dot(y, k * dims, alongDims, q * dims, dims);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-protein PCA

export interface PrincipalComponent {
  /**
   * Unit vector over positions (length L). Sign convention: its largest-magnitude entry is
   * positive (first such entry on an exact tie) — the rule scikit-learn ≥ 1.5 applies to
   * PCA.components_. All zeros when the component has no variance (then it is undefined).
   */
  loading: Float64Array;
  /** Score of each embedding dimension on this component (length D): centered row · loading. */
  scores: Float64Array;
  /** Sum of squared scores = eigenvalue of CᵀC (divide by D − 1 for the sample variance). */
  eigenvalue: number;
}

/**
 * The first two principal components of one protein, SWAT-style: the D dimensions are the
 * samples and the L positions the features. Exported beyond `compress` because the loadings
 * (which positions drive a component) are what makes the compression interpretable.
 * Components that do not exist (L = 1, all dims constant, rank 1) come back with zero
 * loadings and zero scores rather than NaN.
 */
export function principalComponents(perResidue: Float32Array, residues: number, dims: number): [PrincipalComponent, PrincipalComponent] {
  checkShape(residues, dims);
  if (perResidue.length !== residues * dims) throw new RangeError(`per-residue matrix has ${perResidue.length} values, expected ${residues * dims}`);
  const centered = scaledCenteredSamples(perResidue, residues, dims);
  const { values, loadings } = topLoadings(centered, dims, residues);
  const trace = sumOfSquares(centered, 0, centered.length); // = Σ all eigenvalues

  const components: PrincipalComponent[] = [];
  for (let c = 0; c < 2; c += 1) {
    const loading = loadings[c] ?? new Float64Array(residues);
    // Below the threshold the "component" is rounding noise of a rank-deficient matrix, not a direction.
    if (!((values[c] ?? 0) > ZERO_VARIANCE * trace)) loading.fill(0);
    const previous = components[0]?.loading;
    if (previous) removeProjection(loading, previous); // keep u2 ⟂ u1 to working precision
    fixSign(loading);
    const scores = multiplyRows(centered, dims, residues, [loading])[0]!;
    components.push({ loading, scores, eigenvalue: sumOfSquares(scores, 0, dims) });
  }
  return [components[0]!, components[1]!];
}

/** Relative to the total variance: eigenvalues this small are numerically zero. */
const ZERO_VARIANCE = 1e-13;

/**
 * C [D × L]: row d is dimension d over positions, min-max scaled to [-1, 1] (a constant
 * dimension has no range to scale and becomes 0), then each column (position) is centered
 * across the D samples.
 */
function scaledCenteredSamples(x: Float32Array, residues: number, dims: number): Float64Array {
  const c = new Float64Array(dims * residues);
  for (let d = 0; d < dims; d += 1) {
    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < residues; p += 1) {
      const v = x[p * dims + d]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max - min;
    if (!(range > 0)) continue; // leave the row at 0
    for (let p = 0; p < residues; p += 1) c[d * residues + p] = (2 * (x[p * dims + d]! - min)) / range - 1;
  }
  const mean = new Float64Array(residues);
  for (let d = 0; d < dims; d += 1) for (let p = 0; p < residues; p += 1) mean[p]! += c[d * residues + p]!;
  for (let p = 0; p < residues; p += 1) mean[p]! /= dims;
  for (let d = 0; d < dims; d += 1) for (let p = 0; p < residues; p += 1) c[d * residues + p]! -= mean[p]!;
  return c;
}

/**
 * Top-2 eigenvalues of CᵀC and their unit eigenvectors over positions (the loadings). The
 * Krylov vectors live on the smaller side: the covariance CᵀC [L × L] when L ≤ D, else the Gram
 * matrix CCᵀ [D × D], whose eigenvectors v map to loadings u = Cᵀv / ‖Cᵀv‖ (same nonzero
 * eigenvalues). Neither matrix is formed: applying it as two passes over C costs 2·L·D per
 * product, while forming it costs L·D·min(L, D) / 2 — more than the ~10–100 products needed.
 */
function topLoadings(c: Float64Array, rows: number, cols: number): { values: number[]; loadings: Float64Array[] } {
  const normBound = sumOfSquares(c, 0, c.length); // trace = Σ eigenvalues ≥ ‖CᵀC‖₂
  if (cols <= rows) {
    const covariance = (us: Float64Array[]) => multiplyTransposed(c, rows, cols, multiplyRows(c, rows, cols, us));
    const { values, vectors } = topEigenpairsOf(covariance, cols, 2, normBound);
    return { values, loadings: vectors };
  }
  const gram = (vs: Float64Array[]) => multiplyRows(c, rows, cols, multiplyTransposed(c, rows, cols, vs));
  const { values, vectors } = topEigenpairsOf(gram, rows, 2, normBound);
  const loadings = vectors.map((v) => {
    const u = multiplyTransposed(c, rows, cols, [v])[0]!;
    const norm = Math.sqrt(sumOfSquares(u, 0, cols));
    return norm > 0 ? u.map((value) => value / norm) : u;
  });
  return { values, loadings };
}

/** Aᵀ·v for each v of a block, A [rows × cols], in one pass over A. */
function multiplyTransposed(a: Float64Array, rows: number, cols: number, vs: Float64Array[]): Float64Array[] {
  const outs = vs.map(() => new Float64Array(cols));
  for (let r = 0; r < rows; r += 1) {
    const row = r * cols;
    for (let b = 0; b < vs.length; b += 1) {
      const w = vs[b]![r]!;
      if (w === 0) continue;
      const out = outs[b]!;
      for (let c = 0; c < cols; c += 1) out[c]! += w * a[row + c]!;
    }
  }
  return outs;
}

/** Flips u so its largest-magnitude entry (first one on an exact tie) is positive. */
function fixSign(u: Float64Array): void {
  let best = 0;
  for (let i = 1; i < u.length; i += 1) if (Math.abs(u[i]!) > Math.abs(u[best]!)) best = i;
  if ((u[best] ?? 0) < 0) for (let i = 0; i < u.length; i += 1) u[i] = -u[i]!;
}

/** u ← (u − (u·w)w) / ‖…‖ for unit w; u stays all-zero if it was. */
function removeProjection(u: Float64Array, w: Float64Array): void {
  const norm0 = Math.sqrt(sumOfSquares(u, 0, u.length));
  if (norm0 === 0) return;
  const along = dot(u, 0, w, 0, u.length);
  for (let i = 0; i < u.length; i += 1) u[i]! -= along * w[i]!;
  const norm = Math.sqrt(sumOfSquares(u, 0, u.length));
  for (let i = 0; i < u.length; i += 1) u[i] = norm > 0 ? u[i]! / norm : 0;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function checkShape(residues: number, dims: number): void {
  if (!Number.isSafeInteger(residues) || residues < 1) throw new RangeError(`residues must be a whole number ≥ 1, got ${residues}`);
  if (!Number.isSafeInteger(dims) || dims < 1) throw new RangeError(`dims must be a whole number ≥ 1, got ${dims}`);
}
