/**
 * core/metrics — the one catalogue of the scores the app reports: their keys, short labels, full
 * names, one-sentence explanations and which way is better. Two families of keys:
 *  - a scan's fits (learn/metrics' summaries, camelCase: 'balancedAccuracy'), shown by the scan
 *    views, the prediction panel and the report;
 *  - a fine-tune's validation metrics (snake_case as in the API and the CLI: 'balanced_accuracy'),
 *    followed by early stopping and chosen in the training form.
 * Pure data, no dependencies: the renderer imports it too.
 */

export interface MetricInfo {
  /** Key in a fit's summary. */
  key: string;
  /** Short column header. */
  label: string;
  /** The full name, where a report has room for it. */
  title: string;
  /** One sentence for a tooltip. */
  explanation: string;
  /** Whether a larger value is better (false for errors). */
  higherIsBetter: boolean;
  /** Shown as a whole number (a count), not a score. */
  count?: boolean;
}

export const REGRESSION_METRICS: readonly MetricInfo[] = [
  { key: 'r2', label: 'R²', title: 'R²', explanation: 'Share of the variation in the label that the predictions explain; 1 is perfect, 0 is no better than the average.', higherIsBetter: true },
  { key: 'spearman', label: 'Spearman ρ', title: 'Spearman ρ', explanation: 'How well the predictions rank the proteins in the right order; 1 is a perfect ranking.', higherIsBetter: true },
  { key: 'pearson', label: 'Pearson r', title: 'Pearson r', explanation: 'How closely predictions and labels fall on a straight line; 1 is perfect.', higherIsBetter: true },
  { key: 'rmse', label: 'RMSE', title: 'RMSE', explanation: 'Typical size of a prediction error, in the units of the label (large errors weigh more); lower is better.', higherIsBetter: false },
  { key: 'mae', label: 'MAE', title: 'MAE', explanation: 'Average size of a prediction error, in the units of the label; lower is better.', higherIsBetter: false },
  { key: 'nonZero', label: 'Non-zero coef.', title: 'Non-zero coefficients', explanation: 'How many embedding features the model actually uses (sparse models such as Lasso drop the rest).', higherIsBetter: false, count: true },
];

export const CLASSIFICATION_METRICS: readonly MetricInfo[] = [
  { key: 'accuracy', label: 'Accuracy', title: 'Accuracy', explanation: 'Share of proteins put in the right class.', higherIsBetter: true },
  { key: 'balancedAccuracy', label: 'Balanced acc.', title: 'Balanced accuracy', explanation: 'Accuracy averaged over the classes, so a rare class counts as much as a common one.', higherIsBetter: true },
  { key: 'macroF1', label: 'Macro F1', title: 'Macro F1', explanation: 'Balance of precision and recall, averaged over the classes; 1 is perfect.', higherIsBetter: true },
  { key: 'mcc', label: 'MCC', title: 'MCC', explanation: 'Matthews correlation between predicted and true classes; 1 is perfect, 0 is chance.', higherIsBetter: true },
  { key: 'auroc', label: 'AUROC', title: 'AUROC', explanation: 'How well the predicted probabilities separate the classes; 1 is perfect, 0.5 is chance.', higherIsBetter: true },
  { key: 'auprc', label: 'AUPRC', title: 'AUPRC', explanation: 'Average precision of the predicted probabilities; good for rare classes.', higherIsBetter: true },
];

export const MULTILABEL_METRICS: readonly MetricInfo[] = [
  { key: 'fmax', label: 'Fmax', title: 'Fmax (CAFA)', explanation: 'The best balance of precision and recall over all probability cut-offs, per protein (as CAFA scores GO terms); 1 is perfect.', higherIsBetter: true },
  { key: 'macroF1', label: 'Macro F1', title: 'Macro F1', explanation: 'F1 of each label at its own tuned cut-off, averaged over the labels; 1 is perfect.', higherIsBetter: true },
  { key: 'microF1', label: 'Micro F1', title: 'Micro F1', explanation: 'F1 over all (protein, label) pairs at once; common labels weigh more.', higherIsBetter: true },
  { key: 'auroc', label: 'AUROC', title: 'Mean AUROC', explanation: 'How well each label\'s probabilities separate proteins with and without it, averaged over labels; 0.5 is chance.', higherIsBetter: true },
  { key: 'auprc', label: 'AUPRC', title: 'Mean AUPRC (mAP)', explanation: 'Average precision of each label\'s probabilities, averaged over labels; good for rare labels.', higherIsBetter: true },
  { key: 'smin', label: 'Smin', title: 'Smin (CAFA)', explanation: 'The smallest semantic distance between predicted and true terms over all cut-offs, weighing specific (rare) terms more; 0 is perfect, lower is better.', higherIsBetter: false },
  { key: 'microAuprc', label: 'Micro AUPRC', title: 'Micro AUPRC', explanation: 'Average precision over all (protein, label) pairs at once; common labels weigh more.', higherIsBetter: true },
  ...namespaceMetrics(),
];

/** GO / EC labels (learn/cafa-metrics): the same scores per namespace, shown when a fit has them. */
function namespaceMetrics(): MetricInfo[] {
  const namespaces = [
    ['MF', 'molecular function'],
    ['BP', 'biological process'],
    ['CC', 'cellular component'],
    ['EC', 'EC numbers'],
  ];
  return namespaces.flatMap(([key, name]) => [
    { key: `fmax${key}`, label: `Fmax ${key}`, title: `Fmax, ${name}`, explanation: `Fmax (CAFA) over the ${name} terms and the proteins that have one.`, higherIsBetter: true },
    { key: `smin${key}`, label: `Smin ${key}`, title: `Smin, ${name}`, explanation: `Smin (CAFA) over the ${name} terms; lower is better.`, higherIsBetter: false },
    { key: `auprc${key}`, label: `AUPRC ${key}`, title: `Mean AUPRC, ${name}`, explanation: `Average precision of each ${name} term, averaged over those terms.`, higherIsBetter: true },
    { key: `microAuprc${key}`, label: `Micro AUPRC ${key}`, title: `Micro AUPRC, ${name}`, explanation: `Average precision over all (protein, ${name} term) pairs at once.`, higherIsBetter: true },
  ]);
}

/** The scores of a scan's fits for a task. */
export function metricsFor(task: string): readonly MetricInfo[] {
  if (task === 'regression') return REGRESSION_METRICS;
  return task === 'multilabel' ? MULTILABEL_METRICS : CLASSIFICATION_METRICS;
}

/** The metric a scan is judged by first: R² for regression, balanced accuracy for classification, Fmax for multi-label. */
export function mainMetric(task: string): string {
  if (task === 'regression') return 'r2';
  return task === 'multilabel' ? 'fmax' : 'balancedAccuracy';
}

/** A fine-tune's validation metrics per task; 'loss' is there for every task (and the only one for the others). */
export const VALIDATION_METRICS = {
  regression: ['loss', 'r2', 'spearman', 'pearson', 'rmse', 'mae'],
  classification: ['loss', 'accuracy', 'balanced_accuracy', 'macro_f1', 'mcc', 'auroc', 'auprc'],
} as const;

/** Every validation metric name, in the order the API lists them. */
export const VALIDATION_METRIC_NAMES = ['loss', 'r2', 'spearman', 'pearson', 'rmse', 'mae', 'accuracy', 'balanced_accuracy', 'macro_f1', 'mcc', 'auroc', 'auprc'] as const;
export type ValidationMetricName = (typeof VALIDATION_METRIC_NAMES)[number];

/** The validation metrics a fine-tune of `task` can follow. */
export function validationMetricsFor(task: string): readonly ValidationMetricName[] {
  return task === 'regression' ? VALIDATION_METRICS.regression : task === 'classification' ? VALIDATION_METRICS.classification : ['loss'];
}

/** The loss, errors (RMSE, MAE) and counts are better low; every other metric, of either family, is better high. */
export function higherIsBetter(metric: string): boolean {
  return !LOWER_IS_BETTER.has(metric);
}

const LOWER_IS_BETTER: ReadonlySet<string> = new Set([
  'loss',
  ...[...REGRESSION_METRICS, ...CLASSIFICATION_METRICS, ...MULTILABEL_METRICS].filter((m) => !m.higherIsBetter).map((m) => m.key),
]);
