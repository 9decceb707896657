/**
 * lib/structure/contacts — which predicted contacts the page shows: pairs at least `separation`
 * apart in sequence, either those above a probability threshold or the top L, L/2 or L/5 (L the
 * sequence length, ranked over the whole sequence as contact-precision benchmarks rank them).
 * Also the probability cut-off this amounts to, so the contact map marks the same pairs.
 */
import { predictedContacts, type Contact } from './geometry';

export type ContactMode = 'threshold' | 'L' | 'L/2' | 'L/5';

export const CONTACT_MODES: { id: ContactMode; label: string }[] = [
  { id: 'threshold', label: 'Above a threshold' },
  { id: 'L', label: 'Top L' },
  { id: 'L/2', label: 'Top L/2' },
  { id: 'L/5', label: 'Top L/5' },
];

export interface ContactFilter {
  mode: ContactMode;
  threshold: number;
  /** Smallest |i − j| shown (6 by default: closer pairs are trivially in contact). */
  separation: number;
}

const DIVISOR: Record<Exclude<ContactMode, 'threshold'>, number> = { L: 1, 'L/2': 2, 'L/5': 5 };

/** How many pairs a top-k mode keeps for a sequence of `length` (at least 1). */
export const topCount = (mode: Exclude<ContactMode, 'threshold'>, length: number): number => Math.max(1, Math.floor(length / DIVISOR[mode]));

/** The contacts the filter keeps, strongest first. */
export function selectContacts(probabilities: ArrayLike<number>, length: number, filter: ContactFilter): Contact[] {
  if (filter.mode === 'threshold') return predictedContacts(probabilities, length, filter.threshold, filter.separation);
  return predictedContacts(probabilities, length, 0, filter.separation).slice(0, topCount(filter.mode, length));
}

/** The probability from which the filter keeps a pair (the weakest kept one's, for a top-k mode). */
export function effectiveThreshold(kept: readonly Contact[], filter: ContactFilter): number {
  if (filter.mode === 'threshold') return filter.threshold;
  return kept.length > 0 ? kept[kept.length - 1]!.p : 1;
}
