/**
 * datasets/table — the CSV/TSV reader: parses the text with csv-parse, finds the header and the
 * sequence and id columns, and turns every data row into a raw record (or a bad-row /
 * missing-sequence problem) that knows its line in the file. `readLabelTable` reads a table of
 * labels alone (an id column and label columns, for `fit`) with the same label rule as import.
 */
import { CsvError, parse } from 'csv-parse/sync';
import type { ImportOptions, ImportProblem, LabelColumn } from '../api/schemas';
import { ApiError } from '../api/errors';
import { convertLabels, describeInfiniteCell, infiniteCells, typeLabelColumns } from './labels';
import { LINE_BREAK, stripByteOrderMark } from './text';
import { uniqueNames } from './names';
import type { LabelValue, RawRecord, ReaderOutput, SequenceChunk } from './types';

/** Names that mark the sequence column, compared lower-cased; the first matching column wins. */
export const SEQUENCE_COLUMN_NAMES = ['sequence', 'seq', 'sequences', 'aa_seq', 'protein_sequence', 'mutated_sequence'];
/** Names that mark the identifier column; without one, rows are named `row_<n>`. */
export const ID_COLUMN_NAMES = ['id', 'name', 'seq_id', 'sequence_id', 'identifier', 'accession'];

export interface TableRow {
  fields: string[];
  /** 1-based line where the row starts (a quoted field may carry it over several lines). */
  line: number;
}

interface Columns {
  names: string[];
  sequence: number;
  /** -1 when rows are named by number. */
  id: number;
  labels: number[];
}

export function readTable(fileName: string, text: string, delimiter: ',' | '\t', options: ImportOptions): ReaderOutput {
  const [header, ...rows] = parseRows(fileName, text, delimiter).filter((row) => !isBlank(row.fields));
  if (!header) throw new ApiError('invalid-input', `${fileName}: no sequences found. The file is empty.`);
  if (rows.length === 0) {
    throw new ApiError('invalid-input', `${fileName}: no sequences found. The table has a header row but no data rows.`);
  }
  const columns = findColumns(fileName, header.fields, rows, delimiter, options);
  const records: RawRecord[] = [];
  const problems: ImportProblem[] = [];
  rows.forEach((row, index) => {
    const outcome = readRow(row, index + 1, columns, delimiter);
    if ('kind' in outcome) problems.push(outcome);
    else records.push(outcome);
  });
  return {
    records,
    problems,
    recordCount: rows.length,
    labelColumns: columns.labels.map((index) => columns.names[index] ?? ''),
    sequenceColumn: columns.names[columns.sequence] ?? null,
    idColumn: columns.id >= 0 ? (columns.names[columns.id] ?? null) : null,
  };
}

// ---------- parsing ----------

/**
 * Every row with the line it starts on. Rows of the wrong length are kept (checked per row later)
 * instead of failing the whole file; only a quote that never closes, which swallows the rest of
 * the file, is fatal.
 */
export function parseRows(fileName: string, text: string, delimiter: string): TableRow[] {
  const lineAt = lineFinder(text);
  const rows: TableRow[] = [];
  let previousEnd = 0;
  try {
    parse(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      on_record: (fields: string[], context) => {
        rows.push({ fields, line: lineAt(previousEnd) });
        previousEnd = context.bytes;
        return null; // rows are collected here; csv-parse need not build its own array
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw new ApiError('invalid-input', `${fileName}, line ${lineAt(previousEnd)}: ${describeCsvError(error)}`);
  }
  return rows;
}

function describeCsvError(error: CsvError): string {
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return 'a quoted value (starting with ") is never closed, so the rest of the file cannot be read. Add the closing quote.';
  }
  return `the table cannot be read (${error.message}).`;
}

/**
 * Maps a byte offset, as csv-parse counts them (UTF-8), to the 1-based line of the first
 * non-line-break character at or after it: a row starts after the previous row's end plus any
 * empty lines csv-parse skipped.
 */
function lineFinder(text: string): (offset: number) => number {
  const bytes = new TextEncoder().encode(text);
  const lineStarts = [0];
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (byte === LF || (byte === CR && bytes[i + 1] !== LF)) lineStarts.push(i + 1);
  }
  return (offset) => {
    let start = offset;
    while (bytes[start] === CR || bytes[start] === LF) start += 1;
    return countAtOrBelow(lineStarts, start);
  };
}

const LF = 0x0a;
const CR = 0x0d;

/** Binary search in an ascending list: how many entries are <= value. */
function countAtOrBelow(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? Infinity) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function isBlank(fields: readonly string[]): boolean {
  return fields.every((field) => field.trim() === '');
}

// ---------- columns ----------

function findColumns(
  fileName: string,
  headerFields: readonly string[],
  rows: readonly TableRow[],
  delimiter: string,
  options: ImportOptions,
): Columns {
  const names = columnNames(headerFields);
  const sequence =
    options.sequenceColumn !== undefined
      ? requireColumn(fileName, names, options.sequenceColumn, 'sequence')
      : findByName(names, SEQUENCE_COLUMN_NAMES);
  if (sequence < 0) throw noSequenceColumn(fileName, names, delimiter);
  const id =
    options.idColumn !== undefined
      ? requireColumn(fileName, names, options.idColumn, 'ID')
      : findByName(names, ID_COLUMN_NAMES);
  if (id === sequence) {
    throw new ApiError('invalid-input', `${fileName}: the column "${names[id] ?? ''}" cannot be both the sequence and the ID column.`);
  }
  const labels = names
    .map((_, index) => index)
    .filter((index) => index !== sequence && index !== id && !isUnusedColumn(headerFields, rows, index));
  return { names, sequence, id, labels };
}

/** Header cells trimmed; unnamed columns become `column_<n>` and repeated names get `_2`, `_3`, ... */
export function columnNames(headerFields: readonly string[]): string[] {
  return uniqueNames(headerFields.map((field, index) => field.trim() || `column_${index + 1}`));
}

/** An unnamed column with no values: what a trailing delimiter on every line (a spreadsheet habit) leaves. */
export function isUnusedColumn(headerFields: readonly string[], rows: readonly TableRow[], index: number): boolean {
  return (headerFields[index] ?? '').trim() === '' && rows.every((row) => (row.fields[index] ?? '').trim() === '');
}

export function findByName(names: readonly string[], wanted: readonly string[]): number {
  return names.findIndex((name) => wanted.includes(name.toLowerCase()));
}

/** The column the user chose: an exact match first, then one differing only in case. */
export function requireColumn(fileName: string, names: readonly string[], wanted: string, role: string): number {
  const exact = names.indexOf(wanted);
  if (exact >= 0) return exact;
  const caseless = names.findIndex((name) => name.toLowerCase() === wanted.trim().toLowerCase());
  if (caseless >= 0) return caseless;
  throw new ApiError(
    'invalid-input',
    `${fileName}: there is no column named "${wanted}" to use as the ${role} column. Columns found: ${listColumns(names)}.`,
    { column: wanted, columns: names },
  );
}

function noSequenceColumn(fileName: string, names: readonly string[], delimiter: string): ApiError {
  return new ApiError(
    'invalid-input',
    `${fileName}: no sequence column found. Name it "sequence" (or ${SEQUENCE_COLUMN_NAMES.slice(1).join(', ')}) ` +
      `or choose it when importing. Columns found: ${listColumns(names)}.${layoutHint(names, delimiter)}`,
    { columns: names },
  );
}

/** One column whose name holds the other delimiter, or a ">" header, means the file is not what its name says. */
function layoutHint(names: readonly string[], delimiter: string): string {
  const only = names.length === 1 ? (names[0] ?? '') : '';
  if (only.startsWith('>')) return ' The file looks like FASTA: give it a .fasta extension.';
  if (delimiter === ',' && only.includes('\t')) return ' The file looks tab-separated: give it a .tsv extension.';
  if (delimiter === '\t' && only.includes(',')) return ' The file looks comma-separated: give it a .csv extension.';
  return '';
}

export function listColumns(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

// ---------- rows ----------

function readRow(row: TableRow, record: number, columns: Columns, delimiter: string): RawRecord | ImportProblem {
  const idCell = columns.id >= 0 ? (row.fields[columns.id] ?? '') : '';
  const id = idCell.trim() || `row_${record}`;
  const where = `Row ${record} ("${id}", line ${row.line})`;
  if (row.fields.length !== columns.names.length) {
    return {
      record,
      line: row.line,
      id,
      kind: 'bad-row',
      message: `${where}: ${row.fields.length} values, but the header has ${columns.names.length}.${fieldCountHint(row, columns.names.length, delimiter)}`,
    };
  }
  const cell = row.fields[columns.sequence] ?? '';
  if (cell.trim() === '') {
    return {
      record,
      line: row.line,
      id,
      kind: 'missing-sequence',
      message: `${where}: the "${columns.names[columns.sequence] ?? ''}" cell is empty.`,
    };
  }
  return { record, line: row.line, id, chunks: cellChunks(row, columns.sequence), labels: labelCells(row, columns) };
}

export function fieldCountHint(row: TableRow, columnCount: number, delimiter: string): string {
  if (row.fields.length < columnCount) return ' Every row needs a value (possibly empty) for each column.';
  const separator = delimiter === ',' ? 'comma' : 'tab';
  return ` A value that contains a ${separator} must be wrapped in double quotes.`;
}

/**
 * The sequence cell split at its line breaks, each piece with its own line: the row's first line
 * plus the breaks inside the quoted values before it and inside the cell itself.
 */
function cellChunks(row: TableRow, column: number): SequenceChunk[] {
  const before = row.fields.slice(0, column).join('');
  const firstLine = row.line + before.split(LINE_BREAK).length - 1;
  return (row.fields[column] ?? '').split(LINE_BREAK).map((text, offset) => ({ text, line: firstLine + offset }));
}

function labelCells(row: TableRow, columns: Columns): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const index of columns.labels) labels[columns.names[index] ?? ''] = (row.fields[index] ?? '').trim();
  return labels;
}

// ---------- label tables (no sequences) ----------

export interface LabelTable {
  /** Typed as on import (numbers with missing values, or categories; index columns marked). */
  columns: LabelColumn[];
  rows: { id: string; labels: Record<string, LabelValue> }[];
}

/**
 * A CSV/TSV of labels keyed by `idColumn`, typed by the import's rule. A row of the wrong length
 * or an infinite number in a numeric column is an error naming the file, row and column.
 */
export function readLabelTable(fileName: string, text: string, delimiter: ',' | '\t', idColumn: string): LabelTable {
  const [header, ...rows] = parseRows(fileName, stripByteOrderMark(text), delimiter).filter((row) => !isBlank(row.fields));
  if (!header || rows.length === 0) throw new ApiError('invalid-input', `${fileName}: no labels found. The table has no data rows.`);
  const names = columnNames(header.fields);
  const id = requireColumn(fileName, names, idColumn, 'ID');
  const labels = names.map((_, index) => index).filter((index) => index !== id && !isUnusedColumn(header.fields, rows, index));
  const ids: string[] = [];
  const cells = rows.map((row, index) => {
    const where = `row ${index + 1} (line ${row.line})`;
    if (row.fields.length !== names.length) {
      throw new ApiError('invalid-input', `${fileName}, ${where}: ${row.fields.length} values, but the header has ${names.length}.${fieldCountHint(row, names.length, delimiter)}`);
    }
    ids.push((row.fields[id] ?? '').trim());
    return Object.fromEntries(labels.map((i) => [names[i] ?? '', (row.fields[i] ?? '').trim()]));
  });
  const columns = typeLabelColumns(labels.map((i) => names[i] ?? ''), cells);
  const bad = infiniteCells(columns, cells)[0];
  if (bad) {
    throw new ApiError('invalid-input', `${fileName}, row ${bad.row + 1} (id ${ids[bad.row]}, line ${rows[bad.row]!.line}): ${describeInfiniteCell(bad)}`);
  }
  return { columns, rows: cells.map((row, index) => ({ id: ids[index]!, labels: convertLabels(columns, row) })) };
}
