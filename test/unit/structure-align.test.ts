/**
 * Needleman–Wunsch with BLOSUM62, affine gaps (10 + 0.5 per extra residue) and free end gaps:
 * scores and residue mappings of small cases worked out by hand from the BLOSUM62 table.
 */
import { describe, expect, it } from 'vitest';
import { alignSequences, blosum62 } from '../../src-renderer/src/lib/structure/align';

describe('BLOSUM62', () => {
  it('has the familiar entries and is symmetric', () => {
    expect(blosum62('W', 'W')).toBe(11);
    expect(blosum62('C', 'C')).toBe(9);
    expect(blosum62('A', 'R')).toBe(-1);
    expect(blosum62('I', 'V')).toBe(3);
    expect(blosum62('W', 'C')).toBe(blosum62('C', 'W'));
    // Letters outside the table score as X.
    expect(blosum62('U', 'A')).toBe(blosum62('X', 'A'));
  });
});

describe('alignment', () => {
  it('aligns identical sequences residue to residue', () => {
    const a = alignSequences('ACD', 'ACD');
    expect(a.score).toBe(4 + 9 + 6);
    expect([...a.aToB]).toEqual([0, 1, 2]);
    expect(a.identity).toBe(1);
    expect(a.coverage).toBe(1);
  });

  it('scores a substitution from the matrix', () => {
    const a = alignSequences('AWD', 'ACD');
    expect(a.score).toBe(4 - 2 + 6);
    expect(a.identical).toBe(2);
    expect(a.identity).toBeCloseTo(2 / 3, 10);
  });

  it('places a fragment inside a longer sequence without end-gap penalties', () => {
    const a = alignSequences('KLMNPQ', 'ACDEFGKLMNPQRSTV');
    expect([...a.aToB]).toEqual([6, 7, 8, 9, 10, 11]);
    expect(a.alignedA).toBe('------KLMNPQ----');
    expect(a.alignedB).toBe('ACDEFGKLMNPQRSTV');
    expect(a.identity).toBe(1);
  });

  it('leaves a tag the sequence lacks unaligned', () => {
    const a = alignSequences('HHHHHHMKTAYIAKQR', 'MKTAYIAKQRQISFVK');
    expect([...a.aToB]).toEqual([-1, -1, -1, -1, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.alignedPairs).toBe(10);
    expect(a.identity).toBe(1);
    expect(a.coverage).toBeCloseTo(10 / 16, 10);
  });

  it('opens one internal gap for a deletion, costing 10 + 0.5 · 3', () => {
    const sequence = 'MKTAYIAKQRQISFVKSHFSRQ';
    const chain = 'MKTAYIAKQR' + 'VKSHFSRQ';
    const a = alignSequences(chain, sequence);
    expect([...a.aToB]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 19, 20, 21]);
    expect(a.alignedA).toBe('MKTAYIAKQR----VKSHFSRQ');
    const matches = [...chain].reduce((sum, c) => sum + blosum62(c, c), 0);
    expect(a.score).toBe(matches - 11.5);
  });

  it('prefers a one-residue gap (−10) to a W/C mismatch when the gap pays', () => {
    // 10 W against WWWWW C WWWWW: a gap gives 10 × 11 − 10 = 100; sliding over the C gives 9 × 11 − 2 = 97.
    const a = alignSequences('WWWWWWWWWW', 'WWWWWCWWWWW');
    expect(a.score).toBe(100);
    expect(a.identity).toBe(1);
    expect(a.aToB).not.toContain(5);
  });

  it('reports identity over aligned pairs for a point mutant', () => {
    const a = alignSequences('MKTAYIAKQRQISFVKSHFSRQ'.replace('Y', 'F'), 'MKTAYIAKQRQISFVKSHFSRQ');
    expect(a.alignedPairs).toBe(22);
    expect(a.identical).toBe(21);
    expect(a.identity).toBeCloseTo(21 / 22, 10);
  });
});
