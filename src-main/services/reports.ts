/**
 * services/reports — reports of runs: gathers the facts about a run (dataset, models and their
 * checksums, fits and out-of-fold predictions, metric series, software versions), has the pure
 * builder (src-main/reports) turn them into one HTML file in the project's exports folder, lists
 * the reports made, and prints one to PDF where the host can (the desktop app). Also answers the
 * two read-only questions the result views ask: a fit's out-of-fold predictions and which runs
 * recorded metric series.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ApiError, notFound } from '../api/errors';
import type { FitPredictions, Model, ReportFile, Run, RunMetricsInfo } from '../api/schemas';
import { buildReportHtml, type ReportFacts } from '../reports';
import type { DatasetFacts, ModelFacts, SaturationFacts, ScanFacts, SoftwareFacts } from '../reports/facts';
import type { SaturationResults } from '../jobs/tasks/variants';
import { LEARNERS } from '../learn/learners';
import { METHOD_LABELS } from '../variants/score';
import { parsePredictionsCsv } from '../reports/predictions';
import { mainMetricKey, rankFits } from '../reports/sections/scan';
import type { Store } from '../store';
import { writeBytesAtomically } from '../core/atomic';
import type { Events } from './events';
import { exportFilePath, listExports } from './exports';
import { APP_VERSION } from '../core/version';
import { describeModel } from './model-facts';

/** Prints an HTML file to a PDF file (the desktop app supplies one: electron/report-pdf). */
export type PrintPdf = (htmlPath: string, pdfPath: string) => Promise<void>;

const REPORT_NAME = /^report-run(\d+)-[\w.-]+\.html$/;

/** onnxruntime-node's version, read from its package.json without loading the native module. */
function onnxruntimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function softwareFacts(): SoftwareFacts {
  return {
    app: APP_VERSION,
    onnxruntime: onnxruntimeVersion(),
    node: process.versions.node,
    electron: process.versions.electron ?? null,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** "20250312-140322" in UTC: sortable, and safe in a file name. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The model checkpoint's checksum from manifest.json in the model folder; null when unreadable. */
function manifestChecksum(modelDir: string): string | null {
  try {
    const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as { source?: { checksum?: unknown } };
    return typeof manifest.source?.checksum === 'string' ? manifest.source.checksum : null;
  } catch {
    return null;
  }
}

function modelFacts(model: Model): ModelFacts {
  return {
    name: model.name,
    family: model.family,
    catalogId: model.catalogId,
    layers: model.layers,
    hiddenSize: model.hiddenSize,
    precision: model.precision,
    parameters: model.parameters,
    checksum: manifestChecksum(model.path),
  };
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** Names for stored ids in run parameters: learners and scoring methods as the app's forms call them. */
const VALUE_WORDS: Record<string, Record<string, string>> = {
  learners: Object.fromEntries(LEARNERS.map((l) => [l.id, l.label])),
  learner: Object.fromEntries(LEARNERS.map((l) => [l.id, l.label])),
  method: { ...METHOD_LABELS },
  methods: { ...METHOD_LABELS },
};

export class ReportsService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly printPdf?: PrintPdf,
  ) {}

  /** Builds the report of a run and saves it as exports/report-run<id>-<time>.html. */
  create(runId: number, now = new Date()): ReportFile {
    const facts = this.facts(this.run(runId), now);
    const folder = join(this.projectFolder(facts.project.id), 'exports');
    let name = `report-run${runId}-${stamp(now)}.html`;
    for (let n = 2; existsSync(join(folder, name)); n++) name = `report-run${runId}-${stamp(now)}-${n}.html`;
    writeBytesAtomically(join(folder, name), new TextEncoder().encode(buildReportHtml(facts)));
    this.events.emit({ type: 'runs', projectId: facts.project.id });
    return this.file(facts.project.id, name);
  }

  /** The reports in a project's exports folder, newest first. */
  list(projectId: number): ReportFile[] {
    if (!this.store.projects.get(projectId)) throw notFound(`Project ${projectId}`);
    return listExports(this.store, projectId)
      .filter((file) => REPORT_NAME.test(file.name))
      .map((file) => this.file(projectId, file.name));
  }

  /** The path of a report, checked to be a report file of the project's exports folder. */
  reportPath(projectId: number, name: string): string {
    if (!REPORT_NAME.test(name)) throw notFound(`Report ${name}`);
    return exportFilePath(this.store, projectId, name);
  }

  async pdf(projectId: number, name: string): Promise<ReportFile> {
    const htmlPath = this.reportPath(projectId, name);
    if (!this.printPdf) {
      throw new ApiError('refused', 'Saving as PDF is done by the desktop app. In a browser, open the report and print it (Print → Save as PDF).');
    }
    await this.printPdf(htmlPath, htmlPath.replace(/\.html$/, '.pdf'));
    this.events.emit({ type: 'runs', projectId });
    return this.file(projectId, name);
  }

  /** A fit's out-of-fold predictions, from the file its scan wrote. */
  predictions(fitId: number): FitPredictions {
    const fit = this.store.fits.get(fitId);
    if (!fit) throw notFound(`Fit ${fitId}`);
    const run = this.run(fit.runId);
    const path = join(this.projectFolder(run.projectId), fit.predictionsPath);
    if (!existsSync(path)) throw new ApiError('not-found', 'The predictions file of this fit was deleted.');
    const task = fit.task;
    if (task === 'multilabel') throw new ApiError('invalid-input', 'A multi-label fit predicts a set of labels per protein; its predictions are in its CSV (labels separated by ";"), not a single value to plot.');
    return { fitId, task, target: fit.target, ...parsePredictionsCsv(readFileSync(path, 'utf8'), task) };
  }

  /** Runs of a project with metric series, newest first. */
  runsWithMetrics(projectId: number): RunMetricsInfo[] {
    if (!this.store.projects.get(projectId)) throw notFound(`Project ${projectId}`);
    const rows = this.store.db
      .prepare(
        `SELECT m.run_id AS runId, GROUP_CONCAT(DISTINCT m.name) AS names, COUNT(*) AS points, MAX(m.step) AS lastStep
         FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.project_id = ? GROUP BY m.run_id ORDER BY m.run_id DESC`,
      )
      .all(projectId) as { runId: number; names: string; points: number; lastStep: number }[];
    return rows.map((r) => ({ ...r, names: r.names.split(',').sort() }));
  }

  // ---------- gathering ----------
  facts(run: Run, now: Date): ReportFacts {
    const project = this.store.projects.get(run.projectId);
    if (!project) throw notFound(`Project ${run.projectId}`);
    const facts: ReportFacts = {
      generatedAt: now.toISOString(),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      valueWords: VALUE_WORDS,
      project: { id: project.id, name: project.name },
      run,
      dataset: this.datasetFacts(numberOrNull(run.params.datasetId)),
      models: this.modelIds(run).flatMap((id) => {
        const model = this.store.models.get(id);
        return model ? [modelFacts(describeModel(model))] : [];
      }),
      device: this.device(run),
      software: softwareFacts(),
      metrics: this.store.runs.metrics(run.id),
    };
    if (run.kind === 'embed.dataset') {
      facts.embeddings = this.store.embeddings.list(run.projectId, run.id).map(({ modelName, layer, pooling, rows, cols, path }) => ({ modelName, layer, pooling, rows, cols, path }));
    }
    if (run.kind === 'learn.scan') facts.scan = this.scanFacts(run);
    if (run.kind === 'variants.saturate') facts.saturation = this.saturationFacts(run);
    return facts;
  }

  /** The device a run asked for; scans fit their learners on the CPU whatever computed the embeddings. */
  private device(run: Run): string | null {
    if (typeof run.params.device === 'string') return run.params.device;
    if (typeof run.summary.device === 'string') return run.summary.device;
    return run.kind === 'learn.scan' ? 'cpu (learners)' : null;
  }

  private datasetFacts(datasetId: number | null): DatasetFacts | null {
    const dataset = datasetId === null ? undefined : this.store.datasets.get(datasetId);
    if (!dataset) return null;
    const lengths = this.store.datasets
      .sequences(dataset.id, 0, dataset.sequenceCount)
      .map((row) => row.length)
      .sort((a, b) => a - b);
    const stats = lengths.length === 0 ? null : { min: lengths[0]!, max: lengths.at(-1)!, mean: lengths.reduce((s, v) => s + v, 0) / lengths.length, median: median(lengths) };
    return { id: dataset.id, name: dataset.name, sourceFile: dataset.sourceFile, format: dataset.format, sequenceCount: dataset.sequenceCount, lengths: stats, labelColumns: dataset.labelColumns };
  }

  /** A saturation map's results file; undefined while it has none (unfinished, or deleted). */
  private saturationFacts(run: Run): SaturationFacts | undefined {
    const path = join(this.projectFolder(run.projectId), 'runs', String(run.id), 'saturation.json');
    if (!existsSync(path)) return undefined;
    const results = JSON.parse(readFileSync(path, 'utf8')) as SaturationResults;
    return { name: results.name, wildType: results.wildType, offset: results.offset, method: results.method, aminoAcids: [...results.aminoAcids], maps: results.maps };
  }

  /** The installed models a run used, from whichever parameter its kind keeps them in (fine-tuning runs keep the model's folder). */
  private modelIds(run: Run): number[] {
    const p = run.params;
    const ids: unknown[] = [p.modelId, ...(Array.isArray(p.modelIds) ? p.modelIds : [])];
    if (typeof p.modelDir === 'string') ids.push(this.store.models.list().find((m) => m.path === p.modelDir)?.id);
    if (Array.isArray(p.models)) ids.push(...p.models.map((m) => (m as { id?: unknown })?.id));
    if (Array.isArray(p.items)) {
      ids.push(...p.items.map((item) => this.store.embeddings.get(Number((item as { embeddingId?: unknown })?.embeddingId))?.modelId));
    }
    return [...new Set(ids.filter((id): id is number => typeof id === 'number'))];
  }

  private scanFacts(run: Run): ScanFacts {
    const fits = this.store.fits.list(run.id);
    const regression = fits.filter((fit) => fit.task === 'regression');
    const best = rankFits(regression, mainMetricKey('regression'))[0];
    if (!best) return { fits, best: null };
    try {
      const p = this.predictions(best.id);
      return { fits, best: { fit: best, measured: p.measured as number[], predicted: p.predicted as number[] } };
    } catch {
      return { fits, best: null };
    }
  }

  // ---------- helpers ----------
  private run(id: number): Run {
    const run = this.store.runs.get(id);
    if (!run) throw notFound(`Run ${id}`);
    return run;
  }

  private projectFolder(projectId: number): string {
    const folder = this.store.projects.folderOf(projectId);
    if (!folder) throw notFound(`Project ${projectId}`);
    return folder;
  }

  private file(projectId: number, name: string): ReportFile {
    const path = join(this.projectFolder(projectId), 'exports', name);
    const stat = statSync(path);
    const pdf = name.replace(/\.html$/, '.pdf');
    return {
      name,
      projectId,
      runId: Number(REPORT_NAME.exec(name)![1]),
      bytes: stat.size,
      createdAt: stat.mtime.toISOString(),
      path,
      pdf: existsSync(join(this.projectFolder(projectId), 'exports', pdf)) ? pdf : null,
    };
  }
}
