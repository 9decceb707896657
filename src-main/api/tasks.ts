/**
 * api/tasks — the contract of every job kind: its parameters (what a run was started with, kept
 * with the run) and its summary (what a finished run reports). One schema per kind, used by the
 * services that start jobs, the compute process and the CLI that run them, and the views that show
 * runs. Task bodies live in their domains (jobs/tasks); this file holds no logic.
 */
import { z } from 'zod';
import { ClusterPlacement, Device, FinetuneSettings, LoraTargetName, PeftChoice } from './schemas';

const Precision = z.enum(['fp32', 'fp16', 'int8']);
const Pooling = z.enum(['mean', 'bos', 'max', 'per-token']);
const LearnTask = z.enum(['regression', 'classification']);
const ScanTask = z.enum(['regression', 'classification', 'multilabel']);
const Scaling = z.enum(['standard', 'minmax', 'none']);
const ScoreMethod = z.enum(['wt-marginal', 'masked-marginal', 'pll']);
const Split = z.object({
  scheme: z.enum(['random', 'stratified', 'contiguous', 'modulo', 'column', 'homology', 'temporal']),
  k: z.number().int(),
  seed: z.number().int(),
  column: z.string().optional(),
  identity: z.number().optional(),
  coverage: z.number().optional(),
  removeToBalance: z.boolean().optional(),
  date: z.string().optional(),
});
const StoredMatrix = z.object({ path: z.string(), rows: z.number().int(), cols: z.number().int(), offsetsPath: z.string().nullable() });
const ModelRef = z.object({ id: z.number(), name: z.string(), dir: z.string() });
/** A model of an embedding run, and where its files go (relative to the work folder). */
const EmbedModel = ModelRef.extend({
  /** Default (runs started before this field existed): `<runDir>/<model folder name>`. */
  outDir: z.string().optional(),
});
const Install = { precision: Precision, targetDir: z.string(), catalogId: z.string().nullable() };
/** What an install records: the family's label ('ESM-2', 'ESM C') and the parameter count from the checkpoint (absent in older runs). */
const InstalledModelSummary = {
  dir: z.string(),
  name: z.string(),
  family: z.string().optional(),
  parameters: z.number().optional(),
  layers: z.number(),
  hidden: z.number(),
  precision: Precision,
  sizeBytes: z.number(),
  catalogId: z.string().nullable(),
  source: z.string(),
};
const VariantsCommon = { runDir: z.string(), models: z.array(ModelRef).min(1), device: Device, batchTokens: z.number().int().positive() };
const Notes = z.array(z.string());

/** A signal-peptide run's settings as the task reads them (train/signal-peptide's SignalPeptideSettings). */
const SignalPeptideTaskSettings = z.object({
  lora: z.object({ r: z.number().int().positive(), alpha: z.number().positive(), dropout: z.number().min(0).max(0.9), targets: z.array(LoraTargetName).min(1), layers: z.union([z.literal('all'), z.number().int().positive()]) }),
  epochs: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  lr: z.number().positive(),
  maxGradNorm: z.number().positive(),
  seed: z.number().int(),
  trainPartitions: z.array(z.number().int().min(0)).min(1),
  validationPartitions: z.array(z.number().int().min(0)),
  /** Predicted after training (predictions.json); absent or empty: none. */
  testPartitions: z.array(z.number().int().min(0)).optional(),
  regularization: z.number().min(0).optional(),
  /** LoRA (the `lora` settings, the default), prompt tuning or bottleneck adapters. */
  peft: PeftChoice.optional(),
  device: Device.optional(),
  threads: z.number().int().min(0).optional(),
});

export const TASK_PARAMS = {
  /** The Structure page's contacts and per-layer attention of one sequence. */
  'structure.inspect': z.object({ modelDir: z.string(), modelName: z.string(), sequence: z.string().min(1), outDir: z.string() }),
  /** Integrated gradients of one protein on a finished fine-tuning run (train/attributions): result JSON + CSV, relative to the project folder. */
  'train.explain': z.object({
    runDir: z.string(),
    sequence: z.string().min(1),
    target: z.number().int().min(0).optional(),
    baseline: z.enum(['mask', 'zero']),
    steps: z.number().int().min(1),
    resultPath: z.string(),
    csvPath: z.string(),
  }),
  'variants.score': z.object({
    ...VariantsCommon,
    methods: z.array(ScoreMethod).min(1),
    /** The app's scanned dataset (its rows are the task's input); a command-line run has none. */
    datasetId: z.number().int().optional(),
  }),
  'variants.saturate': z.object({ ...VariantsCommon, method: ScoreMethod, wildType: z.string().min(1), wildTypeName: z.string(), offset: z.number().int() }),
  'system.benchmark': z.object({ seconds: z.number().positive(), size: z.number().int().positive() }),
  'embed.dataset': z.object({
    /** Folder of this run, relative to the work folder. */
    runDir: z.string(),
    /** The dataset embedded (app runs). */
    datasetId: z.number().optional(),
    models: z.array(EmbedModel).min(1),
    layers: z.array(z.number().int()),
    pool: z.array(Pooling),
    batchTokens: z.number().int().positive(),
    device: Device,
    threads: z.number().int().min(0),
    long: z.enum(['window', 'truncate']),
    /** Per-sequence extra outputs (the command line's `--logits`, `--contacts`, `--attention`). */
    logits: z.boolean().default(false),
    contacts: z.boolean().default(false),
    attentionLayers: z.array(z.number().int()).default([]),
    /** Set: the run is a Slurm job array of shards (cluster/), merged into the same files. */
    cluster: ClusterPlacement.nullable().optional(),
  }),
  'model.install': z.object({ source: z.string(), ...Install }),
  'model.download': z.object({ repo: z.string(), downloadDir: z.string(), endpoint: z.string(), ...Install }),
  'embeddings.compress': z.object({ sourceId: z.number().optional(), source: StoredMatrix, bos: StoredMatrix.nullable(), compression: z.string(), outPath: z.string() }),
  'learn.scan': z.object({
    runDir: z.string(),
    target: z.string(),
    /** Multi-label: the 0/1 columns, in order (`target` is their names joined by commas). */
    targets: z.array(z.string()).optional(),
    task: ScanTask,
    learners: z.array(z.string()).min(1),
    split: Split,
    scaling: Scaling,
    classWeight: z.enum(['balanced']).nullable(),
    datasetId: z.number().optional(),
    items: z
      .array(
        z.object({
          embeddingId: z.number(),
          modelName: z.string(),
          /** The model's family label ('ESM-2', 'ESM C'); absent in scans started before families were plotted. */
          modelFamily: z.string().optional(),
          modelParameters: z.number(),
          layer: z.number(),
          pooling: z.string(),
          path: z.string(),
        }),
      )
      .min(1),
  }),
  'learn.predict': z.object({
    modelDir: z.string(),
    layer: z.number().int(),
    pooling: z.string(),
    learner: z.string(),
    task: LearnTask,
    split: Split,
    scaling: Scaling,
    classWeight: z.enum(['balanced']).nullable(),
    trainingPath: z.string(),
    device: Device,
    outPath: z.string(),
    trainingDatasetId: z.number().optional(),
    target: z.string().optional(),
    datasetId: z.number().optional(),
  }),
  'embeddings.export': z.object({ embeddingId: z.number().optional(), source: StoredMatrix, format: z.enum(['npy', 'npz', 'csv', 'parquet']), outPath: z.string() }),
  'map.project': z.object({
    source: z.object({ path: z.string(), rows: z.number().int().positive(), cols: z.number().int().positive() }),
    outPath: z.string(),
    method: z.enum(['pca', 'umap']),
    nNeighbors: z.number().int().min(2),
    minDist: z.number().min(0),
    nEpochs: z.number().int().positive().nullable(),
    seed: z.number().int(),
    pcaDims: z.number().int().min(2),
  }),
  'train.finetune': z.object({
    modelDir: z.string(),
    modelName: z.string(),
    runDir: z.string(),
    settings: FinetuneSettings,
    initAdapterDir: z.string().nullable(),
    /** The app's dataset and target columns (the input holds their rows); a command-line run has none. */
    datasetId: z.number().int().optional(),
    targets: z.array(z.string()).optional(),
  }),
  /**
   * Signal peptides the PEFT-SP way (train/signal-peptide): the input is a SignalP 6.0 3-line FASTA file's name and text
   * (an app run's is written from its dataset). Test partitions are predicted after training (predictions.json).
   */
  'train.signalPeptide': z.object({
    modelDir: z.string(),
    modelName: z.string(),
    runDir: z.string(),
    settings: SignalPeptideTaskSettings,
    /** The app's SignalP dataset (the input is made from its rows); a command-line run has none. */
    datasetId: z.number().int().optional(),
  }),
  /** PEFT-SP's cross-validation: one signal-peptide run per arrangement of the three partitions, in `<runDir>/arrangement-<k>`. */
  'train.signalPeptideCv': z.object({
    modelDir: z.string(),
    modelName: z.string(),
    runDir: z.string(),
    partitions: z.array(z.number().int().min(0)).length(3),
    settings: SignalPeptideTaskSettings.omit({ trainPartitions: true, validationPartitions: true, testPartitions: true }),
    datasetId: z.number().int().optional(),
  }),
  /** Signal peptides of new sequences with a trained run's model (the input: FASTA or SignalP 3-line text). */
  'train.signalPeptidePredict': z.object({
    /** The trained run's folder (relative to the work folder, or absolute). */
    modelRunDir: z.string(),
    runDir: z.string(),
    device: Device,
    /** The kingdom given to every sequence (shown, and used only by models that take it). */
    kingdom: z.enum(['EUKARYA', 'POSITIVE', 'NEGATIVE', 'ARCHAEA']).nullable(),
    /** The base model's folder when it is not where the run recorded it. */
    baseModelDir: z.string().optional(),
    /** App runs: the training run, its base model's name, and where the proteins come from (a dataset, or a FASTA file kept in the project folder). */
    modelRunId: z.number().int().optional(),
    modelName: z.string().optional(),
    datasetId: z.number().int().optional(),
    inputFile: z.string().optional(),
    /** The FASTA file's name as the user chose it (messages). */
    fileName: z.string().optional(),
  }),
  'train.import': z.object({
    sourceDir: z.string(),
    runDir: z.string(),
    modelDir: z.string(),
    /** The base model's name and the imported head's targets, as the app shows the run. */
    modelName: z.string().optional(),
    targets: z.array(z.string()).optional(),
  }),
  'train.predict': z.object({
    runDir: z.string(),
    device: Device,
    outPath: z.string(),
    /** The base model's folder when it is not where the run recorded it (the command line's --model). */
    baseModelDir: z.string().optional(),
    batchTokens: z.number().int().positive().optional(),
    /** The app's dataset whose sequences are predicted. */
    datasetId: z.number().int().optional(),
  }),
} as const;

/** Summaries keep unknown fields (older runs, richer results) but type the ones views read. */
const summary = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

export const TASK_SUMMARIES = {
  'structure.inspect': summary({ outDir: z.string(), layers: z.number(), heads: z.number(), length: z.number(), hasContacts: z.boolean().optional() }),
  'train.explain': summary({ resultPath: z.string(), csvPath: z.string(), completeness: z.number() }),
  'variants.score': summary({
    rows: z.number(),
    scored: z.number(),
    evaluations: z.array(z.looseObject({ model: z.string(), method: z.string(), column: z.string() })),
    notes: Notes,
  }),
  'variants.saturate': summary({ length: z.number(), variants: z.number(), maps: z.array(z.string()), notes: Notes }),
  'system.benchmark': summary({ steps: z.number(), meanGflops: z.number(), size: z.number() }),
  'embed.dataset': summary({
    sequences: z.number(),
    models: z.array(z.string()),
    layers: z.array(z.number()),
    pool: z.array(z.string()),
    long: z.string(),
    device: z.string(),
    seconds: z.number(),
    /** Tokens fed to the models, the device they ran on after any fallback, and why it fell back. */
    tokens: z.number().optional(),
    deviceUsed: z.string().optional(),
    notes: z.array(z.string()).optional(),
  }),
  'model.install': summary(InstalledModelSummary),
  'model.download': summary(InstalledModelSummary),
  'embeddings.compress': summary({ compression: z.string(), rows: z.number(), cols: z.number() }),
  'learn.scan': summary({ fits: z.number(), folds: z.number(), rows: z.number(), leftOut: z.number().optional(), target: z.string(), task: ScanTask, /** Similarity folds: clusters, fold sizes and any balance warning, in words. */ split: z.string().optional() }),
  'learn.predict': summary({ path: z.string(), sequences: z.number(), folds: z.number() }),
  'embeddings.export': summary({ path: z.string(), format: z.string() }),
  'map.project': summary({ method: z.string(), rows: z.number(), cols: z.number(), seconds: z.number(), explainedVariance: z.array(z.number()).nullable() }),
  'train.finetune': summary({
    runDir: z.string(),
    mode: z.enum(['lora', 'head-only']),
    steps: z.number(),
    trainExamples: z.number(),
    validationExamples: z.number(),
    bestEpoch: z.number().nullable(),
    bestMetric: z.number().nullable(),
    metric: z.string(),
    stoppedEarly: z.boolean(),
    device: z.string(),
    fallbackReason: z.string().nullable(),
    /** Rows left out for want of a usable target, and sequences cut to the model's length. */
    skipped: z.number(),
    truncated: z.number(),
    resumedFromStep: z.number().nullable(),
    changedOnResume: z.array(z.object({ setting: z.string(), before: z.unknown(), after: z.unknown() })),
  }),
  'train.signalPeptide': summary({
    runDir: z.string(),
    steps: z.number(),
    trainProteins: z.number(),
    validationProteins: z.number(),
    bestEpoch: z.number().nullable(),
    device: z.string(),
    history: z.array(z.object({ epoch: z.number(), trainLoss: z.number().nullable(), valLoss: z.number().nullable(), valNll: z.number().nullable(), detectionMcc: z.number().nullable(), csMcc: z.number().nullable() })),
  }),
  'train.signalPeptideCv': summary({
    runDir: z.string(),
    arrangements: z.number(),
    /** Mean MCC2 over the paper's 16 cells, averaged over the arrangements; null when undefined. */
    meanMcc2: z.number().nullable(),
    device: z.string(),
  }),
  'train.signalPeptidePredict': summary({ runDir: z.string(), sequences: z.number(), truncated: z.number(), device: z.string() }),
  'train.import': summary({ runDir: z.string(), mode: z.enum(['lora', 'head-only']), importedFrom: z.string(), baseModel: z.string().optional() }),
  'train.predict': summary({ outPath: z.string(), sequences: z.number(), columns: z.array(z.string()), device: z.string(), fallbackReason: z.string().nullable(), truncated: z.number() }),
} as const satisfies Record<keyof typeof TASK_PARAMS, z.ZodType>;

export type TaskKind = keyof typeof TASK_PARAMS;
export type TaskParams<K extends TaskKind> = z.output<(typeof TASK_PARAMS)[K]>;
/** Parameters as a service writes them (defaults may be left out). */
export type TaskParamsInput<K extends TaskKind> = z.input<(typeof TASK_PARAMS)[K]>;
export type TaskSummary<K extends TaskKind> = z.output<(typeof TASK_SUMMARIES)[K]>;

export const TASK_KINDS = Object.keys(TASK_PARAMS) as TaskKind[];

export function isTaskKind(kind: string): kind is TaskKind {
  return Object.hasOwn(TASK_PARAMS, kind);
}

/**
 * A run's summary read as its kind's type; null when the run is of another kind or its summary
 * does not have that shape (e.g. a run that has not finished).
 */
export function summaryOf<K extends TaskKind>(kind: K, run: { kind: string; summary: unknown }): TaskSummary<K> | null {
  if (run.kind !== kind) return null;
  const parsed = TASK_SUMMARIES[kind].safeParse(run.summary);
  return parsed.success ? (parsed.data as TaskSummary<K>) : null;
}

/** A job's or run's parameters as its kind's type; an error when they are of another kind or shape (a bug, not a user's mistake). */
export function requireParams<K extends TaskKind>(kind: K, job: { kind: string; params: unknown }): TaskParams<K> {
  const params = paramsOf(kind, job);
  if (!params) throw new Error(`A ${job.kind} job's parameters are not those of ${kind}.`);
  return params;
}

/** A queued job's parameters (its record: { job: { kind }, params }) read as its kind's; throws when they are not. */
export function requireJobParams<K extends TaskKind>(kind: K, record: { job: { kind: string }; params: unknown }): TaskParams<K> {
  return requireParams(kind, { kind: record.job.kind, params: record.params });
}

/** The app's dataset a job reads its input from (absent only in command-line runs, which never reach the app's hooks). */
export function requireDatasetId(params: { datasetId?: number | undefined }, kind: string): number {
  if (params.datasetId === undefined) throw new Error(`A ${kind} job of the app has no datasetId.`);
  return params.datasetId;
}

/** A run's parameters read as its kind's type; null when they do not have that shape. */
export function paramsOf<K extends TaskKind>(kind: K, run: { kind: string; params: unknown }): TaskParams<K> | null {
  if (run.kind !== kind) return null;
  const parsed = TASK_PARAMS[kind].safeParse(run.params);
  return parsed.success ? (parsed.data as TaskParams<K>) : null;
}
