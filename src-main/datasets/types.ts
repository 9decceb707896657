/**
 * datasets/types — the shapes passed between the readers (fasta, table), the validator and the
 * caller. No logic.
 */
import type { ImportProblem, ImportReport } from '../api/schemas';

export type LabelValue = number | string | null;

/** One record that passed every check, ready to be stored. */
export interface ParsedRecord {
  /** Unique within the file: duplicates have already been renamed (`ID_2`, `ID_3`, ...). */
  seqId: string;
  /** Upper-case residues, whitespace and a trailing stop `*` removed. */
  sequence: string;
  /** One entry per label column of the report (FASTA: the header's description, when there is one). */
  labels: Record<string, LabelValue>;
  /** 1-based record number in the file (FASTA record or table data row). */
  record: number;
  /** 1-based line where the record starts. */
  line: number;
}

export interface ParsedFile {
  report: ImportReport;
  /** Only the importable records, in file order. */
  records: ParsedRecord[];
}

/** A stretch of sequence text and the file line it sits on, so a bad character can be located. */
export interface SequenceChunk {
  text: string;
  line: number;
}

/** A record as a reader found it, before any checks. */
export interface RawRecord {
  record: number;
  line: number;
  id: string;
  chunks: SequenceChunk[];
  /** Label cell text by column name, trimmed; typed later from the importable records only. */
  labels: Record<string, string>;
}

/** What a reader hands the validator. */
export interface ReaderOutput {
  records: RawRecord[];
  /** Problems the reader found itself (bad rows, empty sequence cells); those records are not in `records`. */
  problems: ImportProblem[];
  /** Every record found in the file, including the ones the reader rejected. */
  recordCount: number;
  labelColumns: string[];
  /** A column of free text describing each record (FASTA headers): shown, never a target or a measurement. */
  descriptionColumn?: string | null;
  sequenceColumn: string | null;
  idColumn: string | null;
}
