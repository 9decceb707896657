/**
 * train/onnx-step — the training loop's `StepFunction` and `EvaluateFunction` on onnxruntime:
 * opens one session on the training graph (forward + generated backward, gradients as outputs)
 * and one on the eval graph (no dropout, no gradients) of an installed model, turns a batch of
 * example indices into feeds (token ids, targets or labels, the current trainable tensors) and
 * reads back the loss, the predictions and one gradient per trainable tensor.
 *
 * Owns the examples' in-memory form (`Examples`: token ids and targets by task), which the rest
 * of the fine-tuning code prepares from a table (train/finetune-data).
 */
import type { Device } from '../engine/session';
import type { TrainingGraph } from './graph';
import { IO, type TaskSpec } from './graph';
import { runStep, type TrainingBatch } from './graph-feeds';
import { openTrainingSession, writeTrainingGraph, type InstalledGraphSpec } from './graph-files';
import type { HeadSpec } from './heads';
import type { LoraSpec, ParamSpec } from './lora';
import type { PromptSpec } from './prompt';
import type { BottleneckSpec } from './bottleneck';
import type { EvaluateFunction, EvaluationResult, StepFunction, StepResult, TrainBatch } from './loop';
import type * as ort from 'onnxruntime-node';

/** What each example must be fitted to, by task (index i is example i). */
export type ExampleTargets =
  | { kind: 'regression'; values: Float32Array }
  | { kind: 'classification'; labels: Int32Array; classes: string[] }
  /** Row-major [examples, labels], each 0 or 1. */
  | { kind: 'multilabel'; values: Float32Array; labels: string[] }
  /** Per example, one class per residue (−1: unlabelled). */
  | { kind: 'token'; labels: Int32Array[]; classes: string[] };

export interface Examples {
  /** Token ids per example, <cls> and <eos> included. */
  tokens: Int32Array[];
  targets: ExampleTargets;
}

/** The graph's task for these targets. */
export function taskSpecOf(targets: ExampleTargets): TaskSpec {
  switch (targets.kind) {
    case 'regression':
      return { kind: 'regression', outputs: 1 };
    case 'classification':
      return { kind: 'classification', classes: targets.classes.length };
    case 'multilabel':
      return { kind: 'multilabel', labels: targets.labels.length };
    case 'token':
      return { kind: 'token', classes: targets.classes.length };
  }
}

/** Numbers per example the loop's validation reads: 1 (regression), one logit per class, else 1 placeholder. */
export function validationWidth(targets: ExampleTargets): number {
  return targets.kind === 'classification' ? targets.classes.length : 1;
}

/** The batch's feeds: tokens, and the targets or labels the task's loss takes. */
export function batchFeeds(examples: Examples, indices: readonly number[]): TrainingBatch {
  const tokens = indices.map((i) => Array.from(examples.tokens[i]!));
  const { targets } = examples;
  switch (targets.kind) {
    case 'regression':
      return { tokens, targets: Float32Array.from(indices, (i) => targets.values[i]!) };
    case 'classification':
      return { tokens, labels: indices.map((i) => targets.labels[i]!) };
    case 'multilabel': {
      const k = targets.labels.length;
      const out = new Float32Array(indices.length * k);
      indices.forEach((i, row) => out.set(targets.values.subarray(i * k, (i + 1) * k), row * k));
      return { tokens, targets: out };
    }
    case 'token':
      return { tokens, ...tokenLabels(targets.labels, indices, Math.max(...tokens.map((t) => t.length))) };
  }
}

/** Token task: labels and mask aligned with token positions (residue j is token j + 1). */
function tokenLabels(perExample: Int32Array[], indices: readonly number[], width: number): { labels: number[]; labelMask: Float32Array } {
  const labels = new Array<number>(indices.length * width).fill(0);
  const labelMask = new Float32Array(indices.length * width);
  indices.forEach((example, row) => {
    perExample[example]!.forEach((label, residue) => {
      if (label < 0) return;
      labels[row * width + residue + 1] = label;
      labelMask[row * width + residue + 1] = 1;
    });
  });
  return { labels, labelMask };
}

/** How many loss terms a batch's mean is over: sequences, or labelled residues (token task). */
function lossWeight(examples: Examples, indices: readonly number[]): number {
  const { targets } = examples;
  if (targets.kind !== 'token') return indices.length;
  return indices.reduce((sum, i) => sum + targets.labels[i]!.filter((label) => label >= 0).length, 0);
}

/**
 * The validation rows the loop scores: regression values; log-probabilities for classes (the
 * loop's softmax turns them back into exactly the graph's probabilities); for multi-label and
 * token tasks, which the loop's metrics do not cover, NaN (only the validation loss is reported).
 */
function validationRows(examples: Examples, prediction: Float32Array, rows: number): Float32Array {
  const { targets } = examples;
  if (targets.kind === 'regression') return prediction;
  if (targets.kind === 'classification') return prediction.map((p) => Math.log(Math.max(p, 1e-30)));
  return new Float32Array(rows).fill(NaN);
}

export interface SessionSpec {
  lora: LoraSpec | null;
  /** Prompt tuning or bottleneck adapters instead of LoRA (train/peft-methods). */
  prompt?: PromptSpec | null;
  adapter?: BottleneckSpec | null;
  head: HeadSpec;
  task: TaskSpec;
  device?: Device;
  threads?: number;
  /** Seed of the dropout masks inside the training graph. */
  seed?: number;
}

/** Row-major [examples, dim] pooled vectors (head-only runs). */
export interface StoredVectors {
  data: Float32Array;
  dim: number;
}

/** A graph written to a file, with its contract. */
interface GraphFile {
  file: string;
  training: TrainingGraph;
}

export interface HeadGraphFiles {
  train: GraphFile;
  eval: GraphFile;
}

interface OpenGraph {
  session: ort.InferenceSession;
  graph: TrainingGraph;
}

/** The eval graph: its file, and its session once the first validation batch asks for it. */
class LazyEvalSession {
  private opened: Promise<OpenGraph> | null = null;

  constructor(
    private readonly file: string,
    private readonly graph: TrainingGraph,
    private readonly options: { device: Device; threads?: number },
  ) {}

  /** Opened on first use: a run without validation never holds a second copy of the weights. */
  get(): Promise<OpenGraph> {
    this.opened ??= openTrainingSession(this.file, this.options).then(({ session }) => ({ session, graph: this.graph }));
    return this.opened;
  }

  async release(): Promise<void> {
    if (this.opened) await (await this.opened).session.release();
  }
}

/**
 * The training and eval sessions of one fine-tuning run on an installed model. The eval session
 * opens when validation first needs it (on the device the training session runs on).
 */
export class OnnxTrainer {
  private constructor(
    private readonly examples: Examples,
    private readonly train: OpenGraph,
    private readonly evalGraph: LazyEvalSession,
    /** The device the sessions really run on, and why not the requested one (if so). */
    readonly device: Device,
    readonly fallbackReason: string | null,
    /** Head-only runs: the stored pooled vector of every example, fed instead of tokens. */
    private readonly stored: StoredVectors | null = null,
  ) {}

  static async open(modelDir: string, examples: Examples, spec: SessionSpec): Promise<OnnxTrainer> {
    const graphSpec: Omit<InstalledGraphSpec, 'mode'> = { lora: spec.lora, prompt: spec.prompt ?? null, adapter: spec.adapter ?? null, head: spec.head, task: spec.task };
    const options = { device: spec.device ?? 'cpu', ...(spec.threads ? { threads: spec.threads } : {}) };
    const trainFile = await writeTrainingGraph(modelDir, { ...graphSpec, mode: 'train' }, { seed: spec.seed ?? 0 });
    const evalFile = await writeTrainingGraph(modelDir, { ...graphSpec, mode: 'eval' });
    const train = await openTrainingSession(trainFile.file, options);
    const evaluate = new LazyEvalSession(evalFile.file, evalFile.training, { ...options, device: train.device });
    return new OnnxTrainer(examples, { session: train.session, graph: trainFile.training }, evaluate, train.device, train.fallbackReason);
  }

  /** Head-only: sessions on the head's graphs (train/head-only), fed the examples' stored vectors. */
  static async openHeadOnly(graphs: HeadGraphFiles, examples: Examples, stored: StoredVectors, spec: Pick<SessionSpec, 'device' | 'threads'>): Promise<OnnxTrainer> {
    const options = { device: spec.device ?? 'cpu', ...(spec.threads ? { threads: spec.threads } : {}) };
    const train = await openTrainingSession(graphs.train.file, options);
    const evaluate = new LazyEvalSession(graphs.eval.file, graphs.eval.training, { ...options, device: train.device });
    return new OnnxTrainer(examples, { session: train.session, graph: graphs.train.training }, evaluate, train.device, train.fallbackReason, stored);
  }

  /** A batch's feeds: tokens and targets, plus the stored vectors of its examples (head-only). */
  private feedsOf(indices: readonly number[]): TrainingBatch {
    const feeds = batchFeeds(this.examples, indices);
    if (!this.stored) return feeds;
    const { data, dim } = this.stored;
    const rows = new Float32Array(indices.length * dim);
    indices.forEach((example, row) => rows.set(data.subarray(example * dim, (example + 1) * dim), row * dim));
    return { ...feeds, embeddings: { data: rows, rows: indices.length, cols: dim } };
  }

  /** The tensors the training graph takes as inputs (adapters, then the head). */
  get trainable(): ParamSpec[] {
    return this.train.graph.trainable;
  }

  /** One forward and backward pass: the loop's StepFunction. */
  readonly step: StepFunction = async (batch: TrainBatch, params, context): Promise<StepResult> => {
    // The loop's per-micro-batch seed drives the dropout masks, so a resumed run draws the same ones.
    const feeds = { ...this.feedsOf(batch.indices), seed: context.seed };
    const result = await runStep(this.train.session, this.train.graph, feeds, params);
    if (result.loss === null) throw new Error('The training graph has no loss output.');
    return {
      loss: result.loss,
      predictions: result.prediction,
      grads: result.gradients,
      weight: lossWeight(this.examples, batch.indices),
    };
  };

  /** A forward pass without dropout or gradients: the loop's EvaluateFunction. */
  readonly evaluate: EvaluateFunction = async (batch: TrainBatch, params): Promise<EvaluationResult> => {
    const evalGraph = await this.evalGraph.get();
    const result = await runStep(evalGraph.session, evalGraph.graph, this.feedsOf(batch.indices), params);
    if (result.loss === null) throw new Error(`The eval graph has no "${IO.loss}" output.`);
    return {
      loss: result.loss,
      predictions: validationRows(this.examples, result.prediction, batch.indices.length),
      weight: lossWeight(this.examples, batch.indices),
    };
  };

  async close(): Promise<void> {
    await Promise.allSettled([this.train.session.release(), this.evalGraph.release()]);
  }
}
