/**
 * train/head-only — the fast path of fine-tuning: the whole ESM-2 stays frozen and only the head
 * trains, on one pooled vector per sequence computed once. The vectors come from the same graph
 * the LoRA path runs (train/graph with no adapters, final layer, the head's pooling), so a head
 * trained here sees exactly what it will see at prediction time.
 *
 * In the run's folder: `embeddings.f32` (+ `embeddings.json`), the stored vectors, reused when a
 * stopped run continues; `graphs/` with the head's training and eval graphs; and, when done,
 * `head.onnx` — stored vectors → prediction, the head's weights inside — which train/predict runs
 * after pooling new sequences with the base model (no merged copy of the model is written).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { planBatches } from '../engine/batching';
import { openSession, type Device } from '../engine/session';
import { readManifest } from '../models/installed';
import { writeModel } from '../onnx';
import { writeBytesAtomically } from '../core/atomic';
import { buildHeadGraph, IO, taskOutDim, type TaskSpec } from './graph';
import { runStep } from './graph-feeds';
import { writeTrainingGraph } from './graph-files';
import { HEAD_GRAPH_FILE } from './head-config';
import { initHead, type HeadSpec } from './heads';

export const EMBEDDINGS_FILE = 'embeddings.f32';
const EMBEDDINGS_META = 'embeddings.json';
const GRAPHS_DIR = 'graphs';

/** Sequence tasks only: a per-residue head needs every residue's vector, which the LoRA path gives. */
export type SequenceTask = Exclude<TaskSpec, { kind: 'token' | 'crf' }>;

export function sequenceTaskOf(task: TaskSpec): SequenceTask {
  if (task.kind === 'token' || task.kind === 'crf') {
    throw new Error('Head-only training needs one vector per protein, so it cannot label residues; train the per-residue task with LoRA adapters (turn "head only" off).');
  }
  return task;
}

export interface PoolOptions {
  device?: Device;
  threads?: number;
  batchTokens?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Row-major [sequences, hiddenSize] vectors, with the device they were computed on. */
export interface PooledVectors {
  data: Float32Array;
  dim: number;
  device: Device;
  fallbackReason: string | null;
}

/**
 * The frozen model's pooled final-layer vector of each token row (<cls> … <eos>): the
 * prediction graph without adapters, whose `pooled` output is what the head reads. Its head
 * weights are placeholders (only `pooled` is read).
 */
export async function poolSequences(modelDir: string, tokens: readonly Int32Array[], head: HeadSpec, task: SequenceTask, options: PoolOptions = {}): Promise<PooledVectors> {
  const dim = readManifest(modelDir).config.hiddenSize;
  const placeholders = initHead(head, dim, taskOutDim(task), 0);
  const { file, training } = await writeTrainingGraph(modelDir, { lora: null, head, task, mode: 'predict' }, { baked: placeholders });
  const opened = await openSession(file, { device: options.device ?? 'cpu', ...(options.threads ? { threads: options.threads } : {}) });
  const data = new Float32Array(tokens.length * dim);
  let done = 0;
  try {
    for (const batch of planBatches(tokens.map((t) => t.length), options.batchTokens ?? 4096)) {
      if (options.signal?.aborted) throw new Error('Cancelled');
      const result = await runStep(opened.session, training, { tokens: batch.indices.map((i) => Array.from(tokens[i]!)) }, new Map());
      if (!result.pooled) throw new Error('Internal error: the prediction graph has no pooled output.');
      batch.indices.forEach((example, row) => data.set(result.pooled!.subarray(row * dim, (row + 1) * dim), example * dim));
      done += batch.indices.length;
      options.onProgress?.(done, tokens.length);
    }
  } finally {
    await opened.session.release();
  }
  return { data, dim, device: opened.device, fallbackReason: opened.fallbackReason };
}

interface EmbeddingsMeta {
  count: number;
  dim: number;
  /** The model version and the head's pooling they were made with: a change makes them stale. */
  model: string;
  pool: string;
}

/**
 * The run's stored vectors: read from its folder when an earlier attempt of the same run wrote
 * them (a continued run does not pool again), else pooled now and written (vectors first, the
 * description last, so a crash in between leaves nothing that looks complete).
 */
export async function storedEmbeddings(outDir: string, modelDir: string, tokens: readonly Int32Array[], head: HeadSpec, task: SequenceTask, options: PoolOptions = {}): Promise<PooledVectors> {
  const manifest = readManifest(modelDir);
  const expected: EmbeddingsMeta = { count: tokens.length, dim: manifest.config.hiddenSize, model: `${manifest.name} ${manifest.createdAt}`, pool: head.pool };
  const metaPath = join(outDir, EMBEDDINGS_META);
  const dataPath = join(outDir, EMBEDDINGS_FILE);
  if (existsSync(metaPath) && existsSync(dataPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as EmbeddingsMeta;
    const bytes = readFileSync(dataPath);
    if (JSON.stringify(meta) === JSON.stringify(expected) && bytes.byteLength === expected.count * expected.dim * 4) {
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return { data, dim: expected.dim, device: options.device ?? 'cpu', fallbackReason: null };
    }
  }
  const pooled = await poolSequences(modelDir, tokens, head, task, options);
  writeBytesAtomically(dataPath, new Uint8Array(pooled.data.buffer, pooled.data.byteOffset, pooled.data.byteLength));
  writeBytesAtomically(metaPath, new TextEncoder().encode(`${JSON.stringify(expected, null, 2)}\n`));
  return pooled;
}

/** The head's training and eval graphs on stored vectors, written to the run's graphs/ folder. */
export async function writeHeadGraphs(outDir: string, spec: { inDim: number; head: HeadSpec; task: SequenceTask }, seed: number) {
  const dir = join(outDir, GRAPHS_DIR);
  mkdirSync(dir, { recursive: true });
  const train = buildHeadGraph({ ...spec, mode: 'train' }, { seed });
  const evaluate = buildHeadGraph({ ...spec, mode: 'eval' });
  const trainFile = join(dir, 'head-train.onnx');
  const evalFile = join(dir, 'head-eval.onnx');
  await writeModel(train.graph, trainFile);
  await writeModel(evaluate.graph, evalFile);
  return { train: { file: trainFile, training: train }, eval: { file: evalFile, training: evaluate } };
}

/** head.onnx: stored vectors → prediction, with the trained head's weights baked in. */
export async function writeHeadPredictionGraph(outDir: string, spec: { inDim: number; head: HeadSpec; task: SequenceTask }, weights: ReadonlyMap<string, Float32Array>): Promise<void> {
  const { graph } = buildHeadGraph({ ...spec, mode: 'predict' }, { baked: weights });
  await writeModel(graph, join(outDir, HEAD_GRAPH_FILE));
}

/** Runs head.onnx on pooled vectors; returns the flat prediction tensor. */
export async function runHeadPrediction(runDir: string, vectors: PooledVectors, options: { device?: Device; threads?: number } = {}): Promise<Float32Array> {
  const opened = await openSession(join(runDir, HEAD_GRAPH_FILE), { device: options.device ?? 'cpu', ...(options.threads ? { threads: options.threads } : {}) });
  try {
    const rows = vectors.data.length / vectors.dim;
    const outputs = await opened.session.run({ [IO.embeddings]: new ort.Tensor('float32', vectors.data, [rows, vectors.dim]) });
    return outputs[IO.prediction]!.data as Float32Array;
  } finally {
    await opened.session.release();
  }
}
