/**
 * services/jobs — turns a client's job request into a queued job (title, parameters, where its
 * files go) and, for each job kind, what the main side does around the compute process's work:
 * the data it sends along, and how it records the files and results that come back.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, notFound } from '../api/errors';
import type { Fit, Job, JobRequest, LabelColumn } from '../api/schemas';
import { parseCompression } from '../core/compression';
import { familyOfCheckpoint } from '../models/registry';
import { describeModel } from './model-facts';
import type { LabelTable } from '../exports';
import type { JobHooks, JobRunner } from '../jobs/runner';
import { modelFolderName } from '../store/paths';
import type { StoredMatrix } from '../jobs/tasks/embedding-files';
import type { InstalledModel } from '../jobs/tasks/models';
import type { ScanInput, ScanItem } from '../jobs/tasks/learn-scan';
import type { PredictInput } from '../jobs/tasks/learn-predict';
import { LEARNERS } from '../learn/learners';
import { datasetPositions, needsPositions } from './learn';
import { startProjection } from './map';
import { catalogEntries } from '../models/catalog';
import { hubOptionsFromEnv } from '../models/download';
import type { Store } from '../store';
import type { EmbeddingRecord } from '../store/embeddings';
import type { JobRecord } from '../store/jobs';
import type { Events } from './events';
import { requireJobParams, requireParams } from '../api/tasks';
import { assertNoJobUses } from './job-usage';
import { TrainService } from './train';
import { VariantsService } from './variants';

type Request = z.output<typeof JobRequest>;

/** A stored job as api/tasks' accessors read it: its kind and parameters. */
const slug = (text: string, max = 60): string => text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max) || 'model';

function storedMatrix(e: EmbeddingRecord): StoredMatrix {
  return { path: e.path, rows: e.rows, cols: e.cols, offsetsPath: e.offsetsPath };
}

export class JobsService {
  /** Variant-effect jobs and their results. */
  readonly variants: VariantsService;
  /** Fine-tuning jobs. */
  readonly train: TrainService;

  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly runner: () => JobRunner,
  ) {
    this.variants = new VariantsService(store, events, runner);
    this.train = new TrainService(store, events, runner);
  }

  start(request: Request): Job {
    switch (request.kind) {
      case 'system.benchmark': {
        this.requireProject(request.projectId);
        const { seconds, size } = request;
        return this.runner().enqueue({ projectId: request.projectId, kind: request.kind, title: `Benchmark this computer (${seconds} s)`, params: { seconds, size }, createsRun: true });
      }
      case 'embed.dataset':
        return this.startEmbedding(request);
      case 'model.install':
        return this.startInstall(request);
      case 'model.download':
        return this.startDownload(request);
      case 'embeddings.compress':
        return this.startCompression(request);
      case 'embeddings.export':
        return this.startExport(request);
      case 'learn.scan':
        return this.startScan(request);
      case 'learn.predict':
        return this.startPredict(request);
      case 'map.project':
        return startProjection(this.store, this.runner(), request);
      case 'variants.score':
        return this.variants.startScore(request);
      case 'variants.saturate':
        return this.variants.startSaturation(request);
      case 'train.finetune':
        return this.train.startFinetune(request);
      case 'train.predict':
        return this.train.startPredict(request);
      case 'train.import':
        return this.train.startImport(request);
    }
  }

  /** What the main side does for each job kind (see JobHooks). */
  hooks(): Record<string, JobHooks> {
    const installed: JobHooks = { lane: 'light', onDone: (job, summary) => this.recordInstalledModel(summary as unknown as InstalledModel) };
    return {
      ...this.variants.hooks(),
      ...this.train.hooks(),
      'embed.dataset': {
        resumableAfterCancel: true,
        prepare: (job) => ({ sequences: this.datasetRows(this.datasetOf(job)).map((r) => r.sequence) }),
        onArtifact: (job, artifact) => this.recordEmbedding(job, artifact.path, artifact.checksum, artifact.meta ?? {}),
      },
      'model.install': installed,
      'structure.inspect': { lane: 'light' },
      'train.explain': { lane: 'light' },
      'model.download': installed,
      'embeddings.compress': {
        lane: 'light',
        onArtifact: (job, artifact) => {
          const params = requireJobParams('embeddings.compress', job);
          const source = params.sourceId === undefined ? undefined : this.store.embeddings.get(params.sourceId);
          if (!source) throw notFound(`Embedding ${params.sourceId ?? '?'}`);
          const meta = artifact.meta as { rows: number; cols: number };
          this.store.embeddings.upsert({ ...source, pooling: params.compression, path: artifact.path, offsetsPath: null, rows: meta.rows, cols: meta.cols, checksum: artifact.checksum });
          this.events.emit({ type: 'runs', projectId: job.job.projectId! });
        },
      },
      'embeddings.export': {
        lane: 'light',
        prepare: (job) => this.exportInput(Number(requireJobParams('embeddings.export', job).embeddingId)),
        onDone: (job) => this.events.emit({ type: 'runs', projectId: job.job.projectId! }),
      },
      'learn.predict': {
        prepare: (job) => this.predictInput(requireJobParams('learn.predict', job)),
        onDone: (job) => this.events.emit({ type: 'runs', projectId: job.job.projectId! }),
      },
      'learn.scan': {
        resumableAfterCancel: true,
        prepare: (job) => this.scanInput(requireJobParams('learn.scan', job)),
        onArtifact: (job, artifact) => {
          const meta = artifact.meta as unknown as ScanItem & { learner: string; task: 'regression' | 'classification'; target: string; modelsPath: string; metrics: Pick<Fit, 'summary' | 'perFold'> };
          this.store.fits.upsert({
            runId: job.job.runId!,
            embeddingId: meta.embeddingId,
            modelName: meta.modelName,
            modelFamily: meta.modelFamily ?? 'ESM-2',
            modelParameters: meta.modelParameters,
            layer: meta.layer,
            pooling: meta.pooling,
            learner: meta.learner,
            task: meta.task,
            target: meta.target,
            summary: meta.metrics.summary,
            perFold: meta.metrics.perFold,
            predictionsPath: artifact.path,
            modelsPath: meta.modelsPath,
          });
          this.events.emit({ type: 'runs', projectId: job.job.projectId! });
        },
      },
    };
  }

  private startScan(request: Extract<Request, { kind: 'learn.scan' }>): Job {
    this.requireProject(request.projectId);
    const dataset = this.store.datasets.get(request.datasetId);
    if (!dataset || dataset.projectId !== request.projectId) throw notFound(`Dataset ${request.datasetId} of this project`);
    const columnNamed = (name: string) => {
      const found = dataset.labelColumns.find((c) => c.name === name);
      if (!found) throw new ApiError('invalid-input', `Dataset "${dataset.name}" has no label column "${name}"; its columns are ${dataset.labelColumns.map((c) => c.name).join(', ') || 'none'}.`);
      return found;
    };
    let task: 'regression' | 'classification' | 'multilabel';
    if (request.targets) {
      // Several yes/no columns predicted together (e.g. GO terms): each must hold numbers (0/1, checked row by row by the task).
      const notNumbers = request.targets.map(columnNamed).filter((c) => c.type !== 'number');
      if (notNumbers.length > 0) throw new ApiError('invalid-input', `Multi-label columns hold 0 or 1; ${notNumbers.map((c) => `"${c.name}"`).join(', ')} ${notNumbers.length === 1 ? 'holds' : 'hold'} text.`);
      task = 'multilabel';
    } else {
      const column = columnNamed(request.target);
      task = request.task ?? (column.type === 'number' ? 'regression' : 'classification');
    }
    for (const learner of request.learners) {
      const known = LEARNERS.find((l) => l.id === learner);
      if (!known) throw new ApiError('invalid-input', `Unknown learner "${learner}"; choose from ${LEARNERS.map((l) => l.id).join(', ')}.`);
      if (known.task !== task) throw new ApiError('invalid-input', `${known.label} is a ${known.task} learner, but "${request.target}" needs ${task}.`);
    }
    if (request.split.scheme === 'column' && !dataset.labelColumns.some((c) => c.name === request.split.column)) {
      throw new ApiError('invalid-input', `Choose the label column that holds the folds (dataset "${dataset.name}" has no column "${request.split.column ?? ''}").`);
    }
    const items = request.embeddingIds.map((id) => {
      const e = this.embedding(id);
      if (e.datasetId !== dataset.id) throw new ApiError('invalid-input', `Embedding ${id} was computed for another dataset.`);
      if (e.offsetsPath) throw new ApiError('invalid-input', `${e.modelName} layer ${e.layer} per-residue embeddings need a compression first (one vector per protein).`);
      // The size plotted against is the parameter count from the checkpoint (0: unknown, the model was removed).
      const record = e.modelId ? this.store.models.get(e.modelId) : undefined;
      const model = record ? describeModel(record) : undefined;
      return { embeddingId: e.id, modelName: e.modelName, modelFamily: model?.family ?? 'ESM-2', modelParameters: model?.parameters ?? 0, layer: e.layer, pooling: e.pooling, path: e.path };
    });
    const { kind, projectId, datasetId, embeddingIds, ...settings } = request;
    void embeddingIds;
    const title = `Scan: ${request.targets ? request.targets.join(', ') : request.target} of ${dataset.name} (${items.length} embeddings × ${request.learners.length} learners)`;
    const params = (runId: number | null) => ({ ...settings, task, datasetId, items, runDir: `runs/${runId}` });
    return this.runner().enqueue({ projectId, kind, title, params, createsRun: true });
  }

  private startPredict(request: Extract<Request, { kind: 'learn.predict' }>): Job {
    const fit = this.store.fits.get(request.fitId);
    if (!fit) throw notFound(`Fit ${request.fitId}`);
    if (fit.task === 'multilabel') throw new ApiError('invalid-input', 'Predicting new proteins with a multi-label fit is not available yet; its out-of-fold predictions are in the scan\'s CSV.');
    const run = this.store.runs.get(fit.runId)!;
    const scan = requireParams('learn.scan', run);
    const embedding = fit.embeddingId ? this.store.embeddings.get(fit.embeddingId) : undefined;
    const model = embedding?.modelId ? this.store.models.get(embedding.modelId) : undefined;
    if (!embedding || !model) throw new ApiError('not-found', 'The embeddings or the model this fit was trained on were deleted; it can no longer predict.');
    const dataset = this.store.datasets.get(request.datasetId);
    if (!dataset || dataset.projectId !== run.projectId) throw notFound(`Dataset ${request.datasetId} of this project`);
    const name = slug(`run${run.id}-${fit.learner}-${fit.modelName}-layer${fit.layer}-${fit.pooling}-predicts-${dataset.name}`, 150);
    const params = {
      modelDir: model.path,
      layer: fit.layer,
      pooling: fit.pooling,
      learner: fit.learner,
      task: fit.task,
      split: scan.split,
      scaling: scan.scaling,
      classWeight: scan.classWeight,
      trainingPath: embedding.path,
      device: request.device,
      outPath: join('exports', `${name}.csv`),
      trainingDatasetId: scan.datasetId,
      target: scan.target,
      datasetId: dataset.id,
    };
    return this.runner().enqueue({ projectId: run.projectId, kind: request.kind, title: `Predict ${scan.target} of ${dataset.name} (${fit.learner}, ${fit.modelName} layer ${fit.layer} ${fit.pooling})`, params, createsRun: false });
  }

  /** The dataset an embedding job embeds. */
  private datasetOf(job: JobRecord): number {
    return Number(requireJobParams('embed.dataset', job).datasetId);
  }

  private predictInput(params: { trainingDatasetId?: number; target?: string; split: { scheme: string; column?: string }; datasetId?: number }): PredictInput {
    const rows = this.datasetRows(params.datasetId);
    return {
      training: this.scanInput({ datasetId: params.trainingDatasetId, target: params.target, split: params.split }),
      ids: rows.map((r) => r.seqId),
      sequences: rows.map((r) => r.sequence),
    };
  }

  private scanInput(params: { datasetId?: number; target?: string; targets?: string[]; split: { scheme: string; column?: string } }): ScanInput {
    const rows = this.datasetRows(params.datasetId);
    const positions = needsPositions(params.split.scheme) ? datasetPositions(rows, this.store.datasets.get(params.datasetId!)?.variants?.mutationColumn) : null;
    if (needsPositions(params.split.scheme) && !positions) {
      throw new ApiError('invalid-input', 'Position-grouped folds need a mutation column (e.g. "mutant" with values like A23V) in the dataset.');
    }
    return {
      ids: rows.map((r) => r.seqId),
      target: rows.map((r) => r.labels[params.target ?? ''] ?? null),
      positions,
      splitValues: params.split.column ? rows.map((r) => r.labels[params.split.column!] ?? null) : null,
      targetColumns: params.targets ? params.targets.map((column) => rows.map((r) => r.labels[column] ?? null)) : null,
      labelStructure: params.targets ? termStructure(this.store.datasets.get(params.datasetId!)?.labelColumns ?? [], params.targets) : null,
      sequences: params.split.scheme === 'homology' ? rows.map((r) => r.sequence) : null,
    };
  }

  // ---------- starting ----------
  private startEmbedding(request: Extract<Request, { kind: 'embed.dataset' }>): Job {
    this.requireProject(request.projectId);
    const dataset = this.store.datasets.get(request.datasetId);
    if (!dataset || dataset.projectId !== request.projectId) throw notFound(`Dataset ${request.datasetId} of this project`);
    const models = request.modelIds.map((id) => {
      const model = this.store.models.get(id);
      if (!model) throw notFound(`Model ${id}`);
      for (const layer of request.layers) {
        const resolved = layer < 0 ? model.layers + 1 + layer : layer;
        if (resolved < 0 || resolved > model.layers) throw new ApiError('invalid-input', `Layer ${layer} does not exist in ${model.name}, which has layers 0 to ${model.layers} (−1 is the last).`);
      }
      return { id: model.id, name: model.name, dir: model.path };
    });
    const { kind, projectId, datasetId, modelIds, ...settings } = request;
    void modelIds;
    const title = `Embeddings of ${dataset.name} with ${models.map((m) => m.name).join(', ')}`;
    // The run's folder is named after the run, whose id the runner gives.
    const params = (runId: number | null) => ({ datasetId, models, ...settings, runDir: `runs/${runId}` });
    return this.runner().enqueue({ projectId, kind, title, params, createsRun: true });
  }

  private installTarget(name: string, precision: string): string {
    let dir = join(this.store.home.models, `${slug(name)}-${precision}`);
    for (let n = 2; existsSync(dir); n++) dir = join(this.store.home.models, `${slug(name)}-${precision}-${n}`);
    return dir;
  }

  private startInstall(request: Extract<Request, { kind: 'model.install' }>): Job {
    if (!existsSync(request.path)) throw new ApiError('invalid-input', `${request.path} does not exist on this computer.`);
    // Refused now, not when the job finally runs: the same check conversion starts with, which
    // reads config.json and the weight files' headers only (kilobytes, whatever the model's size).
    familyOfCheckpoint(request.path).openCheckpoint(request.path);
    const name = request.path.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
    const params = { source: request.path, precision: request.precision, targetDir: this.installTarget(name, request.precision), catalogId: null };
    return this.runner().enqueue({ projectId: null, kind: request.kind, title: `Install model from ${name}`, params, createsRun: false });
  }

  private startDownload(request: Extract<Request, { kind: 'model.download' }>): Job {
    const entry = catalogEntries().find((e) => e.id === request.catalogId);
    if (!entry) throw notFound(`Model ${request.catalogId} of the catalogue`);
    const hub = hubOptionsFromEnv();
    const params = {
      repo: entry.repo,
      endpoint: hub.endpoint,
      downloadDir: join(this.store.home.models, 'downloads', slug(entry.repo)),
      precision: request.precision,
      targetDir: this.installTarget(entry.id, request.precision),
      catalogId: entry.id,
    };
    return this.runner().enqueue({ projectId: null, kind: request.kind, title: `Download and install ${entry.label}`, params, createsRun: false });
  }

  private startCompression(request: Extract<Request, { kind: 'embeddings.compress' }>): Job {
    const source = this.embedding(request.embeddingId);
    if (!source.offsetsPath) throw new ApiError('invalid-input', 'Compressions start from per-residue embeddings: run an embedding with the "per-token" pooling first.');
    try {
      parseCompression(request.compression);
    } catch (error) {
      throw new ApiError('invalid-input', (error as Error).message);
    }
    if (this.store.embeddings.find(source.runId, source.modelName, source.layer, request.compression)) {
      throw new ApiError('conflict', `This run already has ${request.compression} embeddings of ${source.modelName} layer ${source.layer}.`);
    }
    const bos = this.store.embeddings.find(source.runId, source.modelName, source.layer, 'bos');
    const outPath = join(`runs/${source.runId}`, modelFolderName(source.modelName), `${request.compression}_layer${source.layer}.npy`);
    const params = { sourceId: source.id, source: storedMatrix(source), bos: bos ? storedMatrix(bos) : null, compression: request.compression, outPath };
    const projectId = this.store.embeddings.projectOf(source.id)!;
    return this.runner().enqueue({ projectId, kind: request.kind, title: `Compress ${source.modelName} layer ${source.layer} (${request.compression})`, params, createsRun: false });
  }

  private startExport(request: Extract<Request, { kind: 'embeddings.export' }>): Job {
    const source = this.embedding(request.embeddingId);
    if (source.offsetsPath && request.format !== 'npz') {
      throw new ApiError('invalid-input', 'Per-residue embeddings can only be exported as .npz (one array per protein).');
    }
    const dataset = source.datasetId ? this.store.datasets.get(source.datasetId) : undefined;
    // The run number comes first so that it survives shortening: exports of different runs never collide.
    const base = slug(`run${source.runId}-${dataset?.name ?? 'dataset'}-${source.modelName}-${source.pooling}-layer${source.layer}`, 150);
    const params = { embeddingId: source.id, source: storedMatrix(source), format: request.format, outPath: join('exports', `${base}.${request.format}`) };
    const projectId = this.store.embeddings.projectOf(source.id)!;
    return this.runner().enqueue({ projectId, kind: request.kind, title: `Export ${base}.${request.format}`, params, createsRun: false });
  }

  // ---------- recording ----------
  private recordEmbedding(job: JobRecord, path: string, checksum: string, meta: Record<string, unknown>): void {
    const m = meta as { modelId: number; modelName: string; layer: number; pooling: string; rows: number; cols: number; offsetsPath: string | null };
    this.store.embeddings.upsert({
      runId: job.job.runId!,
      datasetId: this.datasetOf(job),
      modelId: m.modelId,
      modelName: m.modelName,
      layer: m.layer,
      pooling: m.pooling,
      path,
      offsetsPath: m.offsetsPath,
      rows: m.rows,
      cols: m.cols,
      checksum,
    });
  }

  private recordInstalledModel(model: InstalledModel): void {
    let name = model.catalogId ?? model.name;
    if (model.precision !== 'fp32') name += ` (${model.precision})`;
    for (let n = 2; this.store.models.nameTaken(name); n++) name = `${model.catalogId ?? model.name} #${n}`;
    // Installs recorded before the summary said the family were of ESM-2 models.
    this.store.models.insert({ name, family: model.family ?? 'ESM-2', catalogId: model.catalogId, layers: model.layers, hiddenSize: model.hidden, precision: model.precision, sizeBytes: model.sizeBytes, source: model.source, path: model.dir });
    this.events.emit({ type: 'models' });
  }

  /** Removes an installed model (refused while a queued or running job uses it). */
  deleteModel(id: number): { ok: true } {
    const model = this.store.models.get(id);
    if (!model) throw notFound(`Model ${id}`);
    assertNoJobUses(this.store, { modelId: id }, `Model ${model.name}`);
    this.store.models.delete(id);
    rmSync(model.path, { recursive: true, force: true });
    this.events.emit({ type: 'models' });
    return { ok: true };
  }

  private exportInput(embeddingId: number): { ids: string[]; labels: LabelTable } {
    const source = this.embedding(embeddingId);
    const dataset = source.datasetId ? this.store.datasets.get(source.datasetId) : undefined;
    if (!dataset) throw new ApiError('not-found', 'The dataset of these embeddings was deleted; its IDs and labels are no longer available.');
    const rows = this.datasetRows(dataset.id);
    return {
      ids: rows.map((r) => r.seqId),
      labels: { columns: dataset.labelColumns.map((c) => ({ name: c.name, type: c.type })), rows: rows.map((r) => r.labels) },
    };
  }

  /** Every row of a dataset (`undefined`: a job that names none, e.g. started by an older version). */
  private datasetRows(datasetId: number | undefined) {
    const dataset = datasetId === undefined ? undefined : this.store.datasets.get(datasetId);
    if (!dataset) throw notFound(`Dataset ${datasetId ?? '(none named)'}`);
    return this.store.datasets.sequences(dataset.id, 0, dataset.sequenceCount);
  }

  private embedding(id: number): EmbeddingRecord {
    const embedding = this.store.embeddings.get(id);
    if (!embedding) throw notFound(`Embedding ${id}`);
    return embedding;
  }

  private requireProject(id: number): void {
    if (!this.store.projects.get(id)) throw notFound(`Project ${id}`);
  }
}

/**
 * GO / EC term columns (datasets.annotate) chosen as multi-label targets: their namespaces and
 * parents among the chosen columns, for CAFA's per-namespace scores. Null unless every target is a term.
 */
function termStructure(columns: readonly LabelColumn[], targets: readonly string[]): { namespaces: string[]; parents: number[][] } | null {
  const terms = targets.map((name) => columns.find((c) => c.name === name)?.term);
  if (terms.some((t) => t === undefined)) return null;
  const index = new Map(targets.map((name, i) => [name, i]));
  return {
    namespaces: terms.map((t) => t!.namespace),
    parents: terms.map((t) => t!.parents.flatMap((p) => (index.has(p) ? [index.get(p)!] : []))),
  };
}
