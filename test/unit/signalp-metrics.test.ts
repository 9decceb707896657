/**
 * PEFT-SP's per-kingdom signal-peptide metrics against metrics_ref.json: per run MCC1/MCC2/CS precision
 * and recall, the NaN-skipping mean over runs, both F1 averages, the selection metrics and the 16-cell
 * table with its mean MCC2; plus the hand-placed edge cases.
 */
import { describe, expect, it } from 'vitest';
import type { SignalpKingdom } from '../../src-main/datasets/signalp';
import {
  BENCHMARK_CELLS,
  benchmarkTable,
  csF1,
  meanOverRuns,
  multiclassMcc,
  selectionMetrics,
  signalPeptideRunMetrics,
  type SignalPeptideMetrics,
  type SignalPeptidePrediction,
} from '../../src-main/learn/signal-peptide-metrics';
import { readSignalpGoldenText } from '../support/signalp-golden';

interface GoldenRow { id: string; kingdom: SignalpKingdom; true_type: number; pred_type: number; true_cs: number; pred_cs: number }
interface GoldenRun { name: string; rows: GoldenRow[]; expected: Record<string, number | null>; expected_f1: Record<string, number | null>; expected_selection: Record<string, number> }
interface GoldenMetrics {
  runs: GoldenRun[];
  expected_mean_over_runs: Record<string, number | null>;
  expected_mean_f1_over_runs: Record<string, number | null>;
  expected_f1_of_mean_pr: Record<string, number | null>;
  benchmark_cells: string[];
  expected_mean_mcc2_over_16_cells: number;
}

const golden = JSON.parse(readSignalpGoldenText('metrics_ref.json')) as GoldenMetrics;

function predictions(run: GoldenRun): SignalPeptidePrediction[] {
  return run.rows.map((row) => ({ kingdom: row.kingdom, trueType: row.true_type, predType: row.pred_type, trueCs: row.true_cs, predCs: row.pred_cs }));
}

/** Same keys; numbers within 1e-12; JSON null ⇔ NaN. */
function expectSameMetrics(got: SignalPeptideMetrics, want: Record<string, number | null>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [key, value] of Object.entries(want)) {
    if (value === null) expect(got[key], key).toBeNaN();
    else expect(Math.abs(got[key]! - value), key).toBeLessThan(1e-12);
  }
}

const runs = golden.runs.map((run) => signalPeptideRunMetrics(predictions(run)));

describe('signal-peptide metrics (metrics_ref.json)', () => {
  it.each(golden.runs.map((run, i) => [run.name, i] as const))('run %s: every MCC1, MCC2, CS recall and precision', (_, i) => {
    expectSameMetrics(runs[i]!, golden.runs[i]!.expected);
    expectSameMetrics(csF1(runs[i]!), golden.runs[i]!.expected_f1);
  });

  it('the mean over runs skips NaN and missing keys; F1 both ways', () => {
    const mean = meanOverRuns(runs);
    expectSameMetrics(mean, golden.expected_mean_over_runs);
    expectSameMetrics(meanOverRuns(runs.map(csF1)), golden.expected_mean_f1_over_runs);
    expectSameMetrics(csF1(mean), golden.expected_f1_of_mean_pr);
  });

  it.each(golden.runs.map((run, i) => [run.name, i] as const))('run %s: detection MCC and CS MCC averaged over kingdoms', (_, i) => {
    expectSameMetrics(selectionMetrics(predictions(golden.runs[i]!)), golden.runs[i]!.expected_selection);
  });

  it('the paper\'s 16 cells and their mean MCC2', () => {
    expect(BENCHMARK_CELLS.map((cell) => `${cell.kingdom}_${cell.type}`)).toEqual(golden.benchmark_cells);
    const table = benchmarkTable(meanOverRuns(runs));
    expect(table.cells).toHaveLength(16);
    expect(Math.abs(table.meanMcc2 - golden.expected_mean_mcc2_over_16_cells)).toBeLessThan(1e-12);
    expect(table.cells[5]).toMatchObject({ kingdom: 'EUKARYA', type: 'SP' });
    expect(table.cells[5]!.mcc2).toBe(golden.expected_mean_over_runs['EUKARYA_SP_mcc2']);
  });

  it('edge cases: a never-predicted type has MCC 0 and undefined precision; a NO_SP prediction keeps its CS', () => {
    const rows: SignalPeptidePrediction[] = [
      { kingdom: 'NEGATIVE', trueType: 1, predType: 0, trueCs: 20, predCs: 20 },
      { kingdom: 'NEGATIVE', trueType: 0, predType: 0, trueCs: -1, predCs: -1 },
      { kingdom: 'NEGATIVE', trueType: 2, predType: 1, trueCs: 18, predCs: 18 },
      { kingdom: 'ARCHAEA', trueType: 2, predType: 1, trueCs: 18, predCs: 18 },
    ];
    const metrics = signalPeptideRunMetrics(rows);
    expect(metrics['NEGATIVE_SP_recall_window_0']).toBe(1);
    expect(metrics['NEGATIVE_LIPO_mcc2']).toBe(0);
    // The NO_SP prediction's CS (20) also counts as a predicted LIPO CS: precision 0/1, not undefined.
    expect(metrics['NEGATIVE_LIPO_precision_window_0']).toBe(0);
    expect(metrics['NEGATIVE_LIPO_recall_window_3']).toBe(0);
    expect(metrics['ARCHAEA_LIPO_mcc2']).toBe(0);
    expect(metrics['ARCHAEA_LIPO_precision_window_0']).toBeNaN();
    expect(metrics['EUKARYA_SP_mcc2']).toBeUndefined();
  });

  it('multiclass MCC equals the binary formula and is 0 for a constant prediction', () => {
    // tp 2, fn 1, fp 1, tn 2 → (4 − 1) / √(3·3·3·3) = 1/3
    expect(multiclassMcc([1, 1, 1, 0, 0, 0], [1, 1, 0, 1, 0, 0])).toBeCloseTo(1 / 3, 12);
    expect(multiclassMcc([1, 0, 2], [0, 0, 0])).toBe(0);
  });
});
