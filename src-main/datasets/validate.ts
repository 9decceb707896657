/**
 * datasets/validate — the checks shared by FASTA and tables, and the import report built from
 * them: bad characters, empty sequences and infinite numbers (record skipped), duplicate IDs
 * (renamed), duplicate and over-long sequences (counted, still imported), label typing (with the
 * rows of missing values and index columns named) and length statistics. `requireValidFile` is
 * the rule for commands that read a whole file at once (embed, finetune, predict): any error
 * refuses the file.
 */
import { ApiError } from '../api/errors';
import type { ImportNotice, ImportProblem, ImportReport, LabelColumn, SequenceFormat } from '../api/schemas';
import { convertLabels, describeInfiniteCell, infiniteCells, missingRows, typeLabelColumns, type LabelTyping } from './labels';
import { uniqueNames } from './names';
import { cleanSequence, invalidCharacterHint, MAX_RESIDUES, showCharacter, type CleanedSequence } from './residues';
import { plural } from './text';
import type { ParsedFile, ParsedRecord, RawRecord, ReaderOutput } from './types';

/** Enough to fix a file by; more would only bloat the report. `errorCount` keeps the true total. */
export const MAX_REPORTED_PROBLEMS = 200;
export const MAX_REPORTED_NOTICES = 200;

interface Accepted {
  raw: RawRecord;
  cleaned: CleanedSequence;
}

/** How label columns are typed; see LabelTyping (row numbers come from the records). */
export type LabelReading = Pick<LabelTyping, 'categories'>;

export function buildParsedFile(fileName: string, format: SequenceFormat, read: ReaderOutput, reading: LabelReading = {}): ParsedFile {
  const noun = format === 'fasta' ? 'Record' : 'Row';
  const withResidues: Accepted[] = [];
  const problems = [...read.problems];
  for (const raw of read.records) {
    const cleaned = cleanSequence(raw.chunks);
    const problem = sequenceProblem(raw, cleaned, noun);
    if (problem) problems.push(problem);
    else withResidues.push({ raw, cleaned });
  }
  const typeColumns = (rows: readonly Accepted[]): LabelColumn[] =>
    typeLabelColumns(read.labelColumns, rows.map(({ raw }) => raw.labels), {
      ...reading,
      categories: [...(reading.categories ?? []), ...(read.descriptionColumn ? [read.descriptionColumn] : [])],
      rowNumbers: rows.map(({ raw }) => raw.record),
    }).map((column) => (column.name === read.descriptionColumn ? { ...column, role: 'description' as const } : column));
  const valueProblems = badValueProblems(typeColumns(withResidues), withResidues, noun);
  problems.push(...valueProblems);
  problems.sort((a, b) => a.record - b.record || a.line - b.line);
  const rejected = new Set(valueProblems.map((problem) => problem.record));
  const accepted = withResidues.filter(({ raw }) => !rejected.has(raw.record));

  const seqIds = uniqueNames(accepted.map(({ raw }) => raw.id));
  const labelColumns = typeColumns(accepted);
  const records: ParsedRecord[] = accepted.map(({ raw, cleaned }, index) => ({
    seqId: seqIds[index] ?? raw.id,
    sequence: cleaned.residues,
    labels: convertLabels(labelColumns, raw.labels),
    record: raw.record,
    line: raw.line,
  }));

  const renames = renameNotices(accepted, seqIds, noun);
  const repeats = repeatedSequences(records);
  const tooLong = records.filter((record) => record.sequence.length > MAX_RESIDUES);
  const notices = [
    ...labelNotices(labelColumns, records, noun),
    ...summaryNotices(accepted, repeats, noun),
    ...[...renames, ...tooLong.map((record) => tooLongNotice(record, noun))].sort(
      (a, b) => (a.record ?? 0) - (b.record ?? 0),
    ),
  ];

  const report: ImportReport = {
    fileName,
    format,
    records: read.recordCount,
    importable: records.length,
    errors: problems.slice(0, MAX_REPORTED_PROBLEMS),
    errorCount: problems.length,
    notices: notices.slice(0, MAX_REPORTED_NOTICES),
    duplicateIds: renames.length,
    duplicateSequences: repeats.count,
    tooLong: tooLong.length,
    lengths: lengthStats(records),
    labelColumns,
    sequenceColumn: read.sequenceColumn,
    idColumn: read.idColumn,
  };
  return { report, records };
}

// ---------- problems (the record is skipped) ----------

function sequenceProblem(raw: RawRecord, cleaned: CleanedSequence, noun: string): ImportProblem | null {
  const { invalid } = cleaned;
  if (invalid) {
    const total = invalid.count > 1 ? ` This ${noun.toLowerCase()} has ${invalid.count} invalid characters in all.` : '';
    return {
      record: raw.record,
      line: invalid.line,
      id: raw.id,
      kind: 'invalid-character',
      position: invalid.position,
      message:
        `${noun} ${raw.record} ("${raw.id}", line ${invalid.line}): character ${showCharacter(invalid.char)} ` +
        `at residue ${invalid.position} is not an amino acid (allowed: 20 standard + X B U Z O).` +
        total +
        invalidCharacterHint(invalid.char),
    };
  }
  if (cleaned.residues === '') {
    return {
      record: raw.record,
      line: raw.line,
      id: raw.id,
      kind: 'empty-sequence',
      message: `${noun} ${raw.record} ("${raw.id}", line ${raw.line}): the sequence is empty.`,
    };
  }
  return null;
}

/** Infinite numbers in numeric columns: one problem per row, naming every such cell of it. */
function badValueProblems(columns: readonly LabelColumn[], accepted: readonly Accepted[], noun: string): ImportProblem[] {
  const byRow = new Map<number, string[]>();
  for (const bad of infiniteCells(columns, accepted.map(({ raw }) => raw.labels))) {
    byRow.set(bad.row, [...(byRow.get(bad.row) ?? []), describeInfiniteCell(bad)]);
  }
  return [...byRow].map(([index, descriptions]) => {
    const { raw } = accepted[index]!;
    return { record: raw.record, line: raw.line, id: raw.id, kind: 'bad-value', message: `${noun} ${raw.record} ("${raw.id}", line ${raw.line}): ${descriptions.join(' ')}` };
  });
}

/**
 * A refusal for commands that read a whole file at once (embed --fasta, finetune --data, predict):
 * any record with an error stops the command, naming the file and, for each problem (the first
 * `shown`), the record or row, the position and the character; nothing is silently replaced.
 */
export function requireValidFile(path: string, parsed: ParsedFile, shown = 10): ParsedFile {
  const { report } = parsed;
  if (report.errorCount === 0) return parsed;
  const listed = report.errors.slice(0, shown).map((problem) => `  ${problem.message}`);
  const more = report.errorCount > listed.length ? [`  … and ${report.errorCount - listed.length} more.`] : [];
  const noun = report.format === 'fasta' ? 'record' : 'row';
  throw new ApiError(
    'invalid-input',
    [`${path}: ${plural(report.errorCount, noun)} cannot be used:`, ...listed, ...more, `Nothing was run. Fix or remove ${report.errorCount === 1 ? 'that' : 'those'} ${noun}${report.errorCount === 1 ? '' : 's'} and run again.`].join('\n'),
    report,
  );
}

// ---------- notices (the record is imported) ----------

/** Rows named when a column has missing values: enough to find them; the count says the rest. */
const MAX_NAMED_ROWS = 10;

/** Which rows of each column have no value, and which columns only count rows. */
function labelNotices(columns: readonly LabelColumn[], records: readonly ParsedRecord[], noun: string): ImportNotice[] {
  const unit = noun.toLowerCase();
  // A record without a description is usual (headers that are only an ID): nothing to report.
  const described = columns.filter((column) => column.role !== 'description');
  const missing = missingRows(described, records.map((record) => record.labels)).map(({ column, rows }): ImportNotice => {
    const named = rows.slice(0, MAX_NAMED_ROWS).map((index) => records[index]!.record);
    const rest = rows.length > named.length ? `, … (${rows.length - named.length} more)` : '';
    return {
      kind: 'missing-values',
      record: named[0],
      message:
        `Column "${column}" has no value in ${plural(rows.length, unit)} (${unit}${named.length === 1 ? '' : 's'} ${named.join(', ')}${rest}); ` +
        `${rows.length === 1 ? 'it is' : 'they are'} left out when "${column}" is what a model learns or is compared with.`,
    };
  });
  const index = columns
    .filter((column) => column.role === 'index')
    .map((column): ImportNotice => ({
      kind: 'index-column',
      message: `Column "${column.name}" only numbers the ${unit}s, so it is not offered as a target or a measurement.`,
    }));
  return [...missing, ...index];
}

function renameNotices(accepted: readonly Accepted[], seqIds: readonly string[], noun: string): ImportNotice[] {
  const firstUse = new Map<string, number>();
  const notices: ImportNotice[] = [];
  accepted.forEach(({ raw }, index) => {
    const seqId = seqIds[index] ?? raw.id;
    if (seqId === raw.id) {
      firstUse.set(raw.id, raw.record);
      return;
    }
    notices.push({
      kind: 'renamed-duplicate-id',
      record: raw.record,
      message:
        `${noun} ${raw.record}: the ID "${raw.id}" is already used by ${noun.toLowerCase()} ` +
        `${firstUse.get(raw.id) ?? '?'}, so this one is imported as "${seqId}".`,
    });
  });
  return notices;
}

interface Repeats {
  /** Records whose sequence already appeared earlier. */
  count: number;
  first: { repeat: ParsedRecord; original: ParsedRecord } | null;
}

function repeatedSequences(records: readonly ParsedRecord[]): Repeats {
  const firstWith = new Map<string, ParsedRecord>();
  const repeats: Repeats = { count: 0, first: null };
  for (const record of records) {
    const original = firstWith.get(record.sequence);
    if (!original) {
      firstWith.set(record.sequence, record);
      continue;
    }
    repeats.count += 1;
    repeats.first ??= { repeat: record, original };
  }
  return repeats;
}

/** One notice per kind for things that are usually many and harmless one by one. */
function summaryNotices(accepted: readonly Accepted[], repeats: Repeats, noun: string): ImportNotice[] {
  const notices: ImportNotice[] = [];
  const lowered = accepted.filter(({ cleaned }) => cleaned.hadLowerCase).length;
  if (lowered > 0) {
    notices.push({
      kind: 'lower-case',
      message: `Lower-case residues were converted to upper case in ${plural(lowered, 'sequence')}.`,
    });
  }
  const stopped = accepted.filter(({ cleaned }) => cleaned.stopStripped).length;
  if (stopped > 0) {
    notices.push({
      kind: 'stop-stripped',
      message: `A final stop "*" was removed from ${plural(stopped, 'sequence')}.`,
    });
  }
  const unusual = unusualResidueNotice(accepted, noun);
  if (unusual) notices.push(unusual);
  if (repeats.first) {
    const { repeat, original } = repeats.first;
    const unit = noun.toLowerCase();
    notices.push({
      kind: 'duplicate-sequence',
      record: repeat.record,
      message:
        `${plural(repeats.count, unit)} ${repeats.count === 1 ? 'repeats' : 'repeat'} a sequence that appears earlier in the file ` +
        `(first: ${unit} ${repeat.record} "${repeat.seqId}" is identical to ${unit} ${original.record} "${original.seqId}"). ` +
        `All are imported; remove repeats if the same protein must not end up in both training and test data.`,
    });
  }
  return notices;
}

/** What the models make of the letters beyond the 20: each has its own token, learnt from few examples. */
const UNUSUAL_RESIDUES: Record<string, string> = {
  X: 'X (unknown)',
  B: 'B (D or N)',
  Z: 'Z (E or Q)',
  U: 'U (selenocysteine)',
  O: 'O (pyrrolysine)',
};
const UNUSUAL = /[XBZUO]/g;

/** Sequences with X, B, Z, U or O are imported; the note says how ESM-2 reads them. */
function unusualResidueNotice(accepted: readonly Accepted[], noun: string): ImportNotice | null {
  const found = new Set<string>();
  let sequences = 0;
  let first: Accepted | null = null;
  for (const entry of accepted) {
    const letters = entry.cleaned.residues.match(UNUSUAL);
    if (!letters) continue;
    sequences++;
    first ??= entry;
    for (const letter of letters) found.add(letter);
  }
  if (!first) return null;
  const names = Object.keys(UNUSUAL_RESIDUES).filter((letter) => found.has(letter)).map((letter) => UNUSUAL_RESIDUES[letter]);
  return {
    kind: 'unusual-residues',
    record: first.raw.record,
    message:
      `${plural(sequences, 'sequence')} ${sequences === 1 ? 'has' : 'have'} ${names.join(', ')} (first: ${noun.toLowerCase()} ${first.raw.record} "${first.raw.id}"). ` +
      `They are imported as written: ESM-2 and ESM C have a token for each of these letters, but saw them rarely in training, ` +
      `so what a model says at those positions is less reliable.`,
  };
}

function tooLongNotice(record: ParsedRecord, noun: string): ImportNotice {
  return {
    kind: 'too-long',
    record: record.record,
    message:
      `${noun} ${record.record} ("${record.seqId}"): ${record.sequence.length} residues, more than the model's ` +
      `${MAX_RESIDUES}-residue limit; it will be windowed or truncated when embedded.`,
  };
}

// ---------- statistics ----------

function lengthStats(records: readonly ParsedRecord[]): ImportReport['lengths'] {
  const lengths = records.map((record) => record.sequence.length).sort((a, b) => a - b);
  const count = lengths.length;
  if (count === 0) return null;
  const middle = count >>> 1;
  const median =
    count % 2 === 1 ? (lengths[middle] ?? 0) : ((lengths[middle - 1] ?? 0) + (lengths[middle] ?? 0)) / 2;
  return {
    min: lengths[0] ?? 0,
    max: lengths[count - 1] ?? 0,
    mean: lengths.reduce((sum, length) => sum + length, 0) / count,
    median,
  };
}
