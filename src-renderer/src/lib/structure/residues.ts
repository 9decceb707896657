/**
 * lib/structure/residues — three-letter to one-letter amino-acid codes, including the common
 * modified residues that structures store as HETATM (selenomethionine, phosphorylated residues…),
 * mapped to their parent amino acid so that the chain still aligns to its sequence.
 */

const STANDARD: Record<string, string> = {
  ALA: 'A', ARG: 'R', ASN: 'N', ASP: 'D', CYS: 'C', GLN: 'Q', GLU: 'E', GLY: 'G', HIS: 'H', ILE: 'I',
  LEU: 'L', LYS: 'K', MET: 'M', PHE: 'F', PRO: 'P', SER: 'S', THR: 'T', TRP: 'W', TYR: 'Y', VAL: 'V',
  SEC: 'U', PYL: 'O', ASX: 'B', GLX: 'Z', UNK: 'X',
};

const MODIFIED: Record<string, string> = {
  MSE: 'M', SEP: 'S', TPO: 'T', PTR: 'Y', CSO: 'C', CSD: 'C', CME: 'C', OCS: 'C', KCX: 'K', MLY: 'K',
  M3L: 'K', HYP: 'P', PCA: 'E', CGU: 'E', LLP: 'K', HIC: 'H', NEP: 'H', SAC: 'S', FME: 'M', MEN: 'N',
  HSD: 'H', HSE: 'H', HSP: 'H', HID: 'H', HIE: 'H', HIP: 'H', CYX: 'C', ASH: 'D', GLH: 'E', LYN: 'K',
};

/** The one-letter code of a residue name, or null when it is not an amino acid (water, ligand). */
export function oneLetter(name: string): string | null {
  const key = name.trim().toUpperCase();
  return STANDARD[key] ?? MODIFIED[key] ?? null;
}

export const isWater = (name: string): boolean => ['HOH', 'WAT', 'H2O', 'DOD', 'TIP', 'TIP3', 'SOL'].includes(name.trim().toUpperCase());

/** Backbone atom names; everything else in an amino acid is side chain. */
export const BACKBONE = new Set(['N', 'CA', 'C', 'O', 'OXT']);
