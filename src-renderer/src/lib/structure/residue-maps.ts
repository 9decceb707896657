/**
 * lib/structure/residue-maps — lookups by residue key (chain, author number, insertion code), the
 * names the 3D view (Mol*) gives residues: the aligned sequence position of each residue of the
 * chosen chain, a track's colour per residue, and secondary-structure colours for every chain.
 * Plain immutable results rebuilt when their inputs change (the page derives them).
 */
import { colorOf, SECONDARY_COLORS, type Rgb, type Scale } from './colors';
import { residueKey, traceResidues, type Chain, type Structure } from './types';

/** 0-based sequence position of each aligned trace residue of `chain` (`aToB[k]`: position of trace residue k, −1 unaligned). */
export function positionsByResidue(chain: Chain | null, aToB: ArrayLike<number> | undefined): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  if (!chain || !aToB) return out;
  traceResidues(chain).forEach((residue, k) => {
    const position = aToB[k] ?? -1;
    if (position >= 0) out.set(residueKey({ chain: chain.id, seq: residue.seq, icode: residue.icode }), position);
  });
  return out;
}

/** The colour of each positioned residue from a track's values (index = position). */
export function trackColorsByResidue(positions: ReadonlyMap<string, number>, values: readonly (number | null)[], scale: Scale): ReadonlyMap<string, Rgb> {
  const out = new Map<string, Rgb>();
  for (const [key, position] of positions) out.set(key, colorOf(values[position] ?? null, scale));
  return out;
}

/** Secondary-structure colours of every trace residue of every chain. */
export function secondaryColorsByResidue(structure: Structure | null): ReadonlyMap<string, Rgb> {
  const out = new Map<string, Rgb>();
  for (const chain of structure?.chains ?? []) {
    for (const residue of traceResidues(chain)) out.set(residueKey({ chain: chain.id, seq: residue.seq, icode: residue.icode }), SECONDARY_COLORS[residue.ss]);
  }
  return out;
}
