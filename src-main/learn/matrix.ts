/**
 * learn/matrix — the dense row-major matrix every learner takes, the regressor interfaces shared
 * by learn/linear, learn/ridge and learn/knn, and the few numerical kernels they need: a
 * transposed ("feature-major") copy, Gram and cross products with register blocking, a symmetric
 * eigendecomposition (ml-matrix), and scikit-learn's KFold block boundaries.
 *
 * Float64Array throughout: the solvers mirror scikit-learn's float64 code paths, and their
 * stopping rules (duality gap < tol·‖y‖²) assume double precision. Pure numerics: no I/O.
 */
import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';

/** A dense matrix, row-major: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** A regressor after fitting: predicts new rows and describes itself for storage. */
export interface FittedRegressor {
  predict(X: Matrix): Float64Array;
  /** How many coefficients are non-zero (sparse linear models); learners without coefficients report every feature. */
  nonZero(): number;
  toJSON(): Record<string, unknown>;
  /** chosen hyper-parameters, e.g. { alpha } */
  chosen: Record<string, number>;
}

/** An estimator with scikit-learn-like defaults; `fit` does any inner cross-validation itself. */
export interface Regressor {
  readonly name: string;
  fit(X: Matrix, y: Float64Array, onProgress?: (fraction: number) => void): FittedRegressor;
}

/** A rows × cols matrix of zeros, or a copy of `data` (which must hold rows·cols values). */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`Invalid matrix shape ${rows} × ${cols}.`);
  }
  if (data !== undefined && data.length !== rows * cols) {
    throw new RangeError(`A ${rows} × ${cols} matrix needs ${rows * cols} values, got ${data.length}.`);
  }
  return { data: data === undefined ? new Float64Array(rows * cols) : Float64Array.from(data), rows, cols };
}

/** A new matrix of the given rows, in the order given (repeats allowed). */
export function takeRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = new Float64Array(rows.length * m.cols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= m.rows) throw new RangeError(`Row ${r} is outside 0..${m.rows - 1}.`);
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { data: out, rows: rows.length, cols: m.cols };
}

/** A copy of column j. */
export function column(m: Matrix, j: number): Float64Array {
  if (!Number.isInteger(j) || j < 0 || j >= m.cols) throw new RangeError(`Column ${j} is outside 0..${m.cols - 1}.`);
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.cols + j]!;
  return out;
}

/** Column means (what centering for an intercept subtracts). */
export function columnMeans(m: Matrix): Float64Array {
  const means = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    const row = r * m.cols;
    for (let c = 0; c < m.cols; c++) means[c]! += m.data[row + c]!;
  }
  for (let c = 0; c < m.cols; c++) means[c]! /= m.rows;
  return means;
}

/**
 * The transpose of (m − shift) as a flat cols × rows array: row j holds feature j of every
 * sample contiguously, which is what coordinate descent and Gram products stream through
 * (scikit-learn asks for Fortran-ordered X for the same reason).
 */
export function featureMajor(m: Matrix, shift?: Float64Array): Float64Array {
  const { rows, cols, data } = m;
  const out = new Float64Array(rows * cols);
  // Blocks of rows keep both the reads and the scattered writes cache-friendly.
  const BLOCK = 64;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c = 0; c < cols; c++) {
      const s = shift ? shift[c]! : 0;
      const o = c * rows;
      for (let r = r0; r < r1; r++) out[o + r] = data[r * cols + c]! - s;
    }
  }
  return out;
}

/** Σ a[i]·b[i] over n values starting at the given offsets. */
export function dot(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  // Two accumulators shorten the add dependency chain; the JIT does not vectorise.
  for (; i + 1 < n; i += 2) {
    s0 += a[aOffset + i]! * b[bOffset + i]!;
    s1 += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
  }
  if (i < n) s0 += a[aOffset + i]! * b[bOffset + i]!;
  return s0 + s1;
}

/** y[yOffset + i] += alpha · x[xOffset + i] for i < n (BLAS axpy). */
export function axpy(n: number, alpha: number, x: Float64Array, xOffset: number, y: Float64Array, yOffset: number): void {
  for (let i = 0; i < n; i++) y[yOffset + i]! += alpha * x[xOffset + i]!;
}

/** Columns of k processed per pass: 4 KiB per row stays in L1/L2 while a row block is reused. */
const K_TILE = 512;

/**
 * Adds to `out` (count × count, row-major) the products of rows of `a` over columns [k0, k1):
 * out[i][j] += Σ_k a[i·stride + k]·a[j·stride + k] for j ≥ i. Only the upper triangle is
 * meaningful afterwards (call mirrorUpper); a few lower entries next to the diagonal are written
 * too. With `a` feature-major this is XᵀX over the samples k0..k1 — the Gram matrix of one block
 * of rows, the expensive step of both the lasso (precompute) and ridge.
 *
 * 4 × 4 register blocking: each loaded value feeds four multiply-adds, about 3× faster than
 * plain dot products in V8 (no SIMD in JS; see bench/learn.ts for the figures).
 */
export function gramUpper(a: Float64Array, count: number, stride: number, k0: number, k1: number, out: Float64Array): void {
  for (let t0 = k0; t0 < k1; t0 += K_TILE) {
    const t1 = Math.min(k1, t0 + K_TILE);
    let i = 0;
    for (; i + 3 < count; i += 4) {
      let j = i;
      for (; j + 3 < count; j += 4) block4x4(a, stride, i, a, stride, j, t0, t1, out, count);
      for (; j < count; j++) for (let ii = i; ii < i + 4; ii++) out[ii * count + j]! += dot(a, ii * stride + t0, a, j * stride + t0, t1 - t0);
    }
    for (; i < count; i++) for (let j = i; j < count; j++) out[i * count + j]! += dot(a, i * stride + t0, a, j * stride + t0, t1 - t0);
  }
}

/** Copies the upper triangle of a square n × n row-major matrix onto its lower triangle. */
export function mirrorUpper(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j]!;
}

/**
 * out[i·bCount + j] = a_i · b_j for rows a_i of `a` (aCount × len) and b_j of `b` (bCount × len),
 * both row-major: A·Bᵀ, e.g. squared-distance cross terms for k-nearest neighbours or
 * projections onto eigenvectors. Same 4 × 4 blocking as gramUpper.
 */
export function crossProduct(a: Float64Array, aCount: number, b: Float64Array, bCount: number, len: number): Float64Array {
  const out = new Float64Array(aCount * bCount);
  for (let t0 = 0; t0 < len; t0 += K_TILE) {
    const t1 = Math.min(len, t0 + K_TILE);
    let i = 0;
    for (; i + 3 < aCount; i += 4) {
      let j = 0;
      for (; j + 3 < bCount; j += 4) block4x4(a, len, i, b, len, j, t0, t1, out, bCount);
      for (; j < bCount; j++) for (let ii = i; ii < i + 4; ii++) out[ii * bCount + j]! += dot(a, ii * len + t0, b, j * len + t0, t1 - t0);
    }
    for (; i < aCount; i++) for (let j = 0; j < bCount; j++) out[i * bCount + j]! += dot(a, i * len + t0, b, j * len + t0, t1 - t0);
  }
  return out;
}

/** out[(i..i+3)·outStride + (j..j+3)] += rows i..i+3 of a · rows j..j+3 of b over k in [t0, t1). */
function block4x4(
  a: Float64Array,
  aStride: number,
  i: number,
  b: Float64Array,
  bStride: number,
  j: number,
  t0: number,
  t1: number,
  out: Float64Array,
  outStride: number,
): void {
  const a0 = i * aStride;
  const a1 = a0 + aStride;
  const a2 = a1 + aStride;
  const a3 = a2 + aStride;
  const b0 = j * bStride;
  const b1 = b0 + bStride;
  const b2 = b1 + bStride;
  const b3 = b2 + bStride;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let k = t0; k < t1; k++) {
    const y0 = b[b0 + k]!;
    const y1 = b[b1 + k]!;
    const y2 = b[b2 + k]!;
    const y3 = b[b3 + k]!;
    let x = a[a0 + k]!;
    s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
    x = a[a1 + k]!;
    s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
    x = a[a2 + k]!;
    s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
    x = a[a3 + k]!;
    s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
  }
  let o = i * outStride + j;
  out[o]! += s00; out[o + 1]! += s01; out[o + 2]! += s02; out[o + 3]! += s03;
  o += outStride;
  out[o]! += s10; out[o + 1]! += s11; out[o + 2]! += s12; out[o + 3]! += s13;
  o += outStride;
  out[o]! += s20; out[o + 1]! += s21; out[o + 2]! += s22; out[o + 3]! += s23;
  o += outStride;
  out[o]! += s30; out[o + 1]! += s31; out[o + 2]! += s32; out[o + 3]! += s33;
}

/** Eigenvalues (ascending) and eigenvectors of a symmetric matrix; vectors[k·n + j] is component j of vector k. */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric n × n matrix (row-major, both triangles filled) with
 * ml-matrix's Householder tridiagonalisation + QL (JAMA's tred2/tql2).
 */
export function symmetricEigen(g: Float64Array, n: number): SymmetricEigen {
  const m = new MlMatrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, g[i * n + j]!);
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = Float64Array.from(evd.realEigenvalues);
  const v = evd.eigenvectorMatrix;
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) vectors[k * n + j] = v.get(j, k);
  return { values, vectors };
}

/**
 * scikit-learn's KFold(k) without shuffling: k contiguous blocks [start, end) whose sizes differ
 * by at most one, the first n mod k blocks one row larger.
 */
export function kFoldBounds(n: number, k: number): [number, number][] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`Cross-validation needs at least 2 folds, got ${k}.`);
  if (k > n) throw new RangeError(`Cannot split ${n} rows into ${k} folds.`);
  const bounds: [number, number][] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    bounds.push([start, start + size]);
    start += size;
  }
  return bounds;
}

/** Throws unless X and y describe the same rows and hold only finite numbers. */
export function checkXy(X: Matrix, y: ArrayLike<number>, what: string): void {
  if (X.data.length !== X.rows * X.cols) throw new RangeError(`${what}: X has ${X.data.length} values for ${X.rows} × ${X.cols}.`);
  if (y.length !== X.rows) throw new RangeError(`${what}: X has ${X.rows} rows but y has ${y.length} values.`);
  if (X.rows === 0 || X.cols === 0) throw new RangeError(`${what}: X is empty (${X.rows} × ${X.cols}).`);
  for (let i = 0; i < X.data.length; i++) {
    if (!Number.isFinite(X.data[i]!)) throw new RangeError(`${what}: X has a non-finite value at row ${Math.floor(i / X.cols) + 1}.`);
  }
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i]!)) throw new RangeError(`${what}: y has a non-finite value at row ${i + 1}.`);
}
