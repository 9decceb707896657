/**
 * train/signal-peptide — a PEFT-SP fine-tuning run: SignalP 6.0's 3-line FASTA → LoRA on the top
 * layers + a Linear(hidden, 37) emission head + the 37-state CRF (train/signal-peptide-step),
 * trained with Adamax and gradient clipping 0.25 (PEFT-SP's defaults), validated each epoch on
 * another partition (loss, detection MCC and CS MCC averaged over kingdoms), the best epoch kept.
 *
 * LoRA is the default; `settings.peft` trains a soft prompt or bottleneck adapters instead.
 *
 * Writes into the run folder: adapter_model.safetensors + adapter_config.json (PEFT's LoRA, PEFT's
 * PROMPT_TUNING or our BOTTLENECK layout: train/peft-methods),
 * head.safetensors (the emission head), crf.safetensors (transitions, start, end),
 * head_config.json, metrics.csv, training.json (settings, history, best epoch), last/best epoch
 * checkpoints (train/checkpoint) and, with test partitions, the test proteins' predictions.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBytesAtomically } from '../core/atomic';
import { SeededRng } from '../core/rng';
import { readSignalpFasta, type SignalpRecord } from '../datasets/signalp';
import { selectionMetrics, type SignalPeptidePrediction } from '../learn/signal-peptide-metrics';
import { writeSafetensorsFile } from '../models/formats/safetensors-write';
import { familyOfManifest, readManifest } from '../models/installed';
import type { Device } from '../engine/session';
import { clipGradNorm } from './clip';
import { initialSignalpCrf, SIGNALP_STATE_COUNT } from './crf';
import { peftSettings, shapedParameters } from './finetune-adapter';
import { initHead } from './heads';
import type { LoraSpec } from './lora';
import type { PeftChoice } from '../api/schemas';
import { initPeft, methodOf, peftPartsOf, writePromptOrAdapter } from './peft-methods';
import { loadCheckpoint, saveCheckpoint, type LoopPosition } from './checkpoint';
import { createOptimizer, type Optimizer, type TensorMap } from './optimizers';
import { writeHead, writePeftAdapter } from './peft';
import { CRF_PARAMETERS, crfTensors, EMISSION_HEAD, SIGNAL_PEPTIDE_TASK, SignalPeptideStep, type SignalPeptideEvaluation } from './signal-peptide-step';
import { predictSignalPeptideInputs } from './signal-peptide-model';
import { writePredictions, type SignalPeptideInput, type StoredArrangement } from './signal-peptide-predictions';

export interface SignalPeptideSettings {
  lora: LoraSpec;
  /** LoRA (the `lora` settings; the default), prompt tuning or bottleneck adapters (train/peft-methods). */
  peft?: PeftChoice;
  epochs: number;
  /** Proteins per optimizer step. */
  batchSize: number;
  lr: number;
  /** Global gradient-norm clip (PEFT-SP: 0.25). */
  maxGradNorm: number;
  seed: number;
  /** Partitions to train on and to select the best epoch on (PEFT-SP: one each). */
  trainPartitions: readonly number[];
  validationPartitions: readonly number[];
  /** Predicted with the kept model after training (signal-peptides.json); empty or absent: none. */
  testPartitions?: readonly number[];
  regularization?: number;
  device?: Device;
  threads?: number;
}

/** PEFT-SP's defaults (LoRA on q/k/v/o of the top layers, dropout 0.1, Adamax, clip 0.25). */
export const SIGNAL_PEPTIDE_DEFAULTS = {
  loraR: 8,
  loraAlpha: 16,
  loraDropout: 0.1,
  loraTargets: ['query', 'key', 'value', 'attention-output'],
  loraLayers: 4,
  epochs: 10,
  batchSize: 20,
  /** Adamax's step; 0.001 gave a steadily falling validation loss on the tiny golden set (0.005 oscillated). */
  lr: 0.001,
  maxGradNorm: 0.25,
} as const;

export interface SignalPeptideEpoch {
  /** 0: before training (validation only). */
  epoch: number;
  trainLoss: number | null;
  valLoss: number | null;
  valNll: number | null;
  detectionMcc: number | null;
  csMcc: number | null;
}

export interface SignalPeptideSummary {
  task: 'signal-peptide';
  trainProteins: number;
  validationProteins: number;
  testProteins: number;
  steps: number;
  history: SignalPeptideEpoch[];
  bestEpoch: number | null;
  device: Device;
  files: { adapter: string; head: string; crf: string; metrics: string };
}

export interface SignalPeptideRunOptions {
  modelDir: string;
  outDir: string;
  /** A SignalP 6.0 3-line FASTA file's name (for messages) and text. */
  fileName: string;
  text: string;
  settings: SignalPeptideSettings;
  onProgress?: (fraction: number, message: string) => void;
  /** After each epoch's validation (and once before training: epoch 0), with the optimizer steps taken. */
  onEpoch?: (entry: SignalPeptideEpoch, step: number) => void;
  /** Checked between steps: training stops with an error once aborted; the last epoch's checkpoint stays for resuming. */
  signal?: AbortSignal;
  /** Already-read records (a cross-validation reads the file once); else `text` is read. */
  records?: readonly SignalpRecord[];
  /** Which arrangement of a cross-validation this run is (tags its test predictions); 0 otherwise. */
  arrangement?: number;
}

/** Records of the given partitions; a file with problems is refused with its first ones. */
export function signalpRecords(fileName: string, text: string): SignalpRecord[] {
  const file = readSignalpFasta(fileName, text);
  if (file.problems.length > 0) {
    const shown = file.problems.slice(0, 5).map((p) => p.message);
    throw new Error(`${fileName} has ${file.problems.length} problem(s):\n${shown.join('\n')}`);
  }
  return file.records;
}

/** PEFT-SP's model selection: detection MCC + CS MCC, each averaged over kingdoms (CS MCC left out where undefined). */
export function selectionScore(detectionMcc: number, csMcc: number): number {
  return Number.isFinite(csMcc) ? detectionMcc + csMcc : detectionMcc;
}

function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function copyMap(params: TensorMap): TensorMap {
  return new Map([...params].map(([name, data]) => [name, data.slice()]));
}

async function validate(step: SignalPeptideStep, records: readonly SignalpRecord[], params: TensorMap, batchSize: number) {
  let loss = 0;
  let nll = 0;
  const rows: SignalPeptidePrediction[] = [];
  for (const batch of batchesOf(records, batchSize)) {
    const result: SignalPeptideEvaluation = await step.evaluate(batch, params);
    loss += result.loss * batch.length;
    nll += result.nll * batch.length;
    batch.forEach((record, b) =>
      rows.push({ kingdom: record.kingdom, trueType: result.batch.types[b]!, predType: result.predictions.types[b]!, trueCs: result.batch.trueCs[b]!, predCs: result.predictions.cleavageSites[b]! }),
    );
  }
  const selection = selectionMetrics(rows);
  return { loss: loss / records.length, nll: nll / records.length, detectionMcc: selection['Detection MCC']!, csMcc: selection['CS MCC']! };
}

/** An MCC is undefined (NaN) when a class is absent; summaries hold null there. */
const finiteOrNull = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);

function validationEntry(val: Awaited<ReturnType<typeof validate>> | null): Omit<SignalPeptideEpoch, 'epoch' | 'trainLoss'> {
  return { valLoss: finiteOrNull(val?.loss), valNll: finiteOrNull(val?.nll), detectionMcc: finiteOrNull(val?.detectionMcc), csMcc: finiteOrNull(val?.csMcc) };
}

interface ResumeState {
  params: TensorMap;
  rng: SeededRng;
  history: SignalPeptideEpoch[];
  metrics: string[];
  steps: number;
  /** The next epoch to train (1-based). */
  nextEpoch: number;
  best: { epoch: number; score: number; params: TensorMap } | null;
}

/** What must not change between an interrupted attempt and its resumption (else it starts over). */
function resumeKey(settings: SignalPeptideSettings, train: number, validation: number): string {
  const { device: _device, threads: _threads, epochs: _epochs, ...kept } = settings;
  return JSON.stringify({ ...kept, train, validation });
}

/** The run folder's last epoch checkpoint, when it belongs to these settings and data. */
function loadResumeState(outDir: string, key: string, optimizer: Optimizer): ResumeState | null {
  const last = loadCheckpoint(outDir, 'last');
  const extra = last?.extra as { key?: string; history?: SignalPeptideEpoch[]; metrics?: string[]; best?: { epoch: number; score: number } | null } | undefined;
  if (!last || !extra || extra.key !== key) return null;
  optimizer.load(last.optimizer, last.params);
  const bestSaved = extra.best ? loadCheckpoint(outDir, 'best') : null;
  return {
    params: last.params,
    rng: SeededRng.fromState(last.position.rngState),
    history: extra.history ?? [],
    metrics: extra.metrics ?? ['step,name,value'],
    steps: last.position.step,
    nextEpoch: last.position.epoch,
    best: extra.best && bestSaved ? { ...extra.best, params: bestSaved.params } : null,
  };
}

function epochPosition(state: Omit<ResumeState, 'params' | 'best'>): LoopPosition {
  return { step: state.steps, epoch: state.nextEpoch, batchInEpoch: 0, epochRngState: state.rng.getState(), rngState: state.rng.getState(), epochLossSum: 0, epochLossWeight: 0, earlyStopping: null, history: [], finished: false };
}

/**
 * Trains and writes the run's files; returns what training.json summarises. After every epoch the
 * run folder gets a checkpoint (parameters, Adamax state, generator state, history, best epoch), so
 * a cancelled or killed run continues from its last finished epoch and ends exactly as an
 * uninterrupted one would (the epoch in progress is redone with the same batches and dropout).
 * When `testPartitions` are given, the kept model predicts them (signal-peptides.json).
 */
export async function runSignalPeptideFinetune(options: SignalPeptideRunOptions): Promise<SignalPeptideSummary> {
  const { settings, outDir } = options;
  const manifest = readManifest(options.modelDir);
  const family = familyOfManifest(manifest);
  const records = options.records ?? signalpRecords(options.fileName, options.text);
  const train = records.filter((r) => settings.trainPartitions.includes(r.partition));
  const validation = records.filter((r) => settings.validationPartitions.includes(r.partition));
  const test = records.filter((r) => (settings.testPartitions ?? []).includes(r.partition));
  if (train.length === 0) throw new Error(`${options.fileName} has no protein in training partition(s) ${settings.trainPartitions.join(', ')}; the header's last field is the partition.`);
  mkdirSync(outDir, { recursive: true });
  const parts = peftPartsOf(settings.peft, settings.lora);
  const step = await SignalPeptideStep.open(options.modelDir, family.tokenizer, {
    ...parts,
    seed: settings.seed,
    ...(settings.device ? { device: settings.device } : {}),
    ...(settings.threads ? { threads: settings.threads } : {}),
    ...(settings.regularization === undefined ? {} : { regularization: settings.regularization }),
  });
  try {
    const optimizer = createOptimizer({ kind: 'adamax' });
    const key = resumeKey(settings, train.length, validation.length);
    const resumed = loadResumeState(outDir, key, optimizer);
    const state: ResumeState = resumed ?? {
      params: new Map([
        ...initPeft(parts, options.modelDir, manifest, family, settings.seed),
        ...initHead(EMISSION_HEAD, manifest.config.hiddenSize, SIGNALP_STATE_COUNT, settings.seed + 1),
        ...crfTensors(initialSignalpCrf(new SeededRng(settings.seed + 2))),
      ]),
      rng: new SeededRng(settings.seed),
      history: [],
      metrics: ['step,name,value'],
      steps: 0,
      nextEpoch: 1,
      best: null,
    };
    const { params, history, metrics } = state;
    if (!resumed) {
      // Epoch 0: the untrained model's validation, the baseline the curve starts from.
      const before = validation.length > 0 ? await validate(step, validation, params, settings.batchSize) : null;
      if (before) history.push({ epoch: 0, trainLoss: null, ...validationEntry(before) });
      if (history[0]) options.onEpoch?.(history[0], 0);
    } else {
      options.onProgress?.((state.nextEpoch - 1) / settings.epochs, `Resumed after epoch ${state.nextEpoch - 1} of ${settings.epochs}`);
    }
    for (let epoch = state.nextEpoch; epoch <= settings.epochs; epoch++) {
      let lossSum = 0;
      for (const batch of batchesOf(state.rng.shuffle([...train]), settings.batchSize)) {
        options.signal?.throwIfAborted();
        const result = await step.step(batch, params, state.rng.nextUint32());
        const norm = clipGradNorm(result.grads, settings.maxGradNorm);
        optimizer.step(params, result.grads, settings.lr);
        state.steps += 1;
        lossSum += result.loss * batch.length;
        metrics.push(`${state.steps},train_loss,${result.loss}`, `${state.steps},grad_norm,${norm}`);
      }
      const trainLoss = lossSum / train.length;
      const val = validation.length > 0 ? await validate(step, validation, params, settings.batchSize) : null;
      history.push({ epoch, trainLoss, ...validationEntry(val) });
      options.onEpoch?.(history.at(-1)!, state.steps);
      metrics.push(`${state.steps},epoch_train_loss,${trainLoss}`);
      if (val) {
        metrics.push(`${state.steps},val_loss,${val.loss}`, `${state.steps},val_detection_mcc,${val.detectionMcc}`, `${state.steps},val_cs_mcc,${val.csMcc}`);
        const score = selectionScore(val.detectionMcc, val.csMcc);
        if (!state.best || score > state.best.score) {
          state.best = { epoch, score, params: copyMap(params) };
          saveCheckpoint(outDir, 'best', { params: state.best.params, optimizer: optimizer.state(), position: epochPosition({ ...state, nextEpoch: epoch + 1 }) });
        }
      }
      // The last slot's JSON is the commit point of the epoch (train/checkpoint).
      const best = state.best ? { epoch: state.best.epoch, score: state.best.score } : null;
      saveCheckpoint(outDir, 'last', { params, optimizer: optimizer.state(), position: epochPosition({ ...state, nextEpoch: epoch + 1 }), extra: { key, history, metrics, best } });
      options.onProgress?.(epoch / settings.epochs, `Epoch ${epoch} of ${settings.epochs}: training loss ${trainLoss.toFixed(4)}${val ? `, validation loss ${val.loss.toFixed(4)}` : ''}`);
    }
    const kept = state.best?.params ?? params;
    const { lora, head } = shapedParameters(kept, step.graphTrainable);
    const headConfig = { head: EMISSION_HEAD, task: SIGNAL_PEPTIDE_TASK, taskKind: 'signal-peptide', hiddenSize: manifest.config.hiddenSize, mode: 'lora', peft: methodOf(parts), crf: 'crf.safetensors', baseModel: { name: manifest.name, dir: resolve(options.modelDir) } };
    if (parts.lora) writePeftAdapter(outDir, { settings: peftSettings(parts.lora, manifest.config, manifest.name, 'token', family), lora, head, headConfig });
    else {
      writePromptOrAdapter(outDir, parts, lora, manifest.config, family, manifest.name, 'signal-peptide');
      writeHead(outDir, head, headConfig);
    }
    const s = SIGNALP_STATE_COUNT;
    writeSafetensorsFile(join(outDir, 'crf.safetensors'), [
      { name: CRF_PARAMETERS.transitions, shape: [s, s], data: kept.get(CRF_PARAMETERS.transitions)! },
      { name: CRF_PARAMETERS.start, shape: [s], data: kept.get(CRF_PARAMETERS.start)! },
      { name: CRF_PARAMETERS.end, shape: [s], data: kept.get(CRF_PARAMETERS.end)! },
    ]);
    writeBytesAtomically(join(outDir, 'metrics.csv'), new TextEncoder().encode(`${metrics.join('\n')}\n`));
    const bestEpoch = state.best?.epoch ?? null;
    let tested = 0;
    if (test.length > 0) {
      options.onProgress?.(1, `Predicting the ${test.length} test proteins`);
      const predictions = await predictSignalPeptideInputs({ step, params: kept }, test.map(inputOfRecord), { arrangement: options.arrangement ?? 0, batchSize: settings.batchSize, ...(options.signal ? { signal: options.signal } : {}) });
      const arrangement: StoredArrangement = { train: [...settings.trainPartitions], validation: [...settings.validationPartitions], test: [...(settings.testPartitions ?? [])], state: 'done', bestEpoch };
      writePredictions(outDir, predictions, [arrangement]);
      tested = test.length;
    }
    const summary: SignalPeptideSummary = {
      task: 'signal-peptide',
      trainProteins: train.length,
      validationProteins: validation.length,
      testProteins: tested,
      steps: state.steps,
      history,
      bestEpoch,
      device: step.device,
      files: { adapter: 'adapter_model.safetensors', head: 'head.safetensors', crf: 'crf.safetensors', metrics: 'metrics.csv' },
    };
    // training.json last: its presence says the run is complete (a cross-validation skips such arrangements).
    writeBytesAtomically(join(outDir, 'training.json'), new TextEncoder().encode(`${JSON.stringify({ settings, model: { name: manifest.name, dir: options.modelDir }, ...summary }, null, 2)}\n`));
    return summary;
  } finally {
    await step.close();
  }
}

/** A SignalP record as a prediction input (its truth known). */
export function inputOfRecord(record: SignalpRecord): SignalPeptideInput {
  return { id: record.id, sequence: record.sequence, kingdom: record.kingdom, partition: record.partition, type: record.type, labels: record.labels };
}
