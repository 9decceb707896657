/**
 * services/train — fine-tuning as jobs: the form's defaults and explanations, checks a request
 * against the project's datasets and installed models (does the target column fit the task?),
 * hands the compute process the labelled table, and predicts datasets with a finished run's
 * merged model, or a head-only run's head (a CSV in the exports folder).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeTextAtomically } from '../core/atomic';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { ApiError, notFound } from '../api/errors';
import { FinetuneSettings, type Dataset, type FinetuneOptions, type InitAdapter, type Job, type JobRequest } from '../api/schemas';
import { readManifest } from '../models/installed';
import { adapterLoraSpecFor } from '../train/finetune-adapter';
import { peftMethodOfFolder, readPromptOrAdapter } from '../train/peft-methods';
import { familyOfManifest } from '../models/installed';
import type { HeadConfig } from '../train/head-config';
import type { Output, ParsedInput } from '../api/contract';
import { checkImportable } from '../train/importable';
import { int8MergeRefusal } from '../train/int8';
import type { LoraSpec } from '../train/lora';
import type { JobHooks, JobRunner } from '../jobs/runner';
import type { FinetuneParams, TrainPredictInput, TrainPredictParams } from '../jobs/tasks/finetune';
import { paramsOf, requireDatasetId, requireJobParams, type TaskParams } from '../api/tasks';
import { AttributionResult } from '../api/schemas';
import type { Store } from '../store';
import type { FinetuneTable } from '../train/finetune-data';
import type { Events } from './events';

type Request = z.output<typeof JobRequest>;
type FinetuneRequest = Extract<Request, { kind: 'train.finetune' }>;
type PredictRequest = Extract<Request, { kind: 'train.predict' }>;
type ImportRequest = Extract<Request, { kind: 'train.import' }>;

/** Run kinds whose folder holds a fine-tuned model (trained here, or imported). */
export const FINETUNED_RUN_KINDS: readonly string[] = ['train.finetune', 'train.import'];

/** What predicting with, or continuing, a fine-tuned run (trained here or imported) reads of its parameters. */
function trainedParams(run: { kind: string; params: unknown }): { runDir: string; targets: string[] } {
  const params = paramsOf('train.finetune', run) ?? paramsOf('train.import', run);
  if (!params) throw new Error(`The parameters of this ${run.kind} run cannot be read.`);
  return { runDir: params.runDir, targets: params.targets ?? [] };
}

const EXPLANATIONS: Record<string, string> = {
  headOnly: 'Keep the whole model frozen and train only the head, on one vector per protein computed once: much faster, often nearly as good; the LoRA settings are then unused.',
  task: 'What to predict: a number per sequence, a class per sequence, several yes/no labels, or a class per residue.',
  loraR: 'Rank of the LoRA adapters: how much the model may change. 8 is a good start; larger learns more but overfits small datasets sooner.',
  loraAlpha: 'Scale of the adapters’ effect (alpha / rank). Usually twice the rank.',
  loraDropout: 'Randomly drops adapter inputs while training, against overfitting. 0 makes a run exactly reproducible.',
  loraTargets: 'Which projections of the attention (and optionally the feed-forward layers) get adapters. Query and value is the usual choice.',
  loraLayers: 'Adapt all layers, or only the top K (closest to the output): fewer is faster and needs less memory.',
  peft: 'How the frozen model is adapted: LoRA (small low-rank updates of its projections; can be merged into the weights), prompt tuning (learned virtual tokens before the sequence) or bottleneck adapters (small networks after the attention and the feed-forward of the top layers). Prompts and adapters stay beside the model when it predicts.',
  'peft.prompt.length': 'Prompt tuning: how many virtual tokens are learned. 10–50 is usual; more can learn more.',
  'peft.prompt.layers': 'Prompt tuning: “input” puts the prompt before the first layer only; “all” gives every layer its own prompt (deep prompt tuning, as PEFT-SP), a number only the top K layers.',
  'peft.adapter.size': 'Bottleneck adapters: width of each adapter (the hidden size is squeezed to it and back). 16–64 is usual.',
  'peft.adapter.layers': 'Bottleneck adapters: adapt all layers, or only the top K.',
  head: 'The small network on top of ESM-2: one linear layer, or SWAT’s Linear → dropout → LayerNorm → Linear.',
  pool: 'How one vector per protein is made: the mean over residues, or the first (<cls>) token.',
  headDropout: 'SWAT head only: dropout between its two linear layers.',
  classWeight: 'Classes only: “balanced” makes a rare class count as much as a common one in the loss (multi-label: positives weighed by how rare they are). Use it when one class dominates.',
  epochs: 'How many times training goes through the training sequences.',
  lr: 'Learning rate: the size of each update. 1e-3 suits LoRA with AdamW; lower it if the loss jumps around.',
  optimizer: 'AdamW (adaptive, the usual choice) or SGD with momentum.',
  momentum: 'SGD only: how much of the previous update carries over.',
  weightDecay: 'Pulls weights towards zero each step, against overfitting.',
  schedule: 'How the learning rate changes over the run: constant, or decaying linearly or along a cosine to 0.',
  warmupRatio: 'Fraction of the steps over which the learning rate rises from 0 at the start.',
  maxGradNorm: 'Clips updates whose gradient norm is larger than this (empty: no clipping).',
  accumulation: 'Adds up gradients over this many batches before each update: a larger effective batch in the same memory.',
  batchTokens: 'Most tokens (sequences × longest length, padding included) per batch: lower it if memory runs out.',
  valFraction: 'Share of the sequences kept aside to validate after every epoch (never trained on).',
  seed: 'Seed of the random choices (split, initialisation, order, dropout): the same seed gives the same run.',
  patience: 'Stop early after this many epochs without a better validation metric (empty: train all epochs).',
  metric: 'The validation metric that picks the best epoch (and early stopping).',
  maxSteps: 'Stop after this many updates whatever the epochs (empty: no limit).',
  shuffle: 'A new random order of the training sequences every epoch. Off: the dataset’s order, exactly reproducible.',
  device: 'Where training runs: the CPU always works; a GPU is used when its provider is installed.',
  threads: 'CPU threads for onnxruntime (0: all cores).',
};

const TASKS: FinetuneOptions['tasks'] = [
  { id: 'regression', label: 'Regression', explanation: 'A number per sequence (activity, stability, expression…); mean squared error.' },
  { id: 'classification', label: 'Classification', explanation: 'One class per sequence (localisation, family…); cross-entropy.' },
  { id: 'multilabel', label: 'Multi-label', explanation: 'Several yes/no (0/1) columns per sequence; binary cross-entropy each.' },
  { id: 'token', label: 'Per residue', explanation: 'A string with one class letter per residue (e.g. secondary structure “HHEE-C”; “?” = unknown).' },
];

const LORA_TARGETS: FinetuneOptions['loraTargets'] = [
  { id: 'query', label: 'Query', explanation: 'Attention query projection.' },
  { id: 'key', label: 'Key', explanation: 'Attention key projection.' },
  { id: 'value', label: 'Value', explanation: 'Attention value projection.' },
  { id: 'qkv', label: 'Query·key·value (ESM C)', explanation: 'ESM C packs query, key and value into one projection: adapt it here (ESM-2 uses the three above).' },
  { id: 'attention-output', label: 'Attention output', explanation: 'The projection after attention.' },
  { id: 'intermediate', label: 'FFN in', explanation: 'First feed-forward layer (larger, slower).' },
  { id: 'output', label: 'FFN out', explanation: 'Second feed-forward layer (exported together with the attention output).' },
];

/** A fine-tune job's parameters: the task's, and what the main side prepares its table from. */

const slug = (text: string): string => text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'x';

export class TrainService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly runner: () => JobRunner,
  ) {}

  options(): FinetuneOptions {
    return { defaults: FinetuneSettings.parse({}), explanations: EXPLANATIONS, tasks: TASKS, loraTargets: LORA_TARGETS };
  }

  startFinetune(request: FinetuneRequest): Job {
    if (!this.store.projects.get(request.projectId)) throw notFound(`Project ${request.projectId}`);
    const dataset = this.dataset(request.datasetId, request.projectId);
    checkTargets(dataset, request.targets, request.task);
    const model = this.store.models.get(request.modelId);
    if (!model) throw notFound(`Model ${request.modelId}`);
    const { kind, projectId, datasetId, modelId, targets, initAdapter, ...rest } = request;
    void modelId;
    let settings = FinetuneSettings.parse(rest);
    if (model.precision === 'int8' && !settings.headOnly) throw new ApiError('invalid-input', int8MergeRefusal(model.name));
    if (settings.headOnly && settings.task === 'token') {
      throw new ApiError('invalid-input', 'Head-only training makes one vector per protein, so it cannot label residues; turn "head only" off for the per-residue task.');
    }
    const start = initAdapter ? this.startingAdapter(initAdapter, projectId, model.path) : null;
    if (start) {
      if (settings.headOnly) throw new ApiError('invalid-input', 'Head-only training trains no adapters, so it cannot continue an adapter; choose new adapters, or train the adapters too.');
      // The adapter fixes the method and its shape; the form's fields for them do not apply.
      if (start.lora) settings = { ...settings, peft: { ...settings.peft, method: 'lora' }, loraR: start.lora.r, loraAlpha: start.lora.alpha, loraTargets: [...start.lora.targets], loraLayers: start.lora.layers };
      else if (start.peft) settings = { ...settings, peft: start.peft };
    }
    const method = settings.peft.method;
    const shape = method === 'prompt' ? `prompt tuning, ${settings.peft.prompt.length} virtual tokens` : method === 'adapter' ? `adapters of size ${settings.peft.adapter.size}` : `LoRA r ${settings.loraR}`;
    const how = settings.headOnly ? 'head only' : `${shape}${start ? `, from ${start.label}` : ''}`;
    // The settings people vary between runs are in the title, so two runs in a list read apart.
    const title = `Fine-tune ${model.name} on ${targets.join(', ')} of ${dataset.name} (${settings.task}, ${how}, lr ${settings.lr}, ${settings.head} head, ${settings.epochs} epochs)`;
    const params = (runId: number | null): FinetuneParams => ({
      datasetId,
      targets,
      modelDir: model.path,
      modelName: model.name,
      runDir: `runs/${runId}`,
      settings,
      initAdapterDir: start?.dir ?? null,
    });
    return this.runner().enqueue({ projectId, kind, title, params, createsRun: true });
  }

  startPredict(request: PredictRequest): Job {
    const run = this.store.runs.get(request.runId);
    if (!run || !FINETUNED_RUN_KINDS.includes(run.kind)) throw notFound(`Fine-tuning run ${request.runId}`);
    if (run.state !== 'done') throw new ApiError('invalid-input', `Run ${run.id} is ${run.state}; only a finished fine-tuning run can predict.`);
    const dataset = this.dataset(request.datasetId, run.projectId);
    const trained = trainedParams(run);
    const name = slug(`run${run.id}-finetuned-${trained.targets.join('-')}-predicts-${dataset.name}`);
    const params: TrainPredictParams = { runDir: trained.runDir, device: request.device, outPath: join('exports', `${name}.csv`), datasetId: dataset.id };
    const title = `Predict ${trained.targets.join(', ')} of ${dataset.name} (fine-tuned run ${run.id})`;
    return this.runner().enqueue({ projectId: run.projectId, kind: request.kind, title, params, createsRun: false });
  }

  /**
   * Integrated gradients of a finished fine-tuning run for one protein (train/attributions), as a
   * short `train.explain` job in the compute process (onnxruntime never runs in the main or serve
   * process), like the Structure page's analysis: the first call queues it and returns the job;
   * once it is done, the same call answers with the per-residue values at once (the result is kept
   * per run, sequence and settings). The CSV lands in the project's exports.
   */
  attributions(input: ParsedInput<'train.attributions'>): Output<'train.attributions'> {
    const run = this.store.runs.get(input.runId);
    if (!run || !FINETUNED_RUN_KINDS.includes(run.kind)) throw notFound(`Fine-tuning run ${input.runId}`);
    if (run.state !== 'done') throw new ApiError('invalid-input', `Run ${run.id} is ${run.state}; only a finished fine-tuning run can be explained.`);
    const folder = this.store.projects.folderOf(run.projectId)!;
    const trained = trainedParams(run);
    const sequence = input.sequence.toUpperCase();
    const key = createHash('sha256').update(JSON.stringify([sequence, input.target ?? null, input.baseline, input.steps])).digest('hex').slice(0, 16);
    const exportName = `${slug(`run${run.id}-attributions-${input.label ?? sequence.slice(0, 12)}`)}.csv`;
    const params: TaskParams<'train.explain'> = {
      runDir: trained.runDir,
      sequence,
      ...(input.target === undefined ? {} : { target: input.target }),
      baseline: input.baseline,
      steps: input.steps,
      resultPath: join(trained.runDir, 'attributions', `${key}.json`),
      csvPath: join('exports', exportName),
    };
    const resultFile = join(folder, params.resultPath);
    if (existsSync(resultFile)) {
      const result = AttributionResult.parse(JSON.parse(readFileSync(resultFile, 'utf8')));
      if (!existsSync(join(folder, params.csvPath))) writeTextAtomically(join(folder, params.csvPath), attributionsCsvText(sequence, result.residues));
      return { ready: true, job: null, result, exportName };
    }
    // The same explanation already queued or running (a second click): follow that one.
    const active = this.store.jobs
      .list(run.projectId)
      .find((job) => job.kind === 'train.explain' && ACTIVE.includes(job.state) && paramsOf('train.explain', { kind: job.kind, params: this.store.jobs.record(job.id)?.params })?.resultPath === params.resultPath);
    const title = `Attributions of ${input.label ?? `a protein of ${sequence.length} residues`} (fine-tuned run ${run.id})`;
    const job = active ? this.runner().describe(active) : this.runner().enqueue({ projectId: run.projectId, kind: 'train.explain', title, params: { ...params }, createsRun: false });
    return { ready: false, job, result: null, exportName };
  }

  /** Checks the folder against the model now (cheap), then copies it and builds the merged model as a job. */
  startImport(request: ImportRequest): Job {
    if (!this.store.projects.get(request.projectId)) throw notFound(`Project ${request.projectId}`);
    const model = this.store.models.get(request.modelId);
    if (!model) throw notFound(`Model ${request.modelId}`);
    const sourceDir = resolve(request.path);
    let config: HeadConfig;
    try {
      config = checkImportable(sourceDir, model.path);
    } catch (error) {
      throw new ApiError('invalid-input', (error as Error).message);
    }
    if (model.precision === 'int8' && config.mode !== 'head-only') throw new ApiError('invalid-input', int8MergeRefusal(model.name));
    const how = config.mode === 'head-only' ? 'head only' : 'LoRA';
    const title = `Imported ${basename(sourceDir)}: ${config.targets.join(', ')} (${config.taskKind}, ${how}) on ${model.name}`;
    const params = (runId: number | null) => ({ sourceDir, runDir: `runs/${runId}`, modelDir: model.path, modelName: model.name, targets: config.targets });
    return this.runner().enqueue({ projectId: request.projectId, kind: request.kind, title, params, createsRun: true });
  }

  hooks(): Record<string, JobHooks> {
    const refresh: JobHooks['onDone'] = (job) => this.events.emit({ type: 'runs', projectId: job.job.projectId! });
    return {
      'train.finetune': {
        prepare: (job) => this.table(requireJobParams('train.finetune', job)),
        onDone: refresh,
        resumableAfterCancel: true,
      },
      'train.import': { onDone: refresh, lane: 'light' },
      'train.predict': {
        prepare: (job) => this.sequences(requireDatasetId(requireJobParams('train.predict', job), 'train.predict')),
        onDone: refresh,
      },
    };
  }

  /** The adapter folder a run continues (relative to the project folder for a run's), checked against the model. */
  private startingAdapter(initAdapter: InitAdapter, projectId: number, modelDir: string): { dir: string; label: string; lora?: Omit<LoraSpec, 'dropout'>; peft?: FinetuneSettings['peft'] } {
    let dir: string;
    let absolute: string;
    let label: string;
    if (initAdapter.kind === 'run') {
      const run = this.store.runs.get(initAdapter.runId);
      if (!run || !FINETUNED_RUN_KINDS.includes(run.kind) || run.projectId !== projectId) throw notFound(`Fine-tuning run ${initAdapter.runId} of this project`);
      if (run.state !== 'done') throw new ApiError('invalid-input', `Run ${run.id} is ${run.state}; only a finished run's adapter can be continued.`);
      if (run.summary.mode === 'head-only') throw new ApiError('invalid-input', `Run ${run.id} trained the head only; it has no adapter to continue.`);
      dir = trainedParams(run).runDir;
      absolute = join(this.store.projects.folderOf(projectId) ?? '', dir);
      label = `run ${run.id}`;
    } else {
      dir = resolve(initAdapter.path);
      absolute = dir;
      label = basename(dir);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ApiError('invalid-input', `There is no folder ${dir} on this computer.`);
    }
    try {
      const manifest = readManifest(modelDir);
      if (peftMethodOfFolder(absolute) === 'lora') return { dir, label, lora: adapterLoraSpecFor(absolute, manifest.config) };
      const { parts } = readPromptOrAdapter(absolute, manifest.config, familyOfManifest(manifest));
      const defaults = FinetuneSettings.parse({}).peft;
      const peft = parts.prompt ? { ...defaults, method: 'prompt' as const, prompt: parts.prompt } : { ...defaults, method: 'adapter' as const, adapter: parts.adapter! };
      return { dir, label, peft };
    } catch (error) {
      throw new ApiError('invalid-input', `The adapter cannot continue on this model: ${(error as Error).message}`);
    }
  }

  private dataset(datasetId: number, projectId: number): Dataset {
    const dataset = this.store.datasets.get(datasetId);
    if (!dataset || dataset.projectId !== projectId) throw notFound(`Dataset ${datasetId} of this project`);
    return dataset;
  }

  private rows(datasetId: number) {
    const dataset = this.store.datasets.get(datasetId);
    if (!dataset) throw notFound(`Dataset ${datasetId}`);
    return this.store.datasets.sequences(datasetId, 0, dataset.sequenceCount);
  }

  private table(params: FinetuneParams): FinetuneTable {
    const rows = this.rows(requireDatasetId(params, 'train.finetune'));
    return {
      ids: rows.map((r) => r.seqId),
      sequences: rows.map((r) => r.sequence),
      columns: (params.targets ?? []).map((name) => ({ name, values: rows.map((r) => r.labels[name] ?? null) })),
    };
  }

  private sequences(datasetId: number): TrainPredictInput {
    const rows = this.rows(datasetId);
    return { ids: rows.map((r) => r.seqId), sequences: rows.map((r) => r.sequence) };
  }
}

/** The target columns exist and fit the task (numbers for regression, one column unless multi-label). */
function checkTargets(dataset: Dataset, targets: readonly string[], task: string): void {
  for (const target of targets) {
    const column = dataset.labelColumns.find((c) => c.name === target);
    if (!column) throw new ApiError('invalid-input', `Dataset "${dataset.name}" has no label column "${target}"; its columns are ${dataset.labelColumns.map((c) => c.name).join(', ') || 'none'}.`);
    if (task === 'regression' && column.type !== 'number') throw new ApiError('invalid-input', `Column "${target}" holds categories, not numbers; choose classification, or a numeric column.`);
  }
  if (task !== 'multilabel' && targets.length > 1) throw new ApiError('invalid-input', `A ${task} task has one target column; choose multi-label for several 0/1 columns.`);
}

const ACTIVE: readonly string[] = ['queued', 'running'];

/** position, residue, attribution (the task writes the same file; kept here when an export was deleted). */
function attributionsCsvText(sequence: string, residues: readonly number[]): string {
  return `${['position,residue,attribution', ...residues.map((value, i) => `${i + 1},${sequence[i] ?? ''},${value}`)].join('\n')}\n`;
}
