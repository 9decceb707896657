/**
 * test/support/planted-families — synthetic protein families for the homology-split tests and
 * bench: random ancestors, each with members copied at a chosen identity to it (substitutions
 * drawn BLOSUM62-like, so "similar" residues are favoured as in real families, plus short
 * insertions and deletions). All draws come from core/rng, so a seed gives the same set everywhere.
 */
import { createRng, type Rng } from '../../src-main/core/rng';
import { ALPHABET, BLOSUM62 } from '../../src-main/learn/homology/blosum62';
import { randomProtein, RESIDUES } from './random-proteins';

export interface PlantedSet {
  sequences: string[];
  /** The family (ancestor index) of each sequence. */
  family: number[];
}

export interface PlantedOptions {
  families: number;
  membersPerFamily: number;
  length: number;
  /** Each member keeps this fraction of its ancestor's residues (drawn per member in [low, high]). */
  identityToAncestor: [number, number];
  /** Chance per residue of starting a 1–3 residue insertion or deletion. */
  indelRate: number;
}

// BLOSUM62's scale λ ≈ 0.347 nats: P(b | a mutates) ∝ exp(λ·s(a, b)) over b ≠ a (target frequencies, uniform background).
const LAMBDA = 0.347;
const SUBSTITUTES: number[][] = Array.from(RESIDUES, (a) => {
  const ai = ALPHABET.indexOf(a);
  const weights = Array.from(RESIDUES, (b) => (b === a ? 0 : Math.exp(LAMBDA * BLOSUM62[ai * 24 + ALPHABET.indexOf(b)]!)));
  const total = weights.reduce((x, y) => x + y, 0);
  let running = 0;
  return weights.map((w) => (running += w / total));
});

function substitute(rng: Rng, residue: string): string {
  const cumulative = SUBSTITUTES[RESIDUES.indexOf(residue)]!;
  const u = rng.next();
  const index = cumulative.findIndex((c) => u < c);
  return RESIDUES[index < 0 ? RESIDUES.length - 1 : index]!;
}

/** A copy of `ancestor` with about (1 − identity) of its residues substituted, and some indels. */
export function mutate(rng: Rng, ancestor: string, identity: number, indelRate: number): string {
  const out: string[] = [];
  for (let i = 0; i < ancestor.length; i++) {
    if (rng.next() < indelRate) {
      const size = 1 + rng.nextInt(3);
      if (rng.next() < 0.5) {
        i += size - 1; // deletion of `size` residues
        continue;
      }
      out.push(randomProtein(rng, size)); // insertion before this residue
    }
    out.push(rng.next() < identity ? ancestor[i]! : substitute(rng, ancestor[i]!));
  }
  return out.join('');
}

export function plantedFamilies(seed: number, options: PlantedOptions): PlantedSet {
  const rng = createRng(seed);
  const sequences: string[] = [];
  const family: number[] = [];
  const [low, high] = options.identityToAncestor;
  for (let f = 0; f < options.families; f++) {
    const ancestor = randomProtein(rng, options.length);
    for (let m = 0; m < options.membersPerFamily; m++) {
      sequences.push(mutate(rng, ancestor, low + (high - low) * rng.next(), options.indelRate));
      family.push(f);
    }
  }
  // Shuffle so that families are not contiguous blocks of rows.
  const order = rng.shuffle(Array.from(sequences, (_, i) => i));
  return { sequences: order.map((i) => sequences[i]!), family: order.map((i) => family[i]!) };
}
