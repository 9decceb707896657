/**
 * train/finetune — one fine-tuning run from a labelled table to the files a user keeps, the same
 * for the app's job (jobs/tasks/finetune) and `esm-studio finetune` (cli/finetune):
 *
 *   table → examples → validation split → initial tensors (PEFT init, or an adapter folder)
 *         → train (loop.ts over the ONNX step) → adapter_model.safetensors + adapter_config.json,
 *           head.safetensors + head_config.json, merged/ (a model folder with prediction.onnx),
 *           metrics.csv, training.json
 *
 * The model is adapted by LoRA, prompt tuning or bottleneck adapters (`settings.peft`,
 * train/peft-methods); prompts and adapters are not folded into merged/'s weights but carried by
 * its prediction.onnx.
 *
 * Checkpoints go to `<out>/checkpoints`; a run started again on the same folder with the same
 * settings continues from the last one, optimizer state included (the loop refuses a
 * checkpoint made with other settings). The saved adapter is the best validation epoch's when
 * there is a validation set, else the last step's. The results are written into a staging
 * folder and moved into place together, training.json last (train/staging), so a killed run
 * never leaves an adapter that looks finished.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FinetuneSettings, Metric } from '../api/schemas';
import type { Device } from '../engine/session';
import { familyOfManifest, readManifest, type ModelManifest } from '../models/installed';
import { writeBytesAtomically, writeFailure, writingFile } from '../core/atomic';
import { validationMetricsFor } from '../core/metrics';
import { openResultsStaging, publishResults, settleResults } from './staging';
import { validationSplit } from './batches';
import { loadCheckpoint } from './checkpoint';
import { applyInitAdapter, peftSettings, shapedParameters } from './finetune-adapter';
import { initPeft, methodOf, peftMethodOfFolder, peftParameters, peftPartsOf, PEFT_LABELS, readPromptOrAdapter, writePromptOrAdapter, type PeftMethod, type PeftParts } from './peft-methods';
import { prepareExamples, type FinetuneTable, type PreparedExamples } from './finetune-data';
import { initHead, type HeadSpec } from './heads';
import type { LoraSpec } from './lora';
import { train, type SettingDifference, type TrainResult, type ValidationData, type ValidationMetric } from './loop';
import { checkResumable, runIdentity } from './resume-settings';
import { writeMergedModel } from './merge';
import { int8MergeRefusal } from './int8';
import { OnnxTrainer, taskSpecOf } from './onnx-step';
import type { OptimizerOptions, TensorMap } from './optimizers';
import { readHeadTensors, readPeftAdapter, writeHead, writePeftAdapter } from './peft';
import { HEAD_GRAPH_FILE } from './head-config';
import { sequenceTaskOf, storedEmbeddings, writeHeadGraphs, writeHeadPredictionGraph } from './head-only';
import { SeededRng as TrainingRng } from '../core/rng';
import { taskOutDim, type TaskSpec } from './graph';
import { weightedTask } from './class-weights';
import type { ModelConfig, ModelFamily } from '../models/family';

export const CHECKPOINT_DIR = 'checkpoints';
export const MERGED_DIR = 'merged';
export const METRICS_CSV = 'metrics.csv';
const METRICS_LOG = 'metrics.jsonl';
export const SUMMARY_FILE = 'training.json';

export interface FinetuneRunOptions {
  /** An installed (converted) model folder. */
  modelDir: string;
  /** The run's folder: outputs and checkpoints. */
  outDir: string;
  table: FinetuneTable;
  settings: FinetuneSettings;
  /** Start from this PEFT adapter folder instead of PEFT's init. */
  initAdapterDir?: string | null;
  signal?: AbortSignal;
  onMetrics?: (metrics: Metric[]) => void;
  onProgress?: (fraction: number, message: string) => void;
  /** After each optimizer step (the "last" checkpoint is at most `checkpointEvery` steps behind). */
  onStep?: (step: number) => void;
  /** Save the "last" checkpoint every this many steps (besides every epoch end); default 10. */
  checkpointEvery?: number;
}

export interface FinetuneSummary extends Record<string, unknown> {
  task: string;
  examples: number;
  trainExamples: number;
  validationExamples: number;
  skipped: number;
  truncated: number;
  steps: number;
  epochsCompleted: number;
  stoppedEarly: boolean;
  /** Counted from 1, as the progress bar and the curves count epochs (the loop counts from 0). */
  bestEpoch: number | null;
  bestMetric: number | null;
  metric: string;
  finalTrainLoss: number | null;
  finalValLoss: number | null;
  resumedFromStep: number | null;
  /** Settings that differ from the checkpoint's and may (the step limit, more epochs, device, threads). */
  changedOnResume: SettingDifference[];
  device: Device;
  fallbackReason: string | null;
  classes: string[] | null;
  /** 'lora': the model adapted (by `peft`) and a head; 'head-only': the head on stored vectors of the frozen model. */
  mode: 'lora' | 'head-only';
  /** How the model was adapted (null for head-only runs). */
  peft: PeftMethod | null;
  /** Paths in the run folder; head-only runs have no adapter and no merged model (head.onnx instead). */
  files: { adapter: string | null; head: string; merged: string | null; headGraph: string | null; metrics: string };
}

/** Settings → the loop's and the graph's specs. */
export function loraSpecOf(settings: FinetuneSettings): LoraSpec {
  return { r: settings.loraR, alpha: settings.loraAlpha, dropout: settings.loraDropout, targets: settings.loraTargets, layers: settings.loraLayers };
}

/** What the graph adapts: the chosen PEFT method's parts (LoRA by default). */
export function peftPartsOfSettings(settings: FinetuneSettings): PeftParts {
  return peftPartsOf(settings.peft, loraSpecOf(settings));
}

export function headSpecOf(settings: FinetuneSettings): HeadSpec {
  const kind = settings.task === 'token' ? 'linear' : settings.head;
  return kind === 'swat' ? { kind, pool: settings.pool, dropout: settings.headDropout } : { kind, pool: settings.pool };
}

function optimizerOf(settings: FinetuneSettings): OptimizerOptions {
  return settings.optimizer === 'sgd'
    ? { kind: 'sgd', momentum: settings.momentum, weightDecay: settings.weightDecay }
    : { kind: 'adamw', weightDecay: settings.weightDecay };
}

/** The validation targets the loop scores, and the metric it follows (loss where the task has no other). */
function validationOf(prepared: PreparedExamples, members: number[], metric: ValidationMetric): ValidationData | undefined {
  if (members.length === 0) return undefined;
  const { targets } = prepared.examples;
  if (targets.kind === 'regression') {
    const ok = validationMetricsFor('regression').includes(metric);
    return { members, targets: { kind: 'regression', values: targets.values }, metric: ok ? metric : 'loss' };
  }
  if (targets.kind === 'classification') {
    const ok = validationMetricsFor('classification').includes(metric);
    return { members, targets: { kind: 'classification', labels: targets.labels, classes: targets.classes }, metric: ok ? metric : 'loss' };
  }
  const none = new Float64Array(prepared.examples.tokens.length).fill(NaN);
  return { members, targets: { kind: 'regression', values: none }, metric: 'loss' };
}

/** PEFT's init for the adapters, PyTorch's for the head (seeded), or an adapter folder's tensors. */
function initialParameters(trainer: OnnxTrainer, options: FinetuneRunOptions, manifest: ModelManifest, family: ModelFamily, task: TaskSpec): TensorMap {
  const { settings } = options;
  const { config } = manifest;
  const peft = settings.headOnly ? [] : initPeft(peftPartsOfSettings(settings), options.modelDir, manifest, family, settings.seed);
  const params: TensorMap = new Map([...peft, ...initHead(headSpecOf(settings), config.hiddenSize, taskOutDim(task), settings.seed + 1)]);
  if (options.initAdapterDir) applyInitAdapter(params, trainer.trainable, readInitAdapter(options.initAdapterDir, settings, config, family), options.initAdapterDir);
  for (const spec of trainer.trainable) {
    if (!params.has(spec.name)) throw new Error(`Internal error: no initial value for ${spec.name}.`);
  }
  return new Map(trainer.trainable.map((spec) => [spec.name, params.get(spec.name)!]));
}

/** An adapter folder to start from, of the method the settings train (LoRA, a prompt or bottleneck adapters). */
function readInitAdapter(dir: string, settings: FinetuneSettings, config: ModelConfig, family: ModelFamily): Parameters<typeof applyInitAdapter>[2] {
  const method = peftMethodOfFolder(dir);
  const wanted = methodOf(peftPartsOfSettings(settings));
  if (method !== wanted) throw new Error(`${dir} holds ${PEFT_LABELS[method]}, but this run trains ${PEFT_LABELS[wanted]}; choose that method to continue training it.`);
  if (method === 'lora') return readPeftAdapter(dir);
  const saved = readPromptOrAdapter(dir, config, family);
  if (JSON.stringify(saved.parts) !== JSON.stringify(peftPartsOfSettings(settings))) {
    throw new Error(`${dir} holds ${PEFT_LABELS[method]} of another size (${JSON.stringify(saved.parts.prompt ?? saved.parts.adapter)}); set the same sizes to continue training it.`);
  }
  const shapes = new Map(peftParameters(saved.parts, config, family).map((p) => [p.name, p.shape]));
  const tensors = new Map([...saved.tensors].map(([name, data]) => [name, { shape: shapes.get(name)!, data }]));
  return { lora: tensors, head: readHeadTensors(dir) };
}

/** Appends metrics to the run's log (one JSON line per batch), so a resumed run keeps earlier ones. */
function metricsLogger(outDir: string, forward?: (metrics: Metric[]) => void): (metrics: Metric[]) => void {
  return (metrics) => {
    const log = join(outDir, METRICS_LOG);
    writingFile(log, () => appendFileSync(log, `${JSON.stringify(metrics)}\n`));
    forward?.(metrics);
  };
}

/** metrics.csv (step,name,value) from the log: the last value of each (step, name), by name then step; into `target` (default the run folder). */
export function writeMetricsCsv(outDir: string, target = outDir): void {
  const log = join(outDir, METRICS_LOG);
  const latest = new Map<string, Metric>();
  if (existsSync(log)) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let batch: Metric[];
      try {
        batch = JSON.parse(line) as Metric[];
      } catch {
        continue; // a line cut by a crash
      }
      for (const m of batch) latest.set(`${m.name}\u0000${m.step}`, m);
    }
  }
  const rows = [...latest.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.step - b.step));
  const text = ['step,name,value', ...rows.map((m) => `${m.step},${m.name},${m.value}`)].join('\n');
  writeBytesAtomically(join(target, METRICS_CSV), new TextEncoder().encode(`${text}\n`));
}

/** Share of a head-only run's progress bar taken by pooling the sequences (the slow part). */
const POOLING_SHARE = 0.6;

/** The loop's progress, after the pooling's share of the bar in a head-only run. */
function trainingProgress(settings: FinetuneSettings, report: (fraction: number, message: string) => void): (fraction: number, message: string) => void {
  if (!settings.headOnly) return report;
  return (fraction, message) => report(POOLING_SHARE + (1 - POOLING_SHARE) * fraction, message);
}

/** Head-only: the examples' pooled vectors (computed once, kept in the run folder) and sessions on the head's graphs. */
async function openHeadOnlyTrainer(options: FinetuneRunOptions, prepared: PreparedExamples, head: HeadSpec, task: TaskSpec): Promise<OnnxTrainer> {
  const { settings, outDir } = options;
  const sequenceTask = sequenceTaskOf(task);
  const tokens = prepared.examples.tokens;
  const stored = await storedEmbeddings(outDir, options.modelDir, tokens, head, sequenceTask, {
    device: settings.device,
    threads: settings.threads,
    batchTokens: settings.batchTokens,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (done, total) => options.onProgress?.(POOLING_SHARE * (done / total), `Embedding the sequences once with the frozen model: ${done} of ${total}`),
  });
  const graphs = await writeHeadGraphs(outDir, { inDim: stored.dim, head, task: sequenceTask }, settings.seed);
  return OnnxTrainer.openHeadOnly(graphs, prepared.examples, stored, { device: settings.device, threads: settings.threads });
}

/** Runs (or continues) a fine-tuning run and writes its outputs. */
export async function runFinetune(options: FinetuneRunOptions): Promise<FinetuneSummary> {
  const { settings, outDir } = options;
  writingFile(outDir, () => mkdirSync(outDir, { recursive: true }));
  settleResults(outDir, MERGED_DIR);
  const manifest = readManifest(options.modelDir);
  // Before any training: the merge at the end would refuse it.
  if (manifest.precision === 'int8' && !settings.headOnly) throw new Error(int8MergeRefusal(manifest.name));
  const family = familyOfManifest(manifest);
  const prepared = prepareExamples(options.table, settings.task, family.tokenizer);
  const { examples } = prepared;
  const labels = examples.targets.kind === 'classification' ? examples.targets.labels : undefined;
  // Its own generator: the split must not shift when the training's draws change.
  const split = validationSplit(examples.tokens.length, settings.valFraction, new TrainingRng(settings.seed ^ 0x5eed5), labels);
  const parts = peftPartsOfSettings(settings);
  const head = headSpecOf(settings);
  const task = weightedTask(taskSpecOf(examples.targets), examples.targets, split.train, settings.classWeight);
  if (settings.headOnly && options.initAdapterDir) {
    throw new Error('Head-only training trains no adapters, so it cannot start from an adapter folder; turn "head only" off to continue training an adapter.');
  }
  const checkpointDir = join(outDir, CHECKPOINT_DIR);
  const resumeFrom = loadCheckpoint(checkpointDir, 'last');
  const identity = runIdentity(settings, options.table);
  const changedOnResume = checkResumable(resumeFrom, identity); // before the slow part: a refusal comes at once
  const trainer = settings.headOnly
    ? await openHeadOnlyTrainer(options, prepared, head, task)
    : await OnnxTrainer.open(options.modelDir, examples, { ...parts, head, task, device: settings.device, threads: settings.threads, seed: settings.seed });
  try {
    const params = initialParameters(trainer, options, manifest, family, task);
    writeJson(join(outDir, 'split.json'), { train: split.train.map((i) => prepared.ids[i]), validation: split.validation.map((i) => prepared.ids[i]) });
    const validation = validationOf(prepared, split.validation, settings.metric);
    const onMetrics = metricsLogger(outDir, options.onMetrics);
    const result = await train({
      params,
      tokenLengths: examples.tokens.map((t) => t.length),
      trainMembers: split.train,
      step: trainer.step,
      evaluate: trainer.evaluate,
      ...(validation ? { validation } : {}),
      epochs: settings.epochs,
      batching: { tokenBudget: settings.batchTokens },
      shuffle: settings.shuffle,
      seed: settings.seed,
      accumulation: settings.accumulation,
      maxGradNorm: settings.maxGradNorm,
      optimizer: optimizerOf(settings),
      schedule: { kind: settings.schedule, lr: settings.lr, warmupRatio: settings.warmupRatio },
      ...(settings.maxSteps ? { maxSteps: settings.maxSteps } : {}),
      ...(settings.patience && validation ? { earlyStopping: { patience: settings.patience } } : {}),
      checkpointDir,
      checkpointEvery: options.checkpointEvery ?? 10,
      resumeFrom,
      checkpointExtra: { run: identity },
      ...(options.signal ? { signal: options.signal } : {}),
      onMetrics: (metrics) => {
        onMetrics(metrics);
        const step = metrics.find((m) => m.name === 'train_loss')?.step;
        if (step !== undefined) options.onStep?.(step);
      },
      ...(options.onProgress ? { onProgress: trainingProgress(settings, options.onProgress) } : {}),
    });
    options.onProgress?.(0.97, settings.headOnly ? 'Writing the head' : 'Writing the adapter and the merged model');
    const staging = openResultsStaging(outDir);
    try {
      const files = await writeOutputs(options, staging, trainer, result, manifest.name, prepared, task);
      writeMetricsCsv(outDir, staging);
      const summary = summarize(options, prepared, split, result, trainer, resumeFrom?.position.step ?? null, files, validation?.metric ?? 'loss', changedOnResume);
      writeJson(join(staging, SUMMARY_FILE), { settings, model: { name: manifest.name, dir: options.modelDir }, ...summary, history: result.history });
      publishResults(staging, outDir);
      return summary;
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw writeFailure(outDir, error); // a full disk names the run's folder when no file was named
    }
  } finally {
    await trainer.close();
  }
}

/** The run's results, into `outDir` (the staging folder). */
async function writeOutputs(options: FinetuneRunOptions, outDir: string, trainer: OnnxTrainer, result: TrainResult, baseName: string, prepared: PreparedExamples, task: TaskSpec): Promise<FinetuneSummary['files']> {
  const { settings } = options;
  const manifest = readManifest(options.modelDir);
  const params = result.bestParams ?? result.params;
  const { lora, head } = shapedParameters(params, trainer.trainable);
  const headSpec = headSpecOf(settings);
  const targets = prepared.examples.targets;
  const names = targets.kind === 'classification' || targets.kind === 'token' ? targets.classes : targets.kind === 'multilabel' ? targets.labels : null;
  const headConfig = {
    head: headSpec,
    task,
    taskKind: settings.task,
    targets: options.table.columns.map((c) => c.name),
    classes: names,
    hiddenSize: manifest.config.hiddenSize,
    mode: settings.headOnly ? 'head-only' : 'lora',
    peft: settings.headOnly ? null : methodOf(peftPartsOfSettings(settings)),
    baseModel: { name: manifest.name, dir: resolve(options.modelDir) },
  };
  if (settings.headOnly) {
    writeHead(outDir, head, headConfig);
    await writeHeadPredictionGraph(outDir, { inDim: manifest.config.hiddenSize, head: headSpec, task: sequenceTaskOf(task) }, new Map([...head].map(([name, t]) => [name, t.data])));
    return { adapter: null, head: 'head.safetensors', merged: null, headGraph: HEAD_GRAPH_FILE, metrics: METRICS_CSV };
  }
  const parts = peftPartsOfSettings(settings);
  const family = familyOfManifest(manifest);
  if (parts.lora) writePeftAdapter(outDir, { settings: peftSettings(parts.lora, manifest.config, baseName, settings.task, family), lora, head, headConfig });
  else {
    writePromptOrAdapter(outDir, parts, lora, manifest.config, family, baseName, settings.task);
    writeHead(outDir, head, headConfig);
  }
  const merged = join(outDir, MERGED_DIR);
  await writeMergedModel(options.modelDir, merged, {
    lora: parts.lora,
    ...(parts.lora ? {} : { carried: { prompt: parts.prompt, adapter: parts.adapter } }),
    adapters: new Map([...lora].map(([name, t]) => [name, t.data])),
    head: { spec: headSpec, task, weights: new Map([...head].map(([name, t]) => [name, t.data])) },
    name: `${baseName} fine-tuned (${options.table.columns.map((c) => c.name).join(', ')})`,
  });
  return { adapter: 'adapter_model.safetensors', head: 'head.safetensors', merged: MERGED_DIR, headGraph: null, metrics: METRICS_CSV };
}

function summarize(
  options: FinetuneRunOptions,
  prepared: PreparedExamples,
  split: { train: number[]; validation: number[] },
  result: TrainResult,
  trainer: OnnxTrainer,
  resumedFromStep: number | null,
  files: FinetuneSummary['files'],
  metric: string,
  changedOnResume: SettingDifference[],
): FinetuneSummary {
  const last = result.history.at(-1);
  const targets = prepared.examples.targets;
  return {
    task: options.settings.task,
    examples: prepared.examples.tokens.length,
    trainExamples: split.train.length,
    validationExamples: split.validation.length,
    skipped: prepared.skipped,
    truncated: prepared.truncated,
    steps: result.steps,
    epochsCompleted: result.epochsCompleted,
    stoppedEarly: result.stoppedEarly,
    bestEpoch: result.bestEpoch === null ? null : result.bestEpoch + 1,
    bestMetric: result.bestMetric,
    metric,
    finalTrainLoss: last?.trainLoss ?? null,
    finalValLoss: last?.valLoss ?? null,
    resumedFromStep,
    device: trainer.device,
    fallbackReason: trainer.fallbackReason,
    classes: targets.kind === 'classification' || targets.kind === 'token' ? targets.classes : null,
    mode: options.settings.headOnly ? 'head-only' : 'lora',
    peft: options.settings.headOnly ? null : methodOf(peftPartsOfSettings(options.settings)),
    files,
    changedOnResume,
  };
}

function writeJson(path: string, value: unknown): void {
  writeBytesAtomically(path, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`));
}
