/**
 * learn/splits — builds the outer folds a scan uses from the user's choice of scheme, on the rows
 * that have a target. Fold indices refer to those rows (0..rows−1), not to dataset rows.
 * 'homology' folds come from a partition computed beforehand (learn/homology, a phase of the
 * scan job); 'temporal' is one train/test split at a date of a column.
 */
import { columnFolds, describeRows, kFold, positionFolds, stratifiedKFold, validateFolds, type Fold } from './cv';

export interface SplitSpec {
  scheme: 'random' | 'stratified' | 'contiguous' | 'modulo' | 'column' | 'homology' | 'temporal';
  k: number;
  seed: number;
  /** Scheme "column": the fold column; scheme "temporal": the date column. */
  column?: string;
  /** Scheme "homology": identity (%) and coverage (%) above which two sequences are related. */
  identity?: number;
  coverage?: number;
  /** Scheme "homology": leave out the fewest sequences needed when one cluster is too big to balance the folds. */
  removeToBalance?: boolean;
  /** Scheme "temporal": rows dated before this (YYYY-MM-DD) train, the others test. */
  date?: string;
}

export interface SplitData {
  /** Dataset rows that take part (those with a target). */
  rows: readonly number[];
  /** Classification: class index of each participating row; null for regression. */
  labels: Int32Array | null;
  classes: readonly string[];
  /** Mutated positions of every dataset row (position-grouped schemes). */
  positions: readonly (readonly number[])[] | null;
  /** Values of the fold column for every dataset row (scheme "column"). */
  splitValues: readonly (string | number | null)[] | null;
  /** Scheme "homology": the fold of every dataset row from the partition (−1: left out). */
  homologyFolds?: Int32Array | null;
}

export function buildFolds(spec: SplitSpec, data: SplitData): Fold[] {
  const n = data.rows.length;
  let folds: Fold[];
  switch (spec.scheme) {
    case 'random':
      folds = kFold(n, spec.k, spec.seed);
      break;
    case 'stratified':
      if (!data.labels) throw new Error('Stratified folds need classes; use random folds for a numeric target.');
      folds = stratifiedKFold(data.labels, spec.k, spec.seed, data.classes);
      break;
    case 'contiguous':
    case 'modulo':
      if (!data.positions) throw new Error('Position-grouped folds need the mutated positions of every row (a mutation column).');
      folds = positionFolds(data.rows.map((row) => data.positions![row]!), spec.k, spec.scheme);
      break;
    case 'column':
      if (!data.splitValues) throw new Error('Choose the column that holds the folds.');
      folds = columnFolds(data.rows.map((row) => data.splitValues![row] ?? null), spec.column ?? 'fold');
      break;
    case 'homology':
      if (!data.homologyFolds) throw new Error('Similarity folds need the sequences to be clustered first.');
      folds = foldsFromAssignment(Int32Array.from(data.rows, (row) => data.homologyFolds![row]!), spec.k);
      break;
    case 'temporal':
      if (!data.splitValues) throw new Error('Choose the column that holds the dates.');
      folds = [temporalSplit(data.rows.map((row) => data.splitValues![row] ?? null), spec.column ?? 'date', spec.date ?? '')];
      break;
  }
  if (data.labels) validateFolds(folds, data.labels, 'classification', data.classes);
  return folds;
}

/** Folds from a fold per row; rows with fold −1 (left out to balance) are in neither side of any fold. */
export function foldsFromAssignment(foldOf: Int32Array, k: number): Fold[] {
  const folds = Array.from({ length: k }, (_, f) => ({
    train: Int32Array.from(foldOf.keys()).filter((i) => foldOf[i]! >= 0 && foldOf[i] !== f),
    test: Int32Array.from(foldOf.keys()).filter((i) => foldOf[i] === f),
  }));
  const empty = folds.findIndex((f) => f.test.length === 0);
  if (empty >= 0) {
    throw new Error(`Fold ${empty + 1} of ${k} is empty: the related sequences form fewer than ${k} separate clusters. Use fewer folds, or a higher identity threshold.`);
  }
  return folds;
}

/**
 * A date as days since 1970 (UTC), from "YYYY", "YYYY-MM", "YYYY-MM-DD" (also with / or a time
 * after the day), or a number of years like 2019.5; null when it is not a date.
 */
export function parseDate(value: string | number | null): number | null {
  if (value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) && value > 1000 && value < 3000 ? (value - 1970) * 365.2425 : null;
  const match = /^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ].*)?\s*$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2] ?? 1), Number(match[3] ?? 1)];
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return Date.UTC(year, month - 1, day) / 86_400_000;
}

/** Train on rows dated before `date`, test on rows on or after it; undated rows are an error naming them. */
export function temporalSplit(values: readonly (string | number | null)[], column: string, date: string): Fold {
  const cut = parseDate(date);
  if (cut === null) throw new Error(`"${date}" is not a date; write the split date as YYYY-MM-DD (for example 2020-01-01).`);
  const days = values.map((v) => parseDate(typeof v === 'string' ? v.trim() : v));
  const undated = days.flatMap((d, i) => (d === null ? [i] : []));
  if (undated.length > 0) {
    throw new Error(`${describeRows(undated)} no readable date in column "${column}"; write dates as YYYY-MM-DD (for example 2019-06-30) or as a year.`);
  }
  const train = Int32Array.from(days.keys()).filter((i) => days[i]! < cut);
  const test = Int32Array.from(days.keys()).filter((i) => days[i]! >= cut);
  if (train.length === 0) throw new Error(`No row of column "${column}" is dated before ${date}, so there is nothing to train on; choose a later date.`);
  if (test.length === 0) throw new Error(`No row of column "${column}" is dated on or after ${date}, so nothing is held out for testing; choose an earlier date.`);
  return { train, test };
}
