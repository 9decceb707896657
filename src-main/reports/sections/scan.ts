/**
 * reports/sections/scan — a scan's sections: the results table (mean ± sd over folds), the score
 * against model size (one line per pooling), and predicted against measured for the best fit
 * (its out-of-fold predictions) with R², Spearman ρ and n.
 */
import type { Fit } from '../../api/schemas';
import { mainMetric, metricsFor } from '../../core/metrics';
import { regressionMetrics } from '../../learn/metrics';
import type { ReportFacts, ScanFacts } from '../facts';
import { formatValue, tableHtml } from '../html';
import { lineChartSvg, scatterSvg } from '../svg';
import { figureHtml, paragraph, type Section } from './types';

interface MetricColumn {
  key: string;
  label: string;
  higherIsBetter: boolean;
}

/** The results table lists at most this many fits (best first); the CSV in the app has them all. */
const MAX_ROWS = 60;

/** The report's columns: core/metrics' scores under their full names (counts such as non-zero coefficients left out). */
export const scanMetricColumns = (task: Fit['task']): MetricColumn[] =>
  metricsFor(task)
    .filter((m) => !m.count)
    .map((m) => ({ key: m.key, label: m.title, higherIsBetter: m.higherIsBetter }));

/** The metric a scan is judged by: R² for regression, balanced accuracy for classification. */
export const mainMetricKey = (task: Fit['task']): string => mainMetric(task);

function mean(fit: Fit, key: string): number | null {
  const value = fit.summary[key]?.mean;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Fits ordered best first by `key`; fits without the metric go last. */
export function rankFits(fits: readonly Fit[], key: string, higherIsBetter = true): Fit[] {
  const score = (fit: Fit): number => mean(fit, key) ?? (higherIsBetter ? -Infinity : Infinity);
  return [...fits].sort((a, b) => (higherIsBetter ? score(b) - score(a) : score(a) - score(b)));
}

function meanSd(fit: Fit, key: string): string {
  const s = fit.summary[key];
  if (!s || !Number.isFinite(s.mean)) return '—';
  return Number.isFinite(s.sd) ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : s.mean.toFixed(3);
}

function resultsTable(scan: ScanFacts, learnerName: (id: string) => string): string {
  const task = scan.fits[0]!.task;
  const metrics = scanMetricColumns(task).filter((m) => scan.fits.some((fit) => fit.summary[m.key] !== undefined));
  const ranked = rankFits(scan.fits, mainMetricKey(task)).slice(0, MAX_ROWS);
  const columns = [{ label: 'Model' }, { label: 'Layer', numeric: true }, { label: 'Pooling' }, { label: 'Learner' }, ...metrics.map((m) => ({ label: m.label, numeric: true }))];
  const rows = ranked.map((fit) => [fit.modelName, fit.layer, fit.pooling, learnerName(fit.learner), ...metrics.map((m) => meanSd(fit, m.key))]);
  const note = scan.fits.length > MAX_ROWS ? paragraph(`The ${MAX_ROWS} best of ${scan.fits.length} fits are listed.`) : '';
  return tableHtml(columns, rows, 'metrics') + note;
}

/**
 * One line per pooling (per pooling and family when the scan mixes families, e.g. "mean · ESM C"):
 * the best score (any layer, any learner) at each model size.
 */
export function scoreBySizeSeries(fits: readonly Fit[], key: string): { name: string; points: [number, number][] }[] {
  const mixed = new Set(fits.map((fit) => fit.modelFamily)).size > 1;
  const byPooling = new Map<string, Map<number, number>>();
  for (const fit of fits) {
    const value = mean(fit, key);
    if (value === null || fit.modelParameters <= 0) continue;
    const name = mixed ? `${fit.pooling} · ${fit.modelFamily}` : fit.pooling;
    const line = byPooling.get(name) ?? new Map<number, number>();
    const best = line.get(fit.modelParameters);
    if (best === undefined || value > best) line.set(fit.modelParameters, value);
    byPooling.set(name, line);
  }
  return [...byPooling].map(([name, points]) => ({ name, points: [...points].sort((a, b) => a[0] - b[0]) }));
}

function scoreBySizeFigure(scan: ScanFacts): string {
  const task = scan.fits[0]!.task;
  const key = mainMetricKey(task);
  const label = scanMetricColumns(task).find((m) => m.key === key)!.label;
  const series = scoreBySizeSeries(scan.fits, key);
  if (series.length === 0) return paragraph('The score-by-size figure needs the size of the models, which were removed.');
  const svg = lineChartSvg({ title: `${label} by model size`, xLabel: 'Model size (parameters, log scale)', yLabel: label, series, logX: true, markers: true });
  return figureHtml(svg, `${label} (mean over folds) against model size, one line per pooling or compression (and per model family when the scan has several); each point is the best layer and learner for that model.`);
}

function scatterFigure(scan: ScanFacts, target: string, learnerName: (id: string) => string): string {
  const best = scan.best;
  if (!best) return paragraph('Out-of-fold predictions are shown for regression scans whose prediction files are present.');
  const m = regressionMetrics(best.measured, best.predicted);
  const points = best.measured.map((y, i): [number, number] => [y, best.predicted[i]!]);
  const svg = scatterSvg({ title: `Predicted against measured ${target}`, xLabel: `Measured ${target}`, yLabel: `Predicted ${target}`, points, diagonal: true });
  const fit = best.fit;
  const stats = `R² = ${formatValue(m.r2, 3)}, Spearman ρ = ${formatValue(m.spearman, 3)}, n = ${best.measured.length}`;
  return `${figureHtml(svg, `Out-of-fold predictions of the best fit (${fit.modelName} layer ${fit.layer}, ${fit.pooling}, ${learnerName(fit.learner)}): each protein predicted by the model of the fold that did not see it. Dashed: y = x. ${stats}.`)}<p class="stats" data-r2="${m.r2}" data-spearman="${m.spearman}" data-n="${best.measured.length}">${stats}</p>`;
}

export function scanSections(facts: ReportFacts): Section[] {
  const scan = facts.scan;
  if (!scan || scan.fits.length === 0) return [{ id: 'results', title: 'Results', html: paragraph('This scan has no results.') }];
  const target = scan.fits[0]!.target;
  const learnerName = (id: string): string => facts.valueWords?.learners?.[id] ?? id;
  // Score against size says something only when the scan compared models of different sizes.
  const sizes = new Set(scan.fits.map((fit) => fit.modelParameters));
  return [
    { id: 'results', title: 'Results', html: paragraph(`Cross-validated scores of each embedding and learner predicting “${target}”: mean ± standard deviation over the folds, best first.`) + resultsTable(scan, learnerName) },
    ...(sizes.size > 1 ? [{ id: 'score-by-size', title: 'Score by model size', html: scoreBySizeFigure(scan) }] : []),
    { id: 'predicted-vs-measured', title: 'Predicted against measured', html: scatterFigure(scan, target, learnerName) },
  ];
}
