/**
 * lib/structure/match — finds which dataset sequence a structure chain belongs to: ranks all
 * sequences by shared 3-mers (cheap), aligns the best few properly, and keeps the one with the
 * most identical aligned residues.
 */
import { alignSequences } from './align';

const kmers = (sequence: string): Set<string> => {
  const set = new Set<string>();
  for (let i = 0; i + 3 <= sequence.length; i++) set.add(sequence.slice(i, i + 3));
  return set;
};

/** Index of the best-matching sequence, or -1 when there are none. */
export function bestMatch(chain: string, sequences: readonly string[], candidates = 8): number {
  const query = kmers(chain);
  const ranked = sequences
    .map((sequence, index) => {
      let shared = 0;
      for (const k of kmers(sequence)) if (query.has(k)) shared++;
      return { index, shared };
    })
    .sort((a, b) => b.shared - a.shared)
    .slice(0, candidates);
  let best = -1;
  let bestIdentical = -1;
  for (const { index } of ranked) {
    const { identical } = alignSequences(chain, sequences[index]!);
    if (identical > bestIdentical) {
      best = index;
      bestIdentical = identical;
    }
  }
  return best;
}
