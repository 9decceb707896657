/**
 * learn/knn — k-nearest-neighbours regression: scikit-learn's KNeighborsRegressor with its
 * defaults (n_neighbors=5, Euclidean distance, uniform weights: the prediction is the plain mean
 * of the k nearest training targets). Optionally k is chosen by inner cross-validation the way
 * GridSearchCV(KNeighborsRegressor(), {'n_neighbors': [1, 3, 5, 10, 20]}, cv=5) does: KFold(5)
 * contiguous blocks, the mean test R² over folds (a regressor's default score), the first best
 * candidate on ties; candidates larger than an inner training set are skipped (scikit-learn
 * scores them NaN, which never wins).
 *
 * Distances use ‖a‖² − 2a·b + ‖b‖² clipped at 0, as sklearn.metrics.euclidean_distances does;
 * equal distances are broken by the lower training row (scikit-learn's order among exact ties
 * depends on its partial sort and is not specified).
 *
 * Pure numerics: no I/O.
 */
import { createArena, type Arena } from './kernels';
import { checkXy, kFoldBounds, type FittedRegressor, type Matrix, type Regressor } from './matrix';

export interface KNeighborsOptions {
  /** k when it is not chosen by CV. Default 5. */
  nNeighbors?: number;
  /** Choose k by inner CV: true for [1, 3, 5, 10, 20], or the candidates. Default false. */
  chooseK?: boolean | readonly number[];
  /** Inner folds when choosing k. Default 5. */
  cv?: number;
}

export const DEFAULT_K_CANDIDATES: readonly number[] = [1, 3, 5, 10, 20];

/** Query rows per distance block: bounds the rows × training-rows distance matrix held at once. */
const QUERY_BLOCK = 256;

export class KNeighborsRegressor implements Regressor {
  readonly name = 'KNeighborsRegressor';
  private readonly nNeighbors: number;
  private readonly candidates: readonly number[] | undefined;
  private readonly cv: number;

  constructor(options: KNeighborsOptions = {}) {
    this.nNeighbors = options.nNeighbors ?? 5;
    this.candidates = options.chooseK === true ? DEFAULT_K_CANDIDATES : options.chooseK === false || options.chooseK === undefined ? undefined : [...options.chooseK];
    this.cv = options.cv ?? 5;
    for (const k of [this.nNeighbors, ...(this.candidates ?? [])]) {
      if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}.`);
    }
    if (this.candidates?.length === 0) throw new RangeError('chooseK needs at least one candidate.');
  }

  fit(X: Matrix, y: Float64Array, onProgress?: (fraction: number) => void): FittedRegressor & { k: number; cvR2?: Float64Array } {
    checkXy(X, y, this.name);
    const cvR2 = this.candidates ? candidateScores(X, y, this.candidates, this.cv, onProgress) : undefined;
    let k = this.nNeighbors;
    if (this.candidates && cvR2) {
      let best = -1;
      cvR2.forEach((score, i) => {
        if (!Number.isNaN(score) && (best < 0 || score > cvR2[best]!)) best = i;
      });
      if (best < 0) throw new RangeError(`${this.name}: no candidate k fits in the inner training sets (${X.rows} rows).`);
      k = this.candidates[best]!;
    }
    if (k > X.rows) throw new RangeError(`${this.name}: k = ${k} but only ${X.rows} training rows.`);
    onProgress?.(1);
    return fittedKnn(X, y, k, cvR2);
  }
}

/** Mean test R² over inner folds for each candidate k (NaN where k exceeds a training set). */
function candidateScores(X: Matrix, y: Float64Array, candidates: readonly number[], cv: number, onProgress?: (fraction: number) => void): Float64Array {
  const blocks = kFoldBounds(X.rows, cv);
  const sums = new Float64Array(candidates.length);
  const maxK = Math.max(...candidates);
  blocks.forEach(([start, end], f) => {
    const trainRows = Int32Array.from({ length: X.rows - (end - start) }, (_, i) => (i < start ? i : i + end - start));
    const train = subset(X, trainRows);
    const test = { data: X.data.subarray(start * X.cols, end * X.cols), rows: end - start, cols: X.cols };
    // One neighbour search up to the largest k serves every candidate.
    const neighbours = nearest(searchIndex(train), test, Math.min(maxK, train.rows));
    const yTest = y.subarray(start, end);
    candidates.forEach((k, c) => {
      if (k > train.rows) {
        sums[c] = Number.NaN;
        return;
      }
      const predicted = Float64Array.from({ length: test.rows }, (_, r) => meanOf(y, trainRows, neighbours, r, neighbours.k, k));
      sums[c]! += r2(yTest, predicted) / cv;
    });
    onProgress?.(((f + 1) / blocks.length) * 0.95);
  });
  return sums;
}

function subset(X: Matrix, rows: Int32Array): Matrix {
  const data = new Float64Array(rows.length * X.cols);
  rows.forEach((r, i) => data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), i * X.cols));
  return { data, rows: rows.length, cols: X.cols };
}

/**
 * Training rows ready for neighbour searches: copied once into an arena, with room for one block
 * of query rows and their cross products, so the dominant x_q·x_t products run as SIMD kernels.
 */
interface SearchIndex {
  rows: number;
  cols: number;
  arena: Arena;
  data: Float64Array;
  norms: Float64Array;
  block: Float64Array;
  cross: Float64Array;
}

function searchIndex(train: Matrix): SearchIndex {
  const { rows, cols } = train;
  const arena = createArena(rows * cols + QUERY_BLOCK * (cols + rows) + 64);
  const data = arena.alloc(rows * cols);
  data.set(train.data);
  const norms = Float64Array.from({ length: rows }, (_, r) => dotSelf(data, r * cols, cols));
  return { rows, cols, arena, data, norms, block: arena.alloc(QUERY_BLOCK * cols), cross: arena.alloc(QUERY_BLOCK * rows) };
}

/** Indices (into the training rows) of the k nearest training rows of every query row, nearest first. */
function nearest(train: SearchIndex, query: Matrix, k: number): { index: Int32Array; k: number } {
  const { cols: p, rows: n, block, cross } = train;
  const index = new Int32Array(query.rows * k);
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let q0 = 0; q0 < query.rows; q0 += QUERY_BLOCK) {
    const q1 = Math.min(query.rows, q0 + QUERY_BLOCK);
    block.set(query.data.subarray(q0 * p, q1 * p));
    cross.fill(0);
    train.arena.kernels.crossProduct(block, q1 - q0, train.data, n, p, cross);
    for (let q = q0; q < q1; q++) {
      const qNorm = dotSelf(query.data, q * p, p);
      let count = 0;
      for (let t = 0; t < n; t++) {
        const d = Math.max(qNorm - 2 * cross[(q - q0) * n + t]! + train.norms[t]!, 0);
        // Insertion into the sorted top-k; strict < keeps the lower row first among equal distances.
        if (count === k && !(d < bestD[k - 1]!)) continue;
        let pos = count < k ? count++ : k - 1;
        while (pos > 0 && d < bestD[pos - 1]!) {
          bestD[pos] = bestD[pos - 1]!;
          bestI[pos] = bestI[pos - 1]!;
          pos--;
        }
        bestD[pos] = d;
        bestI[pos] = t;
      }
      index.set(bestI.subarray(0, k), q * k);
    }
  }
  return { index, k };
}

function dotSelf(a: Float64Array, offset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[offset + i]! * a[offset + i]!;
  return s;
}

/** Mean target of the first k neighbours of query row r (neighbour lists have `stride` entries). */
function meanOf(y: Float64Array, trainRows: Int32Array | undefined, neighbours: { index: Int32Array }, r: number, stride: number, k: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) {
    const t = neighbours.index[r * stride + i]!;
    s += y[trainRows ? trainRows[t]! : t]!;
  }
  return s / k;
}

/** sklearn's r2_score (force_finite): constant truth gives 1 for a perfect fit, else 0. */
function r2(y: Float64Array, predicted: Float64Array): number {
  let mean = 0;
  for (const v of y) mean += v / y.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < y.length; i++) {
    ssRes += (y[i]! - predicted[i]!) ** 2;
    ssTot += (y[i]! - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

function fittedKnn(X: Matrix, y: Float64Array, k: number, cvR2?: Float64Array): FittedRegressor & { k: number; cvR2?: Float64Array } {
  // The training rows are the model: a private copy (in the search index), so later edits by the caller do not leak in.
  const train = searchIndex(X);
  const targets = y.slice();
  return {
    k,
    cvR2,
    chosen: { k },
    predict(Q: Matrix): Float64Array {
      if (Q.cols !== train.cols) throw new RangeError(`KNeighborsRegressor was fitted on ${train.cols} features but got ${Q.cols}.`);
      const neighbours = nearest(train, Q, k);
      return Float64Array.from({ length: Q.rows }, (_, r) => meanOf(targets, undefined, neighbours, r, k, k));
    },
    // No coefficients (every feature enters the distance), so no "non-zero coefficients" to report.
    toJSON: () => ({ type: 'KNeighborsRegressor', k, metric: 'euclidean', weights: 'uniform', trainingRows: train.rows, ...(cvR2 && { cvR2: Array.from(cvR2) }) }),
  };
}
