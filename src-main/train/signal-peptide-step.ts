/**
 * train/signal-peptide-step — one PEFT-SP training or evaluation step on an installed model:
 *
 *   tokens → ONNX graph (LoRA adapters, Linear(hidden, 37) emission head) → emissions
 *          → TypeScript CRF (train/crf: bitmap NLL + region regulariser) → loss, dLoss/dEmissions,
 *            CRF parameter gradients
 *          → the same ONNX graph seeded with dLoss/dEmissions (`emissions_grad`) → adapter and head gradients
 *
 * The CRF stays outside the graph because its loss needs the 37-state bitmaps, the soft
 * constraints and the regulariser's counts, all cheap in float64 TypeScript and already checked
 * against SignalP's reference (crf_ref); the graph then needs no loss, only a seeded backward.
 * A training step runs the graph twice with the same dropout seed, so both runs draw the same
 * masks: the first fetches only the emissions (onnxruntime skips the backward), the second
 * the gradients they imply.
 */
import * as ort from 'onnxruntime-node';
import type { Device } from '../engine/session';
import type { SignalpRecord } from '../datasets/signalp';
import type { Tokenizer } from '../models/family';
import {
  predictSignalPeptides,
  signalpBatch,
  signalpTrainingLoss,
  SIGNALP_STATE_COUNT,
  type CrfParameters,
  type EmissionBatch,
  type SignalPeptidePredictions,
  type SignalpBatch,
} from './crf';
import { IO, type TaskSpec, type TrainingGraph } from './graph';
import { trainingFeeds } from './graph-feeds';
import { openTrainingSession, writeTrainingGraph } from './graph-files';
import type { HeadSpec } from './heads';
import type { LoraSpec } from './lora';
import type { PromptSpec } from './prompt';
import type { BottleneckSpec } from './bottleneck';
import type { TensorMap } from './optimizers';

/** The CRF's own parameters, trained beside the adapters and the emission head. */
export const CRF_PARAMETERS = { transitions: 'crf.transitions', start: 'crf.start', end: 'crf.end' } as const;

export const SIGNAL_PEPTIDE_TASK: TaskSpec = { kind: 'crf', classes: SIGNALP_STATE_COUNT };
/** The emission head is a Linear per residue; the pool is unused (per-token). */
export const EMISSION_HEAD: HeadSpec = { kind: 'linear', pool: 'mean' };

export interface SignalPeptideStepSpec {
  /** LoRA, or (null here) a prompt or bottleneck adapters instead (train/peft-methods). */
  lora: LoraSpec | null;
  prompt?: PromptSpec | null;
  adapter?: BottleneckSpec | null;
  device?: Device;
  threads?: number;
  /** Salt of the graph's dropout sites (the run's seed). */
  seed?: number;
  /** Weight of the region regulariser (PEFT-SP: 0.5). */
  regularization?: number;
}

export interface SignalPeptideStepResult {
  /** NLL + regulariser, mean over the batch. */
  loss: number;
  nll: number;
  /** Gradients of `loss` for every trained tensor: adapters, head and CRF parameters. */
  grads: TensorMap;
}

export interface SignalPeptideEvaluation {
  loss: number;
  nll: number;
  predictions: SignalPeptidePredictions;
  batch: SignalpBatch;
  emissions: EmissionBatch;
}

/** The CRF's parameters as float64 views of the trained tensors. */
export function crfParametersOf(params: TensorMap): CrfParameters {
  const get = (name: string): Float32Array => {
    const value = params.get(name);
    if (!value) throw new Error(`Internal error: no CRF parameter ${name}.`);
    return value;
  };
  return { states: SIGNALP_STATE_COUNT, transitions: get(CRF_PARAMETERS.transitions), start: get(CRF_PARAMETERS.start), end: get(CRF_PARAMETERS.end) };
}

/** The CRF's initial parameters as trained tensors. */
export function crfTensors(params: CrfParameters): TensorMap {
  return new Map([
    [CRF_PARAMETERS.transitions, Float32Array.from(params.transitions)],
    [CRF_PARAMETERS.start, Float32Array.from(params.start)],
    [CRF_PARAMETERS.end, Float32Array.from(params.end)],
  ]);
}

/** [batch, steps + 2, 37] graph emissions → the residues' [batch, steps, 37] (`<cls>` and `<eos>` dropped). */
export function residueEmissions(prediction: Float32Array, batch: SignalpBatch): EmissionBatch {
  const s = SIGNALP_STATE_COUNT;
  const width = batch.steps + 2;
  const emissions = new Float64Array(batch.batch * batch.steps * s);
  for (let b = 0; b < batch.batch; b++) {
    const from = (b * width + 1) * s;
    emissions.set(prediction.subarray(from, from + batch.steps * s), b * batch.steps * s);
  }
  return { batch: batch.batch, steps: batch.steps, states: s, emissions, lengths: batch.lengths };
}

/** dLoss/dEmissions of the residues → the graph's `emissions_grad` [batch, steps + 2, 37] (0 at `<cls>`, `<eos>`, padding). */
export function emissionsSeed(gradient: Float64Array, batch: SignalpBatch): Float32Array {
  const s = SIGNALP_STATE_COUNT;
  const width = batch.steps + 2;
  const seed = new Float32Array(batch.batch * width * s);
  for (let b = 0; b < batch.batch; b++) {
    const real = batch.lengths[b]! * s;
    seed.set(gradient.subarray(b * batch.steps * s, b * batch.steps * s + real), (b * width + 1) * s);
  }
  return seed;
}

interface OpenGraph {
  session: ort.InferenceSession;
  graph: TrainingGraph;
}

export class SignalPeptideStep {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Null when opened for prediction only (no training graph written). */
    private readonly train: OpenGraph | null,
    private readonly evaluation: OpenGraph,
    readonly device: Device,
    readonly fallbackReason: string | null,
    private readonly regularization: number | undefined,
  ) {}

  /** The evaluation graph only: emissions and predictions, no training (half the graph building). */
  static async openForPrediction(modelDir: string, tokenizer: Tokenizer, spec: SignalPeptideStepSpec): Promise<SignalPeptideStep> {
    const graphSpec = { lora: spec.lora, prompt: spec.prompt ?? null, adapter: spec.adapter ?? null, head: EMISSION_HEAD, task: SIGNAL_PEPTIDE_TASK };
    const options = { device: spec.device ?? 'cpu', ...(spec.threads ? { threads: spec.threads } : {}) };
    const evalFile = await writeTrainingGraph(modelDir, { ...graphSpec, mode: 'eval' });
    const evaluation = await openTrainingSession(evalFile.file, options);
    return new SignalPeptideStep(tokenizer, null, { session: evaluation.session, graph: evalFile.training }, evaluation.device, evaluation.fallbackReason, spec.regularization);
  }

  static async open(modelDir: string, tokenizer: Tokenizer, spec: SignalPeptideStepSpec): Promise<SignalPeptideStep> {
    const graphSpec = { lora: spec.lora, prompt: spec.prompt ?? null, adapter: spec.adapter ?? null, head: EMISSION_HEAD, task: SIGNAL_PEPTIDE_TASK };
    const options = { device: spec.device ?? 'cpu', ...(spec.threads ? { threads: spec.threads } : {}) };
    const trainFile = await writeTrainingGraph(modelDir, { ...graphSpec, mode: 'train' }, { seed: spec.seed ?? 0 });
    const evalFile = await writeTrainingGraph(modelDir, { ...graphSpec, mode: 'eval' });
    const train = await openTrainingSession(trainFile.file, options);
    const evaluation = await openTrainingSession(evalFile.file, { ...options, device: train.device });
    return new SignalPeptideStep(
      tokenizer,
      { session: train.session, graph: trainFile.training },
      { session: evaluation.session, graph: evalFile.training },
      train.device,
      train.fallbackReason,
      spec.regularization,
    );
  }

  /** Adapters then head: the tensors the graph takes (the CRF's are trained beside them). */
  get graphTrainable(): TrainingGraph['trainable'] {
    return (this.train ?? this.evaluation).graph.trainable;
  }

  private feeds(graph: TrainingGraph, batch: SignalpBatch, params: TensorMap, seed: number): Record<string, ort.Tensor> {
    const width = batch.steps + 2;
    const rows = Array.from({ length: batch.batch }, (_, b) => Array.from(batch.tokens.subarray(b * width, (b + 1) * width)));
    return trainingFeeds(graph, { tokens: rows, seed }, params);
  }

  private loss(emissions: EmissionBatch, batch: SignalpBatch, params: TensorMap) {
    const options = this.regularization === undefined ? {} : { alpha: this.regularization };
    return signalpTrainingLoss(emissions, crfParametersOf(params), batch.bitmap, batch.aaTokens, batch.types, options);
  }

  /** One forward–CRF–backward pass; `seed` draws the dropout masks. */
  async step(records: readonly SignalpRecord[], params: TensorMap, seed: number): Promise<SignalPeptideStepResult> {
    if (!this.train) throw new Error('Internal error: this signal-peptide model was opened for prediction only.');
    const { graph, session } = this.train;
    const batch = signalpBatch(records, this.tokenizer);
    const feeds = this.feeds(graph, batch, params, seed);
    const shape = [batch.batch, batch.steps + 2, SIGNALP_STATE_COUNT];
    feeds[IO.emissionsGrad] = new ort.Tensor('float32', new Float32Array(shape[0]! * shape[1]! * shape[2]!), shape);
    const forward = await session.run(feeds, [graph.outputs.prediction]);
    const loss = this.loss(residueEmissions(forward[graph.outputs.prediction]!.data as Float32Array, batch), batch, params);
    feeds[IO.emissionsGrad] = new ort.Tensor('float32', emissionsSeed(loss.gradTotal.emissions, batch), shape);
    const names = Object.entries(graph.outputs.gradients);
    const backward = await session.run(feeds, names.map(([, output]) => output));
    const grads: TensorMap = new Map(names.map(([param, output]) => [param, backward[output]!.data as Float32Array]));
    grads.set(CRF_PARAMETERS.transitions, Float32Array.from(loss.gradTotal.transitions));
    grads.set(CRF_PARAMETERS.start, Float32Array.from(loss.gradTotal.start));
    grads.set(CRF_PARAMETERS.end, Float32Array.from(loss.gradTotal.end));
    return { loss: loss.total, nll: loss.nll, grads };
  }

  /** Emissions without dropout, their loss and what the CRF reads off them. */
  async evaluate(records: readonly SignalpRecord[], params: TensorMap): Promise<SignalPeptideEvaluation> {
    const { batch, emissions } = await this.emissions(records, params);
    const loss = this.loss(emissions, batch, params);
    return { loss: loss.total, nll: loss.nll, predictions: predictSignalPeptides(emissions, crfParametersOf(params)), batch, emissions };
  }

  /** The residues' emissions without dropout (labels are only needed for the loss; any consistent ones do). */
  async emissions(records: readonly SignalpRecord[], params: TensorMap): Promise<{ batch: SignalpBatch; emissions: EmissionBatch }> {
    const { graph, session } = this.evaluation;
    const batch = signalpBatch(records, this.tokenizer);
    const outputs = await session.run(this.feeds(graph, batch, params, 0), [graph.outputs.prediction]);
    return { batch, emissions: residueEmissions(outputs[graph.outputs.prediction]!.data as Float32Array, batch) };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.train?.session.release(), this.evaluation.session.release()]);
  }
}
