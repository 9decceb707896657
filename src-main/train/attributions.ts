/**
 * train/attributions — "why this prediction": integrated gradients (Sundararajan et al. 2017) of a
 * fine-tuned model's prediction for one sequence with respect to its input token embeddings.
 *
 *   attribution(residue i) = Σ_d (x − x′)[i, d] · mean over α of ∂f/∂x [i, d] at x′ + α (x − x′)
 *
 * f is one number of the prediction: a regression output, a class's probability or a label's
 * probability. x are the embeddings the model's first block reads (for ESM-2 after its
 * token-dropout scaling); x′ the baseline: every residue replaced by `<mask>` as the model sees it
 * (ESM-2 zeroes `<mask>` embeddings, so for ESM-2 this equals the zero baseline) or by zeros; the
 * `<cls>`/`<eos>` rows keep their input values, so all of f(x) − f(x′) lands on residues. The mean
 * over α is a quadrature on steps + 1 points (default 50 steps) crowded near the baseline,
 * α = (k/steps)⁴, with Simpson's rule in k (see alphaNodes for why equal steps fail on ESM models);
 * `completeness` reports how far Σ attributions is from f(x) − f(x′).
 *
 * The gradients come from onnxruntime: the prediction graph of train/graph (head and any LoRA
 * folded into the merged model) is cut at its embeddings, which become the input
 * `input_embeddings`, and differentiated by src-main/autodiff with a seeded backward (the seed is
 * one-hot on the explained output). A second graph, uncut, returns the embeddings of given tokens.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { differentiate } from '../autodiff';
import { csvField } from '../exports';
import { openSession, type Device, type OpenedSession } from '../engine/session';
import { writeModel, type Graph, type Node, type Value } from '../onnx';
import { familyOfManifest, MANIFEST_FILE, readManifest, type ModelManifest } from '../models/installed';
import { buildTrainingGraph, IO, taskOutDim, type TaskSpec } from './graph';
import { installedWeights } from './graph-files';
import { tokenTensor } from './graph-feeds';
import type { HeadSpec } from './heads';
import { readHeadConfig } from './head-config';
import { MERGED_DIR } from './finetune';
import { modelTokens } from './finetune-data';
import { readHeadTensors } from './peft';

/** Names of the attribution graphs' own inputs and outputs (the rest is train/graph's `IO`). */
export const ATTRIBUTION_IO = {
  embeddings: 'input_embeddings',
  /** d(objective)/d(prediction): one-hot on the explained output. */
  seed: 'prediction_seed',
  /** The uncut graph's output: the embeddings the first block reads. */
  embeddingsOut: 'embeddings_out',
  gradient: `grad.input_embeddings`,
} as const;

export type Baseline = 'mask' | 'zero';

/** A fine-tuned sequence-level model: an installed (merged) model plus its head. */
export interface AttributionModelSource {
  modelDir: string;
  head: HeadSpec;
  task: TaskSpec;
  /** The head's tensors, baked into the graphs. */
  headWeights: ReadonlyMap<string, Float32Array>;
}

export interface IntegratedGradientsOptions {
  /** Which number of the prediction to explain: regression output, class or label index. Default: output 0, or the predicted class. */
  target?: number;
  baseline?: Baseline;
  /** Quadrature intervals (default 50; even numbers use Simpson's rule). */
  steps?: number;
  /** Exponent of the α spacing (alphaNodes): 1 = equal steps; default DEFAULT_SPACING. */
  spacing?: number;
  /** Interpolation points per onnxruntime run (default: as many as fit 4,096 tokens). */
  batchTokens?: number;
}

export interface Attributions {
  /** One value per residue (no `<cls>`/`<eos>`). */
  residues: Float32Array;
  /** The explained output's index and f at the input and at the baseline. */
  target: number;
  prediction: number;
  baselinePrediction: number;
  /** |Σ attributions − (f(x) − f(x′))| / max(|f(x) − f(x′)|, 1e-6): integrated gradients' own accuracy check. */
  completeness: number;
  baseline: Baseline;
  steps: number;
  truncated: boolean;
}

/**
 * The value the model's first block reads: the output of the last node the family graph built in
 * its `embeddings` scope (both families name it so).
 */
function embeddingsValue(graph: Graph): string {
  const inScope = graph.nodes.filter((n) => n.name.startsWith('embeddings/'));
  const last = inScope[inScope.length - 1];
  if (!last) throw new Error(`Graph ${graph.name} has no embeddings scope; integrated gradients cannot find the input embeddings.`);
  return last.outputs[0]!;
}

/** Removes nodes none of whose outputs is read (the embedding lookup, once cut away). */
function pruneDeadNodes(graph: Graph): Graph {
  let nodes = [...graph.nodes];
  for (;;) {
    const read = new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
    const alive = nodes.filter((n) => n.outputs.some((o) => read.has(o)));
    if (alive.length === nodes.length) break;
    nodes = alive;
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  return { ...graph, nodes, initializers: graph.initializers.filter((i) => used.has(i.name)) };
}

/** The prediction graph with its embeddings as an extra output (x of given tokens). */
function embeddingGraph(predict: Graph): Graph {
  const name = embeddingsValue(predict);
  const nodes = [...predict.nodes, { op: 'Cast', name: 'attr/embeddings_out', inputs: [name], outputs: [ATTRIBUTION_IO.embeddingsOut], attributes: { to: { kind: 'int' as const, value: 1 } } }];
  return { ...predict, nodes, outputs: [...predict.outputs, { name: ATTRIBUTION_IO.embeddingsOut, dtype: 'float32', shape: ['batch', 'tokens', 'hidden'] }] };
}

/**
 * The prediction graph cut at its embeddings (fed as `input_embeddings`, float32, cast to the
 * model's compute type), differentiated from `prediction` seeded by `prediction_seed`.
 */
function gradientGraph(predict: Graph, hidden: number, outDim: number, compute: 'float32' | 'float16'): Graph {
  const cut = embeddingsValue(predict);
  const fed = compute === 'float32' ? ATTRIBUTION_IO.embeddings : 'attr/input_embeddings_cast';
  const rewired = predict.nodes.map((n) => (n.inputs.includes(cut) ? { ...n, inputs: n.inputs.map((i) => (i === cut ? fed : i)) } : n));
  const cast: Node[] = compute === 'float32' ? [] : [{ op: 'Cast', name: 'attr/cast_in', inputs: [ATTRIBUTION_IO.embeddings], outputs: [fed], attributes: { to: { kind: 'int', value: 10 } } }];
  const inputs: Value[] = [
    ...predict.inputs,
    { name: ATTRIBUTION_IO.embeddings, dtype: 'float32', shape: ['batch', 'tokens', hidden] },
    { name: ATTRIBUTION_IO.seed, dtype: 'float32', shape: ['batch', outDim] },
  ];
  const forward = pruneDeadNodes({ ...predict, inputs, nodes: [...cast, ...rewired], outputs: predict.outputs.filter((o) => o.name === IO.prediction) });
  return differentiate(forward, { loss: IO.prediction, wrt: [ATTRIBUTION_IO.embeddings], seed: ATTRIBUTION_IO.seed });
}

const sequenceTaskOnly = (task: TaskSpec): Exclude<TaskSpec, { kind: 'token' | 'crf' }> => {
  if (task.kind === 'token' || task.kind === 'crf') {
    throw new Error('Integrated gradients explain one number per sequence; this model predicts per residue (token or signal-peptide task), which is not supported yet.');
  }
  return task;
};

/** The two onnxruntime sessions integrated gradients runs, on one fine-tuned model. */
export class AttributionModel {
  private constructor(
    readonly manifest: ModelManifest,
    readonly outDim: number,
    private readonly embedSession: OpenedSession,
    private readonly gradSession: OpenedSession,
  ) {}

  static async open(source: AttributionModelSource, options: { device?: Device; threads?: number } = {}): Promise<AttributionModel> {
    const manifest = readManifest(source.modelDir);
    const family = familyOfManifest(manifest);
    const task = sequenceTaskOnly(source.task);
    const spec = { family, config: manifest.config, precision: manifest.precision, lora: null, head: source.head, task, mode: 'predict' as const };
    const { graph } = buildTrainingGraph(spec, installedWeights(source.modelDir, manifest), { baked: source.headWeights });
    const compute = manifest.precision === 'fp16' ? 'float16' : 'float32';
    const outDim = taskOutDim(task);
    // Graph files sit beside weights.data (external data resolves relative to them); the name follows the head.
    const key = createHash('sha256').update(JSON.stringify({ head: source.head, task, created: manifest.createdAt })).update(Buffer.concat([...source.headWeights.values()].map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength)))).digest('hex').slice(0, 12);
    const embedFile = join(source.modelDir, `attributions-embed-${key}.onnx`);
    const gradFile = join(source.modelDir, `attributions-grad-${key}.onnx`);
    await writeModel(embeddingGraph(graph), embedFile, { producerVersion: manifest.appVersion });
    await writeModel(gradientGraph(graph, manifest.config.hiddenSize, outDim, compute), gradFile, { producerVersion: manifest.appVersion });
    const sessionOptions = { device: options.device ?? ('cpu' as const), ...(options.threads ? { threads: options.threads } : {}) };
    const embedSession = await openSession(embedFile, sessionOptions);
    const gradSession = await openSession(gradFile, sessionOptions).catch(async (error: unknown) => {
      await embedSession.session.release();
      throw error;
    });
    return new AttributionModel(manifest, outDim, embedSession, gradSession);
  }

  get tokenizer() {
    return familyOfManifest(this.manifest).tokenizer;
  }

  /** Prediction [outDim] and embeddings [tokens, hidden] of one token row. */
  async embed(ids: ArrayLike<number>): Promise<{ prediction: Float32Array; embeddings: Float32Array }> {
    const out = await this.embedSession.session.run({ [IO.tokens]: tokenTensor([Array.from(ids)], this.tokenizer.tokens.PAD) });
    return { prediction: Float32Array.from(out[IO.prediction]!.data as Float32Array), embeddings: Float32Array.from(out[ATTRIBUTION_IO.embeddingsOut]!.data as Float32Array) };
  }

  /**
   * f and ∂f/∂embeddings at several embedding points of one token row: `points` is row-major
   * [n, tokens, hidden]; returns predictions [n, outDim] and gradients [n, tokens, hidden] of output `target`.
   */
  async evaluate(ids: ArrayLike<number>, points: Float32Array, target: number): Promise<{ predictions: Float32Array; gradients: Float32Array }> {
    const tokens = ids.length;
    const hidden = this.manifest.config.hiddenSize;
    const n = points.length / (tokens * hidden);
    const seed = new Float32Array(n * this.outDim);
    for (let b = 0; b < n; b++) seed[b * this.outDim + target] = 1;
    const rows = Array.from({ length: n }, () => Array.from(ids));
    const out = await this.gradSession.session.run({
      [IO.tokens]: tokenTensor(rows, this.tokenizer.tokens.PAD),
      [ATTRIBUTION_IO.embeddings]: new ort.Tensor('float32', points, [n, tokens, hidden]),
      [ATTRIBUTION_IO.seed]: new ort.Tensor('float32', seed, [n, this.outDim]),
    });
    return { predictions: out[IO.prediction]!.data as Float32Array, gradients: out[ATTRIBUTION_IO.gradient]!.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.embedSession.session.release();
    await this.gradSession.session.release();
  }
}

/**
 * Where along the straight path the gradient is taken: α = (k / steps)^power, k = 0 … steps.
 * Power 1 is the usual equal spacing. Larger powers crowd the points near the baseline, which
 * ESM models need: their first LayerNorm rescales a residue row of size α·x to full size as soon
 * as α exceeds about √1e-5 / |x| (≈ 0.003 on the golden model), so f(α) does most of its change
 * for α < 0.02 and equal steps of 0.02 miss it (18 % off on the golden model at 50 steps).
 * The path and the integral are the same; only the quadrature points move.
 */
export function alphaNodes(steps: number, power: number): number[] {
  return Array.from({ length: steps + 1 }, (_, k) => (k / steps) ** power);
}

/**
 * Quadrature weights for ∫₀¹ g(α) dα at α = t^power, t = k / steps: composite Simpson in t
 * (error ∝ 1/steps⁴) times dα/dt = power·t^(power−1); for an odd number of steps, the trapezoid in t.
 */
export function quadratureWeights(steps: number, power: number): number[] {
  const h = 1 / steps;
  const simpson = steps % 2 === 0;
  return Array.from({ length: steps + 1 }, (_, k) => {
    const end = k === 0 || k === steps;
    const coefficient = simpson ? (end ? 1 : k % 2 === 1 ? 4 : 2) / 3 : end ? 0.5 : 1;
    const t = k * h;
    return h * coefficient * power * t ** (power - 1);
  });
}

/** Default exponent of the α spacing (see alphaNodes). */
export const DEFAULT_SPACING = 4;

/** x′: residue rows from the all-`<mask>` input (or zeros), `<cls>`/`<eos>` rows as in x. */
async function baselineEmbeddings(model: AttributionModel, ids: Int32Array, x: Float32Array, baseline: Baseline): Promise<Float32Array> {
  const hidden = model.manifest.config.hiddenSize;
  const masked = Int32Array.from(ids, (id, t) => (t === 0 || t === ids.length - 1 ? id : model.tokenizer.tokens.MASK));
  const source = baseline === 'zero' ? new Float32Array(x.length) : (await model.embed(masked)).embeddings;
  const result = Float32Array.from(x);
  result.set(source.subarray(hidden, (ids.length - 1) * hidden), hidden);
  return result;
}

/** Integrated gradients of one sequence on an opened model. */
export async function integratedGradients(model: AttributionModel, sequence: string, options: IntegratedGradientsOptions = {}): Promise<Attributions> {
  const steps = options.steps ?? 50;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a whole number ≥ 1, got ${steps}.`);
  const baseline = options.baseline ?? 'mask';
  const { ids, truncated } = modelTokens(sequence, model.tokenizer);
  const hidden = model.manifest.config.hiddenSize;
  const size = ids.length * hidden;
  const input = await model.embed(ids);
  const target = options.target ?? (model.outDim > 1 ? input.prediction.reduce((best, v, i, all) => (v > all[best]! ? i : best), 0) : 0);
  if (!Number.isInteger(target) || target < 0 || target >= model.outDim) throw new RangeError(`The explained output must be 0 to ${model.outDim - 1}, got ${target}.`);
  const x = input.embeddings;
  const x0 = await baselineEmbeddings(model, ids, x, baseline);
  const perRun = Math.max(1, Math.floor((options.batchTokens ?? 4096) / ids.length));
  const meanGradient = new Float64Array(size);
  let atInput = 0;
  let atBaseline = 0;
  const nodes = alphaNodes(steps, options.spacing ?? DEFAULT_SPACING);
  const weights = quadratureWeights(steps, options.spacing ?? DEFAULT_SPACING);
  for (let start = 0; start <= steps; start += perRun) {
    const alphas = nodes.slice(start, Math.min(start + perRun, steps + 1));
    const points = new Float32Array(alphas.length * size);
    alphas.forEach((alpha, k) => {
      for (let j = 0; j < size; j++) points[k * size + j] = x0[j]! + alpha * (x[j]! - x0[j]!);
    });
    const { predictions, gradients } = await model.evaluate(ids, points, target);
    alphas.forEach((_, k) => {
      const step = start + k;
      const weight = weights[step]!;
      for (let j = 0; j < size; j++) meanGradient[j] = meanGradient[j]! + weight * gradients[k * size + j]!;
      if (step === 0) atBaseline = predictions[k * model.outDim + target]!;
      if (step === steps) atInput = predictions[k * model.outDim + target]!;
    });
  }
  const residues = new Float32Array(ids.length - 2);
  let total = 0;
  for (let i = 0; i < residues.length; i++) {
    let sum = 0;
    for (let d = 0; d < hidden; d++) {
      const j = (i + 1) * hidden + d;
      sum += (x[j]! - x0[j]!) * meanGradient[j]!;
    }
    residues[i] = sum;
    total += sum;
  }
  const difference = atInput - atBaseline;
  const completeness = Math.abs(total - difference) / Math.max(Math.abs(difference), 1e-6);
  return { residues, target, prediction: atInput, baselinePrediction: atBaseline, completeness, baseline, steps, truncated };
}

/** A finished LoRA fine-tuning run (its folder with merged/) as an attribution source. */
export function runAttributionSource(runDir: string): AttributionModelSource {
  const config = readHeadConfig(runDir);
  if (config.mode === 'head-only') throw new Error(`${runDir} trained only a head on stored vectors: its input embeddings never reach the head through the model, so there is nothing to attribute per residue. Explain a LoRA run instead.`);
  if (config.peft && config.peft !== 'lora') throw new Error(`${runDir} trained a ${config.peft === 'prompt' ? 'soft prompt' : 'bottleneck adapter'}; integrated gradients support LoRA runs for now.`);
  const modelDir = join(runDir, MERGED_DIR);
  if (!existsSync(join(modelDir, MANIFEST_FILE))) throw new Error(`${runDir} has no merged model (${MERGED_DIR}/); predict with it once (with --model) to build it, then explain.`);
  const head = readHeadTensors(runDir);
  if (head.size === 0) throw new Error(`${runDir} has no head.safetensors: without the head it was trained with there is no prediction to explain.`);
  return { modelDir, head: config.head, task: config.task, headWeights: new Map([...head].map(([name, t]) => [name, t.data])) };
}

/** Integrated gradients of one sequence on a finished fine-tuning run. */
export async function explainFinetuned(runDir: string, sequence: string, options: IntegratedGradientsOptions & { device?: Device; threads?: number } = {}): Promise<Attributions> {
  const model = await AttributionModel.open(runAttributionSource(runDir), options);
  try {
    return await integratedGradients(model, sequence, options);
  } finally {
    await model.release();
  }
}

/** position, residue, attribution: one line per residue. */
export function attributionsCsv(sequence: string, attributions: Attributions): string {
  const lines = [['position', 'residue', 'attribution'].join(',')];
  attributions.residues.forEach((value, i) => lines.push([String(i + 1), csvField(sequence[i] ?? ''), String(value)].join(',')));
  return `${lines.join('\n')}\n`;
}

/** Writes the CSV (creating its folder) and returns its path. */
export function writeAttributionsCsv(path: string, sequence: string, attributions: Attributions): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, attributionsCsv(sequence, attributions));
  return path;
}
