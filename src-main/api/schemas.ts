/**
 * api/schemas — the data shapes that cross the boundary between the renderer (or CLI) and the
 * services. Pure zod schemas and their inferred types; no logic, no Node imports, so the renderer
 * can import this file too.
 */
import { z } from 'zod';
import { DEVICES } from '../core/devices';
import { VALIDATION_METRIC_NAMES } from '../core/metrics';

export const Id = z.number().int().positive();

// ---------- projects ----------
export const ProjectName = z
  .string()
  .trim()
  .min(1, 'A project needs a name.')
  .max(120, 'Project names are limited to 120 characters.');

export const Project = z.object({
  id: Id,
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  datasetCount: z.number().int(),
  runCount: z.number().int(),
});
export type Project = z.infer<typeof Project>;

// ---------- datasets ----------
export const SequenceFormat = z.enum(['fasta', 'csv', 'tsv']);
export type SequenceFormat = z.infer<typeof SequenceFormat>;

/** Where the file comes from: its text (browser / Electron file picker) or a local path (CLI). */
export const ImportSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), fileName: z.string().min(1), text: z.string() }),
  z.object({ kind: z.literal('path'), path: z.string().min(1) }),
]);
export type ImportSource = z.infer<typeof ImportSource>;

export const ImportOptions = z.object({
  /** Detected from the file name when absent. */
  format: SequenceFormat.optional(),
  /** CSV/TSV only: the column holding sequences (default: a column named like "sequence"). */
  sequenceColumn: z.string().optional(),
  /** CSV/TSV only: the column holding identifiers (default: "id"/"name", else the row number). */
  idColumn: z.string().optional(),
  /**
   * CSV/TSV only: a deep-mutational scan. Rows name mutations of a wild type (column `column`, by
   * default one named like "mutant"); each row's sequence is the wild type with its mutations.
   */
  mutations: z
    .object({
      /**
       * The wild type: FASTA text or bare residues. A FASTA with several records needs
       * `wildTypeRecord`, unless one record's name starts the table's file name.
       */
      wildType: z.string().min(1),
      /** Which record of a several-record wild-type FASTA to use (its name, the first word of its header). */
      wildTypeRecord: z.string().trim().min(1).optional(),
      column: z.string().optional(),
      /** Number of the wild type's first residue minus 1 (0 when numbering starts at 1). */
      offset: z.number().int().min(0).default(0),
    })
    .optional(),
});
export type ImportOptions = z.infer<typeof ImportOptions>;

export const ImportProblem = z.object({
  /** 1-based record number in the file (FASTA record or table data row); 0 when the problem is outside any record. */
  record: z.number().int(),
  /** 1-based line in the file where the record (or the offending character) is. */
  line: z.number().int(),
  id: z.string(),
  kind: z.enum(['invalid-character', 'empty-sequence', 'missing-sequence', 'bad-row', 'wild-type-mismatch', 'bad-mutation', 'bad-value']),
  /** 1-based residue position for invalid characters. */
  position: z.number().int().optional(),
  message: z.string(),
  /** Mutation scans: the mutation as written in the row (the first that does not match, for mismatches). */
  mutation: z.string().optional(),
  /** Mutation scans, wild-type mismatches: the residue the wild type has at that position. */
  found: z.string().optional(),
});
export type ImportProblem = z.infer<typeof ImportProblem>;

export const ImportNotice = z.object({
  kind: z.enum(['renamed-duplicate-id', 'duplicate-sequence', 'too-long', 'stop-stripped', 'lower-case', 'missing-values', 'index-column', 'offset-hint', 'unusual-residues']),
  message: z.string(),
  record: z.number().int().optional(),
});
export type ImportNotice = z.infer<typeof ImportNotice>;

export const LengthStats = z.object({
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  median: z.number(),
});

/** What a mutation dataset keeps of its wild type, so scoring and position-grouped CV can use it. */
/** What a mutation scan covers (rows that can be imported). */
export const MutationSummary = z.object({
  /** Wild-type positions mutated in at least one row, of `length`. */
  positions: z.number().int(),
  length: z.number().int(),
  singles: z.number().int(),
  /** Rows with two or more mutations. */
  multiples: z.number().int(),
  /** Single mutants to the same residue (A23A, A23=). */
  synonymous: z.number().int(),
  /** Rows with a stop: left out of the import (ESM-2 reads no stops), counted here so the scan's extent is clear. */
  stops: z.number().int(),
  /** Rows that are the wild type itself (WT, _wt, p.=). */
  wildTypeRows: z.number().int(),
});
export type MutationSummary = z.infer<typeof MutationSummary>;

/** Integrated gradients of one protein (train/attributions), as train.explain writes them. */
export const AttributionResult = z.object({
  residues: z.array(z.number()),
  target: z.number(),
  prediction: z.number(),
  baselinePrediction: z.number(),
  /** |Σ attributions − (prediction − baselinePrediction)| relative to the difference. */
  completeness: z.number(),
  baseline: z.enum(['mask', 'zero']),
  steps: z.number(),
  truncated: z.boolean(),
});
export type AttributionResult = z.infer<typeof AttributionResult>;

/** A CSV export read back for the screen: its header, the first rows (numbers as numbers), and how many rows it has. */
export const ExportTable = z.object({
  name: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
  total: z.number().int(),
});
export type ExportTable = z.infer<typeof ExportTable>;

/** A run that uses another run's results (deleting the other would leave it pointing at nothing). */
export const RunDependent = z.object({ runId: Id, title: z.string(), kind: z.string(), why: z.string() });
export type RunDependent = z.infer<typeof RunDependent>;

export const VariantsInfo = z.object({
  wildTypeId: z.string(),
  wildType: z.string(),
  mutationColumn: z.string(),
  offset: z.number().int(),
  /** Rows whose stated wild-type residue did not match (skipped when the import was accepted). */
  mismatches: z.number().int(),
  /** Set on import (absent for scans imported before it existed). */
  summary: MutationSummary.optional(),
});
export type VariantsInfo = z.infer<typeof VariantsInfo>;

export const LabelColumn = z.object({
  name: z.string(),
  type: z.enum(['number', 'category']),
  missing: z.number().int(),
  /**
   * 'index': the column only counts rows (row_index, 0..n-1); 'description': free text about each
   * sequence (a FASTA header's words after the ID). Neither is a default target nor a measurement.
   */
  role: z.enum(['index', 'description']).optional(),
  /** A 0/1 column made from GO / EC annotations (datasets.annotate): the term, its namespace and its parents' column names. */
  term: z.object({ name: z.string(), namespace: z.string(), parents: z.array(z.string()) }).optional(),
});
export type LabelColumn = z.infer<typeof LabelColumn>;

export const ImportReport = z.object({
  fileName: z.string(),
  format: SequenceFormat,
  /** Records found in the file. */
  records: z.number().int(),
  /** Records that will be imported (records minus those with errors). */
  importable: z.number().int(),
  errors: z.array(ImportProblem),
  /** How many records have errors; `errors` lists at most the first 200. */
  errorCount: z.number().int(),
  notices: z.array(ImportNotice),
  duplicateIds: z.number().int(),
  duplicateSequences: z.number().int(),
  tooLong: z.number().int(),
  lengths: LengthStats.nullable(),
  labelColumns: z.array(LabelColumn),
  sequenceColumn: z.string().nullable(),
  idColumn: z.string().nullable(),
  /** Set for deep-mutational scans: the wild type the rows were built from. */
  variants: VariantsInfo.nullable().optional(),
});
export type ImportReport = z.infer<typeof ImportReport>;

export const Dataset = z.object({
  id: Id,
  projectId: Id,
  name: z.string(),
  sourceFile: z.string(),
  format: SequenceFormat,
  sequenceCount: z.number().int(),
  labelColumns: z.array(LabelColumn),
  createdAt: z.string(),
  /** Set for deep-mutational scans (see VariantsInfo). */
  variants: VariantsInfo.nullable().optional(),
});
export type Dataset = z.infer<typeof Dataset>;

export const SequenceRow = z.object({
  index: z.number().int(),
  seqId: z.string(),
  sequence: z.string(),
  length: z.number().int(),
  labels: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
});
export type SequenceRow = z.infer<typeof SequenceRow>;

// ---------- jobs ----------
export const JobState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted']);
export type JobState = z.infer<typeof JobState>;

export const Job = z.object({
  id: Id,
  projectId: Id.nullable(),
  kind: z.string(),
  title: z.string(),
  state: JobState,
  fraction: z.number(),
  message: z.string(),
  /** Seconds left, estimated from the pace since the job (re)started; null when unknown. */
  etaSeconds: z.number().nullable(),
  error: z.string().nullable(),
  runId: Id.nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Counts every change of the job: a client keeps the state with the highest revision. */
  revision: z.number().int(),
  /** Heavy jobs (models, fits) run one at a time by default; light ones (installs, exports) beside them. */
  lane: z.enum(['heavy', 'light']),
  /** Whether Resume continues this job from what it kept (the back end's one rule). */
  resumable: z.boolean(),
  /** Whether a cancel keeps the finished work, so that the job can be resumed afterwards. */
  keepsWorkOnCancel: z.boolean(),
  /** For a queued job: what it waits for, e.g. "Embeddings of TEM-1 (37 %)"; null otherwise. */
  waitingFor: z.string().nullable(),
});
export type Job = z.infer<typeof Job>;
/** A job as the database keeps it; the runner adds what depends on the other jobs (see jobs/runner). */
export type StoredJob = Omit<Job, 'lane' | 'resumable' | 'keepsWorkOnCancel' | 'waitingFor'>;

export const Device = z.enum(DEVICES);
export const PoolingName = z.enum(['mean', 'bos', 'max', 'per-token']);
export type PoolingName = z.infer<typeof PoolingName>;

/** Where a job runs: a cluster profile and the shards its work is split into (null: this computer). */
export const ClusterPlacement = z.object({
  /** The built-in `local-slurm` or a profile of the profiles file (cluster/profiles), e.g. an `ssh` one. */
  profile: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a cluster profile name is letters, digits, ".", "_" or "-"'),
  shards: z.number().int().min(1).max(1000),
});
export type ClusterPlacement = z.output<typeof ClusterPlacement>;

/** How to embed: models, layers (−1 = last), poolings, batch size in tokens, device, long sequences. */
export const EmbedSettings = z.object({
  modelIds: z.array(Id).min(1, 'Choose at least one model.'),
  layers: z.array(z.number().int()).min(1).default([-1]),
  pool: z.array(PoolingName).min(1, 'Choose at least one pooling.').default(['mean']),
  batchTokens: z.number().int().min(1).max(1_000_000).default(8192),
  device: Device.default('cpu'),
  /** CPU threads; 0 lets onnxruntime decide. */
  threads: z.number().int().min(0).max(512).default(0),
  long: z.enum(['window', 'truncate']).default('window'),
  /** Run as a Slurm job array and merge the shards back (cluster/); by default on this computer. */
  cluster: ClusterPlacement.nullable().optional(),
});
export type EmbedSettings = z.output<typeof EmbedSettings>;

/** How rows are split into outer cross-validation folds. */
export const SplitSpec = z.object({
  scheme: z.enum(['random', 'stratified', 'contiguous', 'modulo', 'column', 'homology', 'temporal']),
  k: z.number().int().min(2).max(50).default(5),
  seed: z.number().int().default(42),
  /** For scheme "column": the label column that holds fold names (or train/test); for "temporal": the date column. */
  column: z.string().optional(),
  /** For scheme "homology": sequences at ≥ identity % over ≥ coverage % of both lengths are related and kept in one fold. */
  identity: z.number().min(10).max(100).optional(),
  coverage: z.number().min(0).max(100).optional(),
  /** For scheme "homology": leave out the fewest sequences needed when one cluster is too big to balance the folds. */
  removeToBalance: z.boolean().optional(),
  /** For scheme "temporal": rows dated before this (YYYY-MM-DD) train, the others test. */
  date: z.string().optional(),
});
export type SplitSpec = z.infer<typeof SplitSpec>;

// ---------- fine-tuning ----------
export const FinetuneTaskName = z.enum(['regression', 'classification', 'multilabel', 'token']);
/** 'qkv': a packed q/k/v projection (ESM C); ESM-2 adapts query, key and value separately. */
export const LoraTargetName = z.enum(['query', 'key', 'value', 'qkv', 'attention-output', 'intermediate', 'output']);
export const ValidationMetricName = z.enum(VALIDATION_METRIC_NAMES);

/**
 * Which parameter-efficient method adapts the model (train/peft-methods): LoRA on its linear layers,
 * soft prompts (virtual tokens before `<cls>`), or bottleneck adapters (Houlsby: after the attention
 * and the feed-forward outputs, before the residual add). Prompts and adapters cannot be merged
 * into the weights; the prediction graph carries them.
 */
export const PeftMethodName = z.enum(['lora', 'prompt', 'adapter']);
export type PeftMethodName = z.infer<typeof PeftMethodName>;
/** 'input': the prompt enters with the embeddings only (shallow); 'all': a prompt before every layer (deep); K: before each of the top K layers. */
export const PromptLayers = z.union([z.literal('input'), z.literal('all'), z.number().int().min(1)]);
export const PeftChoice = z.object({
  method: PeftMethodName.default('lora'),
  prompt: z.object({ length: z.number().int().min(1).max(512).default(20), layers: PromptLayers.default('input') }).default({ length: 20, layers: 'input' }),
  adapter: z.object({ size: z.number().int().min(1).max(4096).default(64), layers: z.union([z.literal('all'), z.number().int().min(1)]).default('all') }).default({ size: 64, layers: 'all' }),
});
export type PeftChoice = z.output<typeof PeftChoice>;
export const DEFAULT_PEFT: PeftChoice = { method: 'lora', prompt: { length: 20, layers: 'input' }, adapter: { size: 64, layers: 'all' } };

/** How to fine-tune (LoRA + head); the defaults are the app's and the CLI's (see train.options for explanations). */
export const FinetuneSettings = z.object({
  task: FinetuneTaskName.default('regression'),
  /** Freeze the whole model and train only the head, on pooled vectors computed once (fast; LoRA settings unused). */
  headOnly: z.boolean().default(false),
  /** LoRA (the lora* settings), prompt tuning or bottleneck adapters; settings saved before it existed read as LoRA. */
  peft: PeftChoice.default(DEFAULT_PEFT),
  loraR: z.number().int().min(1).max(512).default(8),
  loraAlpha: z.number().positive().max(4096).default(16),
  loraDropout: z.number().min(0).lt(1).default(0.05),
  loraTargets: z.array(LoraTargetName).min(1, 'Choose at least one projection to adapt.').default(['query', 'value']),
  /** 'all', or the top K layers. */
  loraLayers: z.union([z.literal('all'), z.number().int().min(1)]).default('all'),
  head: z.enum(['linear', 'swat']).default('linear'),
  pool: z.enum(['mean', 'bos']).default('mean'),
  /** SWAT head only: dropout between its two Linear layers. */
  headDropout: z.number().min(0).lt(1).default(0.1),
  /** Classification, multi-label, per residue: 'balanced' weighs rare classes (positives) up in the loss. */
  classWeight: z.enum(['none', 'balanced']).default('none'),
  epochs: z.number().int().min(1).max(10_000).default(10),
  lr: z.number().positive().max(10).default(1e-3),
  optimizer: z.enum(['adamw', 'sgd']).default('adamw'),
  /** SGD only. */
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).max(10).default(0.01),
  schedule: z.enum(['constant', 'linear', 'cosine']).default('constant'),
  warmupRatio: z.number().min(0).lt(1).default(0),
  maxGradNorm: z.number().positive().nullable().default(null),
  accumulation: z.number().int().min(1).max(1024).default(1),
  batchTokens: z.number().int().min(16).max(1_000_000).default(2000),
  valFraction: z.number().min(0).lt(1).default(0.2),
  seed: z.number().int().default(42),
  /** Early stopping: epochs without improvement of `metric`; null never stops early. */
  patience: z.number().int().min(1).nullable().default(null),
  metric: ValidationMetricName.default('loss'),
  maxSteps: z.number().int().min(1).nullable().default(null),
  shuffle: z.boolean().default(true),
  device: Device.default('cpu'),
  threads: z.number().int().min(0).max(512).default(0),
});
export type FinetuneSettings = z.output<typeof FinetuneSettings>;

/** Where a fine-tune's adapters start: a finished fine-tuning run of the project, or an adapter folder on this computer. */
export const InitAdapter = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('run'), runId: Id }),
  z.object({ kind: z.literal('folder'), path: z.string().trim().min(1, 'Give the adapter folder.') }),
]);
export type InitAdapter = z.infer<typeof InitAdapter>;

/** The fine-tune form's defaults and a one-line explanation per setting. */
export const FinetuneOptions = z.object({
  defaults: FinetuneSettings,
  explanations: z.record(z.string(), z.string()),
  tasks: z.array(z.object({ id: FinetuneTaskName, label: z.string(), explanation: z.string() })),
  loraTargets: z.array(z.object({ id: LoraTargetName, label: z.string(), explanation: z.string() })),
});
export type FinetuneOptions = z.infer<typeof FinetuneOptions>;

/** The job kinds a client may start, each with its own parameters. */
// ---------- variants ----------
export const ScoreMethod = z.enum(['wt-marginal', 'masked-marginal', 'pll']);
export type ScoreMethod = z.infer<typeof ScoreMethod>;

export const JobRequest = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('system.benchmark'),
    projectId: Id,
    /** How long to measure, in seconds. */
    seconds: z.number().min(1).max(3600).default(20),
    /** Matrix size of the multiply workload. */
    size: z.number().int().min(16).max(2048).default(192),
  }),
  z.object({ kind: z.literal('embed.dataset'), projectId: Id, datasetId: Id, ...EmbedSettings.shape }),
  /** Install a model from a Hugging Face folder or a .safetensors file on this computer. */
  z.object({ kind: z.literal('model.install'), path: z.string().min(1), precision: z.enum(['fp32', 'fp16', 'int8']).default('fp32') }),
  /** Download a model of the catalogue (ESM-2, ESM C) from the Hugging Face hub, then install it. */
  z.object({ kind: z.literal('model.download'), catalogId: z.string().min(1), precision: z.enum(['fp32', 'fp16', 'int8']).default('fp32') }),
  /** Compress per-residue embeddings into one vector per protein (SWAT). */
  z.object({ kind: z.literal('embeddings.compress'), embeddingId: Id, compression: z.string().min(1) }),
  /** Write an embedding matrix joined with the dataset's labels to a file in the project's exports folder. */
  z.object({ kind: z.literal('embeddings.export'), embeddingId: Id, format: z.enum(['npy', 'npz', 'csv', 'parquet']) }),
  /** Cross-validate learners on embedding matrices against a label column (a SWAT-style scan). */
  z.object({
    kind: z.literal('learn.scan'),
    projectId: Id,
    datasetId: Id,
    target: z.string().min(1),
    /** Multi-label: several 0/1 columns predicted together (e.g. GO terms); `target` is then their joined names. */
    targets: z.array(z.string().min(1)).min(2).optional(),
    /** Regression for numeric targets, classification for categories, multi-label with `targets`; chosen from the column(s) when absent. */
    task: z.enum(['regression', 'classification', 'multilabel']).optional(),
    embeddingIds: z.array(Id).min(1, 'Choose at least one embedding.'),
    learners: z.array(z.string()).min(1, 'Choose at least one learner.'),
    split: SplitSpec.default({ scheme: 'random', k: 5, seed: 42 }),
    scaling: z.enum(['standard', 'minmax', 'none']).default('standard'),
    classWeight: z.enum(['balanced']).nullable().default(null),
  }),
  /** Apply a fit of a scan to another dataset: predictions with the fold models' spread as uncertainty (CSV in exports/). */
  z.object({ kind: z.literal('learn.predict'), fitId: Id, datasetId: Id, device: Device.default('cpu') }),
  /** Zero-shot scores of every row of a mutation dataset, per model and method (and their ensemble mean). */
  z.object({
    kind: z.literal('variants.score'),
    projectId: Id,
    datasetId: Id,
    modelIds: z.array(Id).min(1, 'Choose at least one model.'),
    methods: z.array(ScoreMethod).min(1, 'Choose at least one scoring method.'),
    device: Device.default('cpu'),
    batchTokens: z.number().int().min(1026).max(1_000_000).default(8192),
  }),
  /** Zero-shot scores of all 19 × L single mutants of one protein (a saturation map). */
  z.object({
    kind: z.literal('variants.saturate'),
    projectId: Id,
    modelIds: z.array(Id).min(1, 'Choose at least one model.'),
    method: ScoreMethod.default('masked-marginal'),
    /** The wild-type residues (one-letter codes). */
    wildType: z.string().trim().min(1, 'Give the wild-type sequence.'),
    name: z.string().trim().min(1).default('protein'),
    /** Number of the first residue minus 1. */
    offset: z.number().int().min(0).default(0),
    device: Device.default('cpu'),
    batchTokens: z.number().int().min(1026).max(1_000_000).default(8192),
  }),
  /** Place every sequence of an embedding matrix on a 2-D map (PCA, or seeded UMAP), in the compute process. */
  z.object({
    kind: z.literal('map.project'),
    embeddingId: Id,
    method: z.enum(['pca', 'umap']).default('umap'),
    nNeighbors: z.number().int().min(2).max(200).default(15),
    minDist: z.number().min(0).max(1).default(0.1),
    /** Null lets UMAP choose (500 epochs below 10,000 sequences, else 200). */
    nEpochs: z.number().int().min(10).max(5000).nullable().default(null),
    seed: z.number().int().default(42),
  }),
  /** Fine-tune a model (LoRA adapters + a head) on a dataset's label column(s); a run with live curves, resumable. */
  z.object({
    kind: z.literal('train.finetune'),
    projectId: Id,
    datasetId: Id,
    modelId: Id,
    /** The label column (several 0/1 columns for multilabel). */
    targets: z.array(z.string().min(1)).min(1, 'Choose the target column.'),
    /** Continue training an adapter: a finished run of this project, or a PEFT adapter folder; null: new adapters. */
    initAdapter: InitAdapter.nullable().default(null),
    ...FinetuneSettings.shape,
  }),
  /** Bring a fine-tuned model made elsewhere (a run's folder, or its adapter and head files) into the project, on an installed base model. */
  z.object({ kind: z.literal('train.import'), projectId: Id, modelId: Id, path: z.string().trim().min(1, 'Give the folder of the fine-tuned model.') }),
  /** Predict a dataset with a finished fine-tune run's model (CSV in exports/). */
  z.object({ kind: z.literal('train.predict'), runId: Id, datasetId: Id, device: Device.default('cpu') }),
]);
export type JobRequest = z.input<typeof JobRequest>;

// ---------- runs ----------
export const Run = z.object({
  id: Id,
  projectId: Id,
  kind: z.string(),
  title: z.string(),
  state: JobState,
  params: z.record(z.string(), z.unknown()),
  summary: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type Run = z.infer<typeof Run>;

export const Metric = z.object({ step: z.number(), name: z.string(), value: z.number() });
export type Metric = z.infer<typeof Metric>;

export const Model = z.object({
  id: Id,
  name: z.string(),
  /** The model family, for people: 'ESM-2' or 'ESM C'. */
  family: z.string(),
  /** Learned parameters, counted from the checkpoint's tensors (0 when the model folder cannot be read). */
  parameters: z.number(),
  /** Whether the family has a contact head (ESM-2 does, ESM C does not). */
  hasContacts: z.boolean(),
  /** The LoRA targets its family has (ESM C packs query, key and value into one 'qkv'); empty when the folder cannot be read. */
  loraTargets: z.array(LoraTargetName),
  /** The usual LoRA targets for it (query and value; ESM C: qkv). */
  defaultLoraTargets: z.array(LoraTargetName),
  /** The catalogue entry it is (e.g. esm2_t6_8M_UR50D), when known. */
  catalogId: z.string().nullable(),
  layers: z.number().int(),
  hiddenSize: z.number().int(),
  precision: z.enum(['fp32', 'fp16', 'int8']),
  sizeBytes: z.number(),
  source: z.string(),
  path: z.string(),
  createdAt: z.string(),
});
export type Model = z.infer<typeof Model>;

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  home: z.string(),
  transport: z.enum(['ipc', 'websocket', 'cli']),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const CatalogModel = z.object({
  id: z.string(),
  /** The model family, for people: 'ESM-2' or 'ESM C'. */
  family: z.string(),
  repo: z.string(),
  label: z.string(),
  parameters: z.number(),
  layers: z.number().int(),
  hidden: z.number().int(),
  sizeBytes: z.number(),
  minMemoryGB: z.number(),
  note: z.string().optional(),
  /** Installed models of this family member. */
  installed: z.array(Id),
  /** Whether this computer has the memory the model needs, and how much it has. */
  fitsThisComputer: z.boolean(),
  computerMemoryGB: z.number(),
});
export type CatalogModel = z.infer<typeof CatalogModel>;

export const Embedding = z.object({
  id: Id,
  runId: Id,
  datasetId: Id.nullable(),
  modelId: Id.nullable(),
  modelName: z.string(),
  layer: z.number().int(),
  /** mean, bos, max, per-token, or a compression (pca1, pca2, idct_5x44). */
  pooling: z.string(),
  rows: z.number().int(),
  cols: z.number().int(),
  path: z.string(),
  createdAt: z.string(),
});
export type Embedding = z.infer<typeof Embedding>;

export const ExportFile = z.object({
  name: z.string(),
  bytes: z.number(),
  createdAt: z.string(),
  /** Path on this computer. */
  path: z.string(),
});
export type ExportFile = z.infer<typeof ExportFile>;

export const CompressionInfo = z.object({ kind: z.string(), label: z.string(), explanation: z.string() });

export const Fit = z.object({
  id: Id,
  runId: Id,
  embeddingId: Id.nullable(),
  modelName: z.string(),
  /** The model's family label ('ESM-2', 'ESM C'); fits recorded before families were stored read 'ESM-2'. */
  modelFamily: z.string(),
  modelParameters: z.number(),
  layer: z.number().int(),
  pooling: z.string(),
  learner: z.string(),
  task: z.enum(['regression', 'classification', 'multilabel']),
  target: z.string(),
  /** Mean ± sd over folds; low–high: 95 % bootstrap interval of the metric over all out-of-fold (or test) predictions. */
  summary: z.record(z.string(), z.object({ mean: z.number(), sd: z.number(), n: z.number(), low: z.number().optional(), high: z.number().optional() })),
  perFold: z.array(z.record(z.string(), z.number().nullable())),
  predictionsPath: z.string(),
});
export type Fit = z.infer<typeof Fit>;

export const LearnOptions = z.object({
  learners: z.array(z.object({ id: z.string(), label: z.string(), task: z.enum(['regression', 'classification', 'multilabel']), explanation: z.string() })),
  splits: z.array(z.object({ scheme: z.string(), label: z.string(), explanation: z.string() })),
});

// ---------- reports, predictions and training curves ----------
/** A report (self-contained HTML) in a project's exports folder, with its PDF when one was made. */
export const ReportFile = z.object({
  name: z.string(),
  projectId: Id,
  runId: Id,
  bytes: z.number(),
  createdAt: z.string(),
  /** Path on this computer. */
  path: z.string(),
  /** The PDF's file name (same folder), or null. */
  pdf: z.string().nullable(),
});
export type ReportFile = z.infer<typeof ReportFile>;

/** A fit's out-of-fold predictions: each row predicted by the model of the fold that left it out. */
export const FitPredictions = z.object({
  fitId: Id,
  task: z.enum(['regression', 'classification']),
  target: z.string(),
  ids: z.array(z.string()),
  folds: z.array(z.number().int()),
  /** Numbers for regression, class names for classification. */
  measured: z.array(z.union([z.number(), z.string()])),
  predicted: z.array(z.union([z.number(), z.string()])),
});
export type FitPredictions = z.infer<typeof FitPredictions>;

/** A run that recorded metric series (training curves): which series and how many points. */
export const RunMetricsInfo = z.object({ runId: Id, names: z.array(z.string()), points: z.number().int(), lastStep: z.number() });
export type RunMetricsInfo = z.infer<typeof RunMetricsInfo>;

// ---------- maps (2-D projections of embeddings) ----------
export const MapMethod = z.enum(['pca', 'umap']);
export type MapMethod = z.infer<typeof MapMethod>;

/** A map: a projection run of one embedding matrix, its settings and whether its coordinates are ready. */
export const Projection = z.object({
  /** The run that holds it. */
  id: Id,
  projectId: Id,
  title: z.string(),
  state: JobState,
  method: MapMethod,
  embeddingId: Id.nullable(),
  datasetId: Id.nullable(),
  datasetName: z.string().nullable(),
  modelName: z.string(),
  layer: z.number().int(),
  pooling: z.string(),
  rows: z.number().int(),
  nNeighbors: z.number().int(),
  minDist: z.number(),
  nEpochs: z.number().int().nullable(),
  seed: z.number().int(),
  /** PCA: the share of variance of the two axes. */
  explainedVariance: z.array(z.number()).nullable(),
  ready: z.boolean(),
  createdAt: z.string(),
});
export type Projection = z.infer<typeof Projection>;

/** A column to colour a map by: numbers (null where missing) or categories (code −1 where missing). */
export const MapColumn = z.discriminatedUnion('type', [
  z.object({ name: z.string(), type: z.literal('number'), values: z.array(z.number().nullable()) }),
  z.object({ name: z.string(), type: z.literal('category'), categories: z.array(z.string()), codes: z.array(z.number().int()) }),
]);
export type MapColumn = z.infer<typeof MapColumn>;

/** A fit on the map's dataset whose out-of-fold predictions can colour the map. */
export const MapFit = z.object({ id: Id, label: z.string(), task: z.enum(['regression', 'classification']), target: z.string() });
export type MapFit = z.infer<typeof MapFit>;

/** Every point of a map: row i is the dataset's sequence i. */
export const MapPoints = z.object({
  projectionId: Id,
  datasetId: Id,
  ids: z.array(z.string()),
  x: z.array(z.number()),
  y: z.array(z.number()),
  columns: z.array(MapColumn),
  fits: z.array(MapFit),
});
export type MapPoints = z.infer<typeof MapPoints>;

// ---------- variant effects ----------
export const ScoreMethodInfo = z.object({ id: ScoreMethod, label: z.string(), explanation: z.string() });

export const SaturationMap = z.object({
  runId: Id,
  name: z.string(),
  wildType: z.string(),
  offset: z.number().int(),
  method: ScoreMethod,
  /** Column order of `scores`. */
  aminoAcids: z.array(z.string()),
  /** One map per model, then "ensemble" when there are several: [L × 20] row-major, 0 at the wild type, null when not scored. */
  maps: z.array(z.object({ model: z.string(), scores: z.array(z.number().nullable()) })),
});
export type SaturationMap = z.infer<typeof SaturationMap>;

/** A mutation scan's measurements laid out like a saturation map of the same wild type. */
export const MeasuredMap = z.object({
  datasetId: Id,
  column: z.string(),
  /** [L × aminoAcids] row-major in the requested amino-acid order; null where the scan has no single mutant. */
  values: z.array(z.number().nullable()),
  /** Single mutants placed in the map. */
  placed: z.number().int(),
  /** Rows left out: several mutations, the wild type, stops, or no value. */
  leftOut: z.number().int(),
});
export type MeasuredMap = z.infer<typeof MeasuredMap>;

export const VariantEvaluation = z.object({
  key: z.string(),
  model: z.string(),
  method: ScoreMethod,
  column: z.string(),
  n: z.number().int(),
  spearman: z.number().nullable(),
  auroc: z.number().nullable(),
  positives: z.number().int(),
});
export type VariantEvaluation = z.infer<typeof VariantEvaluation>;

export const VariantScores = z.object({
  runId: Id,
  ids: z.array(z.string()),
  variants: z.array(z.string()),
  measured: z.record(z.string(), z.array(z.number().nullable())),
  columns: z.array(z.object({ key: z.string(), model: z.string(), method: ScoreMethod, values: z.array(z.number().nullable()) })),
  evaluations: z.array(VariantEvaluation),
  threshold: z.number().nullable(),
  /** The scores as CSV in the run folder (also copied to exports on request). */
  csvPath: z.string(),
});
export type VariantScores = z.infer<typeof VariantScores>;

// ---------- structure ----------
/** One sequence's model outputs for the Structure page: ready, or being computed by `job`. */
export const StructureAnalysis = z.object({
  /** Names the result (per model and sequence) for structure.contacts / structure.attention. */
  key: z.string(),
  modelId: Id,
  modelName: z.string(),
  length: z.number().int(),
  ready: z.boolean(),
  /** The job computing it (queued or running) when not ready. */
  job: Job.nullable(),
  layers: z.number().int(),
  /** Known once computed. */
  heads: z.number().int().nullable(),
  /** False for a family without a contact head (ESM C): attention only, structure.contacts answers contacts: null. */
  hasContacts: z.boolean(),
});
export type StructureAnalysis = z.infer<typeof StructureAnalysis>;

export const StructureContacts = z.object({
  key: z.string(),
  sequence: z.string(),
  length: z.number().int(),
  layers: z.number().int(),
  heads: z.number().int(),
  /** Contact probabilities [L × L], row-major; null for a model without a contact head (ESM C). */
  contacts: z.array(z.number()).nullable(),
});
export type StructureContacts = z.infer<typeof StructureContacts>;

export const AttentionTrack = z.object({
  key: z.string(),
  /** 1-based layer. */
  layer: z.number().int(),
  /** 0-based head, or null for the mean of the heads. */
  head: z.number().int().nullable(),
  /** 0-based residue, or null for the attention each residue receives on average. */
  position: z.number().int().nullable(),
  direction: z.enum(['from', 'to']),
  /** One value per residue. */
  values: z.array(z.number()),
});
export type AttentionTrack = z.infer<typeof AttentionTrack>;

/** One layer's full attention map (one head or the mean of heads), for the linked map when a model has no contact head. */
export const AttentionMap = z.object({
  key: z.string(),
  layer: z.number().int(),
  head: z.number().int().nullable(),
  length: z.number().int(),
  /** [L × L] row-major: row i is how residue i spreads its attention. */
  values: z.array(z.number()),
});
export type AttentionMap = z.infer<typeof AttentionMap>;
