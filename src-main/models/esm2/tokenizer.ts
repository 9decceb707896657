/**
 * models/esm2/tokenizer — the ESM-2 alphabet (33 tokens, the order of the checkpoints' `vocab.txt`) and
 * turning protein sequences into token ids: one sequence as int32, a right-padded batch as the
 * int64 tensor onnxruntime takes as `input_ids`.
 */
import { ApiError } from '../../api/errors';
import type { Tokenizer } from '../family';

/** Token strings by id, exactly as in ESM-2's `vocab.txt` (fair-esm's `Alphabet`, "ESM-1b" style). */
export const ALPHABET: readonly string[] = Object.freeze([
  '<cls>', '<pad>', '<eos>', '<unk>',
  'L', 'A', 'G', 'V', 'S', 'E', 'R', 'T', 'I', 'D', 'P', 'K', 'Q', 'N', 'F', 'Y', 'M', 'H', 'W', 'C',
  'X', 'B', 'U', 'Z', 'O', '.', '-', '<null_1>', '<mask>',
]);

export const VOCAB_SIZE = ALPHABET.length;

/** ESM-2 reads at most 1,024 tokens, two of which are <cls> and <eos>: 1,022 residues. */
export const MAX_RESIDUES = 1022;

/** Ids of the special tokens. */
export const TOKENS = Object.freeze({ CLS: 0, PAD: 1, EOS: 2, UNK: 3, MASK: 32 } as const);

/** The 20 standard amino acids, in alphabet (token id) order: ids 4..23. */
export const AMINO_ACIDS: readonly string[] = Object.freeze(ALPHABET.slice(4, 24));

/** Written inside a sequence string, this stands for one `<mask>` token (as in fair-esm / HF). */
const MASK_LITERAL = '<mask>';

/** Single-character tokens (residues, gap, dot) → id. Upper case only: input is folded first. */
const SINGLE_CHARACTER_IDS: ReadonlyMap<string, number> = new Map(
  ALPHABET.flatMap((token, id) => (token.length === 1 ? [[token, id] as const] : [])),
);

/**
 * cls + one token per residue + eos. Lower case is folded to upper case; whitespace is dropped
 * (fair-esm and the HF tokenizer drop it too); `<mask>` (any case) is one mask token; any other
 * character that is not in the alphabet (e.g. `*`, `J`, digits) becomes `<unk>`.
 * No length limit is applied here: ESM-2 reads at most 1024 tokens, callers enforce that.
 */
export function encode(sequence: string): Int32Array {
  const body = residueIds(sequence);
  const ids = new Int32Array(body.length + 2);
  ids[0] = TOKENS.CLS;
  ids.set(body, 1);
  ids[ids.length - 1] = TOKENS.EOS;
  return ids;
}

/**
 * Encodes every sequence and pads on the right with `<pad>` to the longest one. `ids` is
 * row-major [batch, length], int64 because that is what the exported ONNX graphs take.
 */
export function encodeBatch(sequences: readonly string[]): { ids: BigInt64Array; batch: number; length: number } {
  const rows = sequences.map(encode);
  const length = rows.reduce((longest, row) => Math.max(longest, row.length), 0);
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(TOKENS.PAD));
  rows.forEach((row, index) => {
    const offset = index * length;
    for (let position = 0; position < row.length; position++) ids[offset + position] = BigInt(row[position] ?? TOKENS.PAD);
  });
  return { ids, batch: rows.length, length };
}

/**
 * Token id of one residue letter (case folded): 'A' → 5. Any single alphabet character is
 * accepted (X B U Z O . - too); anything else is an input error, because a silent `<unk>` would
 * score a typo as a real mutation.
 */
export function residueToken(aa: string): number {
  const id = aa.length === 1 ? SINGLE_CHARACTER_IDS.get(aa.toUpperCase()) : undefined;
  if (id === undefined) {
    throw new ApiError(
      'invalid-input',
      `"${aa}" is not an amino acid letter ESM-2 knows. Use one of the 20 standard one-letter codes (${AMINO_ACIDS.join('')}) or X, B, U, Z, O.`,
    );
  }
  return id;
}

/** The token string of an id: 5 → 'A', 0 → '<cls>'. Throws a RangeError for ids outside 0..32. */
export function tokenToResidue(id: number): string {
  const token = Number.isInteger(id) ? ALPHABET[id] : undefined;
  if (token === undefined) throw new RangeError(`Token id ${id} is outside the ESM-2 alphabet (0..${VOCAB_SIZE - 1}).`);
  return token;
}

function residueIds(sequence: string): number[] {
  const ids: number[] = [];
  const text = sequence.replace(/\s+/g, '');
  let index = 0;
  while (index < text.length) {
    if (startsWithMask(text, index)) {
      ids.push(TOKENS.MASK);
      index += MASK_LITERAL.length;
      continue;
    }
    // Code points, not UTF-16 units, so one stray emoji is one `<unk>`, not two.
    const character = String.fromCodePoint(text.codePointAt(index) ?? 0);
    ids.push(SINGLE_CHARACTER_IDS.get(character.toUpperCase()) ?? TOKENS.UNK);
    index += character.length;
  }
  return ids;
}

function startsWithMask(text: string, index: number): boolean {
  return text.charCodeAt(index) === 0x3c /* '<' */ && text.slice(index, index + MASK_LITERAL.length).toLowerCase() === MASK_LITERAL;
}

/** This alphabet as the family interface's tokenizer. */
export const esm2Tokenizer: Tokenizer = Object.freeze({
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
