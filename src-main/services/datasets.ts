/**
 * services/datasets — import sequence files into a project: preview (parse + validate, write
 * nothing), then import the valid records in one transaction, or nothing at all.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { ApiError, notFound } from '../api/errors';
import type { Dataset, ImportOptions, ImportReport, ImportSource, SequenceRow } from '../api/schemas';
import { parseSequenceFile, type ParsedFile } from '../datasets';
import type { Store } from '../store';
import type { Events } from './events';

/** Larger files are refused with a clear message rather than exhausting memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

function readSource(source: ImportSource): { fileName: string; text: string } {
  if (source.kind === 'text') return { fileName: source.fileName, text: source.text };
  try {
    const buffer = readFileSync(source.path);
    if (buffer.length > MAX_FILE_BYTES) {
      throw new ApiError('invalid-input', `${source.path}: the file is larger than 512 MB; split it into smaller files.`);
    }
    return { fileName: basename(source.path), text: buffer.toString('utf8') };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ApiError('invalid-input', `Cannot read ${source.path}: ${reason}.`);
  }
}

export function defaultDatasetName(fileName: string): string {
  return basename(fileName, extname(fileName)) || 'dataset';
}

export class DatasetsService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
  ) {}

  list(projectId: number): Dataset[] {
    this.requireProject(projectId);
    return this.store.datasets.list(projectId);
  }

  preview(source: ImportSource, options: ImportOptions): ImportReport {
    return this.parse(source, options).report;
  }

  import(input: { projectId: number; name?: string; source: ImportSource; options: ImportOptions; accept: boolean }): {
    dataset: Dataset;
    report: ImportReport;
  } {
    this.requireProject(input.projectId);
    const parsed = this.parse(input.source, input.options);
    const { report } = parsed;
    if (report.errorCount > 0 && !input.accept) {
      throw new ApiError(
        'refused',
        `${report.fileName}: ${report.errorCount} record(s) have errors. Accept the import to skip them, or fix the file.`,
        report,
      );
    }
    if (parsed.records.length === 0) {
      throw new ApiError('invalid-input', `${report.fileName}: no valid sequences to import.`, report);
    }
    const name = input.name ?? defaultDatasetName(report.fileName);
    if (this.store.datasets.nameTaken(input.projectId, name)) {
      throw new ApiError('conflict', `This project already has a dataset named "${name}"; choose another name.`);
    }
    const id = this.store.datasets.insert(input.projectId, name, report, parsed.records);
    this.store.projects.touch(input.projectId);
    this.events.emit({ type: 'datasets', projectId: input.projectId });
    this.events.emit({ type: 'projects' });
    return { dataset: this.store.datasets.get(id)!, report };
  }

  sequences(datasetId: number, offset: number, limit: number): { total: number; rows: SequenceRow[] } {
    const dataset = this.store.datasets.get(datasetId);
    if (!dataset) throw notFound(`Dataset ${datasetId}`);
    return { total: dataset.sequenceCount, rows: this.store.datasets.sequences(datasetId, offset, limit) };
  }

  delete(id: number): { ok: true } {
    const dataset = this.store.datasets.get(id);
    if (!dataset) throw notFound(`Dataset ${id}`);
    this.store.datasets.delete(id);
    this.events.emit({ type: 'datasets', projectId: dataset.projectId });
    this.events.emit({ type: 'projects' });
    return { ok: true };
  }

  private parse(source: ImportSource, options: ImportOptions): ParsedFile {
    const { fileName, text } = readSource(source);
    return parseSequenceFile(fileName, text, options);
  }

  private requireProject(projectId: number): void {
    if (!this.store.projects.get(projectId)) throw notFound(`Project ${projectId}`);
  }
}
