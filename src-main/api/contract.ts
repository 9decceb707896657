/**
 * api/contract — the one contract between clients (renderer, CLI) and the services: every method
 * with the schema of its input and output, and the events the back end pushes. Transports carry
 * `{ method, input }` and answer with an `Envelope`; they never interpret either.
 */
import { z } from 'zod';
import {
  AppInfo,
  CatalogModel,
  CompressionInfo,
  Embedding,
  ExportFile,
  Fit,
  LearnOptions,
  Dataset,
  Id,
  ImportOptions,
  ImportReport,
  ImportSource,
  Job,
  JobRequest,
  Metric,
  Model,
  Project,
  ProjectName,
  Run,
  SequenceRow,
  FitPredictions,
  FinetuneOptions,
  ReportFile,
  RunMetricsInfo,
  SaturationMap,
  MeasuredMap,
  RunDependent,
  ExportTable,
  AttributionResult,
  ScoreMethodInfo,
  VariantScores,
  MapColumn,
  MapPoints,
  Projection,
  AttentionMap,
  AttentionTrack,
  StructureAnalysis,
  StructureContacts,
} from './schemas';
import { SIGNAL_PEPTIDE_METHODS } from './signal-peptide';
import { CLUSTER_METHODS } from './cluster';

const none = z.object({}).strict();
const byId = z.object({ id: Id }).strict();
const ok = z.object({ ok: z.literal(true) });

export const methods = {
  'app.info': { input: none, output: AppInfo },

  'projects.list': { input: none, output: z.array(Project) },
  'projects.create': { input: z.object({ name: ProjectName }).strict(), output: Project },
  'projects.rename': { input: z.object({ id: Id, name: ProjectName }).strict(), output: Project },
  'projects.delete': { input: byId, output: ok },

  'datasets.list': { input: z.object({ projectId: Id }).strict(), output: z.array(Dataset) },
  /** Parses and validates a file; writes nothing. */
  'datasets.preview': {
    input: z.object({ source: ImportSource, options: ImportOptions.default({}) }).strict(),
    output: ImportReport,
  },
  /** Imports the records without errors. Refused when the file has errors and `accept` is false. */
  'datasets.import': {
    input: z
      .object({
        projectId: Id,
        name: z.string().trim().min(1).max(200).optional(),
        source: ImportSource,
        options: ImportOptions.default({}),
        accept: z.boolean().default(false),
      })
      .strict(),
    output: z.object({ dataset: Dataset, report: ImportReport }),
  },
  'datasets.sequences': {
    input: z
      .object({
        datasetId: Id,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(5000).default(200),
      })
      .strict(),
    output: z.object({ total: z.number().int(), rows: z.array(SequenceRow) }),
  },
  'datasets.delete': { input: byId, output: ok },

  'models.list': { input: none, output: z.array(Model) },
  /** The models that can be downloaded (every family's catalogue), with what is installed. */
  'models.catalog': { input: none, output: z.array(CatalogModel) },
  'models.delete': { input: byId, output: ok },

  'embeddings.list': { input: z.object({ projectId: Id, runId: Id.optional() }).strict(), output: z.array(Embedding) },
  'embeddings.compressions': { input: none, output: z.array(CompressionInfo) },
  'exports.list': { input: z.object({ projectId: Id }).strict(), output: z.array(ExportFile) },
  /** A CSV export as a table (the first `limit` rows), e.g. a prediction shown on screen. */
  'exports.table': { input: z.object({ projectId: Id, name: z.string().min(1), limit: z.number().int().min(1).max(20_000).default(5000) }).strict(), output: ExportTable },
  /** Shows an export in the file manager (desktop app); serve mode offers a download link instead. */
  'exports.reveal': { input: z.object({ projectId: Id, name: z.string().min(1) }).strict(), output: ok },

  'jobs.list': { input: z.object({ projectId: Id.optional() }).strict(), output: z.array(Job) },
  'jobs.start': { input: JobRequest, output: Job },
  'jobs.cancel': { input: byId, output: Job },
  'jobs.resume': { input: byId, output: Job },
  /** Hides the given jobs from the Jobs panel if they are finished (done, failed, cancelled); their runs and files stay. */
  'jobs.clear': { input: z.object({ ids: z.array(Id).max(1000) }).strict(), output: z.object({ cleared: z.array(Id) }) },

  /** The results of a scan run: one row per (embedding, learner). */
  'fits.list': { input: z.object({ runId: Id }).strict(), output: z.array(Fit) },
  /** Learners and validation schemes with a one-sentence explanation each; `datasetId` says which scheme is the default. */
  'learn.options': {
    input: z.object({ datasetId: Id.optional() }).strict(),
    output: LearnOptions.extend({ defaultScheme: z.string(), positionsKnown: z.boolean() }),
  },

  /** The fine-tune form's defaults, tasks, LoRA targets and a one-line explanation per setting. */
  'train.options': { input: none, output: FinetuneOptions },
  /**
   * Why a finished LoRA fine-tuning run predicts what it does for one protein: integrated gradients
   * per residue (train/attributions), also written as a CSV in the project's exports.
   */
  'train.attributions': {
    input: z
      .object({
        runId: Id,
        sequence: z.string().regex(/^[A-Za-z]+$/, 'The sequence must be amino-acid letters only.'),
        /** Regression output, class or label index; default output 0, or the predicted class. */
        target: z.number().int().min(0).optional(),
        baseline: z.enum(['mask', 'zero']).default('mask'),
        steps: z.number().int().min(1).max(1000).default(50),
        /** Names the CSV (e.g. the protein's ID). */
        label: z.string().max(200).optional(),
      })
      .strict(),
    /** Not ready: the train.explain job computing it (ask again when it is done); ready: the values. */
    output: z.object({ ready: z.boolean(), job: Job.nullable(), result: AttributionResult.nullable(), exportName: z.string() }),
  },

  'runs.list': { input: z.object({ projectId: Id }).strict(), output: z.array(Run) },
  'runs.metrics': { input: z.object({ runId: Id }).strict(), output: z.array(Metric) },
  /** Gives a run a new name (its title everywhere). */
  'runs.rename': { input: z.object({ runId: Id, title: z.string().min(1).max(300) }).strict(), output: Run },
  /** The runs that use a run's results: what deleting it would also delete. */
  'runs.dependents': { input: z.object({ runId: Id }).strict(), output: z.array(RunDependent) },
  /** Deletes a run with its files; refused while runs use it, unless `withDependents` deletes them too. */
  'runs.delete': { input: z.object({ runId: Id, withDependents: z.boolean().default(false) }).strict(), output: z.object({ deleted: z.array(Id) }) },
  /** The runs of a project that recorded metric series (training curves), newest first. */
  'runs.withMetrics': { input: z.object({ projectId: Id }).strict(), output: z.array(RunMetricsInfo) },
  /** A fit's out-of-fold predictions, read from the file its scan wrote. */
  'fits.predictions': { input: z.object({ fitId: Id }).strict(), output: FitPredictions },

  /** Writes a self-contained HTML report of a run into the project's exports folder. */
  'reports.create': { input: z.object({ runId: Id }).strict(), output: ReportFile },
  'reports.list': { input: z.object({ projectId: Id }).strict(), output: z.array(ReportFile) },
  /** Prints a report to PDF beside it (desktop app); in a browser, open the report and print it instead. */
  'reports.pdf': { input: z.object({ projectId: Id, name: z.string().min(1) }).strict(), output: ReportFile },

  /** Zero-shot scoring methods with a one-sentence explanation each. */
  'variants.methods': { input: none, output: z.array(ScoreMethodInfo) },
  /** The saturation map(s) of a `variants.saturate` run. */
  'variants.saturation': { input: z.object({ runId: Id }).strict(), output: SaturationMap },
  /**
   * A mutation scan's measured column as a map over the same wild type as a saturation map (single
   * mutants only), for the heatmap's tooltip, outlines and companion map.
   */
  'variants.measured': {
    input: z.object({ datasetId: Id, column: z.string().min(1), wildType: z.string().min(1), aminoAcids: z.array(z.string().length(1)).min(1) }).strict(),
    output: MeasuredMap,
  },
  /** The scores of a `variants.score` run with Spearman per model, method and measured column (AUROC when a threshold is given). */
  'variants.scores': { input: z.object({ runId: Id, threshold: z.number().nullable().default(null) }).strict(), output: VariantScores },
  /** Writes a run's saturation map (long or wide) or dataset scores as CSV into the project's exports folder. */
  'variants.export': {
    input: z.object({ runId: Id, layout: z.enum(['long', 'wide']).default('long'), model: z.string().optional() }).strict(),
    output: ExportFile,
  },

  /** The maps (2-D projections of embeddings) of a project, newest first; start one with jobs.start kind "map.project". */
  'map.list': { input: z.object({ projectId: Id }).strict(), output: z.array(Projection) },
  /** A finished map's points: coordinates, sequence IDs, label columns and the fits that can colour it. */
  'map.points': { input: z.object({ projectionId: Id }).strict(), output: MapPoints },
  /** A fit's out-of-fold predictions and residuals (or right/wrong classes) as colour columns of a map. */
  'map.predictions': { input: z.object({ projectionId: Id, fitId: Id }).strict(), output: z.array(MapColumn) },
  /**
   * Adds GO / EC terms to a dataset as 0/1 label columns (one per term, named by its id), from an
   * annotation file (GAF, or a table of id and terms) and an ontology (OBO; not needed for EC
   * numbers): propagated to ancestors, terms on fewer than `minCount` proteins dropped. Proteins
   * without annotations get no value (left out of multi-label scans). Replaces earlier term columns.
   */
  'datasets.annotate': {
    input: z
      .object({
        datasetId: Id,
        annotations: ImportSource,
        ontology: ImportSource.nullable().default(null),
        minCount: z.number().int().min(1).default(10),
        namespaces: z.array(z.enum(['molecular_function', 'biological_process', 'cellular_component', 'ec'])).optional(),
        /** GAF only: keep these evidence codes ('experimental': CAFA's); all when absent. */
        evidence: z.union([z.literal('experimental'), z.array(z.string())]).optional(),
      })
      .strict(),
    output: z.object({ dataset: Dataset, terms: z.number().int(), annotated: z.number().int(), notices: z.array(z.string()) }),
  },
  /** Saves some rows of a dataset (e.g. a selection on the map) as a new dataset with their labels. */
  'datasets.subset': {
    input: z
      .object({
        datasetId: Id,
        rows: z.array(z.number().int().min(0)).min(1, 'Select at least one sequence.'),
        name: z.string().trim().min(1, 'The new dataset needs a name.').max(200),
      })
      .strict(),
    output: Dataset,
  },

  /**
   * A sequence's predicted contacts and per-layer attention for the Structure page: answers at once
   * when computed before (same model and sequence), else queues a short job in the compute process.
   */
  'structure.inspect': {
    input: z
      .object({
        projectId: Id,
        modelId: Id,
        sequence: z.string().regex(/^[A-Za-z]+$/, 'The sequence must be amino-acid letters only.'),
        /** Names the sequence in the job's title (e.g. its ID). */
        label: z.string().max(200).optional(),
      })
      .strict(),
    output: StructureAnalysis,
  },
  /** The L×L contact probabilities of a computed analysis. */
  'structure.contacts': { input: z.object({ projectId: Id, key: z.string() }).strict(), output: StructureContacts },
  /** One per-residue attention track: a layer (1-based), a head (0-based) or the mean of heads, from or to a residue. */
  'structure.attention': {
    input: z
      .object({
        projectId: Id,
        key: z.string(),
        layer: z.number().int().min(1),
        head: z.number().int().min(0).nullable().default(null),
        position: z.number().int().min(0).nullable().default(null),
        direction: z.enum(['from', 'to']).default('to'),
      })
      .strict(),
    output: AttentionTrack,
  },
  /** One layer's whole attention map (a head, or the mean of heads): the linked map of a model without a contact head. */
  'structure.attentionMap': {
    input: z.object({ projectId: Id, key: z.string(), layer: z.number().int().min(1), head: z.number().int().min(0).nullable().default(null) }).strict(),
    output: AttentionMap,
  },

  /** Signal peptides the PEFT-SP way (api/signal-peptide): train, cross-validate, predict, results, one protein, exports. */
  ...SIGNAL_PEPTIDE_METHODS,

  /** Cluster jobs (api/cluster): the profiles to run on, and a job's array as the Jobs panel shows it. */
  ...CLUSTER_METHODS,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Input<M extends MethodName> = z.input<Methods[M]['input']>;
export type ParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type Output<M extends MethodName> = z.output<Methods[M]['output']>;

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}

// ---------- events pushed to every client ----------
export const ApiEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job'), job: Job }),
  z.object({ type: z.literal('projects') }),
  z.object({ type: z.literal('datasets'), projectId: Id }),
  z.object({ type: z.literal('runs'), projectId: Id }),
  z.object({ type: z.literal('models') }),
  /** A running job recorded new metric values for a run (training curves update live). */
  z.object({ type: z.literal('metrics'), projectId: Id, runId: Id }),
]);
export type ApiEvent = z.infer<typeof ApiEvent>;

// ---------- what a transport carries ----------
export const Request = z.object({ method: z.string(), input: z.unknown() });
export type Request = z.infer<typeof Request>;

export const ErrorCode = z.enum(['invalid-input', 'not-found', 'conflict', 'refused', 'internal']);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  /** Field paths or problem lists a view can show next to the message. */
  details: z.unknown().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export type Envelope<T = unknown> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };
