/**
 * learn/evaluate — cross-validation of one learner on one feature matrix, the way scikit-learn's
 * `cross_val_predict` + per-fold scores work: for each outer fold, scale with statistics of the
 * training rows only, fit on them, predict the test rows. Returns out-of-fold predictions, the
 * metrics of every fold with their mean ± sd, and the fitted fold models (for later predictions,
 * where their spread is the uncertainty).
 */
import type { Fold } from './cv';
import { matrix, takeRows, type Matrix } from './matrix';
import type { MultiLabelLearner } from './learners';
import { cafaMetrics, informationContent, type LabelStructure } from './cafa-metrics';
import { classificationMetrics, multiLabelMetrics, regressionMetrics, summarize } from './metrics';
import { fitScaler, type Scaling } from './scale';
import type { Classifier, FittedClassifier } from './logistic';
import type { FittedRegressor, Regressor } from './matrix';

export type Task = 'regression' | 'classification' | 'multilabel';

export interface FoldModel {
  fold: number;
  scaler: Record<string, unknown>;
  model: Record<string, unknown>;
  chosen: Record<string, number>;
}

export interface Evaluation {
  /** Out-of-fold predictions in row order: the fold that predicted each row and the prediction. */
  fold: Int32Array;
  yhat: Float64Array;
  /** Classification: the predicted class probabilities [rows × classes]. */
  proba?: Matrix;
  perFold: Record<string, number | null>[];
  summary: Record<string, { mean: number; sd: number; n: number }>;
  models: FoldModel[];
  /** The fitted pieces themselves, to apply to new data. */
  fitted: { scaler: { transform(X: Matrix): Matrix }; model: FittedRegressor | FittedClassifier }[];
}

export interface EvaluateOptions {
  X: Matrix;
  folds: Fold[];
  scaling: Scaling;
  onProgress?: (fraction: number) => void;
}

function numbersOf(metrics: object): Record<string, number | null> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, typeof v === 'number' ? v : null]));
}

export function evaluateRegression(learner: Regressor, y: Float64Array, options: EvaluateOptions): Evaluation {
  const { X, folds } = options;
  const fold = new Int32Array(X.rows).fill(-1);
  const yhat = new Float64Array(X.rows).fill(Number.NaN);
  const perFold: Record<string, number | null>[] = [];
  const models: FoldModel[] = [];
  const fitted: Evaluation['fitted'] = [];
  folds.forEach((f, i) => {
    const scaler = fitScaler(takeRows(X, f.train), options.scaling);
    const model = learner.fit(scaler.transform(takeRows(X, f.train)), Float64Array.from(f.train, (r) => y[r]!), (p) =>
      options.onProgress?.((i + p) / folds.length),
    );
    const predicted = model.predict(scaler.transform(takeRows(X, f.test)));
    f.test.forEach((row, j) => {
      fold[row] = i;
      yhat[row] = predicted[j]!;
    });
    perFold.push(numbersOf(regressionMetrics(Float64Array.from(f.test, (r) => y[r]!), predicted, model.nonZero?.())));
    models.push({ fold: i, scaler: scaler.toJSON(), model: model.toJSON(), chosen: model.chosen });
    fitted.push({ scaler, model });
    options.onProgress?.((i + 1) / folds.length);
  });
  return { fold, yhat, perFold, summary: summarize(perFold), models, fitted };
}

export function evaluateClassification(learner: Classifier, labels: Int32Array, classes: readonly string[], options: EvaluateOptions & { classWeight?: 'balanced' | null }): Evaluation {
  const { X, folds } = options;
  const fold = new Int32Array(X.rows).fill(-1);
  const yhat = new Float64Array(X.rows).fill(Number.NaN);
  const proba = matrix(X.rows, classes.length);
  const perFold: Record<string, number | null>[] = [];
  const models: FoldModel[] = [];
  const fitted: Evaluation['fitted'] = [];
  folds.forEach((f, i) => {
    const scaler = fitScaler(takeRows(X, f.train), options.scaling);
    const model = learner.fit(scaler.transform(takeRows(X, f.train)), Int32Array.from(f.train, (r) => labels[r]!), classes, {
      classWeight: options.classWeight ?? null,
      onProgress: (p) => options.onProgress?.((i + p) / folds.length),
    });
    const p = model.predictProba(scaler.transform(takeRows(X, f.test)));
    const predicted = model.predict(scaler.transform(takeRows(X, f.test)));
    f.test.forEach((row, j) => {
      fold[row] = i;
      yhat[row] = predicted[j]!;
      proba.data.set(p.data.subarray(j * classes.length, (j + 1) * classes.length), row * classes.length);
    });
    perFold.push(numbersOf(classificationMetrics(Int32Array.from(f.test, (r) => labels[r]!), p, classes)));
    models.push({ fold: i, scaler: scaler.toJSON(), model: model.toJSON(), chosen: model.chosen });
    fitted.push({ scaler, model });
    options.onProgress?.((i + 1) / folds.length);
  });
  return { fold, yhat, proba, perFold, summary: summarize(perFold), models, fitted };
}

export interface MultiLabelEvaluation {
  /** The fold that predicted each row. */
  fold: Int32Array;
  /** Out-of-fold label probabilities and 0/1 predictions (at each label's tuned cut-off), rows × labels. */
  proba: Matrix;
  predicted: Uint8Array;
  perFold: Record<string, number | null>[];
  summary: Record<string, { mean: number; sd: number; n: number }>;
  models: FoldModel[];
}

/**
 * Y is rows × labels row-major (1: the protein has the label); metrics per outer fold: CAFA's
 * Fmax, Smin (information content from that fold's training rows) and micro AUPRC — per namespace
 * too when `structure` gives two or more — then F1, AUROC and macro AUPRC (mAP).
 */
export function evaluateMultiLabel(
  learner: MultiLabelLearner,
  Y: Uint8Array,
  labels: readonly string[],
  options: EvaluateOptions & { classWeight?: 'balanced' | null; structure?: LabelStructure },
): MultiLabelEvaluation {
  const { X, folds } = options;
  const L = labels.length;
  const fold = new Int32Array(X.rows).fill(-1);
  const proba = matrix(X.rows, L);
  const predicted = new Uint8Array(X.rows * L);
  const perFold: Record<string, number | null>[] = [];
  const models: FoldModel[] = [];
  const rowsOf = (rows: ArrayLike<number>): Uint8Array => {
    const out = new Uint8Array(rows.length * L);
    Array.from(rows).forEach((r, j) => out.set(Y.subarray(r * L, (r + 1) * L), j * L));
    return out;
  };
  folds.forEach((f, i) => {
    const scaler = fitScaler(takeRows(X, f.train), options.scaling);
    const model = learner.fit(scaler.transform(takeRows(X, f.train)), rowsOf(f.train), labels, {
      classWeight: options.classWeight ?? null,
      onProgress: (p) => options.onProgress?.((i + p) / folds.length),
    });
    const test = scaler.transform(takeRows(X, f.test));
    const p = model.predictProba(test);
    const yes = model.predict(test);
    f.test.forEach((row, j) => {
      fold[row] = i;
      proba.data.set(p.data.subarray(j * L, (j + 1) * L), row * L);
      predicted.set(yes.subarray(j * L, (j + 1) * L), row * L);
    });
    const ic = informationContent(rowsOf(f.train), L, options.structure);
    const truth = rowsOf(f.test);
    perFold.push({ ...numbersOf(cafaMetrics(truth, p, { ic, namespaces: options.structure?.namespaces })), ...numbersOf(multiLabelMetrics(truth, p, model.thresholds)) });
    models.push({ fold: i, scaler: scaler.toJSON(), model: model.toJSON(), chosen: {} });
    options.onProgress?.((i + 1) / folds.length);
  });
  return { fold, proba, predicted, perFold, summary: summarize(perFold), models };
}

/** Mean and spread (sd) of the fold models' predictions for new rows: the uncertainty column. */
export function predictWithFoldModels(evaluation: Pick<Evaluation, 'fitted'>, X: Matrix): { mean: Float64Array; sd: Float64Array } {
  const predictions = evaluation.fitted.map(({ scaler, model }) => {
    const scaled = scaler.transform(X);
    if ('predictProba' in model) {
      // Classification: the probability of the positive (last) class for binary, else of the predicted class.
      const p = model.predictProba(scaled);
      const k = model.classes.length;
      return Float64Array.from({ length: X.rows }, (_, r) => (k === 2 ? p.data[r * k + 1]! : Math.max(...p.data.subarray(r * k, (r + 1) * k))));
    }
    return model.predict(scaled);
  });
  const mean = new Float64Array(X.rows);
  const sd = new Float64Array(X.rows);
  for (let r = 0; r < X.rows; r++) {
    const values = predictions.map((p) => p[r]!);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    mean[r] = m;
    sd[r] = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1)) : 0;
  }
  return { mean, sd };
}
