/**
 * learn/homology/search — the related pairs of one chunk of queries: prefilter candidates, each
 * aligned on its band of diagonals, kept when related (align.ts says what that means). A chunk
 * is the unit of progress, cancelling, resuming and of parallel work (a worker thread runs
 * `relatedPairsOfChunk` on its own copy of the index). Pure numerics.
 */
import { alignLocal, DEFAULT_ALIGN, isRelated, type AlignOptions, type RelatedCriteria } from './align';
import { candidatesFor, type Candidate, type KmerIndex } from './prefilter';

export interface ChunkResult {
  /** Related pairs as flat [a0, b0, a1, b1, …], a < b. */
  pairs: number[];
  /** Identity of each related pair (same order), for the exported table. */
  identities: number[];
  candidates: number;
  /** Dynamic-programming cells filled: the work done. */
  cells: number;
}

/** Every later sequence as a candidate, over all diagonals (the exhaustive search of small sets). */
function allPairs(index: KmerIndex, from: number, to: number): Candidate[] {
  const out: Candidate[] = [];
  for (let a = from; a < to; a++) for (let b = a + 1; b < index.sequences.length; b++) out.push({ a, b, dLow: -Infinity, dHigh: Infinity });
  return out;
}

/** exhaustive: align every pair in full instead of the prefilter's candidates on their bands. */
export function relatedPairsOfChunk(index: KmerIndex, from: number, to: number, criteria: RelatedCriteria, align: AlignOptions = DEFAULT_ALIGN, exhaustive = false): ChunkResult {
  const queries = { *[Symbol.iterator]() { for (let a = from; a < to; a++) yield a; } };
  const candidates = exhaustive ? allPairs(index, from, to) : candidatesFor(index, queries);
  const pairs: number[] = [];
  const identities: number[] = [];
  let cells = 0;
  for (const { a, b, dLow, dHigh } of candidates) {
    const sa = index.sequences[a]!;
    const sb = index.sequences[b]!;
    // Pairs whose lengths differ this much rarely reach the coverage of both (gaps aside): the prefilter skips them.
    const shorter = Math.min(sa.length, sb.length);
    const longer = Math.max(sa.length, sb.length);
    if (!exhaustive && shorter < criteria.minCoverage * longer) continue;
    cells += sa.length * (Math.min(dHigh, sb.length - 1) - Math.max(dLow, -(sa.length - 1)) + 1);
    const alignment = alignLocal(sa, sb, align, Math.max(dLow, -(sa.length - 1)), Math.min(dHigh, sb.length - 1));
    if (isRelated(alignment, criteria)) {
      pairs.push(a, b);
      identities.push(alignment.identity);
    }
  }
  return { pairs, identities, candidates: candidates.length, cells };
}
