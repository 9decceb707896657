// lib/scan — the metrics of a scan's fits, how they are named and sorted, the CSV of a scan, and the points of its plot.
import { tryParseCompression } from '../../../src-main/core/compression';
import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type MetricInfo } from '../../../src-main/core/metrics';
import type { Fit } from './types';

// The metric catalogue is core/metrics (shared with the back end's report); the views import it from here.
export { CLASSIFICATION_METRICS, mainMetric, metricsFor, REGRESSION_METRICS, type MetricInfo } from '../../../src-main/core/metrics';

/** "mean", "bos", "idct_5x44", "pca1" (core/compression's names) → a name a biologist can read. */
export function poolingName(pooling: string): string {
  if (pooling === 'per-token') return 'Per residue';
  const c = tryParseCompression(pooling);
  switch (c?.kind) {
    case 'mean':
      return 'Mean';
    case 'bos':
      return 'Start token (BOS)';
    case 'max':
      return 'Max';
    case 'pca':
      return `PCA component ${c.component}`;
    case 'idct':
      return `iDCT ${c.n} × ${c.m}`;
    default:
      return pooling;
  }
}

/** Whether a pooling is a compression of per-residue embeddings (iDCT, PCA). */
export { isCompression } from '../../../src-main/core/compression';

/** Layer 0 → "0 (token embeddings)", −1 → "last (−1)". */
export function layerName(layer: number): string {
  if (layer === -1) return 'last (−1)';
  if (layer < 0) return `${layer}`.replace('-', '−');
  return String(layer);
}

/** The mean of a metric of a fit, or null when the fit lacks it or it is not a number. */
export function metricMean(fit: Fit, key: string): number | null {
  const value = fit.summary[key]?.mean;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function metricSd(fit: Fit, key: string): number | null {
  const value = fit.summary[key]?.sd;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Fixed decimals for scores, whole numbers for counts. */
export function formatMetric(value: number | null, metric: MetricInfo | undefined): string {
  if (value === null) return '—';
  if (metric?.count) return Math.round(value).toLocaleString();
  return value.toFixed(3);
}

/** Sort keys of the results table: the fit's descriptive columns or a metric key. */
export type SortKey = 'model' | 'parameters' | 'layer' | 'pooling' | 'learner' | (string & {});

/** Compares two fits by `key`; missing metric values always go last. */
export function compareFits(a: Fit, b: Fit, key: SortKey, ascending: boolean, learnerLabel: (id: string) => string): number {
  const direction = ascending ? 1 : -1;
  switch (key) {
    case 'model':
      return direction * a.modelName.localeCompare(b.modelName) || a.modelParameters - b.modelParameters;
    case 'parameters':
      return direction * (a.modelParameters - b.modelParameters) || a.modelName.localeCompare(b.modelName);
    case 'layer':
      return direction * (a.layer - b.layer);
    case 'pooling':
      return direction * poolingName(a.pooling).localeCompare(poolingName(b.pooling));
    case 'learner':
      return direction * learnerLabel(a.learner).localeCompare(learnerLabel(b.learner));
    default: {
      const x = metricMean(a, key);
      const y = metricMean(b, key);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return direction * (x - y);
    }
  }
}

/** One CSV field: quoted when it holds a comma, quote or line break. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The fits of a scan as a CSV table: one row per fit, mean, sd and number of folds of every metric. */
export function fitsCsv(fits: readonly Fit[], learnerLabel: (id: string) => string): string {
  const known = [...REGRESSION_METRICS, ...CLASSIFICATION_METRICS].map((m) => m.key);
  const present = new Set(fits.flatMap((fit) => Object.keys(fit.summary)));
  const keys = [...known.filter((k) => present.has(k)), ...[...present].filter((k) => !known.includes(k)).sort()];
  const header = ['model', 'family', 'parameters', 'layer', 'pooling', 'learner', 'learner_name', 'task', 'target'];
  for (const key of keys) header.push(`${key}_mean`, `${key}_sd`, `${key}_folds`);
  const lines = [header.map(csvField).join(',')];
  for (const fit of fits) {
    const cells: (string | number | null)[] = [
      fit.modelName,
      fit.modelFamily,
      fit.modelParameters,
      fit.layer,
      fit.pooling,
      fit.learner,
      learnerLabel(fit.learner),
      fit.task,
      fit.target,
    ];
    for (const key of keys) {
      const s = fit.summary[key];
      cells.push(s?.mean ?? null, s?.sd ?? null, s?.n ?? null);
    }
    lines.push(cells.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Which fits a plot point may come from: "best" picks the best one, otherwise only this layer / learner. */
export interface PlotChoice {
  metric: MetricInfo;
  layer: 'best' | number;
  learner: 'best' | string;
}

export interface PlotPoint {
  mean: number;
  sd: number | null;
  fit: Fit;
}

export interface PlotLine {
  pooling: string;
  /** The family label ('ESM-2', 'ESM C'): SWAT's figure draws the families apart. */
  family: string;
  points: (PlotPoint | null)[];
}

export interface PlotData {
  /** Model sizes (parameters), ascending; each an x position. */
  sizes: number[];
  /** Model names at each size (for the axis and the legend). */
  names: string[];
  /** The model families in the scan, ESM-2 first: each gets its own line style. */
  families: string[];
  /** One line per pooling / compression and family: the point at each size, or null. */
  lines: PlotLine[];
  /** Fits left out because their model size is unknown. */
  unknownSize: number;
}

/** ESM-2 first (the reference family), then the others by name. */
const familyOrder = (a: string, b: string): number => Number(b === 'ESM-2') - Number(a === 'ESM-2') || a.localeCompare(b);

/**
 * For every pooling, family and model size, the best fit allowed by `choice` (best learner and/or
 * best layer). Sizes are the parameter counts the back end took from the checkpoints.
 */
export function plotData(fits: readonly Fit[], choice: PlotChoice): PlotData {
  const known = fits.filter((fit) => fit.modelParameters > 0);
  const sizes = [...new Set(known.map((fit) => fit.modelParameters))].sort((a, b) => a - b);
  const names = sizes.map((size) => [...new Set(known.filter((f) => f.modelParameters === size).map((f) => f.modelName))].join(' / '));
  const poolings = [...new Set(known.map((fit) => fit.pooling))].sort((a, b) => poolingOrder(a) - poolingOrder(b) || a.localeCompare(b));
  const families = [...new Set(known.map((fit) => fit.modelFamily))].sort(familyOrder);
  const better = (x: number, y: number): boolean => (choice.metric.higherIsBetter ? x > y : x < y);
  const lines = poolings.flatMap((pooling) => families.map((family) => ({ pooling, family }))).map(({ pooling, family }) => ({
    pooling,
    family,
    points: sizes.map((size): PlotPoint | null => {
      let best: PlotPoint | null = null;
      for (const fit of known) {
        if (fit.pooling !== pooling || fit.modelFamily !== family || fit.modelParameters !== size) continue;
        if (choice.layer !== 'best' && fit.layer !== choice.layer) continue;
        if (choice.learner !== 'best' && fit.learner !== choice.learner) continue;
        const mean = metricMean(fit, choice.metric.key);
        if (mean === null) continue;
        if (!best || better(mean, best.mean)) best = { mean, sd: metricSd(fit, choice.metric.key), fit };
      }
      return best;
    }),
  }));
  return { sizes, names, families, lines: lines.filter((line) => line.points.some((p) => p !== null)), unknownSize: fits.length - known.length };
}

/** The usual poolings first, then compressions. */
function poolingOrder(pooling: string): number {
  return ['mean', 'bos', 'max'].indexOf(pooling) >= 0 ? ['mean', 'bos', 'max'].indexOf(pooling) : 3;
}

/** As the back end names files: anything but letters, digits, ".", "_" and "-" becomes "-". */
function slug(text: string, max: number): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max) || 'model'
  );
}

/** The name of the CSV a learn.predict job writes to the exports folder (see services/jobs startPredict). */
export function predictionFileName(fit: Fit, datasetName: string): string {
  return `${slug(`run${fit.runId}-${fit.learner}-${fit.modelName}-layer${fit.layer}-${fit.pooling}-predicts-${datasetName}`, 150)}.csv`;
}

