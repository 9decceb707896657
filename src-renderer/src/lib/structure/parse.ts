/**
 * lib/structure/parse — opens a structure file by its name (or, without a telling extension, its
 * content): PDB (.pdb, .ent) or mmCIF (.cif, .mmcif). Fails with a message a user can act on.
 */
import { parseMmcif } from './mmcif';
import { parsePdb } from './pdb';
import type { Structure } from './types';

export function detectFormat(fileName: string, text: string): 'pdb' | 'mmcif' {
  const name = fileName.toLowerCase();
  if (/\.(cif|mmcif)$/.test(name)) return 'mmcif';
  if (/\.(pdb|ent)$/.test(name)) return 'pdb';
  return /^\s*data_/m.test(text.slice(0, 4096)) && text.includes('_atom_site.') ? 'mmcif' : 'pdb';
}

export function parseStructure(fileName: string, text: string): Structure {
  const structure = detectFormat(fileName, text) === 'mmcif' ? parseMmcif(text) : parsePdb(text);
  if (structure.chains.length === 0) {
    throw new Error(`${fileName} has no protein chain with Cα atoms; open a PDB or mmCIF file of a protein.`);
  }
  return structure;
}
