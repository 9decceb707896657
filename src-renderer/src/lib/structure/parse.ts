/**
 * lib/structure/parse — opens a structure file by its name (or, without a telling extension, its
 * content): PDB (.pdb, .ent), mmCIF (.cif, .mmcif) or BinaryCIF (.bcif). Fails with a message a user
 * can act on. The file's content is kept as the 3D view (Mol*) reads it.
 */
import { readBinaryCifTables } from './bcif';
import { parseMmcif, structureFromCifTables } from './mmcif';
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

/** What the 3D view loads: the file's text (PDB, mmCIF) or bytes (BinaryCIF). */
export type StructureSource = { format: 'pdb' | 'mmcif'; data: string } | { format: 'bcif'; data: Uint8Array<ArrayBuffer> };

/** BinaryCIF is MessagePack: its first byte starts a map (0x80–0x8f fixmap, 0xde map16, 0xdf map32). */
const looksBinary = (bytes: Uint8Array): boolean => bytes.length > 0 && ((bytes[0]! & 0xf0) === 0x80 || bytes[0] === 0xde || bytes[0] === 0xdf);

export async function openStructure(fileName: string, bytes: Uint8Array<ArrayBuffer>): Promise<{ structure: Structure; source: StructureSource }> {
  if (/\.bcif$/i.test(fileName) || looksBinary(bytes)) {
    const structure = structureFromCifTables(await readBinaryCifTables(bytes));
    if (structure.chains.length === 0) throw new Error(`${fileName} has no protein chain with Cα atoms; open a PDB or mmCIF file of a protein.`);
    return { structure, source: { format: 'bcif', data: bytes } };
  }
  const text = new TextDecoder().decode(bytes);
  return { structure: parseStructure(fileName, text), source: { format: detectFormat(fileName, text), data: text } };
}
