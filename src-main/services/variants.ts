/**
 * services/variants — zero-shot variant effects as jobs and results: checks a scoring or
 * saturation request against the project's datasets and installed models, hands the compute
 * process what it needs, and reads a finished run's scores or maps back (with Spearman / AUROC
 * against the measured columns: numeric columns that are not a row index), or writes them to the
 * exports folder as CSV.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, notFound } from '../api/errors';
import type { ExportFile, Job, JobRequest, MeasuredMap, SaturationMap, VariantScores } from '../api/schemas';
import { parseVariant } from '../variants/mutations';
import type { JobHooks, JobRunner } from '../jobs/runner';
import type { SaturationResults, ScoreInput, ScoreResults, ScoringModel } from '../jobs/tasks/variants';
import { isIndexColumnName, measurementColumns } from '../datasets';
import { writeBytesAtomically } from '../core/atomic';
import type { Store } from '../store';
import { METHOD_EXPLANATIONS, METHOD_LABELS, SCORE_METHODS } from '../variants/score';
import { saturationLongCsv, saturationWideCsv, evaluateScores } from '../variants/tables';
import { paramsOf, requireDatasetId, requireJobParams } from '../api/tasks';
import type { Events } from './events';

type Request = z.output<typeof JobRequest>;
type ScoreRequest = Extract<Request, { kind: 'variants.score' }>;
type SaturateRequest = Extract<Request, { kind: 'variants.saturate' }>;

const STANDARD = /^[ACDEFGHIKLMNPQRSTVWY]+$/;

export class VariantsService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly runner: () => JobRunner,
  ) {}

  methods() {
    return SCORE_METHODS.map((id) => ({ id, label: METHOD_LABELS[id], explanation: METHOD_EXPLANATIONS[id] }));
  }

  startScore(request: ScoreRequest): Job {
    this.requireProject(request.projectId);
    const dataset = this.store.datasets.get(request.datasetId);
    if (!dataset || dataset.projectId !== request.projectId) throw notFound(`Dataset ${request.datasetId} of this project`);
    if (!dataset.variants) {
      throw new ApiError('invalid-input', `Dataset "${dataset.name}" is not a mutation scan. Import a CSV/TSV of mutations with its wild-type FASTA ("Mutation scan" on the Data page) to score it.`);
    }
    const models = this.models(request.modelIds);
    const title = `Zero-shot scores of ${dataset.name} (${models.map((m) => m.name).join(', ')})`;
    const { device, batchTokens, methods } = request;
    const params = (runId: number | null) => ({ datasetId: dataset.id, models, methods, device, batchTokens, runDir: `runs/${runId}` });
    return this.runner().enqueue({ projectId: request.projectId, kind: request.kind, title, params, createsRun: true });
  }

  startSaturation(request: SaturateRequest): Job {
    this.requireProject(request.projectId);
    const wildType = request.wildType.replace(/\s+/g, '').toUpperCase();
    if (!STANDARD.test(wildType)) {
      const bad = [...wildType].findIndex((c) => !STANDARD.test(c));
      throw new ApiError('invalid-input', `The wild type has "${wildType[bad]}" at position ${bad + 1}; a saturation map needs the 20 standard one-letter amino-acid codes.`);
    }
    const models = this.models(request.modelIds);
    const title = `Saturation map of ${request.name} (${wildType.length} residues, ${models.map((m) => m.name).join(', ')})`;
    const { device, batchTokens, method, offset, name } = request;
    const params = (runId: number | null) => ({ models, method, wildType, wildTypeName: name, offset, device, batchTokens, runDir: `runs/${runId}` });
    return this.runner().enqueue({ projectId: request.projectId, kind: request.kind, title, params, createsRun: true });
  }

  hooks(): Record<string, JobHooks> {
    const refresh: JobHooks['onDone'] = (job) => this.events.emit({ type: 'runs', projectId: job.job.projectId! });
    return {
      // Finished parts (a model and method each) are kept on cancel: Resume scores only the rest.
      'variants.score': { prepare: (job) => this.scoreInput(requireDatasetId(requireJobParams('variants.score', job), 'variants.score')), onDone: refresh, resumableAfterCancel: true },
      'variants.saturate': { onDone: refresh, resumableAfterCancel: true },
    };
  }

  /** The dataset's wild type, mutation texts and numeric columns (the measured scores). */
  private scoreInput(datasetId: number): ScoreInput {
    const dataset = this.store.datasets.get(datasetId);
    if (!dataset?.variants) throw notFound(`Mutation dataset ${datasetId}`);
    const rows = this.store.datasets.sequences(datasetId, 0, dataset.sequenceCount);
    const info = dataset.variants;
    const measured: Record<string, (number | null)[]> = {};
    for (const column of measurementColumns(dataset.labelColumns).filter((c) => c.type === 'number')) {
      measured[column.name] = rows.map((r) => (typeof r.labels[column.name] === 'number' ? (r.labels[column.name] as number) : null));
    }
    return { wildType: info.wildType, offset: info.offset, ids: rows.map((r) => r.seqId), variants: rows.map((r) => String(r.labels[info.mutationColumn] ?? '')), measured };
  }

  saturation(runId: number): SaturationMap {
    const results = this.readRunFile<SaturationResults>(runId, 'variants.saturate', 'saturation.json');
    return { runId, name: results.name, wildType: results.wildType, offset: results.offset, method: results.method, aminoAcids: [...results.aminoAcids], maps: results.maps };
  }

  /** A scan's measurements of single mutants, placed like a saturation map of `wildType` (the scan's own wild type). */
  measured(datasetId: number, column: string, wildType: string, aminoAcids: readonly string[]): MeasuredMap {
    const dataset = this.store.datasets.get(datasetId);
    if (!dataset?.variants) throw notFound(`Mutation dataset ${datasetId}`);
    const info = dataset.variants;
    if (info.wildType !== wildType) throw new ApiError('invalid-input', `"${dataset.name}" mutates another wild type (${info.wildTypeId}, ${info.wildType.length} residues), not this map's protein.`);
    if (!dataset.labelColumns.some((c) => c.name === column && c.type === 'number')) throw new ApiError('invalid-input', `"${dataset.name}" has no numeric column "${column}".`);
    const values: (number | null)[] = new Array(wildType.length * aminoAcids.length).fill(null);
    let placed = 0;
    let leftOut = 0;
    for (const row of this.store.datasets.sequences(datasetId, 0, dataset.sequenceCount)) {
      const value = row.labels[column];
      const mutations = parseVariantOrNull(String(row.labels[info.mutationColumn] ?? ''), info.offset);
      const only = mutations?.length === 1 ? mutations[0]! : null;
      const a = only ? aminoAcids.indexOf(only.mut) : -1;
      if (!only || only.kind !== 'missense' || a < 0 || typeof value !== 'number' || !Number.isFinite(value)) {
        leftOut++;
        continue;
      }
      values[(only.position - 1) * aminoAcids.length + a] = value;
      placed++;
    }
    return { datasetId, column, values, placed, leftOut };
  }

  scores(runId: number, threshold: number | null): VariantScores {
    const results = this.readRunFile<ScoreResults>(runId, 'variants.score', 'results.json');
    // Runs scored before index columns were recognised kept them as "measured": leave them out here too.
    const indexColumns = this.indexColumns(runId);
    const measured = Object.fromEntries(Object.entries(results.measured).filter(([column]) => !indexColumns.has(column) && !isIndexColumnName(column)));
    const evaluations = results.columns.flatMap((c) =>
      Object.entries(measured).map(([column, measured]) => ({
        key: c.key,
        model: c.model,
        method: c.method,
        column,
        ...evaluateScores(Float64Array.from(c.values, (v) => v ?? NaN), measured, threshold),
      })),
    );
    return { runId, ids: results.ids, variants: results.variants, measured, columns: results.columns, evaluations, threshold, csvPath: join(this.runFolder(runId), 'scores.csv') };
  }

  /** The index columns (row counters) of the dataset a scoring run scored, as far as it still exists. */
  private indexColumns(runId: number): Set<string> {
    const run = this.store.runs.get(runId);
    const datasetId = Number(run ? paramsOf('variants.score', run)?.datasetId : undefined);
    const columns = this.store.datasets.get(datasetId)?.labelColumns ?? [];
    const measured = new Set(measurementColumns(columns).map((c) => c.name));
    return new Set(columns.filter((c) => !measured.has(c.name)).map((c) => c.name));
  }

  /** Copies a run's scores, or writes its saturation map (long or wide), into the exports folder. */
  export(runId: number, layout: 'long' | 'wide', model?: string): ExportFile {
    const run = this.store.runs.get(runId);
    if (!run) throw notFound(`Run ${runId}`);
    let name: string;
    let text: string;
    if (run.kind === 'variants.saturate') {
      const map = this.saturation(runId);
      const chosen = map.maps.find((m) => m.model === (model ?? map.maps.at(-1)!.model));
      if (!chosen) throw new ApiError('invalid-input', `Run ${runId} has no map of "${model}"; it has ${map.maps.map((m) => m.model).join(', ')}.`);
      const saturation = { wildType: map.wildType, offset: map.offset, scores: chosen.scores.map((v) => v ?? NaN) };
      text = layout === 'long' ? saturationLongCsv(saturation) : saturationWideCsv(saturation);
      name = `run${runId}-saturation-${slug(map.name)}-${slug(chosen.model)}-${map.method}-${layout}.csv`;
    } else if (run.kind === 'variants.score') {
      text = readFileSync(join(this.runFolder(runId), 'scores.csv'), 'utf8');
      name = `run${runId}-variant-scores.csv`;
    } else {
      throw new ApiError('invalid-input', `Run ${runId} is not a variant-effect run.`);
    }
    const dir = join(this.store.projects.folderOf(run.projectId)!, 'exports');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeBytesAtomically(path, new TextEncoder().encode(text));
    this.events.emit({ type: 'runs', projectId: run.projectId });
    return { name, bytes: statSync(path).size, createdAt: new Date().toISOString(), path };
  }

  private readRunFile<T>(runId: number, kind: string, file: string): T {
    const run = this.store.runs.get(runId);
    if (!run) throw notFound(`Run ${runId}`);
    if (run.kind !== kind) throw new ApiError('invalid-input', `Run ${runId} is a ${run.kind} run, not ${kind}.`);
    const path = join(this.runFolder(runId), file);
    if (!existsSync(path)) throw new ApiError('not-found', `Run ${runId} has no results yet (state: ${run.state}).`);
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  }

  private runFolder(runId: number): string {
    const run = this.store.runs.get(runId)!;
    return join(this.store.projects.folderOf(run.projectId)!, 'runs', String(runId));
  }

  private models(ids: readonly number[]): ScoringModel[] {
    return ids.map((id) => {
      const model = this.store.models.get(id);
      if (!model) throw notFound(`Model ${id}`);
      return { id: model.id, name: model.name, dir: model.path };
    });
  }

  private requireProject(projectId: number): void {
    if (!this.store.projects.get(projectId)) throw notFound(`Project ${projectId}`);
  }
}

/** Rows were checked at import; one that no longer parses is left out rather than failing the map. */
function parseVariantOrNull(text: string, offset: number): ReturnType<typeof parseVariant> | null {
  try {
    return parseVariant(text, offset);
  } catch {
    return null;
  }
}

const slug = (text: string): string => text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'x';
