/**
 * learn/homology/align — pairwise sequence identity for the homology-aware split: Smith-Waterman
 * local alignment (Gotoh's affine gaps) with BLOSUM62, optionally restricted to a band of
 * diagonals that the k-mer prefilter found, with a traceback to count columns. Pure numerics.
 *
 * Definitions (the ones the split's guarantee is stated in):
 *   - score: BLOSUM62; a gap of length L costs open + L·extend, open 11 and extend 1 (BLASTP's
 *     defaults), so a one-residue gap costs 12.
 *   - identity = identical columns / alignment columns (gap columns count), over the best local
 *     alignment (the first best cell in row-major order; ties in the traceback prefer a match
 *     column, then a gap in `a`, then a gap in `b`).
 *   - coverage of a sequence = residues of it inside the aligned region / its length (MMseqs2's
 *     --cov-mode 0 asks this of both sequences).
 *   - two sequences are "related" when identity ≥ minIdentity and both coverages ≥ minCoverage.
 *
 * Why plain typed-array TypeScript and not a package or WebAssembly: no well-kept WebAssembly
 * Smith-Waterman (parasail or SSW port) is published on npm that we could find (the registry
 * mirror had none: `npm view parasail-js` is a 404, and `npm search` is not served), and with the
 * prefilter's bands the kernel fills ~20,000 cells per candidate pair: bench/split.ts filled
 * 9.5·10⁹ cells for 20,000 × 300 in 126 CPU seconds, prefilter included. A WebAssembly SIMD
 * kernel (Farrar's striped layout) is the next step if that matters; it needs a second traceback
 * pass, since striped scores do not keep the path.
 */
import { ALPHABET_SIZE, BLOSUM62 } from './blosum62';

export interface AlignOptions {
  gapOpen: number;
  gapExtend: number;
}

export const DEFAULT_ALIGN: AlignOptions = { gapOpen: 11, gapExtend: 1 };

export interface Alignment {
  score: number;
  /** Alignment columns (matches, mismatches and gaps), and those with the same residue. */
  columns: number;
  identical: number;
  /** 0-based inclusive ranges of each sequence inside the alignment; -1 when the score is 0. */
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
  identity: number;
  coverageA: number;
  coverageB: number;
}

const NEG = -(1 << 29);
const FROM_DIAG = 1;
const FROM_E = 2;
const FROM_F = 3;
const E_EXTENDS = 4;
const F_EXTENDS = 8;

/** Reused buffers (one aligner per thread), grown on demand. */
class Scratch {
  hPrev = new Int32Array(0);
  hCur = new Int32Array(0);
  f = new Int32Array(0);
  trace = new Uint8Array(0);
  ensure(m: number, cells: number): void {
    if (this.hPrev.length < m + 2) {
      this.hPrev = new Int32Array(m + 2);
      this.hCur = new Int32Array(m + 2);
      this.f = new Int32Array(m + 2);
    }
    if (this.trace.length < cells) this.trace = new Uint8Array(Math.max(cells, this.trace.length * 2));
  }
}
const scratch = new Scratch();

/**
 * Best local alignment of codes `a` (length n) and `b` (length m), only over cells whose
 * diagonal d = j − i (0-based positions) lies in [dLow, dHigh]; the defaults cover every cell.
 */
export function alignLocal(a: Uint8Array, b: Uint8Array, options: AlignOptions = DEFAULT_ALIGN, dLow = -(a.length - 1), dHigh = b.length - 1): Alignment {
  const n = a.length;
  const m = b.length;
  const lo = Math.max(dLow, -(n - 1));
  const hi = Math.min(dHigh, m - 1);
  const empty: Alignment = { score: 0, columns: 0, identical: 0, aStart: -1, aEnd: -1, bStart: -1, bEnd: -1, identity: 0, coverageA: 0, coverageB: 0 };
  if (n === 0 || m === 0 || lo > hi) return empty;
  const width = hi - lo + 1;
  scratch.ensure(m, n * width);
  let { hPrev, hCur } = scratch;
  const { f, trace } = scratch;
  const open = options.gapOpen + options.gapExtend;
  const extend = options.gapExtend;
  // Row 0 and column 0 are the virtual start (H = 0); F of row 0 does not exist.
  hPrev.fill(0, 0, m + 2);
  f.fill(NEG, 0, m + 2);
  hCur[0] = 0;
  let best = 0;
  let bestI = -1;
  let bestJ = -1;
  for (let i = 1; i <= n; i++) {
    // 1-based cell (i, j) is 0-based (i−1, j−1): same diagonal d = j − i.
    const jLow = Math.max(1, i + lo);
    const jHigh = Math.min(m, i + hi);
    if (jLow > jHigh) {
      [hPrev, hCur] = [hCur, hPrev];
      continue;
    }
    const row = (i - 1) * width - (i + lo);
    const scoreRow = a[i - 1]! * ALPHABET_SIZE;
    let left = jLow === 1 ? 0 : NEG;
    let e = NEG;
    for (let j = jLow; j <= jHigh; j++) {
      const eOpen = left - open;
      const eExtend = e - extend;
      let bits = 0;
      if (eExtend > eOpen) {
        e = eExtend;
        bits |= E_EXTENDS;
      } else e = eOpen;
      const up = hPrev[j]!;
      const fOpen = up - open;
      const fExtend = f[j]! - extend;
      let fj: number;
      if (fExtend > fOpen) {
        fj = fExtend;
        bits |= F_EXTENDS;
      } else fj = fOpen;
      f[j] = fj;
      let h = hPrev[j - 1]! + BLOSUM62[scoreRow + b[j - 1]!]!;
      let from = FROM_DIAG;
      if (e > h) {
        h = e;
        from = FROM_E;
      }
      if (fj > h) {
        h = fj;
        from = FROM_F;
      }
      if (h <= 0) {
        h = 0;
        from = 0;
      }
      hCur[j] = h;
      trace[row + j] = bits | from;
      left = h;
      if (h > best) {
        best = h;
        bestI = i;
        bestJ = j;
      }
    }
    // Cells just right of this row's band are outside it for the next row's "up" neighbour.
    if (jHigh + 1 <= m) {
      hCur[jHigh + 1] = NEG;
      f[jHigh + 1] = NEG;
    }
    [hPrev, hCur] = [hCur, hPrev];
    hCur[0] = 0;
  }
  scratch.hPrev = hPrev;
  scratch.hCur = hCur;
  if (best === 0) return empty;
  return traceBack(a, b, trace, width, lo, best, bestI, bestJ);
}

function traceBack(a: Uint8Array, b: Uint8Array, trace: Uint8Array, width: number, lo: number, score: number, endI: number, endJ: number): Alignment {
  let i = endI;
  let j = endJ;
  let state = 0; // 0: H, 1: E (gap in a), 2: F (gap in b)
  let columns = 0;
  let identical = 0;
  let firstI = i;
  let firstJ = j;
  const cell = (ci: number, cj: number): number => trace[(ci - 1) * width - (ci + lo) + cj]!;
  while (i > 0 && j > 0) {
    const t = cell(i, j);
    if (state === 0) {
      const from = t & 3;
      if (from === 0) break;
      if (from === FROM_DIAG) {
        columns++;
        if (a[i - 1] === b[j - 1]) identical++;
        firstI = i;
        firstJ = j;
        i--;
        j--;
      } else state = from === FROM_E ? 1 : 2;
    } else if (state === 1) {
      columns++;
      firstJ = j;
      state = t & E_EXTENDS ? 1 : 0;
      j--;
    } else {
      columns++;
      firstI = i;
      state = t & F_EXTENDS ? 2 : 0;
      i--;
    }
  }
  const aLength = endI - firstI + 1;
  const bLength = endJ - firstJ + 1;
  return {
    score,
    columns,
    identical,
    aStart: firstI - 1,
    aEnd: endI - 1,
    bStart: firstJ - 1,
    bEnd: endJ - 1,
    identity: identical / columns,
    coverageA: aLength / a.length,
    coverageB: bLength / b.length,
  };
}

export interface RelatedCriteria {
  /** Fractions in [0, 1]: 0.3 is 30 % identity. */
  minIdentity: number;
  minCoverage: number;
}

export const isRelated = (alignment: Alignment, criteria: RelatedCriteria): boolean =>
  alignment.columns > 0 && alignment.identity >= criteria.minIdentity && alignment.coverageA >= criteria.minCoverage && alignment.coverageB >= criteria.minCoverage;
