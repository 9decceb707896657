/**
 * Homology-aware split (learn/homology): the aligner's definitions on hand-checked examples and
 * against a plain full-matrix aligner written here, and GraphPart's guarantee on planted
 * families — no pair of sequences in different folds is related, checked by aligning every
 * pair exhaustively with that plain aligner, and no family straddles folds.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { alignLocal, clusterTableCsv, encodeSequence, findRelatedPairs, isRelated, partition } from '../../src-main/learn/homology';
import { ALPHABET_SIZE, BLOSUM62 } from '../../src-main/learn/homology/blosum62';
import { buildFolds } from '../../src-main/learn/splits';
import { plantedFamilies } from '../support/planted-families';
import { randomProteins } from '../support/random-proteins';

// ---------------------------------------------------------------------------------------------
// An independent aligner: Gotoh's recurrences over full matrices, no band, no buffer reuse.

interface Plain {
  score: number;
  identity: number;
  coverageA: number;
  coverageB: number;
}

function plainAlign(x: string, y: string, open = 11, extend = 1): Plain {
  const a = encodeSequence(x);
  const b = encodeSequence(y);
  const n = a.length;
  const m = b.length;
  const NEG = -1e9;
  const H = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const E = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(NEG));
  const F = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(NEG));
  let best = 0;
  let bi = 0;
  let bj = 0;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      E[i]![j] = Math.max(E[i]![j - 1]! - extend, H[i]![j - 1]! - open - extend);
      F[i]![j] = Math.max(F[i - 1]![j]! - extend, H[i - 1]![j]! - open - extend);
      H[i]![j] = Math.max(0, H[i - 1]![j - 1]! + BLOSUM62[a[i - 1]! * ALPHABET_SIZE + b[j - 1]!]!, E[i]![j]!, F[i]![j]!);
      if (H[i]![j]! > best) [best, bi, bj] = [H[i]![j]!, i, j];
    }
  }
  if (best === 0) return { score: 0, identity: 0, coverageA: 0, coverageB: 0 };
  // Traceback preferring a match column, then a gap in a (E), then a gap in b (F); extension over opening.
  let i = bi;
  let j = bj;
  let state: 'H' | 'E' | 'F' = 'H';
  let columns = 0;
  let same = 0;
  let firstI = i;
  let firstJ = j;
  while (i > 0 && j > 0) {
    if (state === 'H') {
      const h = H[i]![j]!;
      if (h === 0) break;
      if (h === H[i - 1]![j - 1]! + BLOSUM62[a[i - 1]! * ALPHABET_SIZE + b[j - 1]!]!) {
        columns++;
        if (a[i - 1] === b[j - 1]) same++;
        [firstI, firstJ] = [i, j];
        i--;
        j--;
      } else state = h === E[i]![j] ? 'E' : 'F';
    } else if (state === 'E') {
      columns++;
      firstJ = j;
      state = E[i]![j - 1]! - extend > H[i]![j - 1]! - open - extend ? 'E' : 'H';
      j--;
    } else {
      columns++;
      firstI = i;
      state = F[i - 1]![j]! - extend > H[i - 1]![j]! - open - extend ? 'F' : 'H';
      i--;
    }
  }
  return { score: best, identity: same / columns, coverageA: (bi - firstI + 1) / n, coverageB: (bj - firstJ + 1) / m };
}

const related = (p: Plain, identity: number, coverage: number): boolean => p.identity >= identity && p.coverageA >= coverage && p.coverageB >= coverage;

describe('pairwise alignment', () => {
  const codes = (s: string): Uint8Array => encodeSequence(s);

  it('scores hand-checked examples with BLOSUM62 and gaps of open 11 + extend 1', () => {
    // MKTAYIAKQR scores 5+5+5+4+7+4+4+5+5+5 = 49 with itself.
    const self = alignLocal(codes('MKTAYIAKQR'), codes('MKTAYIAKQR'));
    expect(self).toMatchObject({ score: 49, columns: 10, identical: 10, identity: 1, coverageA: 1, coverageB: 1 });
    // Two residues (QI) deleted: 49 + 51 (SFVKSHFSRQ) − (11 + 2·1) = 87, 22 columns of which 20 identical.
    const gapped = alignLocal(codes('MKTAYIAKQRQISFVKSHFSRQ'), codes('MKTAYIAKQRSFVKSHFSRQ'));
    expect(gapped).toMatchObject({ score: 87, columns: 22, identical: 20, coverageA: 1, coverageB: 1 });
    expect(gapped.identity).toBeCloseTo(20 / 22, 12);
    // HEAGAWGHEE vs PAWHEAE: the best local alignment is HEA/HEA (8 + 5 + 4), covering 3 of 10 and 3 of 7.
    expect(alignLocal(codes('HEAGAWGHEE'), codes('PAWHEAE'))).toMatchObject({ score: 17, columns: 3, identity: 1, coverageA: 0.3, aStart: 0, bStart: 3 });
  });

  it('gives identity 1 with itself, is symmetric, and agrees with a plain full-matrix aligner', () => {
    const rng = createRng(5);
    const set = plantedFamilies(11, { families: 6, membersPerFamily: 3, length: 70, identityToAncestor: [0.3, 0.9], indelRate: 0.03 });
    for (let t = 0; t < 40; t++) {
      const x = set.sequences[rng.nextInt(set.sequences.length)]!;
      const y = set.sequences[rng.nextInt(set.sequences.length)]!;
      expect(alignLocal(codes(x), codes(x)).identity).toBe(1);
      const forward = alignLocal(codes(x), codes(y));
      const backward = alignLocal(codes(y), codes(x));
      expect(backward.score).toBe(forward.score);
      const plain = plainAlign(x, y);
      expect(forward.score).toBe(plain.score);
      expect(forward.identity).toBeCloseTo(plain.identity, 12);
      expect(forward.coverageA).toBeCloseTo(plain.coverageA, 12);
      expect(forward.coverageB).toBeCloseTo(plain.coverageB, 12);
    }
  });

  it('a band holding the best alignment gives the full alignment; a band beside it scores less', () => {
    const [x, y] = plantedFamilies(3, { families: 1, membersPerFamily: 2, length: 120, identityToAncestor: [0.8, 0.8], indelRate: 0 }).sequences;
    const full = alignLocal(codes(x!), codes(y!));
    expect(alignLocal(codes(x!), codes(y!), undefined, -5, 5)).toEqual(full);
    expect(alignLocal(codes(x!), codes(y!), undefined, 20, 40).score).toBeLessThan(full.score);
  });
});

describe('similarity split (GraphPart guarantee)', () => {
  // Families near the threshold (members 45–95 % identical to their ancestor, so pairs range from
  // ~25 % to ~90 %) plus unrelated singletons.
  const planted = plantedFamilies(2024, { families: 14, membersPerFamily: 5, length: 90, identityToAncestor: [0.45, 0.95], indelRate: 0.01 });
  const singletons = randomProteins(99, 16, 80, 100);
  const sequences = [...planted.sequences, ...singletons];
  const family = [...planted.family, ...singletons.map((_, i) => 1000 + i)];

  it('puts no related pair in different folds (every pair aligned exhaustively) and keeps linked families whole', { timeout: 180_000 }, async () => {
    const found = await findRelatedPairs(sequences, { criteria: { minIdentity: 0.3, minCoverage: 0.8 }, chunks: 4 });
    const result = partition(sequences.length, found.pairs, { shares: [1, 1, 1, 1, 1] });
    const crossRelated: string[] = [];
    let relatedPairs = 0;
    for (let a = 0; a < sequences.length; a++) {
      for (let b = a + 1; b < sequences.length; b++) {
        const alignment = plainAlign(sequences[a]!, sequences[b]!);
        if (!related(alignment, 0.3, 0.8)) continue;
        relatedPairs++;
        if (result.fold[a] !== result.fold[b]) crossRelated.push(`${a}–${b} (${(100 * alignment.identity).toFixed(0)} %)`);
      }
    }
    expect(relatedPairs).toBeGreaterThan(50); // the check has something to check
    expect(crossRelated).toEqual([]);
    // Families whose members are all linked by related pairs never straddle folds.
    const linked = [...new Set(planted.family)].filter((f) => {
      const members = family.flatMap((g, i) => (g === f ? [i] : []));
      return new Set(members.map((i) => result.cluster[i])).size === 1;
    });
    expect(linked.length).toBeGreaterThan(8);
    for (const f of linked) expect(new Set(family.flatMap((g, i) => (g === f ? [result.fold[i]] : []))).size).toBe(1);
    // Folds are balanced as far as whole clusters allow (86 sequences, clusters of ≤ 5).
    expect(Math.max(...result.foldSizes) - Math.min(...result.foldSizes)).toBeLessThanOrEqual(5);
    expect(result.warning).toBeNull();
  });

  it('with the prefilter forced, still separates no related pair of families at ≥ 70 % identity to their ancestor', { timeout: 180_000 }, async () => {
    // Pairs here are ~45–90 % identical, where the prefilter's measured recall is ~100 % (bench/split.ts).
    const set = plantedFamilies(77, { families: 8, membersPerFamily: 5, length: 200, identityToAncestor: [0.7, 0.95], indelRate: 0.01 });
    const found = await findRelatedPairs(set.sequences, { search: 'prefilter', chunks: 3 });
    const result = partition(set.sequences.length, found.pairs, { shares: [1, 1, 1, 1] });
    const crossRelated: string[] = [];
    for (let a = 0; a < set.sequences.length; a++) {
      for (let b = a + 1; b < set.sequences.length; b++) {
        if (result.fold[a] !== result.fold[b] && related(plainAlign(set.sequences[a]!, set.sequences[b]!), 0.3, 0.8)) crossRelated.push(`${a}–${b}`);
      }
    }
    expect(crossRelated).toEqual([]);
    expect(result.clusterSizes).toEqual(Array.from({ length: 8 }, () => 5));
    for (let f = 0; f < 8; f++) expect(new Set(set.family.flatMap((g, i) => (g === f ? [result.fold[i]] : []))).size).toBe(1);
  });

  it('resumes from the chunks it had finished and finds the same pairs', { timeout: 180_000 }, async () => {
    const whole = await findRelatedPairs(sequences, { chunks: 4 });
    let saved: Awaited<ReturnType<typeof findRelatedPairs>> | null = null;
    const controller = new AbortController();
    await expect(
      findRelatedPairs(sequences, {
        chunks: 4,
        signal: controller.signal,
        checkpoint: (state) => {
          saved = structuredClone(state);
          if (state.done.length === 2) controller.abort();
        },
      }),
    ).rejects.toThrow('Cancelled');
    expect(saved!.done).toEqual([0, 1]);
    const resumed = await findRelatedPairs(sequences, { resumeFrom: saved });
    const key = (pairs: number[]): string[] => Array.from({ length: pairs.length / 2 }, (_, i) => `${pairs[2 * i]}-${pairs[2 * i + 1]}`).sort();
    expect(key(resumed.pairs)).toEqual(key(whole.pairs));
  });

  it('says so when one cluster is too big to balance, and removes the fewest linking sequences when asked', () => {
    // A star: sequence 0 related to 1..11, plus 8 singletons; 3 folds of 20 cannot take a cluster of 12.
    const star = Array.from({ length: 11 }, (_, i) => [0, i + 1]).flat();
    const kept = partition(20, star, { shares: [1, 1, 1] });
    expect(kept.warning).toMatch(/60 % of the data .*cannot be balanced/);
    expect(kept.removed).toEqual([]);
    expect(new Set(Array.from({ length: 12 }, (_, i) => kept.fold[i])).size).toBe(1);
    const balanced = partition(20, star, { shares: [1, 1, 1], removeToBalance: true });
    expect(balanced.removed).toEqual([0]);
    expect(balanced.fold[0]).toBe(-1);
    expect(balanced.warning).toMatch(/1 sequences that linked it together were left out/);
    const folds = buildFolds({ scheme: 'homology', k: 3, seed: 1 }, { rows: Array.from({ length: 20 }, (_, i) => i), labels: null, classes: [], positions: null, splitValues: null, homologyFolds: balanced.fold });
    for (const fold of folds) {
      expect(fold.train).not.toContain(0);
      expect(fold.test).not.toContain(0);
    }
  });

  it('exports the assignment as CSV (id, cluster, cluster size, fold)', () => {
    const result = partition(3, [0, 2], { shares: [1, 1] });
    expect(clusterTableCsv(['P1', 'P,2', 'P3'], result)).toBe('id,cluster,cluster_size,fold\nP1,1,2,1\n"P,2",2,1,2\nP3,1,2,1\n');
  });

  it('judges relatedness by identity and the coverage of both sequences', () => {
    const long = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWSTPSELGHAGLNGDILVWNPVLEDAFELSSMGIRVDADTLKHQLALTGDEDRLELEWHQALLRGEMPQTIGGGIGQSRLTMLLLQLPHIGQVQAGVWPAACRELLDEVNNLCLYLNSTETQRQL';
    const part = long.slice(0, 60);
    const alignment = alignLocal(encodeSequence(part), encodeSequence(long));
    expect(alignment.identity).toBe(1);
    expect(alignment.coverageA).toBe(1);
    expect(alignment.coverageB).toBeLessThan(0.8);
    expect(isRelated(alignment, { minIdentity: 0.3, minCoverage: 0.8 })).toBe(false);
    expect(isRelated(alignment, { minIdentity: 0.3, minCoverage: 0 })).toBe(true);
  });
});
