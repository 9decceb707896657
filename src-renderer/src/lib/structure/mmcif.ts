/**
 * lib/structure/mmcif — reads an mmCIF file: a small CIF tokenizer (quoted values, ;-text fields,
 * loop_ tables, single key–value items), then the `_atom_site` table (first model only, author
 * chain and residue numbers when present, as PDB files use them) and the secondary structure of
 * `_struct_conf` (helices) and `_struct_sheet_range` (strands) when present.
 */
import { StructureBuilder } from './builder';
import type { SecondaryRange, Structure } from './types';

interface Token {
  value: string;
  /** Unquoted tokens may be tags, `loop_` or `data_`; quoted ones are always values. */
  bare: boolean;
}

export interface CifTable {
  columns: string[];
  rows: string[][];
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.startsWith(';')) {
      // A text field runs until the next line that starts with ';'.
      const parts = [line.slice(1)];
      while (++n < lines.length && !lines[n]!.startsWith(';')) parts.push(lines[n]!);
      tokens.push({ value: parts.join('\n').trim(), bare: false });
      continue;
    }
    tokenizeLine(line, tokens);
  }
  return tokens;
}

function tokenizeLine(line: string, tokens: Token[]): void {
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#') {
      return;
    } else if (c === "'" || c === '"') {
      // A quote ends a value only when followed by white space or the end of the line.
      let j = i + 1;
      while (j < line.length && !(line[j] === c && (j + 1 === line.length || /\s/.test(line[j + 1]!)))) j++;
      tokens.push({ value: line.slice(i + 1, j), bare: false });
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
      tokens.push({ value: line.slice(i, j), bare: true });
      i = j;
    }
  }
}

const isTag = (t: Token | undefined): boolean => !!t && t.bare && t.value.startsWith('_');
const isKeyword = (t: Token | undefined): boolean => !!t && t.bare && /^(loop_|data_|save_|global_|stop_)/i.test(t.value);

/** Every category of the first data block as a table ("atom_site" → columns and rows). */
export function readCifTables(text: string): Map<string, CifTable> {
  const tokens = tokenize(text);
  const tables = new Map<string, CifTable>();
  const tableOf = (tag: string): { table: CifTable; column: string } => {
    const dot = tag.indexOf('.');
    const category = tag.slice(1, dot < 0 ? undefined : dot).toLowerCase();
    let table = tables.get(category);
    if (!table) tables.set(category, (table = { columns: [], rows: [] }));
    return { table, column: dot < 0 ? '' : tag.slice(dot + 1).toLowerCase() };
  };
  let blocks = 0;
  for (let i = 0; i < tokens.length; ) {
    const token = tokens[i]!;
    if (token.bare && /^data_/i.test(token.value)) {
      if (++blocks > 1) break;
      i++;
    } else if (token.bare && token.value.toLowerCase() === 'loop_') {
      i = readLoop(tokens, i + 1, tableOf);
    } else if (isTag(token)) {
      const { table, column } = tableOf(token.value);
      table.columns.push(column);
      if (table.rows.length === 0) table.rows.push([]);
      table.rows[0]!.push(tokens[i + 1]?.value ?? '?');
      i += 2;
    } else {
      i++;
    }
  }
  return tables;
}

function readLoop(tokens: Token[], start: number, tableOf: (tag: string) => { table: CifTable; column: string }): number {
  let i = start;
  const tags: string[] = [];
  while (isTag(tokens[i])) tags.push(tokens[i++]!.value);
  if (tags.length === 0) return i;
  const { table } = tableOf(tags[0]!);
  table.columns = tags.map((tag) => tableOf(tag).column);
  let row: string[] = [];
  while (i < tokens.length && !isTag(tokens[i]) && !isKeyword(tokens[i])) {
    row.push(tokens[i++]!.value);
    if (row.length === tags.length) {
      table.rows.push(row);
      row = [];
    }
  }
  return i;
}

/** A reader of one table's cells by column name; '?' and '.' (unknown, not applicable) read as ''. */
function cells(table: CifTable | undefined) {
  const index = new Map(table?.columns.map((c, i) => [c, i]) ?? []);
  return (row: string[], ...names: string[]): string => {
    for (const name of names) {
      const i = index.get(name);
      const value = i === undefined ? undefined : row[i];
      if (value !== undefined && value !== '?' && value !== '.') return value;
    }
    return '';
  };
}

function secondaryRanges(tables: Map<string, CifTable>): SecondaryRange[] {
  const ranges: SecondaryRange[] = [];
  const read = (name: string, type: SecondaryRange['type'] | null): void => {
    const table = tables.get(name);
    const get = cells(table);
    for (const row of table?.rows ?? []) {
      const kind = type ?? (get(row, 'conf_type_id').toUpperCase().startsWith('HELX') ? 'helix' : null);
      if (!kind) continue; // _struct_conf also lists turns; only helices count here.
      ranges.push({
        type: kind,
        chain: get(row, 'beg_auth_asym_id', 'beg_label_asym_id'),
        start: { seq: Number(get(row, 'beg_auth_seq_id', 'beg_label_seq_id')), icode: get(row, 'pdbx_beg_pdb_ins_code') },
        end: { seq: Number(get(row, 'end_auth_seq_id', 'end_label_seq_id')), icode: get(row, 'pdbx_end_pdb_ins_code') },
      });
    }
  };
  read('struct_conf', null);
  read('struct_sheet_range', 'strand');
  return ranges;
}

export function parseMmcif(text: string): Structure {
  return structureFromCifTables(readCifTables(text));
}

/** The structure of CIF tables (column names in lower case), from text or from BinaryCIF (bcif.ts). */
export function structureFromCifTables(tables: Map<string, CifTable>): Structure {
  const atoms = tables.get('atom_site');
  if (!atoms || atoms.rows.length === 0) throw new Error('This mmCIF file has no _atom_site table (no atoms).');
  const get = cells(atoms);
  const builder = new StructureBuilder();
  let firstModel: string | null = null;
  for (const row of atoms.rows) {
    const model = get(row, 'pdbx_pdb_model_num');
    firstModel ??= model;
    if (model !== firstModel) continue;
    builder.add({
      hetero: get(row, 'group_pdb') === 'HETATM',
      atomName: get(row, 'auth_atom_id', 'label_atom_id'),
      altLoc: get(row, 'label_alt_id'),
      resName: get(row, 'auth_comp_id', 'label_comp_id'),
      chain: get(row, 'auth_asym_id', 'label_asym_id'),
      seq: Number(get(row, 'auth_seq_id', 'label_seq_id') || 0),
      icode: get(row, 'pdbx_pdb_ins_code'),
      x: Number(get(row, 'cartn_x')),
      y: Number(get(row, 'cartn_y')),
      z: Number(get(row, 'cartn_z')),
      element: get(row, 'type_symbol'),
    });
  }
  const titleTable = tables.get('struct');
  const title = titleTable?.rows[0] ? cells(titleTable)(titleTable.rows[0], 'title') : '';
  return builder.finish('mmcif', title, secondaryRanges(tables));
}
