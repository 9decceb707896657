/**
 * Structure files: the hand-written PDB (two chains, an insertion code, a modified residue in a
 * HETATM record, an alternate location, a ligand, waters, HELIX/SHEET records and a second model)
 * and its mmCIF excerpt are read into the counts and residues written by hand below.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMmcif, readCifTables } from '../../src-renderer/src/lib/structure/mmcif';
import { parseStructure, detectFormat } from '../../src-renderer/src/lib/structure/parse';
import { parsePdb } from '../../src-renderer/src/lib/structure/pdb';
import { oneLetter } from '../../src-renderer/src/lib/structure/residues';
import { chainSequence, residueLabel } from '../../src-renderer/src/lib/structure/types';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'structures');
const pdbText = readFileSync(join(FIXTURES, 'hairpin.pdb'), 'utf8');
const cifText = readFileSync(join(FIXTURES, 'hairpin-part.cif'), 'utf8');

describe('three-letter codes', () => {
  it('maps standard, modified and non-amino-acid residues', () => {
    expect(oneLetter('TRP')).toBe('W');
    expect(oneLetter('mse')).toBe('M');
    expect(oneLetter('SEP')).toBe('S');
    expect(oneLetter('HOH')).toBeNull();
    expect(oneLetter('SO4')).toBeNull();
  });
});

describe('PDB', () => {
  const structure = parsePdb(pdbText);

  it('reads the first model only: chains, residues, atoms, ligands and waters', () => {
    expect(structure.format).toBe('pdb');
    expect(structure.chains.map((c) => c.id)).toEqual(['A', 'B']);
    expect(structure.chains[0]!.residues).toHaveLength(28);
    expect(structure.chains[1]!.residues).toHaveLength(6);
    // Chain A: 28 × (N, CA, C, O) + 27 CB (one glycine) + CG and SE of the selenomethionine;
    // chain B: 6 × 5; SO4: 5; 2 waters. The alternate CB location B is not counted.
    expect(structure.atomCount).toBe(112 + 27 + 2 + 30 + 5 + 2);
    expect(structure.ligands.map((l) => l.name)).toEqual(['SO4']);
    expect(structure.waters).toBe(2);
    expect(structure.title).toBe('A HAND-WRITTEN HELICAL HAIRPIN AND A STRAND, FOR TESTS');
    // Model 2 is shifted by 30 Å in x; the first residue's Cα must be model 1's.
    expect(structure.chains[0]!.residues[0]!.ca).toMatchObject({ x: 2.3, y: 0, z: 0 });
  });

  it('keeps the modified residue in the chain and the insertion code', () => {
    expect(chainSequence(structure.chains[0]!)).toBe('AEELLKRAEELLGMPDKALEELAKKLLE');
    expect(structure.chains[0]!.residues[13]!.name).toBe('MSE');
    expect(chainSequence(structure.chains[1]!)).toBe('TVKVEV');
    expect(structure.chains[1]!.residues.map((r) => residueLabel('B', r))).toEqual(['B50', 'B51', 'B52', 'B52A', 'B53', 'B54']);
  });

  it('keeps the first alternate location', () => {
    const cb = structure.chains[0]!.residues[4]!.atoms.filter((a) => a.name === 'CB');
    expect(cb).toHaveLength(1);
    expect(cb[0]!.x).toBeCloseTo(Number(pdbText.split('\n').find((l) => l.slice(12, 17) === ' CB A')!.slice(30, 38)), 3);
  });

  it('takes secondary structure from the HELIX and SHEET records', () => {
    expect(structure.ssSource).toBe('file');
    const ssA = structure.chains[0]!.residues.map((r) => r.ss[0]).join('');
    expect(ssA).toBe('hhhhhhhhhhhhcccchhhhhhhhhhhh');
    // SHEET B50 … B54 includes the inserted 52A.
    expect(structure.chains[1]!.residues.map((r) => r.ss[0]).join('')).toBe('ssssss');
  });
});

describe('mmCIF', () => {
  it('tokenizes quoted values, single items and loops', () => {
    const tables = readCifTables("data_x\n_a.b 'it''s here'\n_a.c \"two words\"\nloop_\n_t.x\n_t.y\n1 2\n3 4\n;text\nfield\n;\n?\n");
    expect(tables.get('a')).toEqual({ columns: ['b', 'c'], rows: [["it''s here", 'two words']] });
    expect(tables.get('t')!.rows).toEqual([['1', '2'], ['3', '4'], ['text\nfield', '?']]);
  });

  it('reads _atom_site with author numbering, the first model only, and secondary structure', () => {
    const structure = parseMmcif(cifText);
    expect(structure.chains.map((c) => c.id)).toEqual(['A', 'B']);
    expect(chainSequence(structure.chains[0]!)).toBe('AEELLKRAEELL');
    expect(chainSequence(structure.chains[1]!)).toBe('TVKVEV');
    expect(structure.chains[1]!.residues.map((r) => `${r.seq}${r.icode}`)).toEqual(['50', '51', '52', '52A', '53', '54']);
    expect(structure.atomCount).toBe(12 * 5 + 6 * 5 + 5);
    expect(structure.ligands.map((l) => l.name)).toEqual(['SO4']);
    expect(structure.title).toBe('Part of the hand-written hairpin, for tests');
    expect(structure.ssSource).toBe('file');
    expect(structure.chains[0]!.residues.map((r) => r.ss[0]).join('')).toBe('hhhhhhhhhhcc');
    expect(structure.chains[1]!.residues.map((r) => r.ss[0]).join('')).toBe('cssscc');
  });
});

describe('format detection', () => {
  it('uses the extension, else the content', () => {
    expect(detectFormat('x.cif', '')).toBe('mmcif');
    expect(detectFormat('x.ent', '')).toBe('pdb');
    expect(detectFormat('upload', cifText)).toBe('mmcif');
    expect(detectFormat('upload', pdbText)).toBe('pdb');
  });

  it('refuses a file without a protein chain', () => {
    expect(() => parseStructure('water.pdb', 'HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\n')).toThrow(/no protein chain/);
  });
});
