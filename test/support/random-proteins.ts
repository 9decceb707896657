/**
 * test/support/random-proteins — seeded random protein sequences, FASTA text and uniform values
 * for tests, all drawn from core/rng (the app's generator), so a test's data are the same on
 * every run and no test carries its own hand-written generator.
 */
import { createRng, type Rng } from '../../src-main/core/rng';

/** The 20 standard amino acids, alphabetically. */
export const RESIDUES = 'ACDEFGHIKLMNPQRSTVWY';

export function randomProtein(rng: Rng, length: number): string {
  return Array.from({ length }, () => RESIDUES[rng.nextInt(RESIDUES.length)]!).join('');
}

/** `count` proteins whose lengths are drawn uniformly from minLength..maxLength (inclusive). */
export function randomProteins(seed: number, count: number, minLength: number, maxLength: number): string[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => randomProtein(rng, minLength + rng.nextInt(maxLength - minLength + 1)));
}

/** FASTA text with records named `<prefix><index>` (from 0), one line per sequence. */
export function fastaText(sequences: readonly string[], prefix: string): string {
  return sequences.map((sequence, i) => `>${prefix}${i}\n${sequence}\n`).join('');
}

/** Values drawn uniformly from [low, high). */
export function uniformValues(rng: Rng, count: number, low: number, high: number): Float32Array {
  return Float32Array.from({ length: count }, () => low + (high - low) * rng.next());
}
