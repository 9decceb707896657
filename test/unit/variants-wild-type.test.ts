/**
 * variants/wild-type and the empty-cell rule of variants/apply: the numbering offset that fits a
 * scan, the message when most rows do not fit, and which FASTA record a table is named after.
 * Expected values are counted by hand from the short sequences below.
 */
import { describe, expect, it } from 'vitest';
import { applyVariants } from '../../src-main/variants/apply';
import { agreement, bestOffset, offsetHint, recordNamedLike, statedResidues } from '../../src-main/variants/wild-type';

const WT = 'MKTAYIAKQR';

describe('statedResidues and agreement', () => {
  it('merges the residues the rows state and counts how many the sequence has at an offset', () => {
    const stated = statedResidues(['M1A', 'M1C', 'K2E:T3S', 'junk', 'WT']);
    expect(stated).toEqual([
      { written: 1, residue: 'M', count: 2 },
      { written: 2, residue: 'K', count: 1 },
      { written: 3, residue: 'T', count: 1 },
    ]);
    expect(agreement(WT, stated, 0)).toEqual({ matching: 4, total: 4 });
    // Offset 1: written 2 → position 1 (M), written 3 → position 2 (K): none fits.
    expect(agreement(WT, stated, 1)).toEqual({ matching: 0, total: 4 });
  });
});

describe('bestOffset', () => {
  it('finds the shift that puts the stated letters under their numbers, forwards and backwards', () => {
    // Numbered from 101: "Y105F" names the 5th residue (Y).
    const shifted = statedResidues(['M101A', 'K102E', 'T103S', 'Y105F', 'Q109L']);
    expect(bestOffset(WT, shifted)).toEqual({ offset: 100, matching: 5, total: 5 });
    // The FASTA has three extra residues before residue 1.
    expect(bestOffset(`GSH${WT}`, statedResidues(['M1A', 'K2E', 'T3S', 'A4G']))).toEqual({ offset: -3, matching: 4, total: 4 });
    expect(bestOffset(WT, statedResidues(['W1A']))).toBeNull();
  });
});

describe('offsetHint', () => {
  const variants = ['M101A', 'K102E', 'T103S', 'Y105F'];

  it('says nothing when most rows match', () => {
    expect(offsetHint(WT, variants, 100, 1, 4)).toBeNull();
    expect(offsetHint(WT, variants, 100, 2, 4)).toBeNull();
  });

  it('names the offset that matches, or what to trim, or that none does', () => {
    expect(offsetHint(WT, variants, 0, 4, 4)).toBe(
      'Most rows (4 of 4) state wild-type residues that this wild type does not have at offset 0. ' +
        "With offset 100 (the wild type's first residue numbered 101), 4 of 4 stated wild-type residues match: set the numbering offset to 100.",
    );
    expect(offsetHint(`GSH${WT}`, ['M1A', 'K2E', 'T3S'], 0, 3, 3)).toBe(
      'Most rows (3 of 3) state wild-type residues that this wild type does not have at offset 0. ' +
        '3 of 3 stated wild-type residues match if the numbering starts 3 residues into the wild type: remove its first 3 residues (e.g. a tag or signal peptide the scan does not number).',
    );
    expect(offsetHint(WT, ['W1A', 'W2A'], 0, 2, 2)).toMatch(/No numbering offset between −1000 and 1000 makes most of them match: check that the wild type is the protein this scan measured\.$/);
  });
});

describe('recordNamedLike', () => {
  const ids = ['YAP1_HUMAN', 'BLAT_ECOLX', 'sp|P0A7Y4|RNH_ECOLI'];

  it('matches a table named after a record, in either direction, ignoring case and extension', () => {
    expect(recordNamedLike(ids, 'BLAT_ECOLX_Ostermeier2014.csv')).toBe('BLAT_ECOLX');
    expect(recordNamedLike(ids, '/data/dms/yap1_human.tsv')).toBe('YAP1_HUMAN');
    expect(recordNamedLike(['BLAT_ECOLX_Ostermeier2014', 'YAP1_HUMAN_Fields2012_singles'], 'BLAT_ECOLX_Ostermeier2014.csv')).toBe('BLAT_ECOLX_Ostermeier2014');
    expect(recordNamedLike(ids, 'RNH_ECOLI-scan.csv')).toBe('sp|P0A7Y4|RNH_ECOLI');
  });

  it('gives null for no match, a match inside a word, or a tie', () => {
    expect(recordNamedLike(ids, 'scan.csv')).toBeNull();
    expect(recordNamedLike(ids, 'BLAT_ECOLXY.csv')).toBeNull();
    expect(recordNamedLike(['TEM1', 'TEM1'], 'TEM1_scan.csv')).toBeNull();
  });

  it('prefers the longer of two matching names', () => {
    expect(recordNamedLike(['BLAT', 'BLAT_ECOLX'], 'BLAT_ECOLX_2014.csv')).toBe('BLAT_ECOLX');
  });
});

describe('applyVariants: an empty mutation cell', () => {
  it('is an error of its row, not the wild type', () => {
    const result = applyVariants(WT, ['K2A', '', '  ', 'WT']);
    expect(result.sequences).toEqual(['MATAYIAKQR', null, null, WT]);
    expect(result.unparsable.map((u) => u.row)).toEqual([2, 3]);
    expect(result.unparsable[0]?.message).toBe('the mutation cell is empty. Write the mutation (e.g. A23V), WT for the wild type, or remove the row.');
  });
});
