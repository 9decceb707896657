/** store/datasets — datasets and their sequences (one row per record, labels as JSON). */
import type { Dataset, ImportReport, LabelColumn, SequenceFormat, SequenceRow } from '../api/schemas';
import { now, type Db } from './db';

interface DatasetRow {
  id: number;
  project_id: number;
  name: string;
  source_file: string;
  format: SequenceFormat;
  sequence_count: number;
  label_columns: string;
  report: string;
  created_at: string;
}

const toDataset = (row: DatasetRow): Dataset => ({
  id: row.id,
  projectId: row.project_id,
  name: row.name,
  sourceFile: row.source_file,
  format: row.format,
  sequenceCount: row.sequence_count,
  labelColumns: JSON.parse(row.label_columns) as LabelColumn[],
  createdAt: row.created_at,
  variants: (JSON.parse(row.report) as Partial<ImportReport>).variants ?? null,
});

export interface NewSequence {
  seqId: string;
  sequence: string;
  labels: Record<string, number | string | null>;
}

export class DatasetsRepo {
  constructor(private readonly db: Db) {}

  list(projectId: number): Dataset[] {
    const rows = this.db
      .prepare('SELECT * FROM datasets WHERE project_id = ? ORDER BY created_at DESC, id DESC')
      .all(projectId) as DatasetRow[];
    return rows.map(toDataset);
  }

  get(id: number): Dataset | undefined {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return row && toDataset(row);
  }

  nameTaken(projectId: number, name: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM datasets WHERE project_id = ? AND name = ?').get(projectId, name);
  }

  /** Writes the dataset and all its sequences in one transaction: all or nothing. */
  insert(projectId: number, name: string, report: ImportReport, sequences: readonly NewSequence[]): number {
    const insertDataset = this.db.prepare(
      `INSERT INTO datasets (project_id, name, source_file, format, sequence_count, label_columns, report, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertSequence = this.db.prepare(
      'INSERT INTO sequences (dataset_id, idx, seq_id, sequence, length, labels) VALUES (?, ?, ?, ?, ?, ?)',
    );
    return this.db.transaction(() => {
      const id = Number(
        insertDataset.run(
          projectId,
          name,
          report.fileName,
          report.format,
          sequences.length,
          JSON.stringify(report.labelColumns),
          JSON.stringify(report),
          now(),
        ).lastInsertRowid,
      );
      sequences.forEach((s, index) =>
        insertSequence.run(id, index, s.seqId, s.sequence, s.sequence.length, JSON.stringify(s.labels)),
      );
      return id;
    })();
  }

  sequences(datasetId: number, offset: number, limit: number): SequenceRow[] {
    const rows = this.db
      .prepare('SELECT idx, seq_id, sequence, length, labels FROM sequences WHERE dataset_id = ? AND idx >= ? ORDER BY idx LIMIT ?')
      .all(datasetId, offset, limit) as { idx: number; seq_id: string; sequence: string; length: number; labels: string }[];
    return rows.map((r) => ({
      index: r.idx,
      seqId: r.seq_id,
      sequence: r.sequence,
      length: r.length,
      labels: JSON.parse(r.labels) as SequenceRow['labels'],
    }));
  }

  /**
   * Replaces the label columns `drop` says to drop with `columns`, and sets their values row by
   * row (values[idx]: the new columns' values of sequence idx) — one transaction: all or nothing.
   */
  replaceLabelColumns(datasetId: number, drop: (column: LabelColumn) => boolean, columns: readonly LabelColumn[], values: readonly Record<string, number | null>[]): void {
    const dataset = this.get(datasetId);
    if (!dataset) throw new Error(`Dataset ${datasetId} does not exist.`);
    const dropped = new Set(dataset.labelColumns.filter(drop).map((c) => c.name));
    const kept = dataset.labelColumns.filter((c) => !dropped.has(c.name) && !columns.some((n) => n.name === c.name));
    const update = this.db.prepare('UPDATE sequences SET labels = ? WHERE dataset_id = ? AND idx = ?');
    this.db.transaction(() => {
      this.db.prepare('UPDATE datasets SET label_columns = ? WHERE id = ?').run(JSON.stringify([...kept, ...columns]), datasetId);
      for (const row of this.sequences(datasetId, 0, dataset.sequenceCount)) {
        const labels = Object.fromEntries(Object.entries(row.labels).filter(([name]) => !dropped.has(name)));
        update.run(JSON.stringify({ ...labels, ...values[row.index] }), datasetId, row.index);
      }
    })();
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
  }
}
