/**
 * lib/structure/builder — turns the atom records of either file format into a Structure: groups
 * atoms into residues and chains, keeps one alternate location per atom, separates amino acids
 * from ligands and waters, and sets secondary structure from the file's ranges when it has
 * them, else from the Cα geometry (see secondary.ts).
 */
import { isWater, oneLetter } from './residues';
import { assignFromGeometry, applyRanges } from './secondary';
import type { Chain, Residue, SecondaryRange, Structure } from './types';

export interface AtomRecord {
  hetero: boolean;
  atomName: string;
  altLoc: string;
  resName: string;
  chain: string;
  seq: number;
  icode: string;
  x: number;
  y: number;
  z: number;
  element: string;
}

/** The element from the atom name when the file leaves the element column empty (old PDB files). */
function elementOf(record: AtomRecord): string {
  if (record.element) return record.element.toUpperCase();
  const letters = record.atomName.replace(/[^A-Za-z]/g, '');
  return (letters[0] ?? 'X').toUpperCase();
}

export class StructureBuilder {
  private readonly chains = new Map<string, Chain>();
  private readonly ligands: Residue[] = [];
  private waters = 0;
  private atomCount = 0;
  private current: { key: string; residue: Residue; polymer: boolean } | null = null;

  add(record: AtomRecord): void {
    const key = `${record.chain}|${record.seq}|${record.icode}|${record.resName}`;
    if (this.current?.key !== key) this.startResidue(key, record);
    const residue = this.current!.residue;
    // Alternate locations: the first one listed wins, the others are the same atom elsewhere.
    if (residue.atoms.some((a) => a.name === record.atomName)) return;
    const atom = { name: record.atomName, element: elementOf(record), x: record.x, y: record.y, z: record.z };
    residue.atoms.push(atom);
    this.atomCount++;
    if (record.atomName === 'CA' && this.current!.polymer) residue.ca = atom;
  }

  private startResidue(key: string, record: AtomRecord): void {
    const code = oneLetter(record.resName);
    const residue: Residue = { name: record.resName, code: code ?? 'X', seq: record.seq, icode: record.icode, atoms: [], ca: null, ss: 'coil' };
    // ATOM records of unknown names (nucleotides) and HETATM groups are not part of the protein chain.
    const polymer = code !== null;
    this.current = { key, residue, polymer };
    if (polymer) {
      let chain = this.chains.get(record.chain);
      if (!chain) this.chains.set(record.chain, (chain = { id: record.chain, residues: [] }));
      chain.residues.push(residue);
    } else if (isWater(record.resName)) {
      this.waters++;
    } else {
      this.ligands.push(residue);
    }
  }

  finish(format: Structure['format'], title: string, ranges: readonly SecondaryRange[]): Structure {
    const chains = [...this.chains.values()].filter((c) => c.residues.some((r) => r.ca));
    const fromFile = ranges.length > 0;
    for (const chain of chains) {
      if (fromFile) applyRanges(chain, ranges);
      else assignFromGeometry(chain);
    }
    return { format, title, chains, ligands: this.ligands, waters: this.waters, atomCount: this.atomCount, ssSource: fromFile ? 'file' : 'geometry' };
  }
}
