/**
 * lib/structure/align — Needleman–Wunsch global alignment of a structure chain's sequence to a
 * dataset sequence, with the BLOSUM62 matrix and affine gaps (Gotoh): a gap of k residues costs
 * 10 + 0.5·(k − 1), as EMBOSS needle's defaults. End gaps are free, because a structure usually
 * covers only part of the sequence (or carries a tag the sequence lacks), and a penalty there
 * would drag the chain's ends out of place.
 *
 * Identity is identical pairs / aligned pairs (columns with a residue on both sides); coverage is
 * aligned pairs / residues of the chain.
 */

export const GAP_OPEN = 10;
export const GAP_EXTEND = 0.5;

const ORDER = 'ARNDCQEGHILKMFPSTWYVBZX*';
// BLOSUM62 (NCBI), rows and columns in ORDER.
const BLOSUM62_ROWS = [
  '4 -1 -2 -2 0 -1 -1 0 -2 -1 -1 -1 -1 -2 -1 1 0 -3 -2 0 -2 -1 0 -4',
  '-1 5 0 -2 -3 1 0 -2 0 -3 -2 2 -1 -3 -2 -1 -1 -3 -2 -3 -1 0 -1 -4',
  '-2 0 6 1 -3 0 0 0 1 -3 -3 0 -2 -3 -2 1 0 -4 -2 -3 3 0 -1 -4',
  '-2 -2 1 6 -3 0 2 -1 -1 -3 -4 -1 -3 -3 -1 0 -1 -4 -3 -3 4 1 -1 -4',
  '0 -3 -3 -3 9 -3 -4 -3 -3 -1 -1 -3 -1 -2 -3 -1 -1 -2 -2 -1 -3 -3 -2 -4',
  '-1 1 0 0 -3 5 2 -2 0 -3 -2 1 0 -3 -1 0 -1 -2 -1 -2 0 3 -1 -4',
  '-1 0 0 2 -4 2 5 -2 0 -3 -3 1 -2 -3 -1 0 -1 -3 -2 -2 1 4 -1 -4',
  '0 -2 0 -1 -3 -2 -2 6 -2 -4 -4 -2 -3 -3 -2 0 -2 -2 -3 -3 -1 -2 -1 -4',
  '-2 0 1 -1 -3 0 0 -2 8 -3 -3 -1 -2 -1 -2 -1 -2 -2 2 -3 0 0 -1 -4',
  '-1 -3 -3 -3 -1 -3 -3 -4 -3 4 2 -3 1 0 -3 -2 -1 -3 -1 3 -3 -3 -1 -4',
  '-1 -2 -3 -4 -1 -2 -3 -4 -3 2 4 -2 2 0 -3 -2 -1 -2 -1 1 -4 -3 -1 -4',
  '-1 2 0 -1 -3 1 1 -2 -1 -3 -2 5 -1 -3 -1 0 -1 -3 -2 -2 0 1 -1 -4',
  '-1 -1 -2 -3 -1 0 -2 -3 -2 1 2 -1 5 0 -2 -1 -1 -1 -1 1 -3 -1 -1 -4',
  '-2 -3 -3 -3 -2 -3 -3 -3 -1 0 0 -3 0 6 -4 -2 -2 1 3 -1 -3 -3 -1 -4',
  '-1 -2 -2 -1 -3 -1 -1 -2 -2 -3 -3 -1 -2 -4 7 -1 -1 -4 -3 -2 -2 -1 -2 -4',
  '1 -1 1 0 -1 0 0 0 -1 -2 -2 0 -1 -2 -1 4 1 -3 -2 -2 0 0 0 -4',
  '0 -1 0 -1 -1 -1 -1 -2 -2 -1 -1 -1 -1 -2 -1 1 5 -2 -2 0 -1 -1 0 -4',
  '-3 -3 -4 -4 -2 -2 -3 -2 -2 -3 -2 -3 -1 1 -4 -3 -2 11 2 -3 -4 -3 -2 -4',
  '-2 -2 -2 -3 -2 -1 -2 -3 2 -1 -1 -2 -1 3 -3 -2 -2 2 7 -1 -3 -2 -1 -4',
  '0 -3 -3 -3 -1 -2 -2 -3 -3 3 1 -2 1 -1 -2 -2 0 -3 -1 4 -3 -2 -1 -4',
  '-2 -1 3 4 -3 0 1 -1 0 -3 -4 0 -3 -3 -2 0 -1 -4 -3 -3 4 1 -1 -4',
  '-1 0 0 1 -3 3 4 -2 0 -3 -3 1 -1 -3 -1 0 -1 -3 -2 -2 1 4 -1 -4',
  '0 -1 -1 -1 -2 -1 -1 -1 -1 -1 -1 -1 -1 -1 -2 0 0 -2 -1 -1 -1 -1 -1 -4',
  '-4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 1',
];
const BLOSUM62 = BLOSUM62_ROWS.map((row) => row.split(' ').map(Number));

/** Index in ORDER; letters outside it (U, O, J) count as X. */
const indexOf = (letter: string): number => {
  const i = ORDER.indexOf(letter.toUpperCase());
  return i < 0 ? ORDER.indexOf('X') : i;
};

export const blosum62 = (a: string, b: string): number => BLOSUM62[indexOf(a)]![indexOf(b)]!;

export interface Alignment {
  /** The two sequences with '-' for gaps, same length. */
  alignedA: string;
  alignedB: string;
  /** For each residue of A, the index of the residue of B it is aligned to, or -1. */
  aToB: Int32Array;
  score: number;
  identical: number;
  alignedPairs: number;
  /** identical / alignedPairs, 0 … 1. */
  identity: number;
  /** alignedPairs / length of A, 0 … 1. */
  coverage: number;
}

const NONE = -Infinity;
// Which matrix a cell's best value came from: M (pair), X (gap in B), Y (gap in A).
const M = 0;
const X = 1;
const Y = 2;

/** Aligns A (the structure chain) to B (the dataset sequence). */
export function alignSequences(a: string, b: string): Alignment {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const size = (n + 1) * w;
  const score = [new Float32Array(size).fill(NONE), new Float32Array(size).fill(NONE), new Float32Array(size).fill(NONE)] as const;
  const from = [new Uint8Array(size), new Uint8Array(size), new Uint8Array(size)] as const;
  // Free leading end gaps: any prefix of A or B may be skipped at no cost.
  for (let i = 0; i <= n; i++) score[M][i * w] = 0;
  for (let j = 0; j <= m; j++) score[M][j] = 0;
  const codesB = Array.from(b, indexOf);
  for (let i = 1; i <= n; i++) {
    const row = BLOSUM62[indexOf(a[i - 1]!)]!;
    for (let j = 1; j <= m; j++) {
      const c = i * w + j;
      // M: a pair, after anything.
      const diagonal = c - w - 1;
      const [bestM, argM] = best3(score[M][diagonal]!, score[X][diagonal]!, score[Y][diagonal]!);
      score[M][c] = bestM + row[codesB[j - 1]!]!;
      from[M][c] = argM;
      // X: A's residue against a gap, opened after a pair or extended.
      const up = c - w;
      const openX = score[M][up]! - GAP_OPEN;
      const extendX = score[X][up]! - GAP_EXTEND;
      score[X][c] = Math.max(openX, extendX);
      from[X][c] = extendX > openX ? X : M;
      // Y: B's residue against a gap.
      const left = c - 1;
      const openY = score[M][left]! - GAP_OPEN;
      const extendY = score[Y][left]! - GAP_EXTEND;
      score[Y][c] = Math.max(openY, extendY);
      from[Y][c] = extendY > openY ? Y : M;
    }
  }
  return traceBack(a, b, from, bestEnd(score, n, m));
}

function best3(m: number, x: number, y: number): [number, number] {
  if (m >= x && m >= y) return [m, M];
  return x >= y ? [x, X] : [y, Y];
}

/** Free trailing end gaps: the alignment may end anywhere on the last row or column. */
function bestEnd(score: readonly Float32Array[], n: number, m: number): { i: number; j: number; s: number; value: number } {
  const w = m + 1;
  let best = { i: n, j: m, s: M, value: NONE };
  const consider = (i: number, j: number): void => {
    for (let s = M; s <= Y; s++) {
      const value = score[s]![i * w + j]!;
      if (value > best.value) best = { i, j, s, value };
    }
  };
  for (let j = 0; j <= m; j++) consider(n, j);
  for (let i = 0; i <= n; i++) consider(i, m);
  return best;
}

function traceBack(a: string, b: string, from: readonly Uint8Array[], end: { i: number; j: number; s: number; value: number }): Alignment {
  const w = b.length + 1;
  const colsA: string[] = [];
  const colsB: string[] = [];
  const column = (x: string, y: string): void => {
    colsA.push(x);
    colsB.push(y);
  };
  const aToB = new Int32Array(a.length).fill(-1);
  // Trailing end gaps.
  for (let i = a.length; i > end.i; i--) column(a[i - 1]!, '-');
  for (let j = b.length; j > end.j; j--) column('-', b[j - 1]!);
  let { i, j, s } = end;
  while (i > 0 && j > 0) {
    const previous = from[s]![i * w + j]!;
    if (s === M) {
      aToB[i - 1] = j - 1;
      column(a[--i]!, b[--j]!);
    } else if (s === X) {
      column(a[--i]!, '-');
    } else {
      column('-', b[--j]!);
    }
    s = previous;
  }
  // Leading end gaps.
  while (i > 0) column(a[--i]!, '-');
  while (j > 0) column('-', b[--j]!);
  const alignedA = colsA.reverse().join('');
  const alignedB = colsB.reverse().join('');
  let identical = 0;
  let alignedPairs = 0;
  aToB.forEach((k, index) => {
    if (k < 0) return;
    alignedPairs++;
    if (a[index]!.toUpperCase() === b[k]!.toUpperCase()) identical++;
  });
  return {
    alignedA,
    alignedB,
    aToB,
    score: end.value,
    identical,
    alignedPairs,
    identity: alignedPairs > 0 ? identical / alignedPairs : 0,
    coverage: a.length > 0 ? alignedPairs / a.length : 0,
  };
}
