/**
 * datasets/mutation-table — the deep-mutational-scan reader: a CSV/TSV whose rows name mutations
 * of one wild type ("A23V", "A23V:G45D", "p.Ala23Val") plus score columns. Each row becomes a
 * record whose sequence is the wild type with the row's mutations. Every stated wild-type residue
 * is checked: a row that does not match, cannot be parsed or contains a stop is reported with its
 * row, line and mutation, and is skipped only if the user accepts the import. The mutation column
 * stays a label column so that position-grouped cross-validation can use it.
 */
import type { ImportOptions, ImportProblem, VariantsInfo } from '../api/schemas';
import { ApiError } from '../api/errors';
import { applyVariants, type Mismatch } from '../variants/apply';
import { MUTATION_COLUMNS } from '../variants/positions';
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
}

export function readMutationTable(fileName: string, text: string, delimiter: ',' | '\t', options: ImportOptions & { mutations: MutationOptions }): MutationTable {
  const wildType = readWildType(options.mutations.wildType);
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
  const applied = applyVariants(wildType.residues, rows.map((row) => row.fields[mutation] ?? ''), { offset: options.mutations.offset });
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
    },
  };
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

/** The wild type from FASTA text (first record) or bare residues, checked like any sequence. */
function readWildType(text: string): { id: string; residues: string } {
  const trimmed = text.trim();
  const fasta = trimmed.startsWith('>');
  const record = fasta ? readFasta('wild-type FASTA', trimmed).records[0]! : { id: 'wild_type', chunks: [{ text: trimmed, line: 1 }] };
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
