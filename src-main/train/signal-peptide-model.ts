/**
 * train/signal-peptide-model — a finished signal-peptide run's model, reopened to predict: the LoRA
 * adapters (or the soft prompt, or the bottleneck adapters) and the emission head (PEFT files), the CRF (crf.safetensors) and the settings
 * (training.json) from the run folder, on the base model the run recorded (or one given). Predicts
 * proteins in batches into a train/signal-peptide-predictions set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignalpRecord } from '../datasets/signalp';
import type { Device } from '../engine/session';
import { openSafetensors, readFloat32 } from '../models/formats/safetensors';
import { familyOfManifest, readManifest } from '../models/installed';
import type { ModelConfig, ModelFamily } from '../models/family';
import { SIGNALP_STATE_COUNT, predictSignalPeptides } from './crf';
import { applyInitAdapter } from './finetune-adapter';
import { initHead } from './heads';
import type { LoraSpec, ParamSpec } from './lora';
import type { PeftChoice } from '../api/schemas';
import { initPeft, peftPartsOf, readPromptOrAdapter } from './peft-methods';
import type { TensorMap } from './optimizers';
import { readHeadTensors, readPeftAdapter } from './peft';
import { CRF_PARAMETERS, crfParametersOf, EMISSION_HEAD, SignalPeptideStep } from './signal-peptide-step';
import { concatPredictions, decodeSignalPeptides, type PredictionSet, type SignalPeptideInput } from './signal-peptide-predictions';

export const TRAINING_FILE = 'training.json';
export const CRF_FILE = 'crf.safetensors';

export interface TrainedSignalPeptide {
  step: SignalPeptideStep;
  params: TensorMap;
  /** Whether the model takes the kingdom as input (PEFT-SP's does not). */
  usesKingdom: boolean;
  device: Device;
  close(): Promise<void>;
}

interface TrainingJson {
  settings: { lora: LoraSpec; batchSize?: number; peft?: PeftChoice };
  model: { name: string; dir: string };
  steps?: number;
  bestEpoch?: number | null;
}

export function readTrainingJson(runDir: string): TrainingJson {
  const path = join(runDir, TRAINING_FILE);
  if (!existsSync(path)) throw new Error(`${runDir} has no ${TRAINING_FILE}: the signal-peptide run has not finished training.`);
  return JSON.parse(readFileSync(path, 'utf8')) as TrainingJson;
}

/** The CRF's transitions, start and end scores as trained. */
export function readCrf(runDir: string): TensorMap {
  const path = join(runDir, CRF_FILE);
  if (!existsSync(path)) throw new Error(`${runDir} has no ${CRF_FILE}: it is not a signal-peptide run.`);
  const table = openSafetensors(path);
  return new Map(Object.values(CRF_PARAMETERS).map((name) => {
    const info = table.get(name);
    if (!info) throw new Error(`${path} has no tensor "${name}"; the run's CRF is damaged.`);
    return [name, readFloat32(info)];
  }));
}

/** Opens a trained run's model (evaluation graph only) with its trained parameters. */
export async function openTrainedSignalPeptide(runDir: string, options: { baseModelDir?: string; device?: Device; threads?: number } = {}): Promise<TrainedSignalPeptide> {
  const training = readTrainingJson(runDir);
  const modelDir = options.baseModelDir ?? training.model.dir;
  if (!existsSync(modelDir)) throw new Error(`The base model ${training.model.name} is no longer at ${modelDir}; install it again or give its folder.`);
  const manifest = readManifest(modelDir);
  const family = familyOfManifest(manifest);
  const parts = peftPartsOf(training.settings.peft, training.settings.lora);
  const step = await SignalPeptideStep.openForPrediction(modelDir, family.tokenizer, {
    ...parts,
    ...(options.device ? { device: options.device } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  try {
    const params: TensorMap = new Map([...initPeft(parts, modelDir, manifest, family, 0), ...initHead(EMISSION_HEAD, manifest.config.hiddenSize, SIGNALP_STATE_COUNT, 0)]);
    const { headTaken } = applyInitAdapter(params, step.graphTrainable, savedAdapter(runDir, parts.lora !== null, manifest.config, family, step.graphTrainable), runDir);
    if (!headTaken) throw new Error(`${runDir}: the emission head (head.safetensors) is missing or does not fit the model.`);
    for (const [name, data] of readCrf(runDir)) params.set(name, data);
    return { step, params, usesKingdom: false, device: step.device, close: () => step.close() };
  } catch (error) {
    await step.close();
    throw error;
  }
}

/** The run's trained LoRA, prompt or bottleneck adapters and its head, as applyInitAdapter takes them. */
function savedAdapter(runDir: string, lora: boolean, config: ModelConfig, family: ModelFamily, trainable: readonly ParamSpec[]): Parameters<typeof applyInitAdapter>[2] {
  if (lora) return readPeftAdapter(runDir);
  const shapes = new Map(trainable.map((p) => [p.name, p.shape]));
  const { tensors } = readPromptOrAdapter(runDir, config, family);
  return { lora: new Map([...tensors].map(([name, data]) => [name, { shape: shapes.get(name) ?? [data.length], data }])), head: readHeadTensors(runDir) };
}

/** The record the graph is fed: labels only shape the (unused) loss, so unknown ones read as "inside". */
function recordOf(input: SignalPeptideInput, index: number): SignalpRecord {
  const known = input.type !== null && input.labels !== null && input.labels.length === input.sequence.length;
  return {
    id: input.id,
    kingdom: input.kingdom ?? 'EUKARYA',
    type: known ? input.type! : 'NO_SP',
    partition: input.partition ?? 0,
    sequence: input.sequence,
    labels: known ? input.labels! : 'I'.repeat(input.sequence.length),
    record: index + 1,
    line: 0,
  };
}

/** Predicts every input in batches; `arrangement` tags which model predicted them. */
export async function predictSignalPeptideInputs(
  model: Pick<TrainedSignalPeptide, 'step' | 'params'>,
  inputs: readonly SignalPeptideInput[],
  options: { arrangement?: number; batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<PredictionSet> {
  const size = options.batchSize ?? 20;
  const crf = crfParametersOf(model.params);
  const sets: PredictionSet[] = [];
  for (let from = 0; from < inputs.length; from += size) {
    options.signal?.throwIfAborted();
    const chunk = inputs.slice(from, from + size);
    const { emissions } = await model.step.emissions(chunk.map((input, k) => recordOf(input, from + k)), model.params);
    sets.push(decodeSignalPeptides(chunk, emissions, predictSignalPeptides(emissions, crf), crf, options.arrangement ?? 0));
    options.onProgress?.(Math.min(from + size, inputs.length), inputs.length);
  }
  return concatPredictions(sets);
}
