/**
 * datasets/labels — the one rule for label cells, used by every entry point (import, `fit`,
 * `finetune`, the app's forms through the stored datasets): whether each label column holds
 * numbers or categories, which cells are missing values, which are errors (infinities), which
 * column only counts rows (an index), and turning cell text into typed label values.
 */
import type { LabelColumn } from '../api/schemas';
import type { LabelValue } from './types';

/** Plain decimal numbers only: Number() alone would also accept "0x1F", " ", and "Infinity". */
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * What spreadsheets, R and pandas write for "no value" (NaN, NA, N/A, n/a, nan, null, None, -, ?,
 * compared case-insensitively; an empty cell is missing too). They count as missing only in a
 * column that is otherwise numeric; in a category column "None" may well be a real category.
 */
const MISSING_MARKERS = new Set(['na', 'n/a', 'nan', 'null', 'none', '-', '?']);

/** inf, -inf, +Inf, Infinity, -Infinity: a number no learner can use, so an error naming the cell. */
const INFINITY = /^[+-]?(?:inf|infinity)$/i;

/** Header names (lower-cased) of a column that only numbers the rows: what pandas and R write. */
const INDEX_COLUMN_NAMES = new Set(['row_index', 'index', 'idx', 'unnamed: 0', '#', 'row_number']);

/** Below this many values, integers 1..n in order are as likely a real label as a row count. */
const MIN_ROWS_FOR_INDEX_BY_VALUES = 5;

/** What one cell of a numeric column is. */
export type NumberCell = { kind: 'number'; value: number } | { kind: 'missing' } | { kind: 'infinite' } | { kind: 'text' };

/** The rule for one (trimmed) cell: a finite number, a missing value, an infinity, or text. */
export function readNumberCell(cell: string): NumberCell {
  if (cell === '' || MISSING_MARKERS.has(cell.toLowerCase())) return { kind: 'missing' };
  if (INFINITY.test(cell)) return { kind: 'infinite' };
  if (DECIMAL_NUMBER.test(cell)) {
    const value = Number(cell);
    return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'infinite' }; // "1e999"
  }
  return { kind: 'text' };
}

/** Options for typing columns whose meaning the caller knows. */
export interface LabelTyping {
  /** Columns kept as text whatever they hold (class names such as "1", per-residue label strings). */
  categories?: readonly string[];
  /** 1-based row number of each row (gaps where rows were skipped); by default 1..n. */
  rowNumbers?: readonly number[];
}

/** Types each column from the given rows (cells already trimmed) and counts its missing values. */
export function typeLabelColumns(names: readonly string[], rows: readonly Record<string, string>[], typing: LabelTyping = {}): LabelColumn[] {
  const rowNumbers = typing.rowNumbers ?? rows.map((_, index) => index + 1);
  return names.map((name) => {
    const cells = rows.map((row) => row[name] ?? '');
    const column = typing.categories?.includes(name) ? categoryColumn(name, cells) : typeLabelColumn(name, cells);
    return isIndexColumn(name, cells, rowNumbers) ? { ...column, role: 'index' as const } : column;
  });
}

function typeLabelColumn(name: string, cells: readonly string[]): LabelColumn {
  const kinds = cells.map((cell) => readNumberCell(cell).kind);
  const numbers = kinds.filter((kind) => kind === 'number').length;
  const text = kinds.filter((kind) => kind === 'text').length;
  const filled = cells.filter((cell) => cell !== '').length;
  // A column with no values at all is vacuously numeric; one holding only "NA"s (or "inf"s) is not.
  const numeric = filled === 0 || (numbers > 0 && text === 0);
  if (!numeric) return categoryColumn(name, cells);
  return { name, type: 'number', missing: kinds.filter((kind) => kind === 'missing').length };
}

function categoryColumn(name: string, cells: readonly string[]): LabelColumn {
  return { name, type: 'category', missing: cells.filter((cell) => cell === '').length };
}

/**
 * A column that only counts rows: named like one (`index`, `row_index`, `Unnamed: 0`, `#`…), or
 * holding the row numbers themselves, 0-based or 1-based, in order. Such a column says nothing
 * about the proteins (it correlates with the file's order), so it is never a default target nor a
 * measurement.
 */
function isIndexColumn(name: string, cells: readonly string[], rowNumbers: readonly number[]): boolean {
  if (isIndexColumnName(name)) return true;
  if (cells.length < MIN_ROWS_FOR_INDEX_BY_VALUES) return false;
  const values = cells.map((cell) => (/^\d+$/.test(cell) ? Number(cell) : NaN));
  return [0, 1].some((start) => values.every((value, i) => value === (rowNumbers[i] ?? NaN) - 1 + start));
}

/** A header that names a row counter ("row_index", "Unnamed: 0", "#"…). */
export function isIndexColumnName(name: string): boolean {
  return INDEX_COLUMN_NAMES.has(name.trim().toLowerCase());
}

/**
 * The label columns that measure something: all but index and description columns (marked on
 * import, or, for datasets imported before the mark existed, named like an index).
 */
export function measurementColumns(columns: readonly LabelColumn[]): LabelColumn[] {
  return columns.filter((column) => column.role === undefined && !isIndexColumnName(column.name));
}

/**
 * The measured values of a table's rows as a mutation dataset keeps them: each numeric
 * measurement column (typed as on import, index columns left out) with its numbers, missing
 * cells as null. `score` on the command line reads its table through this so its CSV carries the
 * same measured columns as the app's export of the same scan.
 */
export function measuredValues(names: readonly string[], rows: readonly Record<string, string>[]): Record<string, (number | null)[]> {
  const measured: Record<string, (number | null)[]> = {};
  for (const column of measurementColumns(typeLabelColumns(names, rows)).filter((c) => c.type === 'number')) {
    measured[column.name] = rows.map((row) => {
      const cell = readNumberCell(row[column.name] ?? '');
      return cell.kind === 'number' ? cell.value : null;
    });
  }
  return measured;
}

/** A cell that breaks the rule: an infinity in a numeric column. */
export interface BadLabelCell {
  /** Index into the rows given. */
  row: number;
  column: string;
  cell: string;
}

/** The infinities of numeric columns, row by row (each is an error naming its row and column). */
export function infiniteCells(columns: readonly LabelColumn[], rows: readonly Record<string, string>[]): BadLabelCell[] {
  const numeric = columns.filter((column) => column.type === 'number');
  return rows.flatMap((row, index) =>
    numeric.flatMap((column) => {
      const cell = row[column.name] ?? '';
      return readNumberCell(cell).kind === 'infinite' ? [{ row: index, column: column.name, cell }] : [];
    }),
  );
}

/** What to say about one infinite cell, after "Row 3 (…)": the column, the value and what to do. */
export function describeInfiniteCell(bad: BadLabelCell): string {
  return `"${bad.cell}" in column "${bad.column}" is infinite, which no model can learn from. Write the measured value, or leave the cell empty (or NA) if there is none.`;
}

/** For each column with missing values, which rows (indices into `rows`) they are in. */
export function missingRows(columns: readonly LabelColumn[], rows: readonly Record<string, LabelValue>[]): { column: string; rows: number[] }[] {
  return columns
    .filter((column) => column.missing > 0)
    .map((column) => ({ column: column.name, rows: rows.flatMap((row, index) => ((row[column.name] ?? null) === null ? [index] : [])) }));
}

export function convertLabels(columns: readonly LabelColumn[], row: Record<string, string>): Record<string, LabelValue> {
  const labels: Record<string, LabelValue> = {};
  for (const column of columns) labels[column.name] = convertCell(column, row[column.name] ?? '');
  return labels;
}

function convertCell(column: LabelColumn, cell: string): LabelValue {
  if (cell === '') return null;
  if (column.type === 'category') return cell;
  const read = readNumberCell(cell);
  return read.kind === 'number' ? read.value : null;
}
