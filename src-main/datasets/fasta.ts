/**
 * datasets/fasta — the FASTA reader: splits the text into records (header line + any number of
 * sequence lines) and remembers the line of every piece. The header's first word is the ID; the
 * rest (UniProt's protein name, organism, gene…) is kept as a `description` column. Checking the
 * residues is validate's job.
 */
import type { ImportProblem } from '../api/schemas';
import { ApiError } from '../api/errors';
import { LINE_BREAK, plural } from './text';
import type { RawRecord, ReaderOutput } from './types';

export function readFasta(fileName: string, text: string): ReaderOutput {
  const records: RawRecord[] = [];
  const preamble: number[] = [];
  let current: RawRecord | null = null;

  text.split(LINE_BREAK).forEach((content, index) => {
    const line = index + 1;
    if (content.trim() === '') return;
    if (isHeader(content)) {
      current = startRecord(content, records.length + 1, line);
      records.push(current);
    } else if (current) {
      current.chunks.push({ text: content, line });
    } else {
      preamble.push(line);
    }
  });

  if (records.length === 0) {
    throw new ApiError(
      'invalid-input',
      `${fileName}: no sequences found. FASTA records start with a header line beginning with ">", and this file has none.`,
    );
  }
  const described = records.some((record) => (record.labels[DESCRIPTION_COLUMN] ?? '') !== '');
  return {
    records,
    problems: preamble.length > 0 ? [preambleProblem(preamble)] : [],
    recordCount: records.length,
    labelColumns: described ? [DESCRIPTION_COLUMN] : [],
    descriptionColumn: described ? DESCRIPTION_COLUMN : null,
    sequenceColumn: null,
    idColumn: null,
  };
}

function isHeader(content: string): boolean {
  return content.trimStart().startsWith('>');
}

/** The column that keeps the header's text after the ID. */
export const DESCRIPTION_COLUMN = 'description';

/** The ID is the first word of the header (`>sp|P69905|HBA_HUMAN Hemoglobin ...`); the rest is description. */
function startRecord(header: string, record: number, line: number): RawRecord {
  const afterMarker = header.trimStart().slice(1).trim();
  const [first = '', ...rest] = afterMarker.split(/\s+/);
  const id = first || `record_${record}`;
  return { record, line, id, chunks: [], labels: { [DESCRIPTION_COLUMN]: rest.join(' ') } };
}

/**
 * Text before the first header belongs to no record, so it would silently be lost; it is reported
 * once (record 0: it is not a record) at its first line.
 */
function preambleProblem(lines: readonly number[]): ImportProblem {
  const first = lines[0] ?? 1;
  return {
    record: 0,
    line: first,
    id: '',
    kind: 'bad-row',
    message:
      `Line ${first}: text before the first ">" header is not part of any record ` +
      `(${plural(lines.length, 'line')} ignored). Every FASTA record starts with a ">" header line.`,
  };
}
