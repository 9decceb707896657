/**
 * Overlay arithmetic: predicted contacts above a threshold, the structure's Cα contact map in
 * sequence coordinates through an alignment, colour scales.
 */
import { describe, expect, it } from 'vitest';
import { colorOf, MISSING, scaleFor } from '../../src-renderer/src/lib/structure/colors';
import { predictedContacts, structureContactMap } from '../../src-renderer/src/lib/structure/geometry';
import { idealHelix } from '../fixtures/structures/ideal';

describe('predicted contacts', () => {
  it('keeps pairs at least 6 apart with p ≥ threshold, strongest first', () => {
    const L = 10;
    const p = new Float32Array(L * L);
    const set = (i: number, j: number, v: number): void => {
      p[i * L + j] = v;
      p[j * L + i] = v;
    };
    set(0, 9, 0.9);
    set(1, 8, 0.5);
    set(2, 8, 0.3); // exactly 6 apart: kept
    set(3, 5, 0.99); // too close in sequence
    expect(predictedContacts(p, L, 0.4)).toEqual([{ i: 0, j: 9, p: expect.closeTo(0.9, 5) }, { i: 1, j: 8, p: 0.5 }]);
    expect(predictedContacts(p, L, 0.2)).toHaveLength(3);
    expect(predictedContacts(p, L, 0.95)).toHaveLength(0);
  });
});

describe('structure contact map', () => {
  it('marks Cα pairs under 8 Å at their aligned sequence positions and leaves the rest unknown', () => {
    const helix = idealHelix(8);
    // Structure residue k sits at sequence position k + 2; the last one is unaligned.
    const positions = [2, 3, 4, 5, 6, 7, 8, -1];
    const L = 12;
    const map = structureContactMap(helix, positions, L);
    expect(map[2 * L + 3]).toBe(1); // neighbours, 3.8 Å
    expect(map[2 * L + 6]).toBe(1); // i → i+4, 6.2 Å
    expect(map[2 * L + 8]).toBe(0); // i → i+6, 9 Å
    expect(map[0 * L + 2]).toBe(255); // position 0 is not in the structure
    expect(map[8 * L + 9]).toBe(255);
    expect(map[5 * L + 2]).toBe(map[2 * L + 5]);
  });
});

describe('colour scales', () => {
  it('spans min…max, or ±max|v| around 0 when diverging, and greys missing values', () => {
    expect(scaleFor([1, 3, null, 2], 'sequential')).toEqual({ kind: 'sequential', min: 1, max: 3 });
    expect(scaleFor([-1, 4], 'diverging')).toEqual({ kind: 'diverging', min: -4, max: 4 });
    const scale = scaleFor([0, 1], 'diverging');
    const white = colorOf(0, scale);
    expect(white[0]).toBeCloseTo(white[2], 5);
    // Negative is red, positive blue: the heatmap's meaning (issue 13; it used to be the reverse here).
    expect(colorOf(-1, scale)[0]).toBeGreaterThan(colorOf(1, scale)[0]);
    expect(colorOf(1, scale)[2]).toBeGreaterThan(colorOf(-1, scale)[2]);
    expect(colorOf(null, scale)).toBe(MISSING);
  });
});
