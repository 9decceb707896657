/**
 * lib/label-columns — which label columns the forms pick by default and offer as measurements:
 * never a column that only counts rows (the back end marks it `role: 'index'` on import), since a
 * row counter "predicts" whatever the file happens to be sorted by.
 */
import type { LabelColumn } from './types';

/** Index and description columns (marked by the back end) measure nothing. */
const measures = (column: LabelColumn): boolean => column.role === undefined;

/** The target a form starts with: the first numeric measurement, else the first measurement, else none. */
export function defaultTarget(columns: readonly LabelColumn[]): string | null {
  return (columns.find((c) => c.type === 'number' && measures(c)) ?? columns.find(measures))?.name ?? null;
}

/** The numeric columns zero-shot scores are compared with. */
export function measuredColumns(columns: readonly LabelColumn[]): string[] {
  return columns.filter((c) => c.type === 'number' && measures(c)).map((c) => c.name);
}
