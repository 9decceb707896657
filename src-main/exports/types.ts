/**
 * exports/types — what an export is made of (ids, a float32 matrix, optional labels) and the
 * checks every writer runs before it touches the disk, so a bad request never leaves a file.
 */

export type LabelValue = number | string | null;

export interface LabelColumn {
  name: string;
  type: 'number' | 'category';
}

export interface LabelTable {
  columns: LabelColumn[];
  /** One per matrix row, in the same order; a missing key or null is a missing value. */
  rows: Record<string, LabelValue>[];
}

export interface MatrixExport {
  ids: string[];
  /** Row-major [rows, cols]. */
  matrix: Float32Array;
  rows: number;
  cols: number;
  labels?: LabelTable;
  /** Names the embedding columns of a CSV: `${prefix}0`, `${prefix}1`, ... Default 'e'. */
  columnPrefix?: string;
}

export interface PerResidueMatrix {
  id: string;
  /** Row-major [residues, dims]. */
  matrix: Float32Array;
  residues: number;
  dims: number;
}

export const DEFAULT_COLUMN_PREFIX = 'e';

/** Throws, naming `file`, unless the shapes of `data` agree with each other. */
export function checkExport(file: string, data: MatrixExport): void {
  checkShape(file, 'matrix', data.matrix, data.rows, data.cols);
  if (data.ids.length !== data.rows) {
    throw new Error(`${file}: ${data.ids.length} ids for ${data.rows} matrix rows.`);
  }
  if (data.labels) checkLabels(file, data.labels, data.rows);
}

export function checkShape(file: string, what: string, matrix: Float32Array, rows: number, cols: number): void {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
    throw new Error(`${file}: ${what} has an invalid shape [${rows}, ${cols}].`);
  }
  if (!(matrix instanceof Float32Array)) throw new Error(`${file}: ${what} must be a Float32Array.`);
  if (matrix.length !== rows * cols) {
    throw new Error(`${file}: ${what} has ${matrix.length} values, [${rows}, ${cols}] needs ${rows * cols}.`);
  }
}

function checkLabels(file: string, labels: LabelTable, rows: number): void {
  if (labels.rows.length !== rows) {
    throw new Error(`${file}: ${labels.rows.length} label rows for ${rows} matrix rows.`);
  }
  const seen = new Set<string>();
  for (const column of labels.columns) {
    if (column.name === '') throw new Error(`${file}: a label column has an empty name.`);
    if (seen.has(column.name)) throw new Error(`${file}: label column '${column.name}' appears twice.`);
    seen.add(column.name);
  }
}

/** Throws, naming `file`, if two output columns would share a name (a label called "id", say). */
export function checkUniqueNames(file: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`${file}: two columns would both be named '${name}'; rename the label column.`);
    seen.add(name);
  }
}

/**
 * A label cell as a number: null for a missing value. Numbers are taken as they are; text that
 * is a plain decimal number (labels read from a file may still be text) is parsed.
 */
export function numericLabel(file: string, column: string, row: number, value: LabelValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  const text = value.trim();
  if (text === '') return null;
  const parsed = Number(text);
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) || !Number.isFinite(parsed)) {
    throw new Error(`${file}: label '${column}' is numeric, but row ${row + 1} holds '${value}'.`);
  }
  return parsed;
}

/** A label cell as a category: null for a missing value. */
export function categoryLabel(value: LabelValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? null : String(value);
  return value;
}

/** The cells of one label column, in row order. */
export function labelColumnValues(file: string, labels: LabelTable, column: LabelColumn): (number | string | null)[] {
  return labels.rows.map((row, index) =>
    column.type === 'number' ? numericLabel(file, column.name, index, row[column.name]) : categoryLabel(row[column.name]),
  );
}
