/**
 * services/signal-peptide — signal peptides the PEFT-SP way as project runs: checks a request
 * against the project's SignalP dataset (kingdom, type, partition and residue_labels columns) and
 * installed models, queues training (`train.signalPeptide`), cross-validation
 * (`train.signalPeptideCv`) and prediction (`train.signalPeptidePredict`) jobs, hands the compute
 * process the dataset as SignalP 3-line text (or the proteins to predict), and reads finished runs'
 * predictions back for the views (table, one protein) and the exports (SignalP 6.0's summary and
 * GFF3, CSV).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { z } from 'zod';
import { ApiError, notFound } from '../api/errors';
import type { Dataset, ExportFile, Job } from '../api/schemas';
import {
  SignalPeptideSettings,
  type SIGNAL_PEPTIDE_METHODS,
  type SignalPeptideOptions,
  type SignalPeptideProtein,
  type SignalPeptideResults,
} from '../api/signal-peptide';
import { paramsOf, requireJobParams, type TaskParams } from '../api/tasks';
import { writeBytesAtomically } from '../core/atomic';
import { SIGNALP_COLUMNS, SIGNALP_KINGDOMS, SIGNALP_TYPE_TITLES, SIGNALP_TYPES, type SignalpKingdom } from '../datasets/signalp';
import { signalpGff3Text, signalpSummaryText, signalpTimestamp, signalPeptideCsvText } from '../exports/signal-peptide';
import type { JobHooks, JobRunner } from '../jobs/runner';
import type { Store } from '../store';
import type { JobRecord } from '../store/jobs';
import { SIGNALP_TRACKS } from '../train/crf/signalp-decode';
import {
  benchmarkSummary,
  hasPredictions,
  predictionInputOfRow,
  predictionInputsFromText,
  readPredictions,
  readTracks,
  type SignalPeptideInput,
  type StoredArrangement,
  type StoredSignalPeptide,
} from '../train/signal-peptide-predictions';
import type { Events } from './events';

type Methods = typeof SIGNAL_PEPTIDE_METHODS;
type In<M extends keyof Methods> = z.output<Methods[M]['input']>;

export const SIGNAL_PEPTIDE_RUN_KINDS = ['train.signalPeptide', 'train.signalPeptideCv', 'train.signalPeptidePredict'] as const;
const TRAINED_KINDS: readonly string[] = ['train.signalPeptide', 'train.signalPeptideCv'];

const EXPLANATIONS: Record<string, string> = {
  trainPartitions: 'The partitions (last field of each SignalP header) the model learns from.',
  validationPartitions: 'The partitions that pick the best epoch: detection MCC plus cleavage-site MCC, averaged over kingdoms (PEFT-SP’s rule).',
  testPartitions: 'The partitions kept aside and predicted after training: the per-kingdom table is computed on them.',
  partitions: 'The three partitions of the cross-validation: each model trains on one, picks its epoch on another and is tested on the third — six models in all.',
  peft: 'LoRA (PEFT-SP’s usual choice), prompt tuning or bottleneck adapters.',
  loraR: 'Rank of the LoRA adapters: how much the model may change.',
  loraAlpha: 'Scale of the adapters’ effect (alpha / rank).',
  loraDropout: 'Randomly drops adapter inputs while training, against overfitting (PEFT-SP: 0.1).',
  loraTargets: 'Which attention projections get adapters (PEFT-SP: query, key, value and output).',
  loraLayers: 'Adapt all layers, or only the top K (PEFT-SP adapts the top layers).',
  epochs: 'How many times training goes through the training partition.',
  batchSize: 'Proteins per update (PEFT-SP: 20).',
  lr: 'Adamax’s learning rate.',
  maxGradNorm: 'Clips updates whose gradient norm is larger than this (PEFT-SP: 0.25).',
  regularization: 'Weight of SignalP 6.0’s region term, which keeps the n-, h- and c-regions’ amino-acid profiles apart (0.5; 0 turns it off).',
  seed: 'Seed of the random choices (initialisation, order, dropout): the same seed gives the same run.',
  device: 'Where training runs: the CPU always works; a GPU is used when its provider is installed.',
  threads: 'CPU threads for onnxruntime (0: all cores).',
};

const TRACK_LABELS: Record<string, string> = {
  n: 'n-region',
  h: 'h-region',
  c: 'c-region',
  rr: 'Twin-arginine motif',
  lipobox: 'Lipobox',
  pilin: 'Pilin leader',
  other: 'Other (mature protein)',
};
const REGION_LABELS: Record<SignalPeptideOptions['regions'][number]['id'], string> = {
  n: 'n-region',
  h: 'h-region',
  c: 'c-region',
  rr: 'Twin-arginine motif',
  lipobox: 'Lipobox',
  pilin: 'Pilin leader',
  cys: 'Lipidated cysteine',
  inside: 'Inside (cytoplasm)',
  membrane: 'Transmembrane',
  outside: 'Outside',
};

type RequestSettings = z.output<typeof SignalPeptideSettings>;
type TaskSettings = TaskParams<'train.signalPeptideCv'>['settings'];

/** The form's flat settings → the task's (LoRA as one object; PEFT choice passed through when given). */
function taskSettings(settings: RequestSettings): TaskSettings {
  return {
    lora: { r: settings.loraR, alpha: settings.loraAlpha, dropout: settings.loraDropout, targets: settings.loraTargets, layers: settings.loraLayers },
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    lr: settings.lr,
    maxGradNorm: settings.maxGradNorm,
    seed: settings.seed,
    regularization: settings.regularization,
    device: settings.device,
    threads: settings.threads,
    ...(settings.peft ? { peft: settings.peft } : {}),
  };
}

function pickSettings(request: RequestSettings): RequestSettings {
  const keys = Object.keys(SignalPeptideSettings.shape) as (keyof RequestSettings)[];
  return Object.fromEntries(keys.filter((k) => request[k] !== undefined).map((k) => [k, request[k]])) as RequestSettings;
}

/** A SignalP dataset's rows as the 3-line text the training task reads. */
export function signalpTextOfRows(rows: readonly { seqId: string; sequence: string; labels: Record<string, unknown> }[]): string {
  return rows
    .map((row) => {
      const label = (name: string): string => String(row.labels[name] ?? '');
      return `>${row.seqId}|${label(SIGNALP_COLUMNS.kingdom)}|${label(SIGNALP_COLUMNS.type)}|${label(SIGNALP_COLUMNS.partition)}\n${row.sequence}\n${label(SIGNALP_COLUMNS.residueLabels)}\n`;
    })
    .join('');
}

/** Where a run's predictions are: one folder, or (a cross-validation still going) its finished arrangements' folders. */
interface PredictionSource {
  arrangements: StoredArrangement[];
  parts: { dir: string; proteins: StoredSignalPeptide[] }[];
}

export class SignalPeptideService {
  private cache: { key: string; source: PredictionSource } | null = null;

  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly runner: () => JobRunner,
  ) {}

  options(): SignalPeptideOptions {
    return {
      defaults: SignalPeptideSettings.parse({}),
      explanations: EXPLANATIONS,
      kingdoms: SIGNALP_KINGDOMS.map((id) => ({ id, label: id.charAt(0) + id.slice(1).toLowerCase() })),
      types: SIGNALP_TYPES.map((id) => ({ id, label: SIGNALP_TYPE_TITLES[id] })),
      tracks: SIGNALP_TRACKS.map((id) => ({ id, label: TRACK_LABELS[id]! })),
      regions: Object.entries(REGION_LABELS).map(([id, label]) => ({ id: id as SignalPeptideOptions['regions'][number]['id'], label })),
    };
  }

  startTraining(request: In<'signalPeptide.train'>): Job {
    const { dataset, model, partitions } = this.checkRequest(request);
    const sets = { train: request.trainPartitions, validation: request.validationPartitions, test: request.testPartitions };
    for (const [role, list] of Object.entries(sets)) {
      const missing = list.filter((p) => !partitions.has(p));
      if (missing.length > 0) throw new ApiError('invalid-input', `Dataset "${dataset.name}" has no partition ${missing.join(', ')} (for ${role}); its partitions are ${[...partitions].sort().join(', ')}.`);
    }
    const overlap = request.trainPartitions.filter((p) => request.testPartitions.includes(p) || request.validationPartitions.includes(p));
    if (overlap.length > 0) throw new ApiError('invalid-input', `Partition ${overlap.join(', ')} is used for training and for validation or testing; choose different partitions.`);
    const settings = { ...taskSettings(pickSettings(request)), trainPartitions: request.trainPartitions, validationPartitions: request.validationPartitions, testPartitions: request.testPartitions };
    const title = `Signal peptides: ${model.name} on ${dataset.name} (train ${request.trainPartitions.join('+')}, validate ${request.validationPartitions.join('+') || '–'}, test ${request.testPartitions.join('+') || '–'})`;
    const params = (runId: number | null): TaskParams<'train.signalPeptide'> => ({ modelDir: model.path, modelName: model.name, runDir: `runs/${runId}`, settings, datasetId: dataset.id });
    return this.runner().enqueue({ projectId: request.projectId, kind: 'train.signalPeptide', title, params, createsRun: true });
  }

  startCrossValidation(request: In<'signalPeptide.crossValidate'>): Job {
    const { dataset, model, partitions } = this.checkRequest(request);
    const missing = request.partitions.filter((p) => !partitions.has(p));
    if (missing.length > 0) throw new ApiError('invalid-input', `Dataset "${dataset.name}" has no partition ${missing.join(', ')}; its partitions are ${[...partitions].sort().join(', ')}.`);
    if (new Set(request.partitions).size !== 3) throw new ApiError('invalid-input', 'Give three different partitions.');
    const title = `Signal peptides: 6-fold cross-validation of ${model.name} on ${dataset.name} (partitions ${request.partitions.join(', ')})`;
    const params = (runId: number | null): TaskParams<'train.signalPeptideCv'> => ({ modelDir: model.path, modelName: model.name, runDir: `runs/${runId}`, partitions: request.partitions, settings: taskSettings(pickSettings(request)), datasetId: dataset.id });
    return this.runner().enqueue({ projectId: request.projectId, kind: 'train.signalPeptideCv', title, params, createsRun: true });
  }

  startPrediction(request: In<'signalPeptide.predict'>): Job {
    const run = this.store.runs.get(request.runId);
    if (!run || !TRAINED_KINDS.includes(run.kind)) throw notFound(`Signal-peptide training run ${request.runId}`);
    if (run.state !== 'done') throw new ApiError('invalid-input', `Run ${run.id} is ${run.state}; only a finished signal-peptide run can predict.`);
    const folder = this.projectFolder(run.projectId);
    const modelRunDir = this.modelRunDir(run, folder);
    const modelName = String(run.params.modelName ?? 'model');
    let what: string;
    let source: { datasetId: number } | { inputFile: string };
    if (request.source.kind === 'dataset') {
      const dataset = this.dataset(request.source.datasetId, run.projectId);
      what = dataset.name;
      source = { datasetId: dataset.id };
    } else {
      const { fileName, text } = request.source;
      // Checked now, so that a bad file is refused at once with its lines, not after the job starts.
      try {
        predictionInputsFromText(fileName, text, request.kingdom);
      } catch (error) {
        throw new ApiError('invalid-input', (error as Error).message);
      }
      const inputFile = join('signal-peptides', 'inputs', `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.fasta`);
      mkdirSync(join(folder, 'signal-peptides', 'inputs'), { recursive: true });
      writeBytesAtomically(join(folder, inputFile), new TextEncoder().encode(text));
      what = fileName;
      source = { inputFile };
    }
    const title = `Signal peptides of ${what} (run ${run.id}, ${modelName})`;
    const params = (runId: number | null): TaskParams<'train.signalPeptidePredict'> => ({
      modelRunDir,
      runDir: `runs/${runId}`,
      device: request.device,
      kingdom: request.kingdom,
      modelRunId: run.id,
      modelName,
      ...source,
      ...(request.source.kind === 'fasta' ? { fileName: request.source.fileName } : {}),
    });
    return this.runner().enqueue({ projectId: run.projectId, kind: 'train.signalPeptidePredict', title, params, createsRun: true });
  }

  results(runId: number): SignalPeptideResults {
    const { run, source } = this.source(runId);
    const proteins = source.parts.flatMap((part) => part.proteins);
    const predictParams = paramsOf('train.signalPeptidePredict', run);
    const table = benchmarkSummary(proteins);
    return {
      runId,
      source: run.kind === 'train.signalPeptideCv' ? 'cross-validation' : run.kind === 'train.signalPeptidePredict' ? 'new-sequences' : 'test',
      modelRunId: predictParams?.modelRunId ?? runId,
      modelName: String(predictParams?.modelName ?? run.params.modelName ?? ''),
      usesKingdom: false,
      arrangements: source.arrangements,
      table,
      predictions: proteins.map((protein, index) => rowOf(protein, index)),
    };
  }

  protein(runId: number, index: number): SignalPeptideProtein {
    const { source } = this.source(runId);
    let local = index;
    for (const part of source.parts) {
      if (local < part.proteins.length) {
        const protein = part.proteins[local]!;
        const tracks = readTracks(part.dir, local, protein.predictedLength);
        return {
          ...rowOf(protein, index),
          runId,
          sequence: protein.sequence,
          trueLabels: protein.trueLabels,
          tracks: SIGNALP_TRACKS.map((region, k) => ({ region, values: tracks.regions[k]! })),
          cleavage: tracks.cleavage,
          segments: protein.segments,
        };
      }
      local -= part.proteins.length;
    }
    throw notFound(`Protein ${index} of run ${runId}`);
  }

  export(runId: number, format: In<'signalPeptide.export'>['format']): ExportFile {
    const { run, source } = this.source(runId);
    const proteins = source.parts.flatMap((part) => part.proteins);
    if (proteins.length === 0) throw new ApiError('invalid-input', `Run ${runId} has no predicted proteins to export (no test partition, or not finished).`);
    const text = format === 'summary' ? signalpSummaryText(proteins, { timestamp: signalpTimestamp(new Date()) }) : format === 'gff3' ? signalpGff3Text(proteins) : signalPeptideCsvText(proteins);
    const name = `run${runId}-signal-peptides${format === 'summary' ? '-prediction_results.txt' : format === 'gff3' ? '-regions.gff3' : '.csv'}`;
    const dir = join(this.projectFolder(run.projectId), 'exports');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeBytesAtomically(path, new TextEncoder().encode(text));
    this.events.emit({ type: 'runs', projectId: run.projectId });
    return { name, bytes: statSync(path).size, createdAt: new Date().toISOString(), path };
  }

  hooks(): Record<string, JobHooks> {
    const refresh: JobHooks['onDone'] = (job) => this.events.emit({ type: 'runs', projectId: job.job.projectId! });
    const trainingInput = (job: JobRecord, kind: 'train.signalPeptide' | 'train.signalPeptideCv') => {
      const params = requireJobParams(kind, job);
      if (params.datasetId === undefined) throw new Error(`A ${kind} job of the app has no datasetId.`);
      const dataset = this.store.datasets.get(params.datasetId);
      if (!dataset) throw notFound(`Dataset ${params.datasetId}`);
      return { fileName: dataset.name, text: signalpTextOfRows(this.rows(dataset)) };
    };
    return {
      'train.signalPeptide': { prepare: (job) => trainingInput(job, 'train.signalPeptide'), onDone: refresh, resumableAfterCancel: true },
      'train.signalPeptideCv': { prepare: (job) => trainingInput(job, 'train.signalPeptideCv'), onDone: refresh, resumableAfterCancel: true },
      'train.signalPeptidePredict': { prepare: (job) => ({ proteins: this.predictionInputs(job) }), onDone: refresh },
    };
  }

  private predictionInputs(job: JobRecord): SignalPeptideInput[] {
    const params = requireJobParams('train.signalPeptidePredict', job);
    if (params.datasetId !== undefined) {
      const dataset = this.store.datasets.get(params.datasetId);
      if (!dataset) throw notFound(`Dataset ${params.datasetId}`);
      return this.rows(dataset).map((row) => predictionInputOfRow(row, params.kingdom as SignalpKingdom | null));
    }
    if (!params.inputFile || job.job.projectId === null) throw new Error('A signal-peptide prediction job has neither a dataset nor an input file.');
    const text = readFileSync(join(this.projectFolder(job.job.projectId), params.inputFile), 'utf8');
    return predictionInputsFromText(params.fileName ?? params.inputFile, text, params.kingdom);
  }

  /** The request's project, model and SignalP dataset (with the partitions it has). */
  private checkRequest(request: { projectId: number; datasetId: number; modelId: number }): { dataset: Dataset; model: { path: string; name: string }; partitions: Set<number> } {
    this.projectFolder(request.projectId);
    const dataset = this.dataset(request.datasetId, request.projectId);
    const columns = new Set(dataset.labelColumns.map((c) => c.name));
    const missing = Object.values(SIGNALP_COLUMNS).filter((name) => !columns.has(name));
    if (missing.length > 0) {
      throw new ApiError('invalid-input', `Dataset "${dataset.name}" has no ${missing.join(', ')} column(s); import a SignalP 6.0 3-line FASTA file (>id|KINGDOM|TYPE|PARTITION, sequence, labels) to train on signal peptides.`);
    }
    const model = this.store.models.get(request.modelId);
    if (!model) throw notFound(`Model ${request.modelId}`);
    const partitions = new Set(this.rows(dataset).map((row) => Number(row.labels[SIGNALP_COLUMNS.partition])).filter(Number.isInteger));
    return { dataset, model, partitions };
  }

  private dataset(datasetId: number, projectId: number): Dataset {
    const dataset = this.store.datasets.get(datasetId);
    if (!dataset || dataset.projectId !== projectId) throw notFound(`Dataset ${datasetId} of this project`);
    return dataset;
  }

  private rows(dataset: Dataset) {
    return this.store.datasets.sequences(dataset.id, 0, dataset.sequenceCount);
  }

  private projectFolder(projectId: number): string {
    const folder = this.store.projects.folderOf(projectId);
    if (!folder) throw notFound(`Project ${projectId}`);
    return folder;
  }

  /** A trained run's model folder: the run's, or for a cross-validation the arrangement that validated best. */
  private modelRunDir(run: { id: number; kind: string; params: Record<string, unknown> }, folder: string): string {
    const runDir = String(run.params.runDir);
    if (run.kind !== 'train.signalPeptideCv') return runDir;
    let best: { dir: string; score: number } | null = null;
    for (let k = 1; k <= 6; k++) {
      const dir = join(runDir, `arrangement-${k}`);
      const path = join(isAbsolute(dir) ? dir : join(folder, dir), 'training.json');
      if (!existsSync(path)) continue;
      const training = JSON.parse(readFileSync(path, 'utf8')) as { bestEpoch: number | null; history: { epoch: number; detectionMcc: number | null; csMcc: number | null }[] };
      const entry = training.history.find((h) => h.epoch === training.bestEpoch);
      const score = (entry?.detectionMcc ?? -1) + (entry?.csMcc ?? 0);
      if (!best || score > best.score) best = { dir, score };
    }
    if (!best) throw new ApiError('invalid-input', `Cross-validation run ${run.id} has no trained arrangement.`);
    return best.dir;
  }

  /** A run's predictions (cached per file, so clicking through proteins does not re-read a large file). */
  private source(runId: number): { run: NonNullable<ReturnType<Store['runs']['get']>>; source: PredictionSource } {
    const run = this.store.runs.get(runId);
    if (!run || !(SIGNAL_PEPTIDE_RUN_KINDS as readonly string[]).includes(run.kind)) throw notFound(`Signal-peptide run ${runId}`);
    const dir = join(this.projectFolder(run.projectId), String(run.params.runDir));
    const file = join(dir, 'signal-peptides.json');
    if (existsSync(file)) {
      const key = `${file}:${statSync(file).mtimeMs}`;
      if (this.cache?.key !== key) {
        const { arrangements, proteins } = readPredictions(dir);
        this.cache = { key, source: { arrangements, parts: [{ dir, proteins }] } };
      }
      return { run, source: this.cache.source };
    }
    if (run.kind === 'train.signalPeptideCv') return { run, source: this.partialCrossValidation(run, dir) };
    if (run.kind === 'train.signalPeptide') {
      const settings = paramsOf('train.signalPeptide', run)?.settings;
      const arrangement: StoredArrangement = { train: settings?.trainPartitions ?? [], validation: settings?.validationPartitions ?? [], test: settings?.testPartitions ?? [], state: 'pending', bestEpoch: null };
      return { run, source: { arrangements: [arrangement], parts: [] } };
    }
    throw new ApiError('invalid-input', `Run ${runId} is ${run.state}; its predictions are not there yet.`);
  }

  /** A cross-validation in progress or cancelled: the arrangements finished so far. */
  private partialCrossValidation(run: { params: Record<string, unknown> }, dir: string): PredictionSource {
    const partitions = (run.params.partitions as number[] | undefined) ?? [0, 1, 2];
    const arrangements: StoredArrangement[] = [];
    const parts: PredictionSource['parts'] = [];
    let k = 0;
    for (const test of partitions) {
      for (const validation of partitions) {
        if (validation === test) continue;
        const train = partitions.find((p) => p !== test && p !== validation)!;
        const arrangementDir = join(dir, `arrangement-${k + 1}`);
        if (hasPredictions(arrangementDir) && existsSync(join(arrangementDir, 'training.json'))) {
          const stored = readPredictions(arrangementDir);
          arrangements.push(stored.arrangements[0] ?? { train: [train], validation: [validation], test: [test], state: 'done', bestEpoch: null });
          parts.push({ dir: arrangementDir, proteins: stored.proteins });
        } else {
          arrangements.push({ train: [train], validation: [validation], test: [test], state: 'pending', bestEpoch: null });
        }
        k += 1;
      }
    }
    return { arrangements, parts };
  }
}

function rowOf(protein: StoredSignalPeptide, index: number): SignalPeptideResults['predictions'][number] {
  return {
    index,
    id: protein.id,
    kingdom: protein.kingdom,
    partition: protein.partition,
    arrangement: protein.arrangement,
    trueType: protein.trueType,
    trueCleavageSite: protein.trueCleavageSite,
    predictedType: protein.predictedType,
    probability: protein.probability,
    typeProbabilities: protein.typeProbabilities,
    cleavageSite: protein.cleavageSite,
    cleavageProbability: protein.cleavageProbability,
    length: protein.length,
    predictedLength: protein.predictedLength,
  };
}
