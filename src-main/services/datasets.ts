/**
 * services/datasets — import sequence files into a project: preview (parse + validate, write
 * nothing), then import the valid records in one transaction, or nothing at all. Requests parse
 * large files off the main loop (dataset-parser); `preview`/`import` parse at once, for callers
 * that run alone (tests, scripts).
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { ApiError, notFound } from '../api/errors';
import type { Dataset, ImportOptions, ImportReport, ImportSource, SequenceRow } from '../api/schemas';
import type { ParsedFile } from '../datasets';
import { EXPERIMENTAL_EVIDENCE, readLabelMatrix } from '../datasets/ontology';
import type { Store } from '../store';
import { IN_PROCESS_PARSER, type DatasetParser } from './dataset-parser';
import type { Events } from './events';
import { assertNoJobUses } from './job-usage';

type ImportInput = { projectId: number; name?: string; source: ImportSource; options: ImportOptions; accept: boolean };
type Imported = { dataset: Dataset; report: ImportReport };
type AnnotateInput = {
  datasetId: number;
  annotations: ImportSource;
  ontology: ImportSource | null;
  minCount: number;
  namespaces?: string[];
  evidence?: 'experimental' | string[];
};

/** A chosen file as path and text: sent as text by the renderer, or a path on this machine (CLI, tests). */
function sourceText(source: ImportSource): { path: string; text: string } {
  if (source.kind === 'text') return { path: source.fileName, text: source.text };
  try {
    return { path: source.path, text: readFileSync(source.path, 'utf8') };
  } catch {
    throw new ApiError('invalid-input', `Cannot read ${source.path}.`);
  }
}

export function defaultDatasetName(fileName: string): string {
  return basename(fileName, extname(fileName)) || 'dataset';
}

/** The import report a subset is recorded with: no problems, its own lengths and label counts. */
function subsetReport(source: Dataset, records: readonly { sequence: string; labels: SequenceRow['labels'] }[]): ImportReport {
  const lengths = records.map((r) => r.sequence.length).sort((a, b) => a - b);
  const middle = lengths.length >> 1;
  return {
    fileName: `selection of ${source.name}`,
    format: source.format,
    records: records.length,
    importable: records.length,
    errors: [],
    errorCount: 0,
    notices: [],
    duplicateIds: 0,
    duplicateSequences: records.length - new Set(records.map((r) => r.sequence)).size,
    tooLong: lengths.filter((n) => n > 1022).length,
    lengths: lengths.length === 0 ? null : {
      min: lengths[0]!,
      max: lengths.at(-1)!,
      mean: lengths.reduce((a, b) => a + b, 0) / lengths.length,
      median: lengths.length % 2 ? lengths[middle]! : (lengths[middle - 1]! + lengths[middle]!) / 2,
    },
    labelColumns: source.labelColumns.map((c) => ({ ...c, missing: records.filter((r) => (r.labels[c.name] ?? null) === null || r.labels[c.name] === '').length })),
    sequenceColumn: null,
    idColumn: null,
    variants: source.variants ?? null,
  };
}

export class DatasetsService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly parser: DatasetParser = IN_PROCESS_PARSER,
  ) {}

  list(projectId: number): Dataset[] {
    this.requireProject(projectId);
    return this.store.datasets.list(projectId);
  }

  preview(source: ImportSource, options: ImportOptions): ImportReport {
    return this.parser.parseNow(source, options).report;
  }

  import(input: ImportInput): Imported {
    this.requireProject(input.projectId);
    return this.save(input, this.parser.parseNow(input.source, input.options));
  }

  /** `preview` for a request: a large file is parsed while other requests are answered. */
  async previewRequest(source: ImportSource, options: ImportOptions): Promise<ImportReport> {
    return (await this.parser.parse(source, options, 'report')).report;
  }

  /** `import` for a request: a large file is parsed while other requests are answered. */
  async importRequest(input: ImportInput): Promise<Imported> {
    this.requireProject(input.projectId);
    const parsed = await this.parser.parse(input.source, input.options, 'records');
    this.requireProject(input.projectId); // It may have been deleted meanwhile.
    return this.save(input, parsed);
  }

  /** Stores the valid records of a parsed file as a new dataset, or refuses it. */
  private save(input: ImportInput, parsed: ParsedFile): Imported {
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

  /**
   * A new dataset made of some rows of another (a selection on the map): the same sequences,
   * IDs and labels, in the source's order. Rows are 0-based indices into the source.
   */
  subset(input: { datasetId: number; rows: readonly number[]; name: string }): Dataset {
    const source = this.store.datasets.get(input.datasetId);
    if (!source) throw notFound(`Dataset ${input.datasetId}`);
    const picked = [...new Set(input.rows)].sort((a, b) => a - b);
    const outside = picked.find((row) => row >= source.sequenceCount);
    if (outside !== undefined) throw new ApiError('invalid-input', `Row ${outside} is not in dataset "${source.name}" (${source.sequenceCount} sequences).`);
    if (this.store.datasets.nameTaken(source.projectId, input.name)) {
      throw new ApiError('conflict', `This project already has a dataset named "${input.name}"; choose another name.`);
    }
    const all = this.store.datasets.sequences(source.id, 0, source.sequenceCount);
    const records = picked.map((row) => ({ seqId: all[row]!.seqId, sequence: all[row]!.sequence, labels: all[row]!.labels }));
    const id = this.store.datasets.insert(source.projectId, input.name, subsetReport(source, records), records);
    this.store.projects.touch(source.projectId);
    this.events.emit({ type: 'datasets', projectId: source.projectId });
    this.events.emit({ type: 'projects' });
    return this.store.datasets.get(id)!;
  }

  /**
   * GO / EC terms as 0/1 label columns of the dataset (datasets/ontology: propagated, minimum
   * count, roots dropped), each column knowing its term's namespace and parents so multi-label
   * scans report CAFA's scores per namespace. Term columns of an earlier call are replaced.
   */
  annotate(input: AnnotateInput): { dataset: Dataset; terms: number; annotated: number; notices: string[] } {
    const dataset = this.store.datasets.get(input.datasetId);
    if (!dataset) throw notFound(`Dataset ${input.datasetId}`);
    const rows = this.store.datasets.sequences(dataset.id, 0, dataset.sequenceCount);
    const evidence = input.evidence === 'experimental' ? EXPERIMENTAL_EVIDENCE : input.evidence;
    const sources = { annotations: sourceText(input.annotations), ontology: input.ontology ? sourceText(input.ontology) : null };
    const m = readLabelMatrix(rows.map((r) => r.seqId), sources, { minCount: input.minCount, namespaces: input.namespaces, evidence });
    if (m.labels.length === 0) throw new ApiError('invalid-input', `No term is on at least ${input.minCount} of the dataset's annotated proteins. ${m.notices.join(' ')} Lower the minimum count, or check that the annotation file names the dataset's IDs.`);
    const annotated = m.rows.filter((r) => r !== null).length;
    const columns = m.labels.map((name, l) => ({
      name,
      type: 'number' as const,
      missing: rows.length - annotated,
      term: { name: m.names[l]!, namespace: m.namespaces[l]!, parents: m.parents[l]!.map((p) => m.labels[p]!) },
    }));
    const values = m.rows.map((row) => Object.fromEntries(m.labels.map((name, l) => [name, row ? row[l]! : null])));
    // Columns named like a term, or made from terms before, are replaced: annotating again starts afresh.
    this.store.datasets.replaceLabelColumns(dataset.id, (c) => c.term !== undefined, columns, values);
    this.store.projects.touch(dataset.projectId);
    this.events.emit({ type: 'datasets', projectId: dataset.projectId });
    return { dataset: this.store.datasets.get(dataset.id)!, terms: m.labels.length, annotated, notices: m.notices };
  }

  delete(id: number): { ok: true } {
    const dataset = this.store.datasets.get(id);
    if (!dataset) throw notFound(`Dataset ${id}`);
    assertNoJobUses(this.store, { datasetId: id }, `Dataset "${dataset.name}"`);
    this.store.datasets.delete(id);
    this.events.emit({ type: 'datasets', projectId: dataset.projectId });
    this.events.emit({ type: 'projects' });
    return { ok: true };
  }

  private requireProject(projectId: number): void {
    if (!this.store.projects.get(projectId)) throw notFound(`Project ${projectId}`);
  }
}
