/**
 * lib/structure/types — the parsed form of a PDB or mmCIF file that the Structure page uses:
 * chains of amino-acid residues (with their atoms, Cα and secondary structure) and the other
 * groups (ligands, waters). Pure data, no three.js.
 */

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export type SecondaryStructure = 'helix' | 'strand' | 'coil';

export interface Atom extends Vec3 {
  name: string;
  element: string;
}

export interface Residue {
  /** Three-letter name as in the file (e.g. ALA, MSE). */
  name: string;
  /** One-letter code; X when the residue is not one of the amino acids we know. */
  code: string;
  /** Author residue number and insertion code, as the file numbers it (e.g. 52 and "A" for 52A). */
  seq: number;
  icode: string;
  atoms: Atom[];
  /** The Cα atom; residues without one are not part of the chain's trace. */
  ca: Vec3 | null;
  ss: SecondaryStructure;
}

export interface Chain {
  id: string;
  /** Amino-acid residues in file order (ATOM records and modified amino acids in HETATM records). */
  residues: Residue[];
}

export interface Structure {
  format: 'pdb' | 'mmcif';
  title: string;
  chains: Chain[];
  /** Non-polymer groups other than water (ligands, ions). */
  ligands: Residue[];
  waters: number;
  atomCount: number;
  /** Where the secondary structure came from: the file's records, or our Cα-geometry rule. */
  ssSource: 'file' | 'geometry';
}

/** A range of residues with one secondary-structure type, as HELIX/SHEET or _struct_conf give them. */
export interface SecondaryRange {
  type: 'helix' | 'strand';
  chain: string;
  start: { seq: number; icode: string };
  end: { seq: number; icode: string };
}

/** Residue label used everywhere on the page: chain, number and insertion code (e.g. "B52A"). */
export const residueLabel = (chain: string, residue: Residue): string => `${chain}${residue.seq}${residue.icode}`;

/** The chain's one-letter sequence (residues with a Cα only, as the trace and the alignment use). */
export const chainSequence = (chain: Chain): string =>
  chain.residues
    .filter((r) => r.ca)
    .map((r) => r.code)
    .join('');

/** A residue as the 3D view names it: author chain, author number, insertion code, three-letter name. */
export interface ResidueRef {
  chain: string;
  seq: number;
  icode: string;
  name: string;
}

/** Lookup key of a residue (chain, author number, insertion code): the same for our parser and Mol*. */
export const residueKey = (residue: { chain: string; seq: number; icode: string }): string => `${residue.chain}:${residue.seq}${residue.icode}`;

export const traceResidues = (chain: Chain): Residue[] => chain.residues.filter((r) => r.ca);
