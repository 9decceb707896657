/**
 * learn/matrix — the contracts every learner shares: the dense row-major Matrix, the regressor
 * interfaces (learn/linear, learn/ridge, learn/knn, ...), the shape helpers (matrix, takeRows,
 * columnMeans, a transposed "feature-major" copy), scikit-learn's KFold block
 * boundaries, and the input check. The numerical kernels live in learn/kernels, the eigen
 * solvers in learn/eigen.
 *
 * Float64Array throughout: the solvers mirror scikit-learn's float64 code paths, and their
 * stopping rules (duality gap < tol·‖y‖²) assume double precision. Pure numerics: no I/O.
 */
/** A dense matrix, row-major: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** A regressor after fitting: predicts new rows and describes itself for storage. */
export interface FittedRegressor {
  predict(X: Matrix): Float64Array;
  /** How many coefficients are non-zero (linear models); absent for learners without coefficients (nearest neighbours). */
  nonZero?(): number;
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
export function featureMajor(m: Matrix, shift?: Float64Array, out: Float64Array = new Float64Array(m.rows * m.cols)): Float64Array {
  const { rows, cols, data } = m;
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
