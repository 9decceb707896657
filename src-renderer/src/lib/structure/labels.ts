/**
 * lib/structure/labels — how the Structure page names a residue, the same way everywhere (the
 * clicked-residue line, both tooltips): the file's chain, residue name and author number
 * (as the PDB or AlphaFold file numbers it), then the position in the aligned dataset sequence
 * with that sequence's own letter, so the two numberings are never mixed up.
 */
import type { ResidueRef } from './types';

export interface AlignedSequence {
  seqId: string;
  sequence: string;
}

/** "chain A · ASP 36 (file numbering) · position 38 (D) of hairpin"; says so when the residue is not aligned. */
export function describeResidue(residue: ResidueRef, position: number | null, aligned: AlignedSequence | null, alignedChain: string | null): string {
  const file = `chain ${residue.chain} · ${residue.name} ${residue.seq}${residue.icode} (file numbering)`;
  if (position !== null && aligned) return `${file} · position ${position + 1} (${aligned.sequence[position] ?? '?'}) of ${aligned.seqId}`;
  if (alignedChain !== null && residue.chain !== alignedChain) return `${file} · chain ${alignedChain} is the one aligned to the sequence`;
  return `${file} · not aligned to the sequence`;
}

/** "positions 12 (K) and 40 (E) of hairpin" for the contact map's tooltip (0-based in). */
export function describePair(i: number, j: number, aligned: AlignedSequence): string {
  const letter = (p: number): string => aligned.sequence[p] ?? '?';
  return `positions ${i + 1} (${letter(i)}) and ${j + 1} (${letter(j)}) of ${aligned.seqId}`;
}
