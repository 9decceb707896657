/**
 * train/predict — predictions of a finished fine-tuning run for any sequences: the merged model's
 * `prediction.onnx` (backbone with the adapters folded in, head baked in; train/merge) run in
 * token-budget batches, turned into CSV rows the user can read — a number (regression), the
 * predicted class and each class's probability (classification), each label's probability
 * (multi-label), or one predicted class per residue (token task).
 *
 * Sequences longer than ESM-2's 1,022 residues are cut to their first 1,022, as in training.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planBatches, restoreOrder } from '../engine/batching';
import { MAX_RESIDUES } from '../engine/embed';
import { openSession, type Device } from '../engine/session';
import { encode } from '../esm/tokenizer';
import { csvField } from '../exports';
import { tokenTensor } from './graph-feeds';
import { IO, type TaskSpec } from './graph';
import { PREDICTION_GRAPH_FILE } from './merge';
import { HEAD_CONFIG } from './peft';
import { MERGED_DIR } from './finetune';

/** What the run saved about its head (head_config.json beside the adapter). */
export interface HeadConfig {
  task: TaskSpec;
  taskKind: string;
  targets: string[];
  /** Class names (classification, token) or label names (multi-label); null for regression. */
  classes: string[] | null;
}

export interface PredictOptions {
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

/** The run folder's head_config.json, with a message that says what is missing. */
export function readHeadConfig(runDir: string): HeadConfig {
  const path = join(runDir, HEAD_CONFIG);
  if (!existsSync(path)) throw new Error(`${runDir} is not a finished fine-tuning run: it has no ${HEAD_CONFIG}.`);
  return JSON.parse(readFileSync(path, 'utf8')) as HeadConfig;
}

/** The token ids the model reads: <cls> residues <eos>, at most 1,022 residues. */
function modelTokens(sequence: string): { ids: Int32Array; truncated: boolean } {
  const ids = encode(sequence);
  if (ids.length <= MAX_RESIDUES + 2) return { ids, truncated: false };
  const cut = ids.slice(0, MAX_RESIDUES + 2);
  cut[cut.length - 1] = ids[ids.length - 1]!;
  return { ids: cut, truncated: true };
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
  }
}

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

/** Runs the merged model of a fine-tuning run (its folder) on `sequences`. */
export async function predictFinetuned(runDir: string, sequences: readonly string[], options: PredictOptions = {}): Promise<Predictions> {
  const config = readHeadConfig(runDir);
  const graph = join(runDir, MERGED_DIR, PREDICTION_GRAPH_FILE);
  if (!existsSync(graph)) throw new Error(`${runDir} has no merged prediction model (${join(MERGED_DIR, PREDICTION_GRAPH_FILE)}); the run did not finish.`);
  const encoded = sequences.map(modelTokens);
  const batches = planBatches(encoded.map((e) => e.ids.length), options.batchTokens ?? 4096);
  const opened = await openSession(graph, { device: options.device ?? 'cpu', ...(options.threads ? { threads: options.threads } : {}) });
  const perBatch: string[][][] = [];
  let done = 0;
  try {
    for (const batch of batches) {
      if (options.signal?.aborted) throw new Error('Cancelled');
      const rows = batch.indices.map((i) => Array.from(encoded[i]!.ids));
      const outputs = await opened.session.run({ [IO.tokens]: tokenTensor(rows) });
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
