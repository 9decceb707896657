/**
 * datasets/mutation-table — the deep-mutational-scan reader: a CSV/TSV whose rows name mutations
 * of one wild type ("A23V", "A23V:G45D", "p.Ala23Val") plus score columns. Each row becomes a
 * record whose sequence is the wild type with the row's mutations. Every stated wild-type residue
 * is checked: a row that does not match, cannot be parsed (an empty cell included) or contains a
 * stop is reported with its row, line and mutation, and is skipped only if the user accepts the
 * import; when most rows do not match, the report says which offset would match them. The
 * mutation column stays a label column so that position-grouped cross-validation can use it.
 * `chooseWildType` is the one way a wild type is taken from FASTA text (import, `score`,
 * `saturate`): a FASTA with several records gives the record chosen by name, or the one the table
 * is named after, or a refusal asking to choose — never silently the first.
 */
import type { ImportOptions, ImportProblem, MutationSummary, VariantsInfo } from '../api/schemas';
import { parseVariant } from '../variants/mutations';
import { ApiError } from '../api/errors';
import { applyVariants, type Mismatch } from '../variants/apply';
import { MUTATION_COLUMNS } from '../variants/positions';
import { agreement, offsetHint, recordNamedLike, statedResidues } from '../variants/wild-type';
import { readFasta } from './fasta';
import { cleanSequence, showCharacter } from './residues';
import {
  columnNames,
  fieldCountHint,
  findByName,
  ID_COLUMN_NAMES,
  isBlank,
  isUnusedColumn,
  listColumns,
  parseRows,
  requireColumn,
  type TableRow,
} from './table';
import type { RawRecord, ReaderOutput } from './types';

type MutationOptions = NonNullable<ImportOptions['mutations']>;

export interface MutationTable {
  read: ReaderOutput;
  variants: VariantsInfo;
  /** When most rows do not match the wild type: which offset would match them, or that none does. */
  offsetHint: string | null;
}

export function readMutationTable(fileName: string, text: string, delimiter: ',' | '\t', options: ImportOptions & { mutations: MutationOptions }): MutationTable {
  const [header, ...rows] = parseRows(fileName, text, delimiter).filter((row) => !isBlank(row.fields));
  if (!header || rows.length === 0) throw new ApiError('invalid-input', `${fileName}: no mutations found. The table has no data rows.`);
  const names = columnNames(header.fields);
  const mutation = options.mutations.column !== undefined ? requireColumn(fileName, names, options.mutations.column, 'mutation') : findByName(names, MUTATION_COLUMNS);
  if (mutation < 0) {
    throw new ApiError(
      'invalid-input',
      `${fileName}: no mutation column found. Name it "mutant" (or ${MUTATION_COLUMNS.slice(1).join(', ')}) or choose it when importing. Columns found: ${listColumns(names)}.`,
      { columns: names },
    );
  }
  const id = options.idColumn !== undefined ? requireColumn(fileName, names, options.idColumn, 'ID') : findByName(names, ID_COLUMN_NAMES);
  const labels = names.map((_, i) => i).filter((i) => i !== id && !isUnusedColumn(header.fields, rows, i));
  const variantTexts = rows.map((row) => row.fields[mutation] ?? '');
  const { offset } = options.mutations;
  const wildType = chooseWildType(options.mutations.wildType, { record: options.mutations.wildTypeRecord, tableName: fileName, variants: variantTexts, offset });
  const applied = applyVariants(wildType.residues, variantTexts, { offset });
  const records: RawRecord[] = [];
  const problems: ImportProblem[] = [];
  rows.forEach((row, index) => {
    const record = index + 1;
    const rowId = (id >= 0 ? row.fields[id]?.trim() : '') || (row.fields[mutation] ?? '').trim() || `row_${record}`;
    const problem = rowProblem(row, record, rowId, names.length, delimiter, applied, wildType.residues.length);
    if (problem) return void problems.push(problem);
    const cells: Record<string, string> = {};
    for (const i of labels) cells[names[i] ?? ''] = (row.fields[i] ?? '').trim();
    records.push({ record, line: row.line, id: rowId, chunks: [{ text: applied.sequences[index]!, line: row.line }], labels: cells });
  });
  return {
    read: { records, problems, recordCount: rows.length, labelColumns: labels.map((i) => names[i] ?? ''), sequenceColumn: null, idColumn: id >= 0 ? (names[id] ?? null) : null },
    variants: {
      wildTypeId: wildType.id,
      wildType: wildType.residues,
      mutationColumn: names[mutation] ?? '',
      offset: options.mutations.offset,
      mismatches: new Set(applied.mismatches.map((m) => m.row)).size,
      summary: { ...mutationSummary(wildType.residues.length, records.map((r) => variantTexts[r.record - 1] ?? ''), offset), stops: applied.stops.length },
    },
    offsetHint: offsetHint(wildType.residues, variantTexts, offset, new Set(applied.mismatches.map((m) => m.row)).size, rows.length - applied.unparsable.length),
  };
}

/** Positions covered and kinds of rows among the importable ones (their mutations parse: rowProblem checked); stops are never among them. */
function mutationSummary(length: number, variants: readonly string[], offset: number): MutationSummary {
  const positions = new Set<number>();
  const summary: MutationSummary = { positions: 0, length, singles: 0, multiples: 0, synonymous: 0, stops: 0, wildTypeRows: 0 };
  for (const text of variants) {
    const mutations = parseVariant(text, offset);
    for (const m of mutations) positions.add(m.position);
    if (mutations.length === 0) summary.wildTypeRows++;
    else if (mutations.length > 1) summary.multiples++;
    else summary.singles++;
    if (mutations.length === 1 && mutations[0]!.kind === 'synonymous') summary.synonymous++;
  }
  summary.positions = positions.size;
  return summary;
}

/** The problem that keeps a row out, if any: wrong field count, unparsable mutation, mismatch, stop. */
function rowProblem(
  row: TableRow,
  record: number,
  id: string,
  columns: number,
  delimiter: string,
  applied: ReturnType<typeof applyVariants>,
  wildTypeLength: number,
): ImportProblem | null {
  const where = `Row ${record} ("${id}", line ${row.line})`;
  const base = { record, line: row.line, id };
  if (row.fields.length !== columns) {
    return { ...base, kind: 'bad-row', message: `${where}: ${row.fields.length} values, but the header has ${columns}.${fieldCountHint(row, columns, delimiter)}` };
  }
  const unparsable = applied.unparsable.find((u) => u.row === record);
  if (unparsable) return { ...base, kind: 'bad-mutation', mutation: unparsable.variant, message: `${where}: ${unparsable.message}` };
  const mismatches = applied.mismatches.filter((m) => m.row === record);
  if (mismatches.length > 0) {
    const first = mismatches[0]!;
    return { ...base, kind: 'wild-type-mismatch', position: first.position, mutation: first.mutation, found: first.found, message: `${where}: ${mismatches.map((m) => describe(m, wildTypeLength)).join(' ')}` };
  }
  if (applied.stops.includes(record)) {
    return { ...base, kind: 'bad-mutation', message: `${where}: contains a stop (*). ESM-2 reads protein sequences without stops, so this row is left out.` };
  }
  return null;
}

function describe(m: Mismatch, length: number): string {
  if (m.position > length) return `${m.mutation} names position ${m.position}, beyond the end of the wild type (length ${length}).`;
  return `${m.mutation} expects ${m.expected} at position ${m.position}, but the wild type has ${m.found}.`;
}

export interface WildTypeChoice {
  /** The record the user chose by name (--wild-type-record, the import form). */
  record?: string;
  /** The scan's file (or dataset) name: a record named like it is taken when none is chosen. */
  tableName?: string;
  /** The scan's mutations and offset: a refusal says how well each record matches them. */
  variants?: readonly string[];
  offset?: number;
}

/**
 * The wild type from FASTA text or bare residues, checked like any sequence. Of a FASTA with
 * several records: the chosen one, else the one the table is named after, else a refusal that
 * lists the records (with how many of the scan's stated residues each has) and asks to choose.
 */
export function chooseWildType(text: string, choice: WildTypeChoice = {}): { id: string; residues: string } {
  const trimmed = text.trim();
  if (trimmed === '') throw new ApiError('invalid-input', 'The wild-type sequence is empty.');
  const record = trimmed.startsWith('>') ? pickRecord(readFasta('wild-type FASTA', trimmed).records, choice) : { id: 'wild_type', chunks: [{ text: trimmed, line: 1 }] };
  const cleaned = cleanSequence(record.chunks);
  if (cleaned.residues === '') throw new ApiError('invalid-input', 'The wild-type sequence is empty.');
  if (cleaned.invalid) {
    throw new ApiError(
      'invalid-input',
      `The wild-type sequence has "${showCharacter(cleaned.invalid.char)}" at position ${cleaned.invalid.position} (line ${cleaned.invalid.line}), which is not an amino acid letter.`,
    );
  }
  return { id: record.id, residues: cleaned.residues };
}

function pickRecord(records: readonly RawRecord[], choice: WildTypeChoice): RawRecord {
  const ids = records.map((r) => r.id);
  if (choice.record !== undefined) {
    const wanted = choice.record.trim();
    const found = records.find((r) => r.id === wanted) ?? records.find((r) => r.id.toLowerCase() === wanted.toLowerCase());
    if (found) return found;
    throw new ApiError('invalid-input', `The wild-type FASTA has no record named "${wanted}"; its records are ${ids.map((id) => `"${id}"`).join(', ')}.`);
  }
  if (records.length === 1) return records[0]!;
  const named = choice.tableName ? recordNamedLike(ids, choice.tableName) : null;
  if (named) return records.find((r) => r.id === named)!;
  const fits = choice.variants ? recordFits(records, choice.variants, choice.offset ?? 0) : '';
  throw new ApiError(
    'invalid-input',
    `The wild-type FASTA has ${records.length} records (${ids.map((id) => `"${id}"`).join(', ')})` +
      `${choice.tableName ? ` and none is named like ${choice.tableName}` : ''}. Choose the record this scan mutates ` +
      `("Wild-type record" when importing, --wild-type-record NAME on the command line), or keep only that record in the FASTA.${fits}`,
    { records: ids },
  );
}

/** " Of the stated wild-type residues, A has 98 % and B 4 %." — to help choose. */
function recordFits(records: readonly RawRecord[], variants: readonly string[], offset: number): string {
  const stated = statedResidues(variants);
  if (stated.length === 0) return '';
  const shares = records.map((r) => {
    const { matching, total } = agreement(cleanSequence(r.chunks).residues, stated, offset);
    return `"${r.id}" ${Math.round((100 * matching) / total)} %`;
  });
  return ` Share of the scan's stated wild-type residues each record has: ${shares.join(', ')}.`;
}
