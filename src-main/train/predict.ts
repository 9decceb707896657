/**
 * train/predict — predictions of a finished fine-tuning run for any sequences: the merged model's
 * `prediction.onnx` (backbone with the adapters folded in, head baked in; train/merge) run in
 * token-budget batches, turned into CSV rows the user can read — a number (regression), the
 * predicted class and each class's probability (classification), each label's probability
 * (multi-label), or one predicted class per residue (token task).
 *
 * A head-only run has no merged model: new sequences are pooled with the base model it was
 * trained on (the same graph as in training) and run through its head.onnx.
 *
 * Sequences longer than ESM-2's 1,022 residues are cut to their first 1,022, as in training.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { planBatches, restoreOrder } from '../engine/batching';
import { openSession, type Device } from '../engine/session';
import { csvField } from '../exports';
import { tokenTensor } from './graph-feeds';
import { IO } from './graph';
import { PREDICTION_GRAPH_FILE } from './merge';
import { ADAPTER_WEIGHTS } from './peft';
import { MERGED_DIR } from './finetune';
import { modelTokens } from './finetune-data';
import { HEAD_GRAPH_FILE } from './head-config';
import { poolSequences, runHeadPrediction, sequenceTaskOf } from './head-only';
import { readHeadConfig, type HeadConfig } from './head-config';
import { buildMergedModel } from './import';
import { MANIFEST_FILE, openInstalled } from '../models/installed';

export interface PredictOptions {
  /**
   * The base model folder, for a run folder without its merged model (an adapter and head shared
   * without merged/: the merged model is built into it first) or a head-only run whose model moved.
   */
  baseModelDir?: string;
  device?: Device;
  batchTokens?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface Predictions {
  /** CSV header after the id column. */
  columns: string[];
  /** One row of cells (as the CSV shows them) per sequence, in input order. */
  rows: string[][];
  device: Device;
  fallbackReason: string | null;
  truncated: number;
}

function columnsOf(config: HeadConfig): string[] {
  const names = config.classes ?? [];
  switch (config.task.kind) {
    case 'regression':
      return config.targets.map((t) => `predicted_${t}`);
    case 'classification':
      return [`predicted_${config.targets[0]}`, ...names.map((c) => `p_${c}`)];
    case 'multilabel':
      return names.map((label) => `p_${label}`);
    case 'token':
      return [`predicted_${config.targets[0]}`];
    case 'crf':
      throw crfPredictionRefusal();
  }
}

/** CRF emissions are not predictions: the signal-peptide CRF turns them into types and regions. */
const crfPredictionRefusal = (): Error => new Error('This model predicts signal peptides through its CRF; use the signal-peptide prediction, not the table of per-sequence values.');

const number = (value: number): string => String(Math.fround(value));

/** Cells of one sequence from its slice of the prediction tensor. */
function cellsOf(config: HeadConfig, values: Float32Array, residues: number): string[] {
  const names = config.classes ?? [];
  switch (config.task.kind) {
    case 'regression':
    case 'multilabel':
      return Array.from(values, number);
    case 'classification': {
      const best = values.reduce((b, v, i) => (v > values[b]! ? i : b), 0);
      return [names[best] ?? String(best), ...Array.from(values, number)];
    }
    case 'crf':
      throw crfPredictionRefusal();
    case 'token': {
      // values: [tokens, classes]; residue j is token j + 1.
      const k = names.length;
      let text = '';
      for (let j = 0; j < residues; j++) {
        const row = values.subarray((j + 1) * k, (j + 2) * k);
        const best = row.reduce((b, v, i) => (v > row[b]! ? i : b), 0);
        text += names[best] ?? '?';
      }
      return [text];
    }
  }
}

/** Runs a fine-tuning run (its folder) on `sequences`: its merged model, or for a head-only run the base model's vectors through head.onnx. */
export async function predictFinetuned(runDir: string, sequences: readonly string[], options: PredictOptions = {}): Promise<Predictions> {
  const config = readHeadConfig(runDir);
  return config.mode === 'head-only' ? predictHeadOnly(runDir, config, sequences, options) : predictMerged(runDir, config, sequences, options);
}

/** Head-only run: pool with the (frozen) base model, then the trained head. */
async function predictHeadOnly(runDir: string, config: HeadConfig, sequences: readonly string[], options: PredictOptions): Promise<Predictions> {
  const base = options.baseModelDir ? { name: basename(options.baseModelDir), dir: options.baseModelDir } : config.baseModel;
  if (!base || !existsSync(join(base.dir, MANIFEST_FILE))) {
    throw new Error(`${runDir} trained a head on ${base?.name ?? 'a model'} (${base?.dir ?? 'unknown folder'}), which is no longer installed there; install that model again to predict with this run.`);
  }
  if (!existsSync(join(runDir, HEAD_GRAPH_FILE))) throw new Error(`${runDir} has no ${HEAD_GRAPH_FILE}; the run did not finish.`);
  const { tokenizer } = openInstalled(base.dir).family;
  const encoded = sequences.map((sequence) => modelTokens(sequence, tokenizer));
  const device = options.device ?? 'cpu';
  const pooled = await poolSequences(base.dir, encoded.map((e) => e.ids), config.head, sequenceTaskOf(config.task), {
    device,
    ...(options.threads ? { threads: options.threads } : {}),
    batchTokens: options.batchTokens ?? 4096,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const prediction = await runHeadPrediction(runDir, pooled, { device: pooled.device, ...(options.threads ? { threads: options.threads } : {}) });
  const width = prediction.length / Math.max(1, sequences.length);
  return {
    columns: columnsOf(config),
    rows: encoded.map((e, i) => cellsOf(config, prediction.subarray(i * width, (i + 1) * width), e.ids.length - 2)),
    device: pooled.device,
    fallbackReason: pooled.fallbackReason,
    truncated: encoded.filter((e) => e.truncated).length,
  };
}

async function predictMerged(runDir: string, config: HeadConfig, sequences: readonly string[], options: PredictOptions): Promise<Predictions> {
  const graph = join(runDir, MERGED_DIR, PREDICTION_GRAPH_FILE);
  if (!existsSync(graph) && existsSync(join(runDir, ADAPTER_WEIGHTS))) {
    if (!options.baseModelDir) throw new Error(`${runDir} has an adapter but no merged model (${join(MERGED_DIR, PREDICTION_GRAPH_FILE)}); give the base model it was trained on (--model) to build it.`);
    await buildMergedModel(runDir, config, options.baseModelDir);
  }
  if (!existsSync(graph)) throw new Error(`${runDir} has no merged prediction model (${join(MERGED_DIR, PREDICTION_GRAPH_FILE)}); the run did not finish.`);
  // The merged folder is an installed model of the base model's family.
  const { tokenizer } = openInstalled(join(runDir, MERGED_DIR)).family;
  const encoded = sequences.map((sequence) => modelTokens(sequence, tokenizer));
  const batches = planBatches(encoded.map((e) => e.ids.length), options.batchTokens ?? 4096);
  const opened = await openSession(graph, { device: options.device ?? 'cpu', ...(options.threads ? { threads: options.threads } : {}) });
  const perBatch: string[][][] = [];
  let done = 0;
  try {
    for (const batch of batches) {
      if (options.signal?.aborted) throw new Error('Cancelled');
      const rows = batch.indices.map((i) => Array.from(encoded[i]!.ids));
      const outputs = await opened.session.run({ [IO.tokens]: tokenTensor(rows, tokenizer.tokens.PAD) });
      const prediction = outputs[IO.prediction]!;
      const data = prediction.data as Float32Array;
      const width = data.length / batch.indices.length;
      perBatch.push(batch.indices.map((i, b) => cellsOf(config, data.subarray(b * width, (b + 1) * width), encoded[i]!.ids.length - 2)));
      done += batch.indices.length;
      options.onProgress?.(done, sequences.length);
    }
  } finally {
    await opened.session.release();
  }
  return {
    columns: columnsOf(config),
    rows: restoreOrder(batches, perBatch),
    device: opened.device,
    fallbackReason: opened.fallbackReason,
    truncated: encoded.filter((e) => e.truncated).length,
  };
}

/** id, then the prediction columns, one line per sequence. */
export function predictionsCsv(ids: readonly string[], predictions: Predictions): string {
  const lines = [['id', ...predictions.columns], ...predictions.rows.map((cells, i) => [ids[i]!, ...cells])];
  return `${lines.map((cells) => cells.map(csvField).join(',')).join('\n')}\n`;
}
