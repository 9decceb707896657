/**
 * models/esmc/tokenizer — the ESM C alphabet (the `esm` package's `EsmSequenceTokenizer`: 33 tokens,
 * ESM-2's order except id 31, which is the chain break `|`) and turning sequences into token ids.
 * The network has 64 logits; ids 33..63 are never produced by tokenisation, but their logits exist
 * and take part in the log-softmax, as in the original.
 */
import { ApiError } from '../../api/errors';
import type { EncodedBatch, Tokenizer } from '../family';

/** Token strings by id (`esm/tokenization/sequence_tokenizer.py`). */
export const ALPHABET: readonly string[] = Object.freeze([
  '<cls>', '<pad>', '<eos>', '<unk>',
  'L', 'A', 'G', 'V', 'S', 'E', 'R', 'T', 'I', 'D', 'P', 'K', 'Q', 'N', 'F', 'Y', 'M', 'H', 'W', 'C',
  'X', 'B', 'U', 'Z', 'O', '.', '-', '|', '<mask>',
]);

/** Width of the logits (the embedding table and the sequence head have 64 rows). */
export const VOCAB_SIZE = 64;

/**
 * Residues one pass reads: ESM C was trained on 2,048-token contexts in its final stage (the ESM C
 * release notes; the maintainers confirm 2,048 in Biohub/esm#179), so 2,046 residues plus `<cls>`
 * and `<eos>`. Rotary positions allow longer inputs, but quality past the trained length is
 * unknown; longer proteins are windowed like ESM-2's.
 */
export const MAX_RESIDUES = 2046;

export const TOKENS = Object.freeze({ CLS: 0, PAD: 1, EOS: 2, UNK: 3, MASK: 32 } as const);

/** The 20 standard amino acids in id order (4..23). */
export const AMINO_ACIDS: readonly string[] = Object.freeze(ALPHABET.slice(4, 24));

const MASK_LITERAL = '<mask>';

const SINGLE_CHARACTER_IDS: ReadonlyMap<string, number> = new Map(ALPHABET.flatMap((token, id) => (token.length === 1 ? [[token, id] as const] : [])));

/**
 * `<cls>` + one id per character + `<eos>`. As everywhere in ESM Studio, lower case is folded to
 * upper case and whitespace dropped (the original tokenizer would give lower case `<unk>`);
 * `<mask>` written in the text is one mask token; any other character becomes `<unk>`.
 */
export function encode(sequence: string): Int32Array {
  const body = residueIds(sequence);
  const ids = new Int32Array(body.length + 2);
  ids[0] = TOKENS.CLS;
  ids.set(body, 1);
  ids[ids.length - 1] = TOKENS.EOS;
  return ids;
}

/** Right-padded with `<pad>` (1) to the longest: row-major [batch, length] int64. */
export function encodeBatch(sequences: readonly string[]): EncodedBatch {
  const rows = sequences.map(encode);
  const length = rows.reduce((longest, row) => Math.max(longest, row.length), 0);
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(TOKENS.PAD));
  rows.forEach((row, index) => row.forEach((id, position) => (ids[index * length + position] = BigInt(id))));
  return { ids, batch: rows.length, length };
}

/** Id of one residue letter (case folded); an input error for anything else, so a typo is never scored as `<unk>`. */
export function residueToken(aa: string): number {
  const id = aa.length === 1 && aa !== '|' ? SINGLE_CHARACTER_IDS.get(aa.toUpperCase()) : undefined;
  if (id === undefined) {
    throw new ApiError(
      'invalid-input',
      `"${aa}" is not an amino acid letter ESM C knows. Use one of the 20 standard one-letter codes (${AMINO_ACIDS.join('')}) or X, B, U, Z, O.`,
    );
  }
  return id;
}

export function tokenToResidue(id: number): string {
  const token = Number.isInteger(id) ? ALPHABET[id] : undefined;
  if (token === undefined) throw new RangeError(`Token id ${id} is outside the ESM C alphabet (0..${ALPHABET.length - 1}).`);
  return token;
}

function residueIds(sequence: string): number[] {
  const ids: number[] = [];
  const text = sequence.replace(/\s+/g, '');
  let index = 0;
  while (index < text.length) {
    if (text.slice(index, index + MASK_LITERAL.length).toLowerCase() === MASK_LITERAL) {
      ids.push(TOKENS.MASK);
      index += MASK_LITERAL.length;
      continue;
    }
    // Code points, so one stray emoji is one `<unk>`, not two.
    const character = String.fromCodePoint(text.codePointAt(index) ?? 0);
    ids.push(SINGLE_CHARACTER_IDS.get(character.toUpperCase()) ?? TOKENS.UNK);
    index += character.length;
  }
  return ids;
}

export const esmcTokenizer: Tokenizer = Object.freeze({
  alphabet: ALPHABET,
  vocabSize: VOCAB_SIZE,
  tokens: TOKENS,
  aminoAcids: AMINO_ACIDS,
  maxResidues: MAX_RESIDUES,
  encode,
  encodeBatch,
  residueToken,
  tokenToResidue,
});
