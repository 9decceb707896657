/**
 * learn/splits — builds the outer folds a scan uses from the user's choice of scheme, on the rows
 * that have a target. Fold indices refer to those rows (0..rows−1), not to dataset rows.
 */
import { columnFolds, kFold, positionFolds, stratifiedKFold, validateFolds, type Fold } from './cv';

export interface SplitSpec {
  scheme: 'random' | 'stratified' | 'contiguous' | 'modulo' | 'column';
  k: number;
  seed: number;
  column?: string;
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
  }
  if (data.labels) validateFolds(folds, data.labels, 'classification', data.classes);
  return folds;
}
