/**
 * train/signal-peptide-cv — PEFT-SP's cross-validation: one signal-peptide run per arrangement of
 * three partitions (train on one, select the epoch on another, test on the third: six runs), each in
 * its own folder `arrangement-<k>` with its own checkpoints, so an interrupted cross-validation
 * redoes only unfinished arrangements (and those from their last epoch). The test predictions of all
 * six are gathered in the run folder (every protein twice, tagged by arrangement) and scored as the
 * paper does: per run, then averaged (train/signal-peptide-predictions' benchmarkSummary).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SignalpRecord } from '../datasets/signalp';
import { readNpy } from '../store/npy';
import { partitionArrangements, type PartitionArrangement } from './crf';
import { readTrainingJson } from './signal-peptide-model';
import {
  benchmarkSummary,
  concatPredictions,
  hasPredictions,
  readPredictions,
  TRACKS_FILE,
  writePredictions,
  type PredictionSet,
  type StoredArrangement,
} from './signal-peptide-predictions';
import { runSignalPeptideFinetune, signalpRecords, type SignalPeptideEpoch, type SignalPeptideSettings } from './signal-peptide';

export interface SignalPeptideCvOptions {
  modelDir: string;
  outDir: string;
  fileName: string;
  text: string;
  /** The three partitions (PEFT-SP: 0, 1, 2). */
  partitions: readonly number[];
  settings: Omit<SignalPeptideSettings, 'trainPartitions' | 'validationPartitions' | 'testPartitions'>;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
  /** Per epoch of arrangement `arrangement` (0-based), with optimizer steps counted over the whole cross-validation. */
  onEpoch?: (entry: SignalPeptideEpoch, step: number, arrangement: number) => void;
}

export interface SignalPeptideCvSummary {
  arrangements: number;
  meanMcc2: number | null;
  device: string;
}

export const arrangementDir = (outDir: string, index: number): string => join(outDir, `arrangement-${index + 1}`);

/** The six arrangements (checked: every partition is tested exactly twice). */
export function cvArrangements(partitions: readonly number[]): PartitionArrangement[] {
  if (partitions.length !== 3 || new Set(partitions).size !== 3) throw new Error(`A PEFT-SP cross-validation needs three different partitions; got ${partitions.join(', ')}.`);
  return partitionArrangements(partitions);
}

/** An arrangement is done when its training.json and its test predictions are there. */
function arrangementDone(dir: string): boolean {
  return existsSync(join(dir, 'training.json')) && hasPredictions(dir);
}

function readArrangement(dir: string): PredictionSet & { arrangement: StoredArrangement } {
  const { proteins, arrangements } = readPredictions(dir);
  const tracks = readNpy(join(dir, TRACKS_FILE)).data as Float32Array;
  return { proteins, tracks, arrangement: arrangements[0]! };
}

export async function runSignalPeptideCrossValidation(options: SignalPeptideCvOptions): Promise<SignalPeptideCvSummary> {
  const arrangements = cvArrangements(options.partitions);
  const records: SignalpRecord[] = signalpRecords(options.fileName, options.text);
  for (const partition of options.partitions) {
    if (!records.some((r) => r.partition === partition)) throw new Error(`${options.fileName} has no protein in partition ${partition}; the header's last field is the partition.`);
  }
  mkdirSync(options.outDir, { recursive: true });
  let device = options.settings.device ?? 'cpu';
  let stepsBefore = 0;
  const total = arrangements.length;
  for (const [index, arrangement] of arrangements.entries()) {
    const dir = arrangementDir(options.outDir, index);
    const label = `Arrangement ${index + 1} of ${total} (train ${arrangement.train}, validate ${arrangement.validation}, test ${arrangement.test})`;
    if (arrangementDone(dir)) {
      stepsBefore += readTrainingJson(dir).steps ?? 0;
      continue;
    }
    options.signal?.throwIfAborted();
    const offset = stepsBefore;
    const summary = await runSignalPeptideFinetune({
      modelDir: options.modelDir,
      outDir: dir,
      fileName: options.fileName,
      text: options.text,
      records,
      arrangement: index,
      settings: { ...options.settings, trainPartitions: [arrangement.train], validationPartitions: [arrangement.validation], testPartitions: [arrangement.test] },
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (fraction, message) => options.onProgress?.((index + fraction) / total, `${label}: ${message}`),
      onEpoch: (entry, step) => options.onEpoch?.(entry, offset + step, index),
    });
    stepsBefore += summary.steps;
    device = summary.device;
  }
  const done = arrangements.map((_, index) => readArrangement(arrangementDir(options.outDir, index)));
  const all = concatPredictions(done);
  writePredictions(options.outDir, all, done.map((d) => d.arrangement));
  const table = benchmarkSummary(all.proteins);
  options.onProgress?.(1, `Cross-validation done: mean MCC2 ${table?.meanMcc2?.toFixed(3) ?? 'undefined'} over the 16 cells`);
  return { arrangements: total, meanMcc2: table?.meanMcc2 ?? null, device };
}
