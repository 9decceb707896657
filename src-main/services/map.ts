/**
 * services/map — the embedding map: starts projection jobs (`map.project`, a run per map whose
 * coordinates file is recorded in the artifacts table), lists a project's maps, and serves a
 * map's points with everything a view can colour them by: the dataset's label columns, the
 * sequence length, and the out-of-fold predictions and residuals of scans fitted on the dataset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ApiError, notFound } from '../api/errors';
import type { Dataset, Job, JobRequest, MapColumn, MapFit, MapPoints, Projection, Run, SequenceRow } from '../api/schemas';
import { formatFloat32 } from '../exports';
import type { JobRunner } from '../jobs/runner';
import { TASK_PARAMS } from '../api/tasks';
import type { Store } from '../store';
import { readNpy } from '../store/npy';
import { aminoAcidGroup } from '../core/amino-acids';
import { parseVariant } from '../variants/mutations';

type MapRequest = Extract<z.output<typeof JobRequest>, { kind: 'map.project' }>;

export const MAP_JOB_KIND = 'map.project';
/** UMAP on wider rows first reduces them to this many principal components. */
const UMAP_PCA_DIMS = 50;

/** What a map's run keeps in its params: the task's parameters and what the app shows of the map. */
const MapRunParams = TASK_PARAMS['map.project'].extend({
  embeddingId: z.number().int(),
  datasetId: z.number().int(),
  modelName: z.string(),
  layer: z.number().int(),
  pooling: z.string(),
});
type MapRunParams = z.output<typeof MapRunParams>;

/** Queues a projection of one stored embedding matrix (one vector per sequence) as a new run of its project. */
export function startProjection(store: Store, runner: JobRunner, request: MapRequest): Job {
  const embedding = store.embeddings.get(request.embeddingId);
  if (!embedding) throw notFound(`Embedding ${request.embeddingId}`);
  if (embedding.offsetsPath) {
    throw new ApiError('invalid-input', `${embedding.modelName} layer ${embedding.layer} per-residue embeddings need a compression first (one vector per protein) before they can be mapped.`);
  }
  const dataset = embedding.datasetId ? store.datasets.get(embedding.datasetId) : undefined;
  if (!dataset) throw new ApiError('not-found', 'The dataset of these embeddings was deleted; a map would have no IDs or labels.');
  if (embedding.rows < 3) throw new ApiError('invalid-input', `A map needs at least 3 sequences; this matrix has ${embedding.rows}.`);
  const projectId = store.embeddings.projectOf(embedding.id)!;
  const method = request.method === 'pca' ? 'PCA' : 'UMAP';
  const title = `Map (${method}) of ${dataset.name}: ${embedding.modelName} layer ${embedding.layer} ${embedding.pooling}`;
  const params = (runId: number | null): MapRunParams =>
    ({
      embeddingId: embedding.id,
      datasetId: dataset.id,
      modelName: embedding.modelName,
      layer: embedding.layer,
      pooling: embedding.pooling,
      method: request.method,
      nNeighbors: request.nNeighbors,
      minDist: request.minDist,
      nEpochs: request.nEpochs,
      seed: request.seed,
      pcaDims: UMAP_PCA_DIMS,
      source: { path: embedding.path, rows: embedding.rows, cols: embedding.cols },
      outPath: `runs/${runId}/map-${request.method}.npy`,
    }) satisfies MapRunParams;
  return runner.enqueue({ projectId, kind: MAP_JOB_KIND, title, params, createsRun: true });
}

function categoryColumn(name: string, values: readonly (string | number | null | undefined)[]): MapColumn {
  const categories = [...new Set(values.filter((v) => v !== null && v !== undefined && v !== '').map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const index = new Map(categories.map((c, i) => [c, i]));
  return { name, type: 'category', categories, codes: values.map((v) => (v === null || v === undefined || v === '' ? -1 : index.get(String(v))!)) };
}

function numberColumn(name: string, values: readonly (string | number | null | undefined)[]): MapColumn {
  return {
    name,
    type: 'number',
    values: values.map((v) => {
      if (v === null || v === undefined || v === '') return null;
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    }),
  };
}

/** The shortest decimal that reads back as the same float32: a map of 100,000 points stays a few MB of JSON. */
const compact = (v: number): number => Number(formatFloat32(v));

export class MapService {
  constructor(private readonly store: Store) {}

  list(projectId: number): Projection[] {
    if (!this.store.projects.get(projectId)) throw notFound(`Project ${projectId}`);
    return this.store.runs
      .list(projectId)
      .filter((run) => run.kind === MAP_JOB_KIND)
      .map((run) => this.toProjection(run));
  }

  points(projectionId: number): MapPoints {
    const { run, params } = this.mapRun(projectionId);
    const path = this.coordinatesPath(run);
    if (!path) throw new ApiError('conflict', `This map is ${run.state === 'done' ? 'missing its coordinates file' : `not ready (${run.state})`}; start it again from the Map page.`);
    const dataset = this.dataset(params.datasetId);
    const coords = readNpy(path);
    const [rows, width] = coords.shape;
    if (width !== 2 || rows !== dataset.sequenceCount) {
      throw new ApiError('conflict', `The map has ${rows} points but dataset "${dataset.name}" now has ${dataset.sequenceCount} sequences; start a new map.`);
    }
    const data = coords.data as Float32Array;
    const sequences = this.store.datasets.sequences(dataset.id, 0, dataset.sequenceCount);
    return {
      projectionId,
      datasetId: dataset.id,
      ids: sequences.map((s) => s.seqId),
      x: Array.from({ length: rows }, (_, i) => compact(data[i * 2]!)),
      y: Array.from({ length: rows }, (_, i) => compact(data[i * 2 + 1]!)),
      columns: this.labelColumns(dataset, sequences),
      fits: this.fitsOn(run.projectId, dataset.id),
    };
  }

  /**
   * A scan fit's out-of-fold predictions on the map's points (each row predicted by the fold
   * model that did not see it): regression gives the prediction and the residual (measured −
   * predicted), classification the predicted class and whether it is right. Rows the fit left out
   * (no target) are missing.
   */
  predictions(projectionId: number, fitId: number): MapColumn[] {
    const { run, params } = this.mapRun(projectionId);
    const fit = this.store.fits.get(fitId);
    if (!fit) throw notFound(`Fit ${fitId}`);
    if (!this.fitsOn(run.projectId, params.datasetId).some((f) => f.id === fitId)) {
      throw new ApiError('invalid-input', 'This fit was made on another dataset than the map’s.');
    }
    const dataset = this.dataset(params.datasetId);
    const file = join(this.projectFolder(run.projectId), fit.predictionsPath);
    if (!existsSync(file)) throw new ApiError('not-found', 'The predictions file of this fit was deleted.');
    const records = parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as { id: string; y: string; yhat: string }[];
    const byId = new Map(records.map((r) => [r.id, r]));
    const ids = this.store.datasets.sequences(dataset.id, 0, dataset.sequenceCount).map((s) => s.seqId);
    const found = ids.map((id) => byId.get(id));
    const label = `${fit.learner}, ${fit.modelName} layer ${fit.layer} ${fit.pooling}`;
    if (fit.task === 'regression') {
      return [
        numberColumn(`predicted ${fit.target} (${label})`, found.map((r) => r?.yhat ?? null)),
        numberColumn(`residual ${fit.target} (${label})`, found.map((r) => (r ? Number(r.y) - Number(r.yhat) : null))),
      ];
    }
    return [
      categoryColumn(`predicted ${fit.target} (${label})`, found.map((r) => r?.yhat ?? null)),
      categoryColumn(`correct ${fit.target} (${label})`, found.map((r) => (r ? (r.y === r.yhat ? 'right' : 'wrong') : null))),
    ];
  }

  // ---------- helpers ----------
  private toProjection(run: Run): Projection {
    const p = MapRunParams.parse(run.params);
    const dataset = this.store.datasets.get(p.datasetId);
    const embedding = this.store.embeddings.get(p.embeddingId);
    const explained = run.summary.explainedVariance;
    return {
      id: run.id,
      projectId: run.projectId,
      title: run.title,
      state: run.state,
      method: p.method,
      embeddingId: embedding ? embedding.id : null,
      datasetId: dataset ? dataset.id : null,
      datasetName: dataset?.name ?? null,
      modelName: p.modelName,
      layer: p.layer,
      pooling: p.pooling,
      rows: p.source.rows,
      nNeighbors: p.nNeighbors,
      minDist: p.minDist,
      nEpochs: p.nEpochs,
      seed: p.seed,
      explainedVariance: Array.isArray(explained) ? (explained as number[]) : null,
      ready: this.coordinatesPath(run) !== null,
      createdAt: run.createdAt,
    };
  }

  private mapRun(id: number): { run: Run; params: MapRunParams } {
    const run = this.store.runs.get(id);
    if (!run || run.kind !== MAP_JOB_KIND) throw notFound(`Map ${id}`);
    return { run, params: MapRunParams.parse(run.params) };
  }

  /** The finished coordinates file of a map run (the last one reported: a resumed job may report twice). */
  private coordinatesPath(run: Run): string | null {
    if (run.state !== 'done') return null;
    const artifact = this.store.runs.artifacts(run.id).filter((a) => a.kind === 'map').at(-1);
    if (!artifact) return null;
    const path = join(this.projectFolder(run.projectId), artifact.path);
    return existsSync(path) ? path : null;
  }

  private dataset(id: number): Dataset {
    const dataset = this.store.datasets.get(id);
    if (!dataset) throw new ApiError('not-found', 'The dataset of this map was deleted; its IDs and labels are no longer available.');
    return dataset;
  }

  /**
   * Colourings that mean something for a mutation scan, listed first so the map opens with one:
   * where each variant's mutation is (in the file's numbering; the first one of a multi-mutant)
   * and what kind of residue it puts there. The mutation text itself has a category per variant.
   */
  private mutationColumns(dataset: Dataset, rows: readonly SequenceRow[]): MapColumn[] {
    const info = dataset.variants;
    if (!info) return [];
    const parsed = rows.map((r) => {
      try {
        return parseVariant(String(r.labels[info.mutationColumn] ?? ''), info.offset);
      } catch {
        return null; // refused rows never reach the dataset; an odd one is shown as missing
      }
    });
    const position = parsed.map((m) => (m && m.length > 0 ? m[0]!.position + info.offset : null));
    const residueClass = parsed.map((m) => {
      if (!m) return null;
      if (m.length === 0) return 'wild type';
      if (m.length > 1) return 'several mutations';
      const [only] = m;
      if (only!.kind === 'stop') return 'stop';
      if (only!.kind === 'synonymous') return 'synonymous';
      return aminoAcidGroup(only!.mut) ?? 'other';
    });
    return [numberColumn('mutated position', position), categoryColumn('mutant residue class', residueClass)];
  }

  private labelColumns(dataset: Dataset, rows: readonly SequenceRow[]): MapColumn[] {
    const columns = [...this.mutationColumns(dataset, rows)];
    columns.push(...dataset.labelColumns.map((c) => {
      const values = rows.map((r) => r.labels[c.name] ?? null);
      return c.type === 'number' ? numberColumn(c.name, values) : categoryColumn(c.name, values);
    }));
    // The length is always known: something to colour by even for a FASTA file without labels.
    columns.push(numberColumn('length', rows.map((r) => r.length)));
    return columns;
  }

  /** The fits of the project's scans on this dataset. */
  private fitsOn(projectId: number, datasetId: number): MapFit[] {
    return this.store.runs
      .list(projectId)
      .filter((run) => run.kind === 'learn.scan' && Number(run.params.datasetId) === datasetId)
      .flatMap((run) =>
        // A multi-label fit predicts a set of labels per protein: no single value to colour by.
        this.store.fits.list(run.id).flatMap((fit) =>
          fit.task === 'multilabel'
            ? []
            : [{ id: fit.id, label: `${fit.target}: ${fit.learner}, ${fit.modelName} layer ${fit.layer} ${fit.pooling} (run ${run.id})`, task: fit.task, target: fit.target }],
        ),
      );
  }

  private projectFolder(projectId: number): string {
    const folder = this.store.projects.folderOf(projectId);
    if (!folder) throw notFound(`Project ${projectId}`);
    return folder;
  }
}
