/**
 * Unit tests for src-main/esm/tokenizer: the alphabet against the checkpoints' vocab.txt, and
 * encodings against the token ids fair-esm produced for the golden sequences (refs.safetensors).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import {
  ALPHABET,
  AMINO_ACIDS,
  encode,
  encodeBatch,
  residueToken,
  TOKENS,
  tokenToResidue,
  VOCAB_SIZE,
} from '../../src-main/models/esm2/tokenizer';
import { int32Values, readSafetensorsWhole, type RawTensor } from '../support/safetensors-writer';

const GOLDEN = resolve(import.meta.dirname, '..', 'fixtures', 'golden');

interface ManifestSequence {
  index: number;
  sequence: string;
}

function vocabLines(model: string): string[] {
  return readFileSync(join(GOLDEN, model, 'checkpoint', 'vocab.txt'), 'utf8').split(/\r?\n/).filter((line) => line !== '');
}

describe('alphabet', () => {
  it.each(['tiny', 'esm2-8M-random'])('is exactly the vocab.txt of %s', (model) => {
    expect([...ALPHABET]).toEqual(vocabLines(model));
    expect(VOCAB_SIZE).toBe(33);
  });

  it('has the special tokens where ESM-2 puts them', () => {
    expect(TOKENS).toEqual({ CLS: 0, PAD: 1, EOS: 2, UNK: 3, MASK: 32 });
    expect([TOKENS.CLS, TOKENS.PAD, TOKENS.EOS, TOKENS.UNK, TOKENS.MASK].map((id) => ALPHABET[id])).toEqual([
      '<cls>', '<pad>', '<eos>', '<unk>', '<mask>',
    ]);
  });

  it('lists the 20 standard amino acids in alphabet order', () => {
    expect(AMINO_ACIDS.join('')).toBe('LAGVSERTIDPKQNFYMHWC');
    expect([...AMINO_ACIDS].sort().join('')).toBe('ACDEFGHIKLMNPQRSTVWY');
  });
});

describe('encode', () => {
  it('wraps residues in <cls> and <eos>', () => {
    expect([...encode('MKT')]).toEqual([0, 20, 15, 11, 2]);
    expect([...encode('')]).toEqual([0, 2]);
    expect(encode('A')).toBeInstanceOf(Int32Array);
  });

  it('folds lower case and drops whitespace', () => {
    expect([...encode('mkT')]).toEqual([...encode('MKT')]);
    expect([...encode(' M K\nT\t')]).toEqual([...encode('MKT')]);
  });

  it('maps the rare residues, gap and dot to their own tokens', () => {
    expect([...encode('XBUZO.-')]).toEqual([0, 24, 25, 26, 27, 28, 29, 30, 2]);
  });

  it('turns characters outside the alphabet into <unk>', () => {
    expect([...encode('AJ*1A')]).toEqual([0, 5, 3, 3, 3, 5, 2]);
    // One code point, one token — even outside the basic plane.
    expect([...encode('A🧬A')]).toEqual([0, 5, 3, 5, 2]);
    // Only <mask> is a special literal; other brackets are just unknown characters.
    expect([...encode('<A')]).toEqual([0, 3, 5, 2]);
  });

  it('reads the literal <mask> as one mask token', () => {
    expect([...encode('M<mask>K')]).toEqual([0, 20, 32, 15, 2]);
    expect([...encode('<MASK><mask>')]).toEqual([0, 32, 32, 2]);
  });
});

describe('encodings equal fair-esm token ids (tiny/refs.safetensors)', () => {
  const manifest = JSON.parse(readFileSync(join(GOLDEN, 'tiny', 'manifest.json'), 'utf8')) as { sequences: ManifestSequence[] };
  const refs = new Map<string, RawTensor>(readSafetensorsWhole(join(GOLDEN, 'tiny', 'refs.safetensors')).map((tensor) => [tensor.name, tensor]));
  const tokensOf = (key: string): number[] => int32Values(refs.get(key)?.bytes ?? new Uint8Array());
  const prefix = (index: number): string => `seq${String(index).padStart(2, '0')}`;

  it('has all 11 sequences', () => {
    expect(manifest.sequences).toHaveLength(11);
  });

  it.each(manifest.sequences.map((entry) => [entry.index, entry] as const))('sequence %i', (_index, entry) => {
    expect([...encode(entry.sequence)]).toEqual(tokensOf(`${prefix(entry.index)}.tokens`));
  });

  it('the masked inputs equal encode() with <mask> written into the sequence', () => {
    for (const entry of manifest.sequences) {
      const masked = new Set(tokensOf(`${prefix(entry.index)}.masked_positions`));
      // Token position p holds residue p - 1 (position 0 is <cls>).
      const text = [...entry.sequence].map((residue, at) => (masked.has(at + 1) ? '<mask>' : residue)).join('');
      expect([...encode(text)]).toEqual(tokensOf(`${prefix(entry.index)}.masked_tokens`));
    }
  });

  it('the padded batch equals encodeBatch()', () => {
    const batch = encodeBatch(manifest.sequences.map((entry) => entry.sequence));
    const reference = refs.get('batch.tokens');
    expect([batch.batch, batch.length]).toEqual(reference?.shape);
    expect(batch.ids).toBeInstanceOf(BigInt64Array);
    expect([...batch.ids].map(Number)).toEqual(tokensOf('batch.tokens'));
  });
});

describe('encodeBatch', () => {
  it('pads on the right with <pad>', () => {
    const { ids, batch, length } = encodeBatch(['MK', 'A', '']);
    expect([batch, length]).toEqual([3, 4]);
    expect([...ids]).toEqual([0n, 20n, 15n, 2n, 0n, 5n, 2n, 1n, 0n, 2n, 1n, 1n]);
  });

  it('gives an empty tensor for no sequences', () => {
    expect(encodeBatch([])).toEqual({ ids: new BigInt64Array(0), batch: 0, length: 0 });
  });
});

describe('residueToken and tokenToResidue', () => {
  it('map every amino acid both ways', () => {
    AMINO_ACIDS.forEach((aa, index) => {
      expect(residueToken(aa)).toBe(index + 4);
      expect(residueToken(aa.toLowerCase())).toBe(index + 4);
      expect(tokenToResidue(index + 4)).toBe(aa);
    });
    expect(residueToken('X')).toBe(24);
    expect(tokenToResidue(TOKENS.MASK)).toBe('<mask>');
  });

  it('refuses what is not one alphabet letter', () => {
    for (const bad of ['J', 'AA', '', '*', '<mask>']) {
      let error: unknown;
      try {
        residueToken(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('invalid-input');
      expect((error as ApiError).message).toContain(`"${bad}"`);
    }
  });

  it('refuses ids outside the alphabet', () => {
    for (const bad of [-1, 33, 1.5, Number.NaN]) expect(() => tokenToResidue(bad)).toThrow(RangeError);
  });
});
