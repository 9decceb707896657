/**
 * learn/learners — the learners a scan or `esm-studio fit` can use, by id, with one plain
 * sentence each for the UI. Defaults are those of the learner classes (documented there).
 */
import { RandomForest } from './forest';
import { KNeighborsRegressor } from './knn';
import { ElasticNetCV, LassoCV } from './linear';
import { LogisticRegressionCV, type Classifier, type FitOptions } from './logistic';
import type { Matrix, Regressor } from './matrix';
import { fitMultiLabel, type FittedMultiLabel } from './multilabel';
import { NearestPrototype } from './prototype';
import { RidgeCV } from './ridge';

export interface LearnerInfo {
  id: string;
  label: string;
  task: 'regression' | 'classification' | 'multilabel';
  explanation: string;
}

const REGRESSORS: Record<string, () => Regressor> = {
  lassocv: () => new LassoCV(),
  ridgecv: () => new RidgeCV(),
  elasticnetcv: () => new ElasticNetCV(),
  knn: () => new KNeighborsRegressor(),
};

const CLASSIFIERS: Record<string, () => Classifier> = {
  logreg: () => new LogisticRegressionCV(),
  prototype: () => new NearestPrototype(),
  // 50 trees: the library's split search is slow on embedding-sized data (see forest.ts).
  rf: () => new RandomForest({ nEstimators: 50 }),
};

/** A multi-label learner: several yes/no labels per protein at once. */
export interface MultiLabelLearner {
  fit(X: Matrix, Y: Uint8Array, labels: readonly string[], options?: FitOptions): FittedMultiLabel;
}

const MULTILABEL: Record<string, () => MultiLabelLearner> = {
  'ovr-logreg': () => ({ fit: (X, Y, labels, options) => fitMultiLabel(X, Y, labels, options) }),
};

export const LEARNERS: LearnerInfo[] = [
  { id: 'lassocv', label: 'Lasso (LassoCV)', task: 'regression', explanation: 'A linear model that keeps only the most useful embedding features; its strength is chosen by cross-validation.' },
  { id: 'ridgecv', label: 'Ridge (RidgeCV)', task: 'regression', explanation: 'A linear model that uses all features but keeps their weights small; fast and robust.' },
  { id: 'elasticnetcv', label: 'Elastic net (ElasticNetCV)', task: 'regression', explanation: 'A mix of lasso and ridge: sparse like lasso, stable like ridge.' },
  { id: 'knn', label: 'Nearest neighbours', task: 'regression', explanation: 'Predicts the average of the most similar proteins in the training set.' },
  { id: 'logreg', label: 'Logistic regression', task: 'classification', explanation: 'A linear classifier with a regularisation strength chosen by cross-validation.' },
  { id: 'prototype', label: 'Nearest prototype (few-shot)', task: 'classification', explanation: 'Assigns each protein to the class whose average embedding is closest; works with very few examples.' },
  { id: 'rf', label: 'Random forest', task: 'classification', explanation: 'Many decision trees voting together; a non-linear baseline (slow on large datasets).' },
  {
    id: 'ovr-logreg',
    label: 'One-vs-rest logistic regression',
    task: 'multilabel',
    explanation: 'One logistic regression per label (e.g. GO terms), each with its own strength and its own probability cut-off tuned on inner folds.',
  },
];

export function regressorFor(id: string): Regressor {
  const make = REGRESSORS[id];
  if (!make) throw new Error(`"${id}" is not a regression learner (choose from ${Object.keys(REGRESSORS).join(', ')}).`);
  return make();
}

export function multiLabelFor(id: string): MultiLabelLearner {
  const make = MULTILABEL[id];
  if (!make) throw new Error(`"${id}" is not a multi-label learner (choose from ${Object.keys(MULTILABEL).join(', ')}).`);
  return make();
}

export function classifierFor(id: string): Classifier {
  const make = CLASSIFIERS[id];
  if (!make) throw new Error(`"${id}" is not a classification learner (choose from ${Object.keys(CLASSIFIERS).join(', ')}).`);
  return make();
}
