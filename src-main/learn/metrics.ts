/**
 * learn/metrics — the scores a cross-validated model is reported with: regression (R², Spearman,
 * Pearson, RMSE, MAE), single-label classification (accuracy, balanced accuracy, macro F1, MCC,
 * AUROC, AUPRC), multi-label annotation (macro/micro F1, AUROC, AUPRC; CAFA's Fmax and Smin are
 * in cafa-metrics.ts), and the mean ± sd summary across folds. Definitions follow scikit-learn /
 * scipy unless a comment says otherwise. Pure numerics: no I/O.
 *
 * Undefined values never throw, because one odd fold must not crash a whole scan:
 *  - Pearson and Spearman are NaN when y or the predictions are constant (0/0, as scipy).
 *  - R² follows sklearn's r2_score: constant y gives 1 for a perfect fit, else 0; NaN for n < 2.
 *  - AUROC / AUPRC are null when the truth has no positives (or, for AUROC, no negatives).
 *  - summarize() skips null and NaN and counts them as `undefinedCount`.
 */
import type { Matrix } from './matrix';
import { assertSameLength, at, isConstant, mean, pearson, ranks, sd, spearman } from '../core/stats';

// ---------------------------------------------------------------------------------------------
// Regression

export interface RegressionMetrics {
  r2: number;
  spearman: number;
  pearson: number;
  rmse: number;
  mae: number;
  /** Passed through untouched: how many coefficients the model kept (e.g. a sparse linear model). */
  nonZero?: number;
}

export function regressionMetrics(y: ArrayLike<number>, yhat: ArrayLike<number>, nonZero?: number): RegressionMetrics {
  assertSameLength(y, yhat);
  const n = y.length;
  let sqErr = 0;
  let absErr = 0;
  for (let i = 0; i < n; i++) {
    const e = at(y, i) - at(yhat, i);
    sqErr += e * e;
    absErr += Math.abs(e);
  }
  const out: RegressionMetrics = {
    r2: r2Score(y, sqErr),
    spearman: spearman(y, yhat),
    pearson: pearson(y, yhat),
    rmse: Math.sqrt(sqErr / n),
    mae: absErr / n,
  };
  if (nonZero !== undefined) out.nonZero = nonZero;
  return out;
}

/**
 * sklearn's r2_score (force_finite=True): 1 − SS_res/SS_tot; when y is constant (SS_tot = 0) the
 * ratio is undefined, and sklearn reports 1 for a perfect fit and 0 otherwise rather than −∞.
 * With fewer than 2 samples sklearn returns NaN, and so do we.
 */
function r2Score(y: ArrayLike<number>, ssRes: number): number {
  if (y.length < 2) return NaN;
  if (isConstant(y)) return ssRes === 0 ? 1 : 0;
  const m = mean(y);
  let ssTot = 0;
  for (let i = 0; i < y.length; i++) ssTot += (at(y, i) - m) ** 2;
  return 1 - ssRes / ssTot;
}

// ---------------------------------------------------------------------------------------------
// Binary ranking scores shared by classification and multi-label

/**
 * AUROC as the Mann–Whitney U statistic: P(score of a random positive > score of a random
 * negative), ties counting ½ — identical to sklearn's trapezoidal ROC area. Null when either
 * class is missing, since the curve then has no x- or no y-axis.
 */
export function binaryAuroc(positive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number | null {
  assertSameLength(positive, scores);
  const r = ranks(scores);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < r.length; i++) {
    if (positive[i]) {
      nPos++;
      rankSum += r[i]!;
    }
  }
  const nNeg = r.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Average precision, sklearn's step-wise definition AP = Σ (R_k − R_{k−1}) · P_k over the
 * distinct score thresholds (tied scores form one threshold), not the optimistic trapezoid.
 * Null when there are no positives (recall is 0/0).
 */
export function averagePrecision(positive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number | null {
  assertSameLength(positive, scores);
  const n = scores.length;
  let totalPos = 0;
  for (let i = 0; i < n; i++) if (positive[i]) totalPos++;
  if (totalPos === 0) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => at(scores, b) - at(scores, a));
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const s = at(scores, order[i]!);
    // Take the whole group of tied scores before computing a point: a threshold cannot split ties.
    while (i < n && at(scores, order[i]!) === s) {
      if (positive[order[i]!]) tp++;
      else fp++;
      i++;
    }
    const recall = tp / totalPos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

/** Mean of the defined (non-null) values, or null when none is defined. */
function meanDefined(values: readonly (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : mean(defined);
}

// ---------------------------------------------------------------------------------------------
// Single-label classification

export interface ClassificationMetrics {
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  mcc: number;
  auroc: number | null;
  auprc: number | null;
}

/**
 * y holds class indices into `classes`; proba is rows × classes. The predicted class is the
 * arg-max of each row (first on ties, as numpy's argmax).
 *
 * - balancedAccuracy: mean recall over the classes present in y (sklearn drops absent classes).
 * - macroF1: mean F1 over classes present in y or predicted (sklearn's default label set).
 * - mcc: sklearn's multiclass Matthews formula; 0 when undefined (a constant truth or prediction).
 * - auroc: binary → column 1 scores class 1. Multiclass → macro one-vs-rest over the classes whose
 *   one-vs-rest AUROC is defined (present in y, and not all of y). sklearn instead refuses when a
 *   class is absent from y; we average the rest so a fold lacking a rare class still gets a score.
 *   Null when fewer than two classes occur in y.
 * - auprc: binary → average precision of column 1 for class 1; multiclass → macro one-vs-rest over
 *   the classes present in y. Null when it is undefined for every class.
 */
export function classificationMetrics(y: Int32Array, proba: Matrix, classes: readonly string[]): ClassificationMetrics {
  const n = y.length;
  const c = classes.length;
  if (proba.rows !== n) throw new RangeError(`Probabilities have ${proba.rows} rows but there are ${n} labels.`);
  if (proba.cols !== c) throw new RangeError(`Probabilities have ${proba.cols} columns but there are ${c} classes.`);
  for (let i = 0; i < n; i++) {
    const label = y[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= c) throw new RangeError(`Label ${label} at row ${i} is not a class index in [0, ${c}).`);
  }
  const predicted = argmaxRows(proba);
  const cm = confusionMatrix(y, predicted, c);
  return {
    accuracy: trace(cm, c) / n,
    balancedAccuracy: balancedAccuracy(cm, c),
    macroF1: macroF1FromConfusion(cm, c),
    mcc: matthews(cm, c),
    auroc: c === 2 ? binaryAuroc(isClass(y, 1), column(proba, 1)) : oneVsRest(y, proba, binaryAuroc),
    auprc: c === 2 ? averagePrecision(isClass(y, 1), column(proba, 1)) : oneVsRest(y, proba, averagePrecision),
  };
}

function argmaxRows(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let best = 0;
    for (let k = 1; k < m.cols; k++) if (m.data[r * m.cols + k]! > m.data[r * m.cols + best]!) best = k;
    out[r] = best;
  }
  return out;
}

/** cm[t * c + p] counts rows with true class t predicted as p. */
function confusionMatrix(y: Int32Array, predicted: Int32Array, c: number): Float64Array {
  const cm = new Float64Array(c * c);
  for (let i = 0; i < y.length; i++) cm[y[i]! * c + predicted[i]!]! += 1;
  return cm;
}

function trace(cm: Float64Array, c: number): number {
  let t = 0;
  for (let k = 0; k < c; k++) t += cm[k * c + k]!;
  return t;
}

function rowSums(cm: Float64Array, c: number): Float64Array {
  const out = new Float64Array(c);
  for (let t = 0; t < c; t++) for (let p = 0; p < c; p++) out[t]! += cm[t * c + p]!;
  return out;
}

function colSums(cm: Float64Array, c: number): Float64Array {
  const out = new Float64Array(c);
  for (let t = 0; t < c; t++) for (let p = 0; p < c; p++) out[p]! += cm[t * c + p]!;
  return out;
}

function balancedAccuracy(cm: Float64Array, c: number): number {
  const trueCounts = rowSums(cm, c);
  const recalls: number[] = [];
  for (let k = 0; k < c; k++) if (trueCounts[k]! > 0) recalls.push(cm[k * c + k]! / trueCounts[k]!);
  return mean(recalls);
}

function macroF1FromConfusion(cm: Float64Array, c: number): number {
  const trueCounts = rowSums(cm, c);
  const predCounts = colSums(cm, c);
  const f1s: number[] = [];
  for (let k = 0; k < c; k++) {
    if (trueCounts[k] === 0 && predCounts[k] === 0) continue; // not in sklearn's label set
    const tp = cm[k * c + k]!;
    // F1 = 2TP / (2TP + FP + FN), and 2TP + FP + FN = trueCount + predCount.
    f1s.push((2 * tp) / (trueCounts[k]! + predCounts[k]!));
  }
  return mean(f1s);
}

/** sklearn's matthews_corrcoef for any number of classes (Gorodkin's R_K); 0 when undefined. */
function matthews(cm: Float64Array, c: number): number {
  const t = rowSums(cm, c);
  const p = colSums(cm, c);
  let n = 0;
  let tDotP = 0;
  let pDotP = 0;
  let tDotT = 0;
  for (let k = 0; k < c; k++) {
    n += t[k]!;
    tDotP += t[k]! * p[k]!;
    pDotP += p[k]! * p[k]!;
    tDotT += t[k]! * t[k]!;
  }
  const covYtYp = trace(cm, c) * n - tDotP;
  const covYpYp = n * n - pDotP;
  const covYtYt = n * n - tDotT;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

function isClass(y: Int32Array, k: number): Uint8Array {
  const out = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] === k ? 1 : 0;
  return out;
}

function column(m: Matrix, k: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.cols + k]!;
  return out;
}

function oneVsRest(
  y: Int32Array,
  proba: Matrix,
  score: (positive: Uint8Array, scores: Float64Array) => number | null,
): number | null {
  const perClass: (number | null)[] = [];
  for (let k = 0; k < proba.cols; k++) perClass.push(score(isClass(y, k), column(proba, k)));
  return meanDefined(perClass);
}

// ---------------------------------------------------------------------------------------------
// Multi-label (e.g. GO terms or EC numbers per protein)

export interface MultiLabelMetrics {
  macroF1: number;
  microF1: number;
  auroc: number | null;
  auprc: number | null;
}

/**
 * Y is n × L row-major 0/1; P is n × L probabilities. A label counts as predicted when
 * p ≥ its threshold (default 0.5 for every label). CAFA's scores (Fmax, Smin, micro AUPRC, per
 * namespace) live in cafa-metrics.ts; `auprc` here is the macro AUPRC (mAP) over all labels.
 *
 * - macroF1: mean over all L labels of per-label F1, a label with no true and no predicted
 *   positives scoring 0 (sklearn's f1_score(average='macro') with zero_division=0).
 * - microF1: 2ΣTP / (2ΣTP + ΣFP + ΣFN) over all cells; 0 when that is 0/0.
 * - auroc / auprc: macro over the labels for which they are defined (AUROC: label has positives
 *   and negatives; AUPRC: label has positives), null when none is. sklearn raises (AUROC) or
 *   scores 0 (AUPRC) for such labels; skipping them keeps folds comparable.
 */
export function multiLabelMetrics(Y: Uint8Array, P: Matrix, thresholds?: Float64Array): MultiLabelMetrics {
  const n = P.rows;
  const l = P.cols;
  if (Y.length !== n * l) throw new RangeError(`Label matrix has ${Y.length} cells but probabilities are ${n} × ${l}.`);
  if (thresholds !== undefined && thresholds.length !== l) throw new RangeError(`Got ${thresholds.length} thresholds for ${l} labels.`);
  const f1 = thresholdedF1(Y, P, thresholds);
  const aurocs: (number | null)[] = [];
  const aps: (number | null)[] = [];
  for (let j = 0; j < l; j++) {
    const truth = new Uint8Array(n);
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      truth[i] = Y[i * l + j]!;
      scores[i] = P.data[i * l + j]!;
    }
    aurocs.push(binaryAuroc(truth, scores));
    aps.push(averagePrecision(truth, scores));
  }
  return { macroF1: f1.macro, microF1: f1.micro, auroc: meanDefined(aurocs), auprc: meanDefined(aps) };
}

function thresholdedF1(Y: Uint8Array, P: Matrix, thresholds?: Float64Array): { macro: number; micro: number } {
  const { rows: n, cols: l } = P;
  const tp = new Float64Array(l);
  const fp = new Float64Array(l);
  const fn = new Float64Array(l);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < l; j++) {
      const predicted = P.data[i * l + j]! >= (thresholds?.[j] ?? 0.5);
      const actual = Y[i * l + j] === 1;
      if (predicted && actual) tp[j]! += 1;
      else if (predicted) fp[j]! += 1;
      else if (actual) fn[j]! += 1;
    }
  }
  let macroSum = 0;
  let sumTp = 0;
  let sumFpFn = 0;
  for (let j = 0; j < l; j++) {
    const denom = 2 * tp[j]! + fp[j]! + fn[j]!;
    macroSum += denom === 0 ? 0 : (2 * tp[j]!) / denom;
    sumTp += tp[j]!;
    sumFpFn += fp[j]! + fn[j]!;
  }
  return { macro: l === 0 ? NaN : macroSum / l, micro: 2 * sumTp + sumFpFn === 0 ? 0 : (2 * sumTp) / (2 * sumTp + sumFpFn) };
}

// ---------------------------------------------------------------------------------------------
// Across folds

export interface FoldSummary {
  mean: number;
  /** Sample sd (n − 1); NaN when fewer than 2 folds have a value. */
  sd: number;
  /** Folds with a defined value. */
  n: number;
  /** Folds where the metric was null, NaN or missing (e.g. Spearman on constant predictions). */
  undefinedCount: number;
}

/**
 * Mean ± sample sd of each metric over folds. Null, NaN and missing values are skipped (not
 * averaged as 0) and counted in `undefinedCount`, so the UI can say "undefined in 2 of 5 folds"
 * instead of silently reporting a mean over fewer folds. mean is NaN when no fold has a value.
 * Accepts metric interfaces directly (e.g. RegressionMetrics[]) as well as plain records.
 */
export function summarize<K extends string>(
  perFold: readonly Partial<Record<K, number | null | undefined>>[],
): Record<K, FoldSummary> {
  const keys = new Set<K>();
  for (const fold of perFold) for (const key of Object.keys(fold) as K[]) keys.add(key);
  const out = {} as Record<K, FoldSummary>;
  for (const key of keys) {
    const values: number[] = [];
    for (const fold of perFold) {
      const v = fold[key];
      if (typeof v === 'number' && !Number.isNaN(v)) values.push(v);
    }
    out[key] = { mean: mean(values), sd: sd(values, 1), n: values.length, undefinedCount: perFold.length - values.length };
  }
  return out;
}
