/**
 * learn/homology/prefilter — which pairs of sequences are worth aligning. Every sequence is
 * indexed by spaced seeds (three weight-5 patterns over the 20 residues: spaced seeds find diverged
 * relatives more often than contiguous k-mers of the same weight because their hits are less
 * correlated). For each query, the seed hits on each band of diagonals of each later sequence are
 * counted: a true relative piles its hits up on one diagonal (or a few neighbouring ones when
 * there are indels), chance hits scatter. A band with enough hits is then checked by the best
 * ungapped BLOSUM62 segment on the hits' diagonals (BLAST's two-hit idea), and a pair that
 * passes is aligned afterwards only on the diagonals its bands span. Pure numerics.
 *
 * The defaults were tuned on planted families (test/support/planted-families): bench/split.ts
 * reports the recall of planted related pairs by identity and the number of candidates. On
 * 20,000 × 300 it found 62 % of related pairs at 30–35 % identity, 93 % at 35–40 % and ≥ 99.9 %
 * above 40 %; a missed pair only breaks the guarantee when no chain of found pairs links the two
 * sequences (1,990 of 2,000 planted families stayed whole). Small sets are aligned exhaustively.
 */
import { ALPHABET_SIZE, BLOSUM62, STANDARD } from './blosum62';

export interface PrefilterOptions {
  /** Spaced seeds: '1' positions must match exactly (20-letter alphabet), '0' positions are free. */
  seeds: readonly string[];
  /** Bands are 2^bandShift diagonals wide. */
  bandShift: number;
  /** Seed hits a band and its better neighbour must hold together. */
  minHits: number;
  /** Best ungapped BLOSUM62 segment score on the hits' mean diagonal that a candidate must reach. */
  minUngappedScore: number;
  /** Seeds found in more than this many places (low-complexity runs) are not used. */
  maxOccurrences: number;
}

export const DEFAULT_PREFILTER: PrefilterOptions = { seeds: ['110111', '1101011', '11100101'], bandShift: 4, minHits: 2, minUngappedScore: 25, maxOccurrences: 20_000 };

export interface KmerIndex {
  options: PrefilterOptions;
  sequences: readonly Uint8Array[];
  /** One index per seed: bucket c holds entries start[c]..start[c+1] of seq/pos, in sequence order. */
  seeds: { pattern: number[]; span: number; start: Int32Array; seq: Int32Array; pos: Int32Array }[];
  maxLength: number;
}

/** The seed codes of one sequence (−1 where the seed covers B, Z, X or *). */
function seedCodes(sequence: Uint8Array, pattern: readonly number[], span: number): Int32Array {
  const count = Math.max(0, sequence.length - span + 1);
  const codes = new Int32Array(count);
  for (let p = 0; p < count; p++) {
    let code = 0;
    for (const offset of pattern) {
      const letter = sequence[p + offset]!;
      if (letter >= STANDARD) {
        code = -1;
        break;
      }
      code = code * STANDARD + letter;
    }
    codes[p] = code;
  }
  return codes;
}

function seedIndex(sequences: readonly Uint8Array[], seed: string): KmerIndex['seeds'][number] {
  const pattern = [...seed].flatMap((c, i) => (c === '1' ? [i] : []));
  const span = seed.length;
  const buckets = STANDARD ** pattern.length;
  const counts = new Int32Array(buckets + 1);
  const codesOf = sequences.map((s) => seedCodes(s, pattern, span));
  for (const codes of codesOf) for (const c of codes) if (c >= 0) counts[c + 1]!++;
  for (let c = 0; c < buckets; c++) counts[c + 1]! += counts[c]!;
  const start = counts;
  const fill = counts.slice(0, buckets);
  const total = start[buckets]!;
  const seq = new Int32Array(total);
  const pos = new Int32Array(total);
  codesOf.forEach((codes, s) => {
    codes.forEach((c, p) => {
      if (c < 0) return;
      const at = fill[c]!++;
      seq[at] = s;
      pos[at] = p;
    });
  });
  return { pattern, span, start, seq, pos };
}

export function buildKmerIndex(sequences: readonly Uint8Array[], options: PrefilterOptions = DEFAULT_PREFILTER): KmerIndex {
  return { options, sequences, seeds: options.seeds.map((seed) => seedIndex(sequences, seed)), maxLength: Math.max(0, ...sequences.map((s) => s.length)) };
}

export interface Candidate {
  a: number;
  b: number;
  /** Diagonals (position in b − position in a) to align over. */
  dLow: number;
  dHigh: number;
}

/** Per-thread counters per pair × band (hits, the sum of their diagonals, the first and last hit's diagonal), grown on demand. */
interface Counters {
  counts: Uint8Array;
  diagonalSums: Int32Array;
  firstDiagonal: Int32Array;
  lastDiagonal: Int32Array;
  touched: Int32Array;
}
const emptyCounters = (size: number, touched: Int32Array): Counters => ({
  counts: new Uint8Array(size),
  diagonalSums: new Int32Array(size),
  firstDiagonal: new Int32Array(size),
  lastDiagonal: new Int32Array(size),
  touched,
});
let shared = emptyCounters(0, new Int32Array(1 << 16));

function countersFor(size: number): Counters {
  if (shared.counts.length < size) shared = emptyCounters(size, shared.touched);
  return shared;
}

/**
 * Candidates (a, b) with a in queries and b > a. Work for query a grows with the sequences after
 * it, so callers split the queries into chunks of equal work (see chunkQueries).
 */
export function candidatesFor(index: KmerIndex, queries: Iterable<number>): Candidate[] {
  const { options, sequences, maxLength } = index;
  const shift = options.bandShift;
  const n = sequences.length;
  const out: Candidate[] = [];
  for (const a of queries) {
    const query = sequences[a]!;
    // Diagonal d = q − p lies in [−(len(a) − 1), maxLength − 1]; offset it to start at 0.
    const offset = query.length - 1;
    const bands = ((offset + maxLength) >> shift) + 1;
    const counters = countersFor((n - a) * bands);
    const { counts, diagonalSums, firstDiagonal, lastDiagonal } = counters;
    let touched = counters.touched;
    let touchedCount = 0;
    for (const { pattern, span, start, seq, pos } of index.seeds) {
      const codes = seedCodes(query, pattern, span);
      for (let p = 0; p < codes.length; p++) {
        const c = codes[p]!;
        if (c < 0) continue;
        const from = start[c]!;
        const to = start[c + 1]!;
        if (to - from > options.maxOccurrences) continue;
        // Entries are in sequence order: walk back from the end while they belong to later sequences.
        for (let e = to - 1; e >= from; e--) {
          const b = seq[e]!;
          if (b <= a) break;
          const diagonal = pos[e]! - p + offset;
          const key = (b - a - 1) * bands + (diagonal >> shift);
          const value = counts[key]!;
          if (value === 0) {
            if (touchedCount === touched.length) {
              const grown = new Int32Array(touched.length * 2);
              grown.set(touched);
              touched = counters.touched = grown;
            }
            touched[touchedCount++] = key;
            diagonalSums[key] = 0;
            firstDiagonal[key] = diagonal;
          }
          lastDiagonal[key] = diagonal;
          if (value < 255) {
            counts[key] = value + 1;
            diagonalSums[key]! += diagonal;
          }
        }
      }
    }
    collect(index, a, counters, touched, touchedCount, bands, offset, out);
  }
  return out;
}

/** Best-scoring ungapped segment (BLOSUM62) of a against b on diagonal d = q − p. */
export function ungappedScore(a: Uint8Array, b: Uint8Array, d: number): number {
  let best = 0;
  let running = 0;
  const first = Math.max(0, -d);
  const last = Math.min(a.length, b.length - d);
  for (let p = first; p < last; p++) {
    running += BLOSUM62[a[p]! * ALPHABET_SIZE + b[p + d]!]!;
    if (running < 0) running = 0;
    else if (running > best) best = running;
  }
  return best;
}

/**
 * Turns qualifying bands into candidates and clears the counters. A band qualifies with enough
 * seed hits (with its better neighbour) and an ungapped segment on the hits' mean diagonal that
 * scores ≥ minUngappedScore; a pair's candidate spans all its qualifying bands.
 */
function collect(index: KmerIndex, a: number, counters: Counters, touched: Int32Array, count: number, bands: number, offset: number, out: Candidate[]): void {
  const { counts, diagonalSums, firstDiagonal, lastDiagonal } = counters;
  const { minHits, minUngappedScore, bandShift } = index.options;
  const width = 1 << bandShift;
  const low = new Map<number, number>();
  const high = new Map<number, number>();
  for (let t = 0; t < count; t++) {
    const key = touched[t]!;
    const band = key % bands;
    const here = counts[key]!;
    const left = band > 0 ? counts[key - 1]! : 0;
    const right = band < bands - 1 ? counts[key + 1]! : 0;
    if (here === 0 || here + Math.max(left, right) < minHits) continue;
    const pair = (key - band) / bands;
    // With indels the hits lie on a few diagonals: try the mean one and those of the first and last hit.
    const sa = index.sequences[a]!;
    const sb = index.sequences[a + 1 + pair]!;
    const mean = Math.round(diagonalSums[key]! / here) - offset;
    const score = Math.max(ungappedScore(sa, sb, mean), ungappedScore(sa, sb, firstDiagonal[key]! - offset), ungappedScore(sa, sb, lastDiagonal[key]! - offset));
    if (score < minUngappedScore) continue;
    low.set(pair, Math.min(low.get(pair) ?? band, band));
    high.set(pair, Math.max(high.get(pair) ?? band, band));
  }
  for (let t = 0; t < count; t++) counts[touched[t]!] = 0;
  for (const [pair, bandLow] of low) {
    const bandHigh = high.get(pair)!;
    // The qualifying bands, their neighbours, and a margin for the gaps an alignment may open.
    out.push({ a, b: a + 1 + pair, dLow: (bandLow - 1) * width - offset - 8, dHigh: (bandHigh + 2) * width - 1 - offset + 8 });
  }
}

/** Queries 0..n−1 cut into `chunks` contiguous ranges of about equal work (query a meets n − a − 1 later sequences). */
export function chunkQueries(n: number, chunks: number): [number, number][] {
  const totalWork = (n * (n - 1)) / 2;
  const ranges: [number, number][] = [];
  let from = 0;
  let done = 0;
  for (let c = 1; c <= chunks && from < n; c++) {
    const goal = (totalWork * c) / chunks;
    let to = from;
    while (to < n && (done < goal || to === from)) done += n - 1 - to++;
    if (c === chunks) to = n;
    ranges.push([from, to]);
    from = to;
  }
  return ranges;
}
