// lib/variants-order — the heatmap's row order: amino acids grouped as DMS papers show them
// (core/amino-acids: hydrophobic, aromatic, polar, charged, special) or in the map's own (model
// vocabulary) order, and the saturation cells re-laid in that order.
import { AMINO_ACID_GROUPS } from '../../../src-main/core/amino-acids';

export type AminoAcidOrder = 'grouped' | 'model';

export interface RowOrder {
  /** The amino acids top to bottom. */
  aminoAcids: string[];
  /** indices[r] = the map's column shown in row r. */
  indices: number[];
  /** Rows where a group starts (grouped order only; the first group at 0 included). */
  groupBreaks: number[];
}

export function displayOrder(mapAminoAcids: readonly string[], order: AminoAcidOrder): RowOrder {
  if (order === 'model') return { aminoAcids: [...mapAminoAcids], indices: mapAminoAcids.map((_, i) => i), groupBreaks: [] };
  const indices: number[] = [];
  const groupBreaks: number[] = [];
  for (const group of AMINO_ACID_GROUPS) {
    const members = [...group.residues].map((aa) => mapAminoAcids.indexOf(aa)).filter((i) => i >= 0);
    if (members.length > 0) groupBreaks.push(indices.length);
    indices.push(...members);
  }
  // Anything outside the 20 (never in today's maps) keeps its place at the end.
  mapAminoAcids.forEach((_, i) => {
    if (!indices.includes(i)) indices.push(i);
  });
  return { aminoAcids: indices.map((i) => mapAminoAcids[i]!), indices, groupBreaks };
}

/** [L × n] cells with their columns taken in `indices` order. */
export function reorderCells<T>(cells: readonly T[], n: number, indices: readonly number[]): T[] {
  const positions = Math.floor(cells.length / n);
  const out: T[] = new Array(cells.length);
  for (let p = 0; p < positions; p++) for (let r = 0; r < indices.length; r++) out[p * n + r] = cells[p * n + indices[r]!]!;
  return out;
}
