/**
 * datasets/validate — the checks shared by FASTA and tables, and the import report built from
 * them: bad characters and empty sequences (record skipped), duplicate IDs (renamed), duplicate and
 * over-long sequences (counted, still imported), label typing and length statistics.
 */
import type { ImportNotice, ImportProblem, ImportReport, SequenceFormat } from '../api/schemas';
import { convertLabels, typeLabelColumns } from './labels';
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

export function buildParsedFile(fileName: string, format: SequenceFormat, read: ReaderOutput): ParsedFile {
  const noun = format === 'fasta' ? 'Record' : 'Row';
  const accepted: Accepted[] = [];
  const problems = [...read.problems];
  for (const raw of read.records) {
    const cleaned = cleanSequence(raw.chunks);
    const problem = sequenceProblem(raw, cleaned, noun);
    if (problem) problems.push(problem);
    else accepted.push({ raw, cleaned });
  }
  problems.sort((a, b) => a.record - b.record || a.line - b.line);

  const seqIds = uniqueNames(accepted.map(({ raw }) => raw.id));
  const labelColumns = typeLabelColumns(
    read.labelColumns,
    accepted.map(({ raw }) => raw.labels),
  );
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

// ---------- notices (the record is imported) ----------

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
