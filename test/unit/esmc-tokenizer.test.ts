/**
 * The ESM C tokenizer against the original's token ids (the golden `tokens` of every esmc-tiny
 * sequence, one with X/U/B/Z/O), and the alphabet's own facts: 64 logits for 33 tokens, `|` at 31,
 * `<mask>` at 32, right padding with 1, 2,046 residues a pass.
 */
import { describe, expect, it } from 'vitest';
import { esmcTokenizer as tokenizer } from '../../src-main/models/esmc/tokenizer';
import { loadGolden, seqKey } from '../support/golden';

describe('ESM C tokenizer', () => {
  it('gives the original token ids for every golden sequence', () => {
    const golden = loadGolden('esmc-tiny');
    for (const seq of golden.sequences) expect(Array.from(tokenizer.encode(seq.sequence)), seq.id).toEqual(Array.from(golden.array(seqKey(seq.index, 'tokens')).data));
  });

  it('has 64 logits, its special tokens, the chain break and the 2,046-residue window', () => {
    expect(tokenizer.vocabSize).toBe(64);
    expect(tokenizer.alphabet).toHaveLength(33);
    expect(tokenizer.tokens).toEqual({ CLS: 0, PAD: 1, EOS: 2, UNK: 3, MASK: 32 });
    expect(tokenizer.maxResidues).toBe(2046);
    expect(Array.from(tokenizer.encode('AC|<mask>J'))).toEqual([0, 5, 23, 31, 32, 3, 2]);
    expect(tokenizer.aminoAcids.join('')).toBe('LAGVSERTIDPKQNFYMHWC');
    expect(tokenizer.residueToken('w')).toBe(22);
    expect(() => tokenizer.residueToken('|')).toThrow(/not an amino acid letter ESM C knows/);
    expect(() => tokenizer.tokenToResidue(33)).toThrow(RangeError);
  });

  it('right-pads a batch with <pad>', () => {
    const batch = tokenizer.encodeBatch(['AC', 'A']);
    expect(batch).toMatchObject({ batch: 2, length: 4 });
    expect(Array.from(batch.ids, Number)).toEqual([0, 5, 23, 2, 0, 5, 2, 1]);
  });
});
