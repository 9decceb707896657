/**
 * train/signal-peptide-predictions — a signal-peptide run's predictions as files and as the tables
 * people read. From the CRF's emissions (train/crf) each protein gets its type (arg-max of the
 * averaged marginals) with its probability, the cleavage site (last Viterbi step in a cleavage
 * state), per-residue region probabilities, cleavage probabilities and Viterbi segments; these are
 * kept in the run folder as `signal-peptides.json` (one entry per protein) and
 * `signal-peptide-tracks.npy` (float32 [proteins, 70 × 8]: the seven region tracks then the cleavage
 * track, residue-major, 0 beyond the protein). The benchmark table (per kingdom and type, averaged
 * over test runs) is computed from the entries with learn/signal-peptide-metrics. No onnxruntime:
 * the main process reads these files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../core/atomic';
import { readFasta } from '../datasets/fasta';
import { VALID_RESIDUES } from '../datasets/residues';
import { looksLikeSignalpFasta, readSignalpFasta, SIGNALP_COLUMNS, SIGNALP_KINGDOMS, SIGNALP_TYPES, trueCleavageSite, type SignalpKingdom, type SignalpType } from '../datasets/signalp';
import {
  benchmarkTable,
  csF1,
  meanOverRuns,
  selectionMetrics,
  signalPeptideRunMetrics,
  type SignalPeptideMetrics,
  type SignalPeptidePrediction,
} from '../learn/signal-peptide-metrics';
import { NpyRowReader, writeNpyAtomic } from '../store/npy';
import { SIGNALP_MAX_RESIDUES, type EmissionBatch, type SignalPeptidePredictions } from './crf';
import { cleavageProbabilities, regionTracks, SIGNALP_TRACKS, viterbiSegments, type SignalpSegment } from './crf/signalp-decode';
import type { CrfParameters } from './crf';

export const PREDICTIONS_FILE = 'signal-peptides.json';
export const TRACKS_FILE = 'signal-peptide-tracks.npy';
/** Seven region tracks and the cleavage track per residue. */
export const TRACKS_PER_RESIDUE = SIGNALP_TRACKS.length + 1;
const TRACK_COLUMNS = SIGNALP_MAX_RESIDUES * TRACKS_PER_RESIDUE;

/** A protein to predict: its truth (type, labels) and partition when known. */
export interface SignalPeptideInput {
  id: string;
  sequence: string;
  kingdom: SignalpKingdom | null;
  partition: number | null;
  type: SignalpType | null;
  labels: string | null;
}

export type TypeProbabilities = Record<SignalpType, number>;

/** One predicted protein as stored (api/signal-peptide's SignalPeptideRow without its index, plus what the protein view shows). */
export interface StoredSignalPeptide {
  id: string;
  kingdom: SignalpKingdom | null;
  partition: number | null;
  arrangement: number;
  trueType: SignalpType | null;
  trueCleavageSite: number | null;
  predictedType: SignalpType;
  probability: number;
  typeProbabilities: TypeProbabilities;
  cleavageSite: number | null;
  cleavageProbability: number | null;
  length: number;
  predictedLength: number;
  sequence: string;
  trueLabels: string | null;
  segments: SignalpSegment[];
}

/** A train/validation/test arrangement and how far it got. */
export interface StoredArrangement {
  train: number[];
  validation: number[];
  test: number[];
  state: 'done' | 'pending';
  bestEpoch: number | null;
}

export interface PredictionSet {
  proteins: StoredSignalPeptide[];
  /** [proteins, 70 × 8] (see TRACKS_FILE). */
  tracks: Float32Array;
}

interface PredictionsJson {
  format: 'esm-studio-signal-peptides';
  version: 1;
  arrangements: StoredArrangement[];
  proteins: StoredSignalPeptide[];
}

/** 4 decimals are more than a plot or a table needs, and keep the JSON small. */
const round = (value: number): number => Math.round(value * 1e4) / 1e4;

/** Decodes one batch: `inputs[b]` ↔ row b of the emissions and of `predictions` (predictSignalPeptides). */
export function decodeSignalPeptides(
  inputs: readonly SignalPeptideInput[],
  emissions: EmissionBatch,
  predictions: SignalPeptidePredictions,
  params: CrfParameters,
  arrangement: number,
): PredictionSet {
  const { steps, states } = emissions;
  const tracks = new Float32Array(inputs.length * TRACK_COLUMNS);
  const proteins = inputs.map((input, b): StoredSignalPeptide => {
    const length = emissions.lengths[b]!;
    const regions = regionTracks(predictions.marginals, b * steps * states, length, states);
    const cleavage = cleavageProbabilities(emissions, b, params);
    for (let t = 0; t < length; t++) {
      regions.forEach((track, k) => (tracks[b * TRACK_COLUMNS + t * TRACKS_PER_RESIDUE + k] = track[t]!));
      tracks[b * TRACK_COLUMNS + t * TRACKS_PER_RESIDUE + SIGNALP_TRACKS.length] = cleavage[t]!;
    }
    const typeProbabilities = Object.fromEntries(SIGNALP_TYPES.map((type, k) => [type, round(predictions.typeProbabilities[b * SIGNALP_TYPES.length + k]!)])) as TypeProbabilities;
    const predictedType = SIGNALP_TYPES[predictions.types[b]!]!;
    const cs = predictions.cleavageSites[b]!;
    const path = predictions.paths.subarray(b * steps, b * steps + length);
    const trueCs = input.type && input.labels ? trueCleavageSite({ type: input.type, labels: input.labels }) : null;
    return {
      id: input.id,
      kingdom: input.kingdom,
      partition: input.partition,
      arrangement,
      trueType: input.type,
      trueCleavageSite: trueCs === null || trueCs === -1 ? null : trueCs,
      predictedType,
      probability: typeProbabilities[predictedType],
      typeProbabilities,
      cleavageSite: cs === -1 ? null : cs,
      cleavageProbability: cs === -1 ? null : round(cleavage[cs - 1]!),
      length: input.sequence.length,
      predictedLength: length,
      sequence: input.sequence.slice(0, length),
      trueLabels: input.labels ? input.labels.slice(0, length) : null,
      segments: viterbiSegments(path, length),
    };
  });
  return { proteins, tracks };
}

/** Several batches' (or arrangements') predictions as one set, in order. */
export function concatPredictions(sets: readonly PredictionSet[]): PredictionSet {
  const tracks = new Float32Array(sets.reduce((sum, set) => sum + set.tracks.length, 0));
  let offset = 0;
  for (const set of sets) {
    tracks.set(set.tracks, offset);
    offset += set.tracks.length;
  }
  return { proteins: sets.flatMap((set) => set.proteins), tracks };
}

export function writePredictions(dir: string, set: PredictionSet, arrangements: readonly StoredArrangement[]): void {
  // Tracks first: the JSON names the proteins, so a reader that finds it also finds complete tracks.
  writeNpyAtomic(join(dir, TRACKS_FILE), { dtype: 'float32', shape: [set.proteins.length, TRACK_COLUMNS], data: set.tracks });
  const json: PredictionsJson = { format: 'esm-studio-signal-peptides', version: 1, arrangements: [...arrangements], proteins: set.proteins };
  writeTextAtomically(join(dir, PREDICTIONS_FILE), `${JSON.stringify(json)}\n`);
}

export function hasPredictions(dir: string): boolean {
  return existsSync(join(dir, PREDICTIONS_FILE));
}

export function readPredictions(dir: string): { arrangements: StoredArrangement[]; proteins: StoredSignalPeptide[] } {
  const path = join(dir, PREDICTIONS_FILE);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Partial<PredictionsJson>;
  if (json.format !== 'esm-studio-signal-peptides' || json.version !== 1 || !Array.isArray(json.proteins)) {
    throw new Error(`${path} is not a signal-peptide prediction file this version of ESM Studio can read.`);
  }
  return { arrangements: json.arrangements ?? [], proteins: json.proteins };
}

/** One protein's tracks: seven region tracks and the cleavage track, each `predictedLength` long. */
export function readTracks(dir: string, index: number, length: number): { regions: number[][]; cleavage: number[] } {
  const reader = new NpyRowReader(join(dir, TRACKS_FILE));
  try {
    const row = reader.readRows(index, 1);
    const track = (k: number): number[] => Array.from({ length }, (_, t) => round(row[t * TRACKS_PER_RESIDUE + k]!));
    return { regions: SIGNALP_TRACKS.map((_, k) => track(k)), cleavage: track(SIGNALP_TRACKS.length) };
  } finally {
    reader.close();
  }
}

/** The metrics' view of a stored protein (−1 for "no cleavage site"); null when its truth or kingdom is unknown. */
export function metricRow(protein: StoredSignalPeptide): SignalPeptidePrediction | null {
  if (protein.trueType === null || protein.kingdom === null) return null;
  return {
    kingdom: protein.kingdom,
    trueType: SIGNALP_TYPES.indexOf(protein.trueType),
    predType: SIGNALP_TYPES.indexOf(protein.predictedType),
    trueCs: protein.trueCleavageSite ?? -1,
    predCs: protein.cleavageSite ?? -1,
  };
}

export interface BenchmarkSummary {
  runs: number;
  cells: { kingdom: SignalpKingdom; type: SignalpType; mcc1: number | null; mcc2: number | null; recall: (number | null)[]; precision: (number | null)[]; f1: (number | null)[] }[];
  meanMcc2: number | null;
  selection: { perKingdom: { kingdom: SignalpKingdom; detectionMcc: number | null; csMcc: number | null }[]; detectionMcc: number | null; csMcc: number | null };
}

const defined = (value: number | undefined): number | null => (value === undefined || !Number.isFinite(value) ? null : value);

/**
 * The paper's table over the test runs (one per arrangement): each run's metrics (F1 per run), then
 * the mean over runs skipping undefined values, as PEFT-SP averages. Null when no protein has a known truth.
 */
export function benchmarkSummary(proteins: readonly StoredSignalPeptide[]): BenchmarkSummary | null {
  const byRun = new Map<number, SignalPeptidePrediction[]>();
  for (const protein of proteins) {
    const row = metricRow(protein);
    if (!row) continue;
    const list = byRun.get(protein.arrangement) ?? [];
    list.push(row);
    byRun.set(protein.arrangement, list);
  }
  if (byRun.size === 0) return null;
  const runs: SignalPeptideMetrics[] = [...byRun.values()].map((rows) => {
    const metrics = signalPeptideRunMetrics(rows);
    return { ...metrics, ...csF1(metrics), ...selectionMetrics(rows) };
  });
  const mean = meanOverRuns(runs);
  const table = benchmarkTable(mean);
  const windows = [0, 1, 2, 3];
  return {
    runs: runs.length,
    cells: table.cells.map((cell) => ({
      kingdom: cell.kingdom,
      type: cell.type as SignalpType,
      mcc1: defined(cell.mcc1),
      mcc2: defined(cell.mcc2),
      recall: cell.recall.map(defined),
      precision: cell.precision.map(defined),
      f1: windows.map((w) => defined(mean[`${cell.kingdom}_${cell.type}_f1_window_${w}`])),
    })),
    meanMcc2: defined(table.meanMcc2),
    selection: {
      perKingdom: SIGNALP_KINGDOMS.filter((kingdom) => mean[`Detection MCC ${kingdom}`] !== undefined).map((kingdom) => ({
        kingdom,
        detectionMcc: defined(mean[`Detection MCC ${kingdom}`]),
        csMcc: defined(mean[`CS MCC ${kingdom}`]),
      })),
      detectionMcc: defined(mean['Detection MCC']),
      csMcc: defined(mean['CS MCC']),
    },
  };
}

/**
 * Proteins to predict from a file's text: SignalP 6.0's 3-line format (its types and labels then
 * count as the truth, its kingdoms as given) or plain FASTA (each protein gets `kingdom`). A file
 * with problems is refused naming the first ones (line, field, position).
 */
export function predictionInputsFromText(fileName: string, text: string, kingdom: SignalpKingdom | null): SignalPeptideInput[] {
  if (looksLikeSignalpFasta(text)) {
    const file = readSignalpFasta(fileName, text);
    if (file.problems.length > 0) throw new Error(`${fileName} has ${file.problems.length} problem(s):\n${file.problems.slice(0, 5).map((p) => p.message).join('\n')}`);
    return file.records.map((r) => ({ id: r.id, sequence: r.sequence, kingdom: r.kingdom, partition: r.partition, type: r.type, labels: r.labels }));
  }
  const fasta = readFasta(fileName, text);
  const problems = fasta.problems.map((p) => p.message);
  const inputs = fasta.records.map((record): SignalPeptideInput => {
    const sequence = record.chunks.map((c) => c.text.trim()).join('').toUpperCase();
    const bad = [...sequence].findIndex((letter) => !VALID_RESIDUES.includes(letter));
    if (sequence.length === 0) problems.push(`${fileName}, line ${record.line}: ${record.id} has no sequence.`);
    else if (bad >= 0) problems.push(`${fileName}, line ${record.line}: ${record.id} has "${sequence[bad]}" at position ${bad + 1}, which is not an amino-acid letter.`);
    return { id: record.id, sequence, kingdom, partition: null, type: null, labels: null };
  });
  if (problems.length > 0) throw new Error(`${fileName} has ${problems.length} problem(s):\n${problems.slice(0, 5).join('\n')}`);
  return inputs;
}

/** A dataset row as a prediction input: a SignalP-imported dataset's columns give kingdom, partition and truth. */
export function predictionInputOfRow(row: { seqId: string; sequence: string; labels: Record<string, unknown> }, kingdom: SignalpKingdom | null): SignalPeptideInput {
  const text = (name: string): string | null => (typeof row.labels[name] === 'string' ? (row.labels[name] as string) : null);
  const rowKingdom = text(SIGNALP_COLUMNS.kingdom);
  const type = text(SIGNALP_COLUMNS.type);
  const partition = Number(row.labels[SIGNALP_COLUMNS.partition]);
  const labels = text(SIGNALP_COLUMNS.residueLabels);
  const knownType = type !== null && (SIGNALP_TYPES as readonly string[]).includes(type);
  return {
    id: row.seqId,
    sequence: row.sequence,
    kingdom: rowKingdom !== null && (SIGNALP_KINGDOMS as readonly string[]).includes(rowKingdom) ? (rowKingdom as SignalpKingdom) : kingdom,
    partition: Number.isInteger(partition) && row.labels[SIGNALP_COLUMNS.partition] !== null && row.labels[SIGNALP_COLUMNS.partition] !== undefined ? partition : null,
    type: knownType && labels !== null ? (type as SignalpType) : null,
    labels: knownType && labels !== null ? labels : null,
  };
}
