/**
 * train/graph-feeds — the TypeScript side of a training graph's contract (train/graph `IO`):
 * turns a batch and the current trainable tensors into onnxruntime feeds, and a run's outputs
 * back into plain arrays (loss, predictions, pooled vectors, one gradient per tensor).
 */
import * as ort from 'onnxruntime-node';
import { IO, type TrainingGraph } from './graph';
import { dropoutSeedValue } from './graph-dropout';

export interface TrainingBatch {
  /** Token ids per sequence (with <cls> and <eos>); right-padded with <pad> here. Backbone graphs. */
  tokens?: readonly (readonly number[])[];
  /** Stored embeddings, row-major [batch, D]. Head-only graphs. */
  embeddings?: { data: Float32Array; rows: number; cols: number };
  /** Regression / multilabel targets, row-major [batch, K]. */
  targets?: Float32Array;
  /** Class per sequence (classification) or per token position, row-major [batch, tokens] (token task). */
  labels?: readonly number[];
  /** Token task: 1 where a position is labelled, row-major [batch, tokens]. */
  labelMask?: Float32Array;
  /** Seed of this step's dropout masks (training graphs with dropout); default 0. */
  seed?: number;
}

export interface StepResult {
  loss: number | null;
  prediction: Float32Array;
  predictionShape: readonly number[];
  pooled: Float32Array | null;
  /** Tensor name → d(loss)/d(tensor), in the tensor's shape (row-major). */
  gradients: Map<string, Float32Array>;
}

/** Right-pads token rows with the model's `<pad>` id into an int64 tensor [batch, longest]. */
export function tokenTensor(rows: readonly (readonly number[])[], pad: number): ort.Tensor {
  const length = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(pad));
  rows.forEach((row, b) => row.forEach((id, t) => (ids[b * length + t] = BigInt(id))));
  return new ort.Tensor('int64', ids, [rows.length, length]);
}

function dataFeeds(training: TrainingGraph, batch: TrainingBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const batchSize = batch.tokens?.length ?? batch.embeddings?.rows ?? 0;
  const tokensLength = batch.tokens ? Math.max(...batch.tokens.map((r) => r.length)) : 0;
  for (const input of training.inputs) {
    const missing = (): never => {
      throw new Error(`The training graph needs "${input.name}" but the batch has none.`);
    };
    if (input.name === IO.tokens) feeds[input.name] = tokenTensor(batch.tokens ?? missing(), training.padToken ?? missing());
    else if (input.name === IO.embeddings) {
      const e = batch.embeddings ?? missing();
      feeds[input.name] = new ort.Tensor('float32', e.data, [e.rows, e.cols]);
    } else if (input.name === IO.targets) {
      const t = batch.targets ?? missing();
      feeds[input.name] = new ort.Tensor('float32', t, [batchSize, t.length / batchSize]);
    } else if (input.name === IO.labels) {
      const labels = BigInt64Array.from((batch.labels ?? missing()).map((l) => BigInt(l)));
      feeds[input.name] = new ort.Tensor('int64', labels, input.shape.length === 1 ? [batchSize] : [batchSize, tokensLength]);
    } else if (input.name === IO.labelMask) {
      feeds[input.name] = new ort.Tensor('float32', batch.labelMask ?? missing(), [batchSize, tokensLength]);
    } else if (input.name === IO.dropoutSeed) {
      feeds[input.name] = new ort.Tensor('int64', BigInt64Array.of(dropoutSeedValue(batch.seed ?? 0)), []);
    }
  }
  return feeds;
}

/** Feeds for one run: the batch's data plus every trainable tensor the graph takes as input. */
export function trainingFeeds(training: TrainingGraph, batch: TrainingBatch, params: ReadonlyMap<string, Float32Array>): Record<string, ort.Tensor> {
  const feeds = dataFeeds(training, batch);
  for (const p of training.trainable) {
    const data = params.get(p.name);
    if (!data) throw new Error(`No value for trainable tensor ${p.name}.`);
    feeds[p.name] = new ort.Tensor('float32', data, p.shape);
  }
  return feeds;
}

/** Reads a run's outputs into arrays. */
export function readStep(training: TrainingGraph, outputs: ort.InferenceSession.ReturnType): StepResult {
  const float = (name: string): Float32Array => outputs[name]!.data as Float32Array;
  const prediction = outputs[training.outputs.prediction]!;
  const gradients = new Map<string, Float32Array>();
  for (const [param, output] of Object.entries(training.outputs.gradients)) gradients.set(param, float(output));
  return {
    loss: training.outputs.loss ? float(training.outputs.loss)[0]! : null,
    prediction: prediction.data as Float32Array,
    predictionShape: prediction.dims,
    pooled: training.outputs.pooled ? float(training.outputs.pooled) : null,
    gradients,
  };
}

/** One forward (and, for 'train' graphs, backward) pass. */
export async function runStep(
  session: ort.InferenceSession,
  training: TrainingGraph,
  batch: TrainingBatch,
  params: ReadonlyMap<string, Float32Array>,
): Promise<StepResult> {
  return readStep(training, await session.run(trainingFeeds(training, batch, params)));
}
