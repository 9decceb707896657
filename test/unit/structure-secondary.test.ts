/**
 * Secondary structure from Cα geometry (no HELIX/SHEET records): ideal α-helices and β-strands
 * generated in code are recognised as such, a chain break stops a helix, and the hand-written
 * hairpin without its records gives helix, loop, helix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePdb } from '../../src-renderer/src/lib/structure/pdb';
import { distance, secondaryFromCalpha } from '../../src-renderer/src/lib/structure/secondary';
import { caOnlyPdb, idealHelix, idealStrand } from '../fixtures/structures/ideal';

const code = (ss: string[]): string => ss.map((s) => s[0]).join('');

describe('ideal geometry', () => {
  it('generates textbook distances', () => {
    const helix = idealHelix(6);
    expect(distance(helix[0]!, helix[1]!)).toBeCloseTo(3.83, 2);
    expect(distance(helix[0]!, helix[3]!)).toBeCloseTo(5.05, 2);
    expect(distance(helix[0]!, helix[4]!)).toBeCloseTo(6.2, 1);
    const strand = idealStrand(4);
    expect(distance(strand[0]!, strand[1]!)).toBeCloseTo(3.81, 2);
    expect(distance(strand[0]!, strand[2]!)).toBeCloseTo(6.6, 2);
  });
});

describe('secondary structure from Cα', () => {
  it('calls every residue of an ideal helix helix', () => {
    expect(code(secondaryFromCalpha(idealHelix(20)))).toBe('h'.repeat(20));
  });

  it('calls every residue of an ideal strand strand', () => {
    expect(code(secondaryFromCalpha(idealStrand(10)))).toBe('s'.repeat(10));
  });

  it('needs 5 residues for a helix and 4 for a strand', () => {
    expect(code(secondaryFromCalpha(idealHelix(4)))).toBe('cccc');
    expect(code(secondaryFromCalpha(idealStrand(3)))).toBe('ccc');
  });

  it('does not bridge a chain break', () => {
    const first = idealHelix(6);
    const second = idealHelix(6).map((p) => ({ ...p, x: p.x + 40 }));
    // Two helices of 6, far apart: each is a helix, the junction windows are not.
    expect(code(secondaryFromCalpha([...first, ...second]))).toBe('hhhhhhhhhhhh');
    expect(code(secondaryFromCalpha([...idealHelix(4), ...idealHelix(4).map((p) => ({ ...p, x: p.x + 40 }))]))).toBe('cccccccc');
  });

  it('reads a Cα-only PDB of a strand followed by a helix without records', () => {
    const strand = idealStrand(8);
    const last = strand[7]!;
    // The helix starts 3.8 Å beyond the strand's end.
    const helix = idealHelix(12, { x: last.x + 3.8 - 2.3, y: last.y, z: last.z });
    const structure = parsePdb(caOnlyPdb('VKVTVEVS' + 'AEELLKKLLEEL', [...strand, ...helix]));
    expect(structure.ssSource).toBe('geometry');
    const ss = structure.chains[0]!.residues.map((r) => r.ss[0]).join('');
    expect(ss.slice(0, 6)).toBe('ssssss');
    expect(ss.slice(9)).toBe('h'.repeat(11));
  });

  it('finds the hand-written hairpin’s two helices and its extended loop when its records are removed', () => {
    const text = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'structures', 'hairpin.pdb'), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('HELIX') && !line.startsWith('SHEET'))
      .join('\n');
    const structure = parsePdb(text);
    expect(structure.ssSource).toBe('geometry');
    // The hand-made loop is a smooth, fully extended arc (Cα i→i+2 ≈ 6.6 Å, i→i+3 ≈ 9.5 Å), which the
    // Cα rule cannot tell from a strand without a partner: one reason the file's records win.
    expect(structure.chains[0]!.residues.map((r) => r.ss[0]).join('')).toBe('hhhhhhhhhhhhsssshhhhhhhhhhhh');
    // Chain B is an ideal zig-zag strand.
    expect(structure.chains[1]!.residues.map((r) => r.ss[0]).join('')).toBe('ssssss');
  });
});
