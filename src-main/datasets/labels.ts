/**
 * datasets/labels — deciding whether each label column holds numbers or categories, and turning
 * cell text into typed label values.
 */
import type { LabelColumn } from '../api/schemas';
import type { LabelValue } from './types';

/** Plain decimal numbers only: Number() alone would also accept "0x1F", " ", and "Infinity". */
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * What spreadsheets, R and pandas write for "no value". They count as missing only in a column
 * that is otherwise numeric; in a category column "None" may well be a real category.
 */
const MISSING_MARKERS = new Set(['na', 'n/a', 'nan', 'null', 'none', '-', '?']);

function isNumber(cell: string): boolean {
  return DECIMAL_NUMBER.test(cell) && Number.isFinite(Number(cell));
}

function isMissingMarker(cell: string): boolean {
  return MISSING_MARKERS.has(cell.toLowerCase());
}

/** Types each column from the given rows (cells already trimmed) and counts its missing values. */
export function typeLabelColumns(names: readonly string[], rows: readonly Record<string, string>[]): LabelColumn[] {
  return names.map((name) => typeLabelColumn(name, rows.map((row) => row[name] ?? '')));
}

function typeLabelColumn(name: string, cells: readonly string[]): LabelColumn {
  const filled = cells.filter((cell) => cell !== '');
  const numbers = filled.filter(isNumber).length;
  const markers = filled.filter(isMissingMarker).length;
  // A column with no values at all is vacuously numeric; one holding only "NA"s is not.
  const numeric = filled.length === 0 || (numbers > 0 && numbers + markers === filled.length);
  const missing = numeric ? cells.length - numbers : cells.length - filled.length;
  return { name, type: numeric ? 'number' : 'category', missing };
}

export function convertLabels(columns: readonly LabelColumn[], row: Record<string, string>): Record<string, LabelValue> {
  const labels: Record<string, LabelValue> = {};
  for (const column of columns) labels[column.name] = convertCell(column, row[column.name] ?? '');
  return labels;
}

function convertCell(column: LabelColumn, cell: string): LabelValue {
  if (cell === '') return null;
  if (column.type === 'category') return cell;
  return isNumber(cell) ? Number(cell) : null;
}
