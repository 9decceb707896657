/**
 * core/amino-acids — how deep-mutational-scanning papers group the 20 amino acids (hydrophobic,
 * aromatic, polar, charged, special), in the order their heatmaps list them. One home for the
 * Variants heatmap's row order, the map's "mutant residue class" colouring and the reports.
 */

export interface AminoAcidGroup {
  name: 'hydrophobic' | 'aromatic' | 'polar' | 'charged' | 'special';
  /** One-letter codes, in the order a grouped heatmap shows them. */
  residues: string;
}

/** Histidine goes with the charged (basic) residues, as DMS heatmaps usually place it. */
export const AMINO_ACID_GROUPS: readonly AminoAcidGroup[] = [
  { name: 'hydrophobic', residues: 'AVLIM' },
  { name: 'aromatic', residues: 'FWY' },
  { name: 'polar', residues: 'STNQ' },
  { name: 'charged', residues: 'DEKRH' },
  { name: 'special', residues: 'GPC' },
];

/** The 20 letters grouped: AVLIM FWY STNQ DEKRH GPC. */
export const GROUPED_ORDER: string = AMINO_ACID_GROUPS.map((g) => g.residues).join('');

/** The group of a one-letter code; null for anything else (stop, X, U, O…). */
export function aminoAcidGroup(letter: string): AminoAcidGroup['name'] | null {
  return AMINO_ACID_GROUPS.find((g) => g.residues.includes(letter))?.name ?? null;
}
