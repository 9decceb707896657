/** services/learn — what the scan form offers: learners, validation schemes, and the default scheme for a dataset. */
import type { SequenceRow } from '../api/schemas';
import { describeScheme } from '../learn/cv';
import { LEARNERS } from '../learn/learners';
import type { Store } from '../store';
import { MUTATION_COLUMNS, mutationPositions } from '../variants/positions';

const SCHEMES = [
  { scheme: 'random', label: 'Random folds' },
  { scheme: 'stratified', label: 'Stratified folds (classes)' },
  { scheme: 'contiguous', label: 'Contiguous position blocks' },
  { scheme: 'modulo', label: 'Positions modulo k' },
  { scheme: 'column', label: 'Folds from a column' },
  { scheme: 'homology', label: 'Similarity folds (related sequences together)' },
] as const;

export const needsPositions = (scheme: string): boolean => scheme === 'contiguous' || scheme === 'modulo';

/**
 * The mutated positions of every row, from a mutation column (the one a mutation-scan import
 * recorded, else one named like "mutant"); null when the dataset has none.
 */
export function datasetPositions(rows: readonly SequenceRow[], mutationColumn?: string): number[][] | null {
  if (rows.length === 0) return null;
  const candidates = mutationColumn ? [mutationColumn, ...MUTATION_COLUMNS] : MUTATION_COLUMNS;
  const column = candidates.find((name) => rows.every((r) => typeof r.labels[name] === 'string' && mutationPositions(r.labels[name] as string)));
  return column ? rows.map((r) => mutationPositions(r.labels[column] as string)!) : null;
}

export function learnOptions(store: Store, datasetId?: number) {
  let positionsKnown = false;
  if (datasetId !== undefined) {
    const dataset = store.datasets.get(datasetId);
    positionsKnown = !!dataset && datasetPositions(store.datasets.sequences(datasetId, 0, dataset.sequenceCount), dataset.variants?.mutationColumn) !== null;
  }
  return {
    learners: LEARNERS.map(({ id, label, task, explanation }) => ({ id, label, task, explanation })),
    splits: SCHEMES.map((s) => ({ ...s, explanation: describeScheme(s.scheme) })),
    defaultScheme: positionsKnown ? 'contiguous' : 'random',
    positionsKnown,
  };
}
