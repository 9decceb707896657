/**
 * lib/structure/bcif — reads BinaryCIF (.bcif, the PDB's compressed mmCIF) into the same CIF
 * tables the text reader gives, with Mol*'s decoder (loaded on demand, like the 3D view), so the
 * page's chains, alignment and contact map work the same for every format.
 */
import type { CifTable } from './mmcif';

/** Column.ValueKind: 0 present, 1 '.' (not applicable), 2 '?' (unknown). */
const ABSENT: Record<number, string> = { 1: '.', 2: '?' };

export async function readBinaryCifTables(data: Uint8Array): Promise<Map<string, CifTable>> {
  const { CIF } = await import('molstar/lib/mol-io/reader/cif');
  const parsed = await CIF.parseBinary(data).run();
  if (parsed.isError) throw new Error(`This BinaryCIF file could not be read: ${parsed.message}`);
  const block = parsed.result.blocks[0];
  if (!block) throw new Error('This BinaryCIF file has no data block.');
  const tables = new Map<string, CifTable>();
  for (const name of block.categoryNames) {
    const category = block.categories[name]!;
    const fields = category.fieldNames.map((field) => category.getField(field)!);
    const rows = Array.from({ length: category.rowCount }, (_, row) => fields.map((field) => ABSENT[field.valueKind(row)] ?? field.str(row)));
    tables.set(name.replace(/^_/, '').toLowerCase(), { columns: category.fieldNames.map((f) => f.toLowerCase()), rows });
  }
  return tables;
}
