/**
 * learn/signal-peptide-metrics — the signal-peptide benchmark as PEFT-SP (and SignalP 6.0) score it:
 * per kingdom and signal-peptide type, MCC1, MCC2 and cleavage-site (CS) precision and recall within
 * 0–3 residues, averaged over the cross-validation runs; F1 (which PEFT-SP does not compute) both
 * ways; the training-time selection metrics (detection MCC and CS MCC averaged over kingdoms); and the
 * paper's table (16 kingdom × type cells and their mean MCC2). Pure numerics; NaN marks "undefined"
 * (0/0), never 0, so averages can skip it as PEFT-SP does.
 */
import { SIGNALP_KINGDOMS, SIGNALP_TYPES, type SignalpKingdom } from '../datasets/signalp';

/** One protein of a test partition: true and predicted type (ids of SIGNALP_TYPES) and CS (1-based, −1 none). */
export interface SignalPeptidePrediction {
  kingdom: SignalpKingdom;
  trueType: number;
  predType: number;
  trueCs: number;
  predCs: number;
}

/** Keys `{KINGDOM}_{TYPE}_{mcc1|mcc2|recall_window_w|precision_window_w}`; NaN where undefined. */
export type SignalPeptideMetrics = Record<string, number>;

export const CS_WINDOWS = [0, 1, 2, 3] as const;
const NO_SP = 0;

/** The 16 cells of PEFT-SP's Table 2 (Eukarya have only Sec/SPI signal peptides in the benchmark). */
export const BENCHMARK_CELLS: readonly { kingdom: SignalpKingdom; type: string }[] = [
  ...['SP', 'LIPO', 'PILIN', 'TAT', 'TATLIPO'].map((type) => ({ kingdom: 'ARCHAEA' as const, type })),
  { kingdom: 'EUKARYA', type: 'SP' },
  ...(['NEGATIVE', 'POSITIVE'] as const).flatMap((kingdom) => ['SP', 'LIPO', 'PILIN', 'TAT', 'TATLIPO'].map((type) => ({ kingdom, type }))),
];

/**
 * The metrics of one test run. Per kingdom (in SignalP's order), for each signal-peptide type present
 * among that kingdom's true types:
 * - mcc2: binary MCC of [true = k] vs [pred = k] over all the kingdom's proteins;
 * - mcc1: the same over proteins whose true type is k or NO_SP;
 * - CS recall / precision at window w: the true CS counts only for true type k; the predicted CS only
 *   for a predicted k or NO_SP (a NO_SP prediction keeps its CS, as in PEFT-SP); a hit is a true and a
 *   predicted CS at most w apart.
 */
export function signalPeptideRunMetrics(rows: readonly SignalPeptidePrediction[]): SignalPeptideMetrics {
  const metrics: SignalPeptideMetrics = {};
  for (const kingdom of SIGNALP_KINGDOMS) {
    const own = rows.filter((row) => row.kingdom === kingdom);
    for (let type = 1; type < SIGNALP_TYPES.length; type++) {
      if (!own.some((row) => row.trueType === type)) continue;
      const prefix = `${kingdom}_${SIGNALP_TYPES[type]}`;
      metrics[`${prefix}_mcc2`] = binaryMcc(own.map((row) => row.trueType === type), own.map((row) => row.predType === type));
      const against = own.filter((row) => row.trueType === type || row.trueType === NO_SP);
      metrics[`${prefix}_mcc1`] = binaryMcc(against.map((row) => row.trueType === type), against.map((row) => row.predType === type));
      const trueCs = own.map((row) => (row.trueType === type ? row.trueCs : -1));
      const predCs = own.map((row) => (row.predType === type || row.predType === NO_SP ? row.predCs : -1));
      const trueCount = trueCs.filter((cs) => cs !== -1).length;
      const predCount = predCs.filter((cs) => cs !== -1).length;
      for (const window of CS_WINDOWS) {
        const hits = trueCs.filter((cs, i) => cs !== -1 && predCs[i] !== -1 && Math.abs(predCs[i]! - cs) <= window).length;
        metrics[`${prefix}_recall_window_${window}`] = hits / trueCount;
        metrics[`${prefix}_precision_window_${window}`] = predCount === 0 ? Number.NaN : hits / predCount;
      }
    }
  }
  return metrics;
}

/** The mean over runs of every key, skipping runs where it is NaN or missing (PEFT-SP's averaging). */
export function meanOverRuns(runs: readonly SignalPeptideMetrics[]): SignalPeptideMetrics {
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run)))];
  return Object.fromEntries(keys.map((key) => {
    const values = runs.map((run) => run[key]).filter((value): value is number => value !== undefined && !Number.isNaN(value));
    return [key, values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length];
  }));
}

/**
 * CS F1 per window from the precision and recall keys of `metrics` (`{KINGDOM}_{TYPE}_f1_window_w`):
 * 2PR/(P+R); NaN when P is undefined; 0 when P + R = 0. Applied to one run and then averaged, or applied
 * to the run-averaged P and R: the two differ, and views must say which they show.
 */
export function csF1(metrics: SignalPeptideMetrics): SignalPeptideMetrics {
  const out: SignalPeptideMetrics = {};
  for (const key of Object.keys(metrics)) {
    const match = /^(.*)_recall_window_(\d+)$/.exec(key);
    if (!match) continue;
    const [, prefix, window] = match as unknown as [string, string, string];
    const recall = metrics[key]!;
    const precision = metrics[`${prefix}_precision_window_${window}`] ?? Number.NaN;
    out[`${prefix}_f1_window_${window}`] = Number.isNaN(precision) || Number.isNaN(recall)
      ? Number.NaN
      : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  }
  return out;
}

/**
 * PEFT-SP's model-selection metrics (`--average_per_kingdom`): per kingdom present, "Detection MCC" is
 * the multiclass MCC of the 6-way type and "CS MCC" the multiclass MCC of the CS positions over the
 * proteins with a true signal peptide; each then averaged over those kingdoms.
 */
export function selectionMetrics(rows: readonly SignalPeptidePrediction[]): SignalPeptideMetrics {
  const out: SignalPeptideMetrics = {};
  const detection: number[] = [];
  const cleavage: number[] = [];
  for (const kingdom of SIGNALP_KINGDOMS) {
    const own = rows.filter((row) => row.kingdom === kingdom);
    if (own.length === 0) continue;
    const withSp = own.filter((row) => row.trueType !== NO_SP);
    const detectionMcc = multiclassMcc(own.map((row) => row.trueType), own.map((row) => row.predType));
    const csMcc = multiclassMcc(withSp.map((row) => row.trueCs), withSp.map((row) => row.predCs));
    out[`Detection MCC ${kingdom}`] = detectionMcc;
    out[`CS MCC ${kingdom}`] = csMcc;
    detection.push(detectionMcc);
    cleavage.push(csMcc);
  }
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  out['Detection MCC'] = mean(detection);
  out['CS MCC'] = mean(cleavage);
  return out;
}

export interface BenchmarkCell {
  kingdom: SignalpKingdom;
  type: string;
  mcc2: number;
  mcc1: number;
  recall: number[];
  precision: number[];
}

/** The paper's table from run-averaged metrics: the 16 cells (NaN where absent) and the mean MCC2 over the defined ones. */
export function benchmarkTable(mean: SignalPeptideMetrics): { cells: BenchmarkCell[]; meanMcc2: number } {
  const value = (key: string): number => mean[key] ?? Number.NaN;
  const cells = BENCHMARK_CELLS.map(({ kingdom, type }) => {
    const prefix = `${kingdom}_${type}`;
    return {
      kingdom,
      type,
      mcc2: value(`${prefix}_mcc2`),
      mcc1: value(`${prefix}_mcc1`),
      recall: CS_WINDOWS.map((w) => value(`${prefix}_recall_window_${w}`)),
      precision: CS_WINDOWS.map((w) => value(`${prefix}_precision_window_${w}`)),
    };
  });
  const defined = cells.map((cell) => cell.mcc2).filter((mcc) => !Number.isNaN(mcc));
  return { cells, meanMcc2: defined.length === 0 ? Number.NaN : defined.reduce((sum, mcc) => sum + mcc, 0) / defined.length };
}

function binaryMcc(truth: readonly boolean[], predicted: readonly boolean[]): number {
  return multiclassMcc(truth.map(Number), predicted.map(Number));
}

/** scikit-learn's matthews_corrcoef over any labels (Gorodkin's R_K); 0 when a margin is constant. */
export function multiclassMcc(truth: readonly number[], predicted: readonly number[]): number {
  const labels = [...new Set([...truth, ...predicted])];
  const index = new Map(labels.map((label, i) => [label, i]));
  const k = labels.length;
  const trueCounts = new Float64Array(k);
  const predCounts = new Float64Array(k);
  let correct = 0;
  truth.forEach((label, i) => {
    trueCounts[index.get(label)!]! += 1;
    predCounts[index.get(predicted[i]!)!]! += 1;
    if (label === predicted[i]) correct += 1;
  });
  const n = truth.length;
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (let c = 0; c < k; c++) {
    tp += trueCounts[c]! * predCounts[c]!;
    pp += predCounts[c]! * predCounts[c]!;
    tt += trueCounts[c]! * trueCounts[c]!;
  }
  const denominator = (n * n - pp) * (n * n - tt);
  return denominator === 0 ? 0 : (correct * n - tp) / Math.sqrt(denominator);
}
