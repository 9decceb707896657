/**
 * datasets/residues — turning the raw text of one sequence into residues: whitespace dropped,
 * lower case raised, a final stop `*` removed, and the first character that is not an amino acid
 * located (residue position and file line).
 */
import type { SequenceChunk } from './types';

/** The 20 standard amino acids plus X (unknown), B, Z (ambiguous), U (selenocysteine), O (pyrrolysine). */
export const VALID_RESIDUES = 'ACDEFGHIKLMNPQRSTVWYXBUZO';

export { SHORTEST_MAX_RESIDUES as MAX_RESIDUES } from '../models/registry';

const WHITESPACE = /\s+/g;
const LOWER_CASE = /[a-z]/;
const LOWER_CASE_RUNS = /[a-z]+/g;
const NOT_A_RESIDUE = new RegExp(`[^${VALID_RESIDUES}]`);
const NOT_A_RESIDUE_ALL = new RegExp(`[^${VALID_RESIDUES}]`, 'g');

export interface InvalidCharacter {
  /** As written in the file (original case). */
  char: string;
  /** 1-based residue position, counted after whitespace is removed. */
  position: number;
  line: number;
  /** How many invalid characters the sequence holds in all. */
  count: number;
}

export interface CleanedSequence {
  residues: string;
  hadLowerCase: boolean;
  stopStripped: boolean;
  invalid: InvalidCharacter | null;
}

export function cleanSequence(chunks: readonly SequenceChunk[]): CleanedSequence {
  const pieces = chunks.map((chunk) => ({ text: chunk.text.replace(WHITESPACE, ''), line: chunk.line }));
  const asWritten = pieces.map((piece) => piece.text).join('');
  const hadLowerCase = LOWER_CASE.test(asWritten);
  // Only ASCII letters are raised so every index still matches `asWritten` (toUpperCase on
  // arbitrary Unicode can change the length, e.g. "ß" → "SS").
  const upper = hadLowerCase ? asWritten.replace(LOWER_CASE_RUNS, (run) => run.toUpperCase()) : asWritten;
  const stopStripped = upper.endsWith('*');
  const residues = stopStripped ? upper.slice(0, -1) : upper;
  return { residues, hadLowerCase, stopStripped, invalid: findInvalidCharacter(residues, asWritten, pieces) };
}

function findInvalidCharacter(
  residues: string,
  asWritten: string,
  pieces: readonly SequenceChunk[],
): InvalidCharacter | null {
  const index = residues.search(NOT_A_RESIDUE);
  if (index < 0) return null;
  const codePoint = asWritten.codePointAt(index) ?? 0;
  return {
    char: String.fromCodePoint(codePoint),
    position: index + 1,
    line: lineOfResidue(index, pieces),
    count: residues.match(NOT_A_RESIDUE_ALL)?.length ?? 1,
  };
}

function lineOfResidue(index: number, pieces: readonly SequenceChunk[]): number {
  let end = 0;
  for (const piece of pieces) {
    end += piece.text.length;
    if (index < end) return piece.line;
  }
  return pieces.at(-1)?.line ?? 0;
}

/** How to show a character in a message: itself when printable, its code point otherwise. */
export function showCharacter(char: string): string {
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(char)
    ? `"${char}"`
    : `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A hint for the characters people most often paste by mistake. */
export function invalidCharacterHint(char: string): string {
  if (char === '-' || char === '.') return ' Alignment gaps are not allowed: import the unaligned sequences.';
  if (char === '*') return ' A stop "*" is only accepted at the very end of a sequence.';
  if (/^\d$/.test(char)) return ' Numbers are not allowed inside sequences (remove position counters).';
  return '';
}
