/**
 * learn/prototype — nearest-prototype ("few-shot") classifier: each class is represented by the
 * centroid of its training rows (in whatever scaling the caller applied) and a row goes to the
 * nearest centroid — scikit-learn's NearestCentroid(metric='euclidean', shrink_threshold=None).
 * NearestCentroid has no probabilities; ours are those of prototypical networks (Snell et al.
 * 2017): softmax(−distance / T) over the classes, with the temperature T chosen by inner-CV
 * log-loss. Owns the `NearestPrototype` classifier and its saved form. Pure numerics: no I/O.
 *
 * - distance 'euclidean' (default): ‖x − μ_c‖ (not squared, so T is in the data's own units).
 * - distance 'cosine': 1 − cos(x, μ_c), where μ_c is the mean of the class's rows scaled to unit
 *   length, so each example counts the same whatever its norm. A zero row is at distance 1.
 * - T: out-of-fold distances come from stratified, shuffled inner folds (centroids from the other
 *   folds); T is the value on the grid s·2^j, j = −8..8, s = the median out-of-fold distance
 *   (unit-free, so it suits any embedding size), with the lowest mean log-loss, ties going to the
 *   larger (more cautious) T. With fewer than 2 examples of some class there are no inner folds
 *   and T is fixed at 1.
 * - classWeight 'balanced' cannot move a centroid (each is its own class's mean); it weights
 *   the log-loss that picks T so that rare classes count as much as common ones.
 * - A class absent from the training rows has no centroid and gets probability 0.
 */
import { stratifiedKFold, type Fold } from './cv';
import {
  argmaxRows,
  balancedSampleWeights,
  checkClassifierInputs,
  classCounts,
  expandColumns,
  presentClasses,
  rowsOf,
  type Classifier,
  type FitOptions,
  type FittedClassifier,
} from './logistic';
import { matrix, takeRows, type Matrix } from './matrix';

export type PrototypeDistance = 'euclidean' | 'cosine';

export interface NearestPrototypeOptions {
  distance?: PrototypeDistance;
  /** Inner folds for the temperature (default 5, fewer when the smallest class is smaller). */
  folds?: number;
  /** Seed of the inner fold shuffle (default 0). */
  seed?: number;
}

const TEMPERATURE_STEPS = 8; // grid s·2^j for j = −8..8
const FALLBACK_TEMPERATURE = 1;

export class NearestPrototype implements Classifier {
  readonly name = 'nearest_prototype';
  private readonly options: Required<NearestPrototypeOptions>;

  constructor(options: NearestPrototypeOptions = {}) {
    this.options = { distance: 'euclidean', folds: 5, seed: 0, ...options };
  }

  fit(X: Matrix, y: Int32Array, classes: readonly string[], options: FitOptions = {}): FittedPrototype {
    checkClassifierInputs(X, y, classes, 'Nearest prototype');
    const present = presentClasses(y, classes.length);
    const target = Int32Array.from(y, (c) => present.indexOf(c));
    const { distance } = this.options;
    const weights = options.classWeight === 'balanced' ? balancedSampleWeights(target, present.length) : new Float64Array(y.length).fill(1);
    const folds = this.innerFolds(target, present.length);
    let temperature = FALLBACK_TEMPERATURE;
    if (folds !== null) {
      const D = outOfFoldDistances(X, target, present.length, folds, distance, options.onProgress);
      temperature = chooseTemperature(D, target, weights);
    }
    options.onProgress?.(1);
    return new FittedPrototype(classes, present, centroids(X, target, present.length, distance), distance, temperature);
  }

  private innerFolds(target: Int32Array, nPresent: number): Fold[] | null {
    const k = Math.min(this.options.folds, ...classCounts(target, nPresent));
    return k < 2 ? null : stratifiedKFold(target, k, this.options.seed);
  }
}

export class FittedPrototype implements FittedClassifier {
  readonly chosen: Record<string, number>;

  constructor(
    readonly classes: readonly string[],
    /** Indices (into classes) of the classes with a centroid, ascending. */
    readonly fittedClasses: Int32Array,
    /** fittedClasses.length × features. */
    readonly centroids: Matrix,
    readonly distance: PrototypeDistance,
    readonly temperature: number,
  ) {
    this.chosen = { temperature };
  }

  predictProba(X: Matrix): Matrix {
    if (X.cols !== this.centroids.cols) throw new RangeError(`Model was fitted on ${this.centroids.cols} columns but got ${X.cols}.`);
    const local = softmaxOfNegative(distances(X, this.centroids, this.distance), this.temperature);
    return expandColumns(local, this.fittedClasses, this.classes.length);
  }

  predict(X: Matrix): Int32Array {
    return argmaxRows(this.predictProba(X));
  }

  toJSON(): Record<string, unknown> {
    return {
      model: 'nearest_prototype',
      classes: [...this.classes],
      fittedClasses: Array.from(this.fittedClasses),
      distance: this.distance,
      temperature: this.temperature,
      centroids: rowsOf(this.centroids),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Centroids and distances

/** Mean row of each class (of the unit-length rows for cosine): k × d. */
function centroids(X: Matrix, target: Int32Array, k: number, distance: PrototypeDistance): Matrix {
  const { cols: d } = X;
  const out = matrix(k, d);
  const counts = classCounts(target, k);
  for (let i = 0; i < X.rows; i++) {
    const c = target[i]!;
    const scale = (distance === 'cosine' ? inverseNorm(X.data, i * d, d) : 1) / counts[c]!;
    for (let j = 0; j < d; j++) out.data[c * d + j]! += scale * X.data[i * d + j]!;
  }
  return out;
}

/** rows × centroids distance matrix. */
function distances(X: Matrix, C: Matrix, distance: PrototypeDistance): Matrix {
  const { cols: d } = X;
  const out = matrix(X.rows, C.rows);
  const centroidScale = Float64Array.from({ length: C.rows }, (_, c) => inverseNorm(C.data, c * d, d));
  for (let i = 0; i < X.rows; i++) {
    const rowScale = inverseNorm(X.data, i * d, d);
    for (let c = 0; c < C.rows; c++) {
      let sum = 0;
      if (distance === 'euclidean') {
        for (let j = 0; j < d; j++) sum += (X.data[i * d + j]! - C.data[c * d + j]!) ** 2;
        out.data[i * C.rows + c] = Math.sqrt(sum);
      } else {
        for (let j = 0; j < d; j++) sum += X.data[i * d + j]! * C.data[c * d + j]!;
        out.data[i * C.rows + c] = 1 - sum * rowScale * centroidScale[c]!;
      }
    }
  }
  return out;
}

/** 1 / ‖row‖, or 0 for a zero row (whose cosine similarity to anything is then taken as 0). */
function inverseNorm(data: Float64Array, start: number, d: number): number {
  let sum = 0;
  for (let j = start; j < start + d; j++) sum += data[j]! ** 2;
  return sum > 0 ? 1 / Math.sqrt(sum) : 0;
}

/** softmax(−D / T) row by row, shifted by the row minimum so exp never underflows to all zeros. */
function softmaxOfNegative(D: Matrix, temperature: number): Matrix {
  const out = matrix(D.rows, D.cols);
  for (let i = 0; i < D.rows; i++) {
    const row = D.data.subarray(i * D.cols, (i + 1) * D.cols);
    const min = Math.min(...row);
    let sum = 0;
    for (let c = 0; c < D.cols; c++) {
      const e = Math.exp(-(row[c]! - min) / temperature);
      out.data[i * D.cols + c] = e;
      sum += e;
    }
    for (let c = 0; c < D.cols; c++) out.data[i * D.cols + c]! /= sum;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Temperature by inner cross-validation

/** Each row's distances to the centroids of the inner fold that held it out (rows × k). */
function outOfFoldDistances(X: Matrix, target: Int32Array, k: number, folds: Fold[], distance: PrototypeDistance, onProgress?: (f: number) => void): Matrix {
  const out = matrix(X.rows, k);
  folds.forEach((fold, f) => {
    const trainTarget = Int32Array.from(fold.train, (r) => target[r]!);
    const D = distances(takeRows(X, fold.test), centroids(takeRows(X, fold.train), trainTarget, k, distance), distance);
    fold.test.forEach((row, j) => out.data.set(D.data.subarray(j * k, (j + 1) * k), row * k));
    onProgress?.(((f + 1) / folds.length) * 0.99);
  });
  return out;
}

/** The grid temperature with the lowest weighted out-of-fold log-loss; ties → the larger T. */
function chooseTemperature(D: Matrix, target: Int32Array, weights: Float64Array): number {
  const sorted = Float64Array.from(D.data).sort();
  const scale = sorted[Math.floor(sorted.length / 2)]! || 1; // all distances 0 → any T; use 1
  let best = { temperature: FALLBACK_TEMPERATURE, loss: Infinity };
  for (let j = TEMPERATURE_STEPS; j >= -TEMPERATURE_STEPS; j--) {
    const temperature = scale * 2 ** j;
    const loss = weightedLogLoss(softmaxOfNegative(D, temperature), target, weights);
    if (loss < best.loss - 1e-12) best = { temperature, loss };
  }
  return best.temperature;
}

function weightedLogLoss(P: Matrix, target: Int32Array, weights: Float64Array): number {
  let loss = 0;
  let total = 0;
  target.forEach((t, i) => {
    // Clip at machine epsilon (sklearn's log_loss) so one confident mistake is not infinite.
    loss -= weights[i]! * Math.log(Math.max(P.data[i * P.cols + t]!, Number.EPSILON));
    total += weights[i]!;
  });
  return loss / total;
}
