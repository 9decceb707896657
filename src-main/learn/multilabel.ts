/**
 * learn/multilabel — multi-label classification (several yes/no labels per protein, e.g. GO terms
 * or EC numbers) as one-vs-rest, scikit-learn's OneVsRestClassifier(LogisticRegressionCV()): one
 * binary L2 logistic regression per label, each with its own C from inner CV (logistic.ts).
 * Owns `fitMultiLabel`, the FittedMultiLabel contract and its saved form. Pure numerics.
 *
 * Unlike sklearn, which predicts a label when p ≥ 0.5, each label gets its own decision
 * threshold: the one of 0.05, 0.10, …, 0.95 that maximises that label's F1 on the inner-CV
 * out-of-fold probabilities LogisticRegressionCV already computed at its chosen C (so no extra
 * fits, and every probability comes from a model that did not see that row). Rare labels, whose
 * probabilities rarely reach 0.5, gain the most. Ties go to the threshold nearest 0.5. A label
 * with too few positives or negatives for inner CV (< 2) keeps 0.5; a label with no positives
 * at all gets probability 0.
 */
import { LogisticRegressionCV, type FitOptions, type FittedLogistic, type LogisticRegressionCVOptions } from './logistic';
import { matrix, type Matrix } from './matrix';

export interface FittedMultiLabel {
  readonly labels: readonly string[];
  /** rows × labels; each column is that label's own probability (rows need not sum to 1). */
  predictProba(X: Matrix): Matrix;
  thresholds: Float64Array;
  /** rows × labels row-major 0/1: p ≥ the label's threshold. */
  predict(X: Matrix): Uint8Array;
  toJSON(): Record<string, unknown>;
}

export interface MultiLabelOptions extends FitOptions {
  /** Options of every per-label LogisticRegressionCV. */
  logistic?: LogisticRegressionCVOptions;
}

/** Candidate thresholds 0.05, 0.10, …, 0.95. */
export const THRESHOLD_GRID: readonly number[] = Array.from({ length: 19 }, (_, i) => Math.round((0.05 + 0.05 * i) * 100) / 100);
const DEFAULT_THRESHOLD = 0.5;

/** Y is rows × labels, row-major, 1 where the protein has the label. */
export function fitMultiLabel(X: Matrix, Y: Uint8Array, labels: readonly string[], options: MultiLabelOptions = {}): OneVsRestLogistic {
  const L = labels.length;
  if (L === 0) throw new RangeError('Multi-label classification needs at least one label.');
  if (Y.length !== X.rows * L) throw new RangeError(`Label matrix has ${Y.length} cells but X has ${X.rows} rows and there are ${L} labels.`);
  const learner = new LogisticRegressionCV(options.logistic);
  const models: FittedLogistic[] = [];
  const thresholds = new Float64Array(L);
  for (let l = 0; l < L; l++) {
    const y = labelColumn(Y, L, l);
    const model = learner.fit(X, y, [`not ${labels[l]!}`, labels[l]!], {
      classWeight: options.classWeight ?? null,
      onProgress: (f) => options.onProgress?.((l + f) / L),
    });
    models.push(model);
    thresholds[l] = model.outOfFold === null ? DEFAULT_THRESHOLD : bestF1Threshold(y, positiveColumn(model.outOfFold));
  }
  return new OneVsRestLogistic(labels, models, thresholds);
}

export class OneVsRestLogistic implements FittedMultiLabel {
  constructor(
    readonly labels: readonly string[],
    /** One binary model per label (its `chosen.C` is that label's C). */
    readonly models: readonly FittedLogistic[],
    readonly thresholds: Float64Array,
  ) {}

  predictProba(X: Matrix): Matrix {
    const L = this.labels.length;
    const out = matrix(X.rows, L);
    this.models.forEach((model, l) => {
      const p = positiveColumn(model.predictProba(X));
      for (let i = 0; i < X.rows; i++) out.data[i * L + l] = p[i]!;
    });
    return out;
  }

  predict(X: Matrix): Uint8Array {
    const P = this.predictProba(X);
    const L = this.labels.length;
    // ≥, as metrics.ts's thresholded F1, so a probability equal to the threshold counts as yes.
    return Uint8Array.from(P.data, (p, j) => (p >= this.thresholds[j % L]! ? 1 : 0));
  }

  toJSON(): Record<string, unknown> {
    return {
      model: 'one_vs_rest_logistic_regression',
      labels: [...this.labels],
      thresholds: Array.from(this.thresholds),
      models: this.models.map((model) => model.toJSON()),
    };
  }
}

/**
 * The grid threshold with the highest F1 of the positive class on (truth, probability) pairs;
 * ties go to the threshold nearest 0.5, then to the lower one. 0.5 when no threshold gives a
 * true positive (F1 is 0 everywhere, so nothing argues for moving).
 */
export function bestF1Threshold(truth: ArrayLike<number>, p: ArrayLike<number>): number {
  let best = { threshold: DEFAULT_THRESHOLD, f1: 0 };
  for (const threshold of THRESHOLD_GRID) {
    const f1 = f1At(truth, p, threshold);
    const closer = Math.abs(threshold - DEFAULT_THRESHOLD) < Math.abs(best.threshold - DEFAULT_THRESHOLD);
    if (f1 > best.f1 + 1e-12 || (f1 > 0 && Math.abs(f1 - best.f1) <= 1e-12 && closer)) best = { threshold, f1 };
  }
  return best.threshold;
}

/** F1 of predicting yes when p ≥ threshold; 0 when there are no true and no predicted positives. */
function f1At(truth: ArrayLike<number>, p: ArrayLike<number>, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const predicted = p[i]! >= threshold;
    if (predicted && truth[i] === 1) tp++;
    else if (predicted) fp++;
    else if (truth[i] === 1) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

function labelColumn(Y: Uint8Array, L: number, l: number): Int32Array {
  return Int32Array.from({ length: Y.length / L }, (_, i) => (Y[i * L + l]! ? 1 : 0));
}

/** Column 1 ("has the label") of a rows × 2 probability matrix. */
function positiveColumn(P: Matrix): Float64Array {
  return Float64Array.from({ length: P.rows }, (_, i) => P.data[i * 2 + 1]!);
}
