/**
 * train/loop — the training loop around a step function that returns loss, predictions and
 * gradients: epochs of token-budget batches (seeded shuffle or fixed order), gradient
 * accumulation over k micro-batches, clipping by global norm, the learning-rate schedule, the
 * optimizer, validation after every epoch with early stopping, "last" and "best" checkpoints,
 * metrics and progress callbacks, and cancellation between optimizer steps.
 *
 * The loop knows nothing of ONNX or proteins: `StepFunction` and `EvaluateFunction` are plugged
 * in by the caller (the ONNX training graph in the app, an analytic model in the tests).
 *
 * Determinism: given the same settings, step function and seed, a run is a pure function of its
 * inputs, and a run resumed from a checkpoint continues bit-identically, because everything that
 * influences later steps — parameters, optimizer buffers, step counters, the generator state, the
 * epoch's batch order (redrawn from the generator state saved at the epoch's start), the epoch's
 * running loss and the early-stopping state — is in the checkpoint, and checkpoints are only
 * taken between optimizer steps (never with half-accumulated gradients).
 */
import type { Metric } from '../api/schemas';
import { CancelledError, yieldToEvents } from '../core/cancel';
import { higherIsBetter, type ValidationMetricName } from '../core/metrics';
import { classificationMetrics, regressionMetrics } from '../learn/metrics';
import { epochBatches, type BatchingOptions, type TrainBatch } from './batches';
import { loadCheckpoint, saveCheckpoint, type CheckpointSlot, type EpochSummary, type LoopPosition, type TrainingCheckpoint } from './checkpoint';
import { clipGradNorm, globalNorm, GradientAccumulator } from './clip';
import { EarlyStopping, type MetricMode } from './early-stopping';
import { createOptimizer, type Optimizer, type OptimizerOptions, type TensorMap } from './optimizers';
import { SeededRng as TrainingRng } from '../core/rng';
import { checkSchedule, learningRate, warmupStepsFromRatio, type ScheduleKind, type ScheduleSpec } from './schedule';

export type { TrainBatch } from './batches';
export type { EpochSummary } from './checkpoint';

export interface StepContext {
  /** The optimizer step this micro-batch contributes to (0-based). */
  step: number;
  epoch: number;
  /** Index of this micro-batch in the epoch. */
  microBatch: number;
  /** A seed for this micro-batch's randomness (dropout masks), drawn from the run's generator. */
  seed: number;
}

export interface StepResult {
  /** Mean loss over the batch's examples (or loss terms). */
  loss: number;
  /** The batch's predictions, row k for `batch.indices[k]`. */
  predictions: Float32Array;
  /** d(mean loss)/d(parameter) for every trained parameter. */
  grads: TensorMap;
  /** How many examples (loss terms) the mean is over; default the batch size. Weights accumulation. */
  weight?: number;
}

export type StepFunction = (batch: TrainBatch, params: TensorMap, context: StepContext) => Promise<StepResult>;

export interface EvaluationResult {
  loss: number;
  /** Row k for `batch.indices[k]`: 1 value (regression) or one logit per class. */
  predictions: Float32Array;
  weight?: number;
}

/** A forward pass without gradients (validation). */
export type EvaluateFunction = (batch: TrainBatch, params: TensorMap) => Promise<EvaluationResult>;

export type ValidationMetric = ValidationMetricName;

export type ValidationTargets =
  | { kind: 'regression'; values: ArrayLike<number> }
  /** Predictions are logits, one per class; the loop applies softmax for AUROC / AUPRC. */
  | { kind: 'classification'; labels: Int32Array; classes: readonly string[] };

export interface ValidationData {
  /** Example indices held out for validation. */
  members: readonly number[];
  /** Indexed by example index (like tokenLengths). */
  targets: ValidationTargets;
  /** What early stopping and the "best" checkpoint follow. */
  metric: ValidationMetric;
}

export interface TrainLoopOptions {
  /** The trained parameters, updated in place (their initial values unless resuming). */
  params: TensorMap;
  /** Tokens of each example, `<cls>` and `<eos>` included. */
  tokenLengths: readonly number[];
  trainMembers: readonly number[];
  step: StepFunction;
  evaluate?: EvaluateFunction;
  validation?: ValidationData;
  epochs: number;
  batching: BatchingOptions;
  /** false: the same fixed batch order every epoch (`--no-shuffle`). */
  shuffle: boolean;
  seed: number;
  /** Micro-batches per optimizer step (default 1). */
  accumulation?: number;
  /** Clip gradients to this global L2 norm; null or absent: no clipping. */
  maxGradNorm?: number | null;
  optimizer: OptimizerOptions;
  schedule: { kind: ScheduleKind; lr: number; warmupSteps?: number; warmupRatio?: number };
  /** Stop after this many optimizer steps (validation and checkpoints still run); also bounds the schedule. */
  maxSteps?: number;
  /** Stop when the validation metric has not improved for `patience` epochs. */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Where "last" / "best" checkpoints go; none are written without it. */
  checkpointDir?: string;
  /** Also save "last" every this many optimizer steps (it is always saved after each epoch and on cancel). */
  checkpointEvery?: number;
  /** Continue a run from this checkpoint (see loadCheckpoint(dir, 'last')). */
  resumeFrom?: TrainingCheckpoint | null;
  /** Saved with every checkpoint (the caller's own settings, to check a resumption against). */
  checkpointExtra?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Per step: train_loss, lr, grad_norm; per epoch: epoch, epoch_train_loss, val_loss, val_<metric>... */
  onMetrics?: (metrics: Metric[]) => void;
  onProgress?: (fraction: number, message: string) => void;
}

export interface TrainResult {
  params: TensorMap;
  /** Parameters of the best validation epoch: a copy, or loaded from the "best" checkpoint; null without validation. */
  bestParams: TensorMap | null;
  steps: number;
  epochsCompleted: number;
  stoppedEarly: boolean;
  bestEpoch: number | null;
  bestMetric: number | null;
  history: EpochSummary[];
}

/**
 * The `grad.<param>` outputs of a training graph as the gradient map the optimizer takes. Every
 * trained parameter must have one with its length: a missing gradient means the graph and the
 * parameter list disagree, which must not pass silently.
 */
export function gradientsFromOutputs(outputs: ReadonlyMap<string, Float32Array>, params: TensorMap): TensorMap {
  const grads: TensorMap = new Map();
  for (const [name, values] of params) {
    const grad = outputs.get(`grad.${name}`);
    if (!grad) throw new Error(`The training graph has no output "grad.${name}" for parameter "${name}".`);
    if (grad.length !== values.length) throw new Error(`Output "grad.${name}" has ${grad.length} values, the parameter ${values.length}.`);
    grads.set(name, grad);
  }
  return grads;
}

/** Which way early stopping follows a metric (core/metrics says which are better low). */
export function metricMode(metric: ValidationMetric): MetricMode {
  return higherIsBetter(metric) ? 'max' : 'min';
}

/** Runs (or resumes) training to the end, early stop or cancellation (CancelledError). */
export async function train(options: TrainLoopOptions): Promise<TrainResult> {
  return new TrainingRun(options).run();
}

/** Optimizer steps in one epoch: the packing depends only on the lengths, so every epoch has as many. */
export function stepsPerEpoch(options: Pick<TrainLoopOptions, 'tokenLengths' | 'trainMembers' | 'batching' | 'accumulation'>): number {
  const batches = epochBatches(options.tokenLengths, options.trainMembers, options.batching).length;
  return Math.ceil(batches / (options.accumulation ?? 1));
}

class TrainingRun {
  private readonly accumulation: number;
  private readonly schedule: ScheduleSpec;
  private readonly optimizer: Optimizer;
  private readonly early: EarlyStopping | null;
  private readonly settings: LoopSettings;
  private position: LoopPosition;
  private rng: TrainingRng;
  private bestParams: TensorMap | null = null;

  constructor(private readonly options: TrainLoopOptions) {
    this.accumulation = options.accumulation ?? 1;
    checkOptions(options, this.accumulation);
    const total = Math.min(options.epochs * stepsPerEpoch(options), options.maxSteps ?? Infinity);
    const warmup = options.schedule.warmupSteps ?? warmupStepsFromRatio(options.schedule.warmupRatio ?? 0, total);
    this.schedule = { kind: options.schedule.kind, lr: options.schedule.lr, warmupSteps: warmup, totalSteps: total };
    checkSchedule(this.schedule);
    this.optimizer = createOptimizer(options.optimizer);
    this.early = options.validation
      ? new EarlyStopping({ mode: metricMode(options.validation.metric), patience: options.earlyStopping?.patience ?? Infinity, minDelta: options.earlyStopping?.minDelta ?? 0 })
      : null;
    this.settings = loopSettings(options, this.accumulation);
    this.rng = new TrainingRng(options.seed);
    this.position = {
      step: 0, epoch: 0, batchInEpoch: 0, epochRngState: this.rng.getState(), rngState: this.rng.getState(),
      epochLossSum: 0, epochLossWeight: 0, earlyStopping: this.early?.state() ?? null, history: [], finished: false,
    };
    if (options.resumeFrom) this.restore(options.resumeFrom);
  }

  async run(): Promise<TrainResult> {
    this.cancelIfAsked(false);
    while (!this.position.finished) {
      const batches = this.batchesOfEpoch();
      await this.trainEpoch(batches);
      await this.endEpoch();
    }
    return this.result();
  }

  // ---- one epoch -------------------------------------------------------------------------------

  /** At an epoch's start, draws its batches; when resuming mid-epoch, redraws the same ones. */
  private batchesOfEpoch(): TrainBatch[] {
    const { tokenLengths, trainMembers, batching, shuffle } = this.options;
    if (!shuffle) return epochBatches(tokenLengths, trainMembers, batching);
    if (this.position.batchInEpoch === 0) {
      this.position.epochRngState = this.rng.getState();
      return epochBatches(tokenLengths, trainMembers, batching, this.rng);
    }
    return epochBatches(tokenLengths, trainMembers, batching, TrainingRng.fromState(this.position.epochRngState));
  }

  private async trainEpoch(batches: TrainBatch[]): Promise<void> {
    while (this.position.batchInEpoch < batches.length && !this.reachedMaxSteps()) {
      const group = batches.slice(this.position.batchInEpoch, this.position.batchInEpoch + this.accumulation);
      await this.optimizerStep(group);
      const { step } = this.position;
      if (this.options.checkpointEvery && step % this.options.checkpointEvery === 0) this.save('last');
      this.options.onProgress?.(step / (this.options.epochs * Math.ceil(batches.length / this.accumulation)), this.progressMessage(batches.length));
      await yieldToEvents(); // lets a cancel message arrive between steps
      this.cancelIfAsked();
    }
  }

  /** Accumulates the group's micro-batches, clips, and takes one optimizer step. */
  private async optimizerStep(group: TrainBatch[]): Promise<void> {
    const { params } = this.options;
    const accumulator = new GradientAccumulator();
    for (const [offset, batch] of group.entries()) {
      const context: StepContext = { step: this.position.step, epoch: this.position.epoch, microBatch: this.position.batchInEpoch + offset, seed: this.rng.nextUint32() };
      const result = await this.options.step(batch, params, context);
      accumulator.add(result.grads, result.loss, result.weight ?? batch.indices.length);
    }
    const { grads, loss, weight } = accumulator.take();
    const norm = this.options.maxGradNorm ? clipGradNorm(grads, this.options.maxGradNorm) : globalNorm(grads);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      throw new Error(`Training diverged at step ${this.position.step + 1}: the loss is ${loss} and the gradient norm ${norm}. Lower the learning rate or enable gradient clipping.`);
    }
    const lr = learningRate(this.schedule, this.position.step);
    this.optimizer.step(params, grads, lr);
    this.position.step += 1;
    this.position.batchInEpoch += group.length;
    this.position.epochLossSum += loss * weight;
    this.position.epochLossWeight += weight;
    this.position.rngState = this.rng.getState();
    this.emit([
      { step: this.position.step, name: 'train_loss', value: loss },
      { step: this.position.step, name: 'lr', value: lr },
      { step: this.position.step, name: 'grad_norm', value: norm },
    ]);
  }

  /** Validation, early stopping, checkpoints; moves the position to the next epoch. */
  private async endEpoch(): Promise<void> {
    const { epoch, step } = this.position;
    const trainLoss = this.position.epochLossSum / this.position.epochLossWeight;
    const validation = this.options.validation && this.options.evaluate ? await this.validate(this.options.validation, this.options.evaluate) : null;
    const metric = validation ? validation[this.options.validation!.metric] ?? NaN : NaN;
    const verdict = validation && this.early ? this.early.update(epoch, metric) : { improved: false, stop: false };
    this.position = {
      ...this.position,
      epoch: epoch + 1, batchInEpoch: 0, epochLossSum: 0, epochLossWeight: 0,
      earlyStopping: this.early?.state() ?? null,
      history: [...this.position.history, { epoch, step, trainLoss, valLoss: finiteOrNull(validation?.loss), valMetric: finiteOrNull(metric) }],
      finished: verdict.stop || epoch + 1 >= this.options.epochs || this.reachedMaxSteps(),
    };
    this.emit(epochMetrics(step, epoch, trainLoss, validation));
    if (verdict.improved) {
      this.bestParams = copyTensors(this.options.params);
      this.save('best');
    }
    this.save('last');
  }

  private async validate(data: ValidationData, evaluate: EvaluateFunction): Promise<Record<string, number>> {
    const batches = epochBatches(this.options.tokenLengths, data.members, this.options.batching);
    const width = data.targets.kind === 'regression' ? 1 : data.targets.classes.length;
    const rows = new Float64Array(data.members.length * width);
    const rowOf = new Map(data.members.map((member, row) => [member, row]));
    let lossSum = 0;
    let weightSum = 0;
    for (const batch of batches) {
      const result = await evaluate(batch, this.options.params);
      if (result.predictions.length !== batch.indices.length * width) {
        throw new Error(`Validation returned ${result.predictions.length} predictions for ${batch.indices.length} sequences × ${width} outputs.`);
      }
      batch.indices.forEach((member, k) => rows.set(result.predictions.subarray(k * width, (k + 1) * width), rowOf.get(member)! * width));
      const weight = result.weight ?? batch.indices.length;
      lossSum += result.loss * weight;
      weightSum += weight;
      await yieldToEvents();
      this.cancelIfAsked(false);
    }
    return { loss: lossSum / weightSum, ...scoreValidation(data, rows, width) };
  }

  private reachedMaxSteps(): boolean {
    return this.options.maxSteps !== undefined && this.position.step >= this.options.maxSteps;
  }

  // ---- checkpoints, cancellation, reporting --------------------------------------------------

  private save(slot: CheckpointSlot): void {
    if (!this.options.checkpointDir) return;
    saveCheckpoint(this.options.checkpointDir, slot, {
      params: this.options.params,
      optimizer: this.optimizer.state(),
      position: this.position,
      extra: { ...this.options.checkpointExtra, settings: JSON.stringify(this.settings) },
    });
  }

  private restore(checkpoint: TrainingCheckpoint): void {
    const differences = settingsDifferences(checkpoint.extra?.settings, this.settings);
    if (differences.length > 0) throw new SettingsChangedError(differences);
    for (const [name, target] of this.options.params) {
      const saved = checkpoint.params.get(name);
      if (!saved || saved.length !== target.length) throw new Error(`The checkpoint has no parameter "${name}" of ${target.length} values.`);
      target.set(saved);
    }
    this.optimizer.load(checkpoint.optimizer, this.options.params);
    this.position = structuredClone(checkpoint.position);
    this.rng = TrainingRng.fromState(this.position.rngState);
    if (this.early && this.position.earlyStopping) this.early.load(this.position.earlyStopping);
    // More epochs or steps than the run was started with: a run that had ended goes on.
    if (this.position.finished && !this.stoppedEarly()) {
      this.position.finished = this.position.epoch >= this.options.epochs || this.reachedMaxSteps();
    }
  }

  private stoppedEarly(): boolean {
    const patience = this.options.earlyStopping?.patience;
    return patience !== undefined && (this.position.earlyStopping?.staleEpochs ?? 0) >= patience;
  }

  /** Between steps: on cancel, saves "last" (when `save`) so that Resume continues from here. */
  private cancelIfAsked(save = true): void {
    if (!this.options.signal?.aborted) return;
    if (save) this.save('last');
    throw new CancelledError();
  }

  private emit(metrics: Metric[]): void {
    const finite = metrics.filter((metric) => Number.isFinite(metric.value));
    if (finite.length > 0) this.options.onMetrics?.(finite);
  }

  private progressMessage(batchesPerEpoch: number): string {
    const total = this.options.epochs * Math.ceil(batchesPerEpoch / this.accumulation);
    const loss = this.position.epochLossSum / this.position.epochLossWeight;
    return `Epoch ${this.position.epoch + 1}/${this.options.epochs}, step ${this.position.step}/${total}, loss ${loss.toPrecision(4)}`;
  }

  private result(): TrainResult {
    const best = this.position.earlyStopping;
    return {
      params: this.options.params,
      bestParams: this.bestParams ?? this.savedBestParams(),
      steps: this.position.step,
      epochsCompleted: this.position.epoch,
      stoppedEarly: this.position.epoch < this.options.epochs,
      bestEpoch: best?.bestEpoch ?? null,
      bestMetric: best?.best ?? null,
      history: this.position.history,
    };
  }

  /** After a resume, the best epoch may predate this call: its parameters are in the "best" slot. */
  private savedBestParams(): TensorMap | null {
    const dir = this.options.checkpointDir;
    if (!dir || this.position.earlyStopping?.bestEpoch === null || this.position.earlyStopping?.bestEpoch === undefined) return null;
    return loadCheckpoint(dir, 'best')?.params ?? null;
  }
}

// ---------------------------------------------------------------------------------------------

/** Every validation score: R², Spearman... for regression; accuracy, AUROC... for classes. */
function scoreValidation(data: ValidationData, rows: Float64Array, width: number): Record<string, number> {
  const { targets, members } = data;
  if (targets.kind === 'regression') {
    const y = Float64Array.from(members, (member) => targets.values[member] ?? NaN);
    const { r2, spearman, pearson, rmse, mae } = regressionMetrics(y, rows);
    return { r2, spearman, pearson, rmse, mae };
  }
  const labels = Int32Array.from(members, (member) => targets.labels[member] ?? -1);
  const scores = classificationMetrics(labels, { data: softmaxRows(rows, width), rows: members.length, cols: width }, targets.classes);
  return {
    accuracy: scores.accuracy,
    balanced_accuracy: scores.balancedAccuracy,
    macro_f1: scores.macroF1,
    mcc: scores.mcc,
    auroc: scores.auroc ?? NaN,
    auprc: scores.auprc ?? NaN,
  };
}

/** Logits → probabilities per row (max subtracted first, so large logits do not overflow). */
function softmaxRows(logits: Float64Array, width: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let start = 0; start < logits.length; start += width) {
    const row = logits.subarray(start, start + width);
    const max = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < width; c++) sum += out[start + c] = Math.exp(row[c]! - max);
    for (let c = 0; c < width; c++) out[start + c] = out[start + c]! / sum;
  }
  return out;
}

function epochMetrics(step: number, epoch: number, trainLoss: number, validation: Record<string, number> | null): Metric[] {
  const metrics: Metric[] = [
    { step, name: 'epoch', value: epoch + 1 },
    { step, name: 'epoch_train_loss', value: trainLoss },
  ];
  for (const [name, value] of Object.entries(validation ?? {})) metrics.push({ step, name: `val_${name}`, value });
  return metrics;
}

function checkOptions(options: TrainLoopOptions, accumulation: number): void {
  if (!Number.isSafeInteger(options.epochs) || options.epochs < 1) throw new RangeError(`Epochs must be ≥ 1, got ${options.epochs}.`);
  if (!Number.isSafeInteger(accumulation) || accumulation < 1) throw new RangeError(`Gradient accumulation must be ≥ 1 micro-batch, got ${accumulation}.`);
  if (options.trainMembers.length === 0) throw new Error('There are no training examples.');
  if (options.validation && !options.evaluate) throw new Error('A validation set needs an evaluate function.');
  if (options.validation?.members.length === 0) throw new Error('The validation set is empty.');
  if (options.earlyStopping && !options.validation) throw new Error('Early stopping needs a validation set.');
  const max = options.maxSteps;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) throw new RangeError(`maxSteps must be ≥ 1, got ${max}.`);
  const every = options.checkpointEvery;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 1)) throw new RangeError(`checkpointEvery must be ≥ 1 step, got ${every}.`);
}

type LoopSettings = ReturnType<typeof loopSettings>;

/**
 * The settings a checkpoint is saved with. All must be the same to resume it, except those that
 * only say how far to go: more epochs, and any step limit (RESUME_MAY_CHANGE). The schedule is
 * compared as given; its length follows epochs and maxSteps, so the steps after a resumption
 * with a new length follow the new schedule.
 */
function loopSettings(options: TrainLoopOptions, accumulation: number) {
  const { kind, lr, warmupSteps, warmupRatio } = options.schedule;
  return {
    trainMembers: options.trainMembers.length,
    validationMembers: options.validation?.members.length ?? 0,
    metric: options.validation?.metric ?? null,
    epochs: options.epochs,
    batching: options.batching,
    shuffle: options.shuffle,
    seed: options.seed,
    accumulation,
    maxGradNorm: options.maxGradNorm ?? null,
    optimizer: options.optimizer,
    schedule: { kind, lr, warmupSteps: warmupSteps ?? null, warmupRatio: warmupRatio ?? null },
    earlyStopping: options.earlyStopping ?? null,
    maxSteps: options.maxSteps ?? null,
    params: [...options.params].map(([name, values]) => [name, values.length]),
  };
}

/** One setting that differs between a checkpoint and the run asked to continue it. */
export interface SettingDifference {
  setting: string;
  before: unknown;
  after: unknown;
}

/** A resumption refused because settings that shape the result differ; names each one. */
export class SettingsChangedError extends Error {
  constructor(readonly differences: readonly SettingDifference[]) {
    super(
      `The checkpoint was saved by a run with other settings, so it cannot be continued with these: ${differences
        .map((d) => `${d.setting} was ${JSON.stringify(d.before)}, now ${JSON.stringify(d.after)}`)
        .join('; ')}. Use the same settings to continue it, or start a new run in another folder.`,
    );
  }
}

/** Whether a checkpoint's setting may differ on resumption: limits of how far to train. */
const RESUME_MAY_CHANGE: Record<string, (before: unknown, after: unknown) => boolean> = {
  maxSteps: () => true,
  epochs: (before, after) => typeof before === 'number' && typeof after === 'number' && after >= before,
};

function settingsDifferences(saved: unknown, current: LoopSettings): SettingDifference[] {
  let before: Record<string, unknown>;
  try {
    before = typeof saved === 'string' ? (JSON.parse(saved) as Record<string, unknown>) : {};
  } catch {
    before = {};
  }
  const differences: SettingDifference[] = [];
  for (const [setting, after] of Object.entries(current)) {
    const was = before[setting] ?? null;
    if (JSON.stringify(was) === JSON.stringify(after)) continue;
    if (RESUME_MAY_CHANGE[setting]?.(was, after)) continue;
    differences.push({ setting, before: was, after });
  }
  return differences;
}

function copyTensors(tensors: TensorMap): TensorMap {
  return new Map([...tensors].map(([name, values]) => [name, values.slice()]));
}

function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}
