/**
 * datasets/signalp — the reader for SignalP 6.0's 3-line FASTA (`>id|KINGDOM|TYPE|PARTITION`, the
 * sequence on one line, one region label per residue on the next), the format of its benchmark
 * (`train_set.fasta`) and of PEFT-SP. Pure: text in, records and problems out. Every problem names
 * the file, the line and the field, so a biologist can fix the file without guessing.
 *
 * The format is positional (three lines per record), so wrapped sequences and blank lines are errors,
 * not tolerated as in plain FASTA: a wrapped sequence would shift every following line. After such a
 * break the reader resynchronises at the next header line.
 */
import type { ImportProblem } from '../api/schemas';
import { VALID_RESIDUES } from './residues';
import { LINE_BREAK } from './text';
import type { ReaderOutput } from './types';

/** Kingdom names in SignalP 6.0's order; the index is the kingdom id the models and metrics use. */
export const SIGNALP_KINGDOMS = ['EUKARYA', 'POSITIVE', 'NEGATIVE', 'ARCHAEA'] as const;
export type SignalpKingdom = (typeof SIGNALP_KINGDOMS)[number];

/** Type names in SignalP 6.0's order (0 = no signal peptide); the index is the type id. */
export const SIGNALP_TYPES = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'] as const;
export type SignalpType = (typeof SIGNALP_TYPES)[number];

/** What each type is called in the papers (Sec/SPI and so on), for messages and views. */
export const SIGNALP_TYPE_TITLES: Record<SignalpType, string> = {
  NO_SP: 'Other (no signal peptide)',
  SP: 'Sec/SPI',
  LIPO: 'Sec/SPII (lipoprotein)',
  TAT: 'Tat/SPI',
  TATLIPO: 'Tat/SPII',
  PILIN: 'Sec/SPIII (pilin)',
};

/** The label letter that marks the signal peptide of each type (Tat/SPI and Tat/SPII share `T`). */
export const SIGNAL_PEPTIDE_LETTER: Record<SignalpType, string | null> = {
  NO_SP: null,
  SP: 'S',
  LIPO: 'L',
  TAT: 'T',
  TATLIPO: 'T',
  PILIN: 'P',
};

/** Per-residue label letters: S, L, T, P signal peptides; I inside, M transmembrane, O outside. */
export const SIGNALP_LABEL_LETTERS = 'STLPIMO';
const SIGNAL_PEPTIDE_LETTERS = 'STLP';

export interface SignalpRecord {
  id: string;
  kingdom: SignalpKingdom;
  type: SignalpType;
  partition: number;
  sequence: string;
  /** One letter of `SIGNALP_LABEL_LETTERS` per residue. */
  labels: string;
  /** 1-based record number and the line of its header. */
  record: number;
  line: number;
}

export type SignalpField = 'file' | 'header' | 'kingdom' | 'type' | 'partition' | 'sequence' | 'labels';

export interface SignalpProblem {
  /** 1-based record number; 0 when the problem is outside any record. */
  record: number;
  line: number;
  id: string;
  field: SignalpField;
  /** 1-based residue position, for problems at one residue. */
  position?: number;
  /** Says what is wrong and where, and what to do; starts with the file name and line. */
  message: string;
}

export interface SignalpFile {
  /** Records that passed every check, in file order. */
  records: SignalpRecord[];
  problems: SignalpProblem[];
  /** Every record found, including the rejected ones. */
  recordCount: number;
}

const FORMAT_HINT = 'Each record is 3 lines: ">id|KINGDOM|TYPE|PARTITION", the sequence on one line, and the labels on one line.';

/** 1-based index of the last signal-peptide residue (cleavage is after it), or -1 for NO_SP. */
export function trueCleavageSite(record: Pick<SignalpRecord, 'type' | 'labels'>): number {
  const letter = SIGNAL_PEPTIDE_LETTER[record.type];
  return letter === null ? -1 : record.labels.lastIndexOf(letter) + 1;
}

export function readSignalpFasta(fileName: string, text: string): SignalpFile {
  const lines = withoutTrailingBlankLines(text.replace(/^\uFEFF/, '').split(LINE_BREAK));
  const records: SignalpRecord[] = [];
  const problems: SignalpProblem[] = [];
  let recordCount = 0;
  let index = 0;
  while (index < lines.length) {
    const content = lines[index]!;
    if (!content.startsWith('>')) {
      problems.push(strayLine(fileName, index + 1, content, recordCount));
      index = nextHeader(lines, index + 1);
      continue;
    }
    recordCount += 1;
    const block = { header: content, sequence: lines[index + 1], labels: lines[index + 2], line: index + 1, record: recordCount };
    const found = checkRecord(fileName, block);
    if ('problem' in found) {
      problems.push(found.problem);
      index = nextHeader(lines, index + 1);
    } else {
      records.push(found.record);
      index += 3;
    }
  }
  if (recordCount === 0) {
    problems.push({ record: 0, line: 1, id: '', field: 'file', message: `${fileName}: no records found. ${FORMAT_HINT}` });
  }
  return { records, problems, recordCount };
}

function withoutTrailingBlankLines(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end -= 1;
  return lines.slice(0, end);
}

function nextHeader(lines: readonly string[], from: number): number {
  let index = from;
  while (index < lines.length && !lines[index]!.startsWith('>')) index += 1;
  return index;
}

function strayLine(fileName: string, line: number, content: string, afterRecord: number): SignalpProblem {
  const what = content.trim() === ''
    ? 'a blank line; blank lines are not allowed inside a SignalP file'
    : 'a line that is not part of a 3-line record (a wrapped sequence or label line, or a header without ">")';
  return {
    record: afterRecord,
    line,
    id: '',
    field: 'header',
    message: `${fileName}, line ${line}: ${what}. ${FORMAT_HINT} The lines up to the next ">" header were skipped.`,
  };
}

interface RecordBlock {
  header: string;
  sequence: string | undefined;
  labels: string | undefined;
  line: number;
  record: number;
}

type Checked = { record: SignalpRecord } | { problem: SignalpProblem };

function checkRecord(fileName: string, block: RecordBlock): Checked {
  const at = (lineOffset: number, field: SignalpField, message: string, position?: number, id = ''): Checked => ({
    problem: {
      record: block.record,
      line: block.line + lineOffset,
      id,
      field,
      ...(position === undefined ? {} : { position }),
      message: `${fileName}, line ${block.line + lineOffset}: ${message}`,
    },
  });
  const fields = block.header.slice(1).trim().split('|');
  if (fields.length !== 4 || fields[0]!.trim() === '') {
    return at(0, 'header', `the header "${block.header}" should have 4 fields, "accession|KINGDOM|TYPE|PARTITION" (e.g. ">P12345|NEGATIVE|SP|0").`);
  }
  const [id, kingdomText, typeText, partitionText] = fields.map((field) => field.trim()) as [string, string, string, string];
  if (!isOneOf(SIGNALP_KINGDOMS, kingdomText)) {
    return at(0, 'kingdom', `record ${id}: unknown kingdom "${kingdomText}". Use one of ${SIGNALP_KINGDOMS.join(', ')}.`, undefined, id);
  }
  if (!isOneOf(SIGNALP_TYPES, typeText)) {
    return at(0, 'type', `record ${id}: unknown type "${typeText}". Use one of ${SIGNALP_TYPES.join(', ')}.`, undefined, id);
  }
  if (!/^\d+$/.test(partitionText)) {
    return at(0, 'partition', `record ${id}: the partition "${partitionText}" is not a whole number (0, 1, 2, ...).`, undefined, id);
  }
  const sequenceProblem = checkSequenceLine(block.sequence);
  if (sequenceProblem) return at(1, 'sequence', `record ${id}: ${sequenceProblem.message}`, sequenceProblem.position, id);
  const sequence = block.sequence!;
  const labelProblem = checkLabelLine(block.labels, sequence.length, typeText);
  if (labelProblem) return at(2, 'labels', `record ${id}: ${labelProblem.message}`, labelProblem.position, id);
  return {
    record: {
      id,
      kingdom: kingdomText,
      type: typeText,
      partition: Number(partitionText),
      sequence,
      labels: block.labels!,
      record: block.record,
      line: block.line,
    },
  };
}

function isOneOf<T extends string>(options: readonly T[], value: string): value is T {
  return (options as readonly string[]).includes(value);
}

interface LineProblem {
  message: string;
  position?: number;
}

function checkSequenceLine(sequence: string | undefined): LineProblem | null {
  if (sequence === undefined || sequence.startsWith('>')) return { message: `the sequence line is missing. ${FORMAT_HINT}` };
  if (sequence.trim() === '') return { message: 'the sequence line is blank. Blank lines are not allowed; put the sequence on the line after the header.' };
  const bad = sequence.search(new RegExp(`[^${VALID_RESIDUES}]`));
  if (bad >= 0) {
    return {
      message: `"${sequence[bad]}" at residue ${bad + 1} is not an upper-case amino-acid letter (${VALID_RESIDUES}).`,
      position: bad + 1,
    };
  }
  return null;
}

function checkLabelLine(labels: string | undefined, length: number, type: SignalpType): LineProblem | null {
  if (labels === undefined || labels.startsWith('>')) return { message: `the label line is missing. ${FORMAT_HINT}` };
  const bad = labels.search(new RegExp(`[^${SIGNALP_LABEL_LETTERS}]`));
  if (bad >= 0) {
    return {
      message: `label "${labels[bad]}" at residue ${bad + 1} is not one of ${SIGNALP_LABEL_LETTERS.split('').join(' ')} ` +
        '(S Sec/SPI, L Sec/SPII, T Tat, P pilin signal peptide; I inside, M transmembrane, O outside).',
      position: bad + 1,
    };
  }
  if (labels.length !== length) {
    return {
      message: `the label line has ${labels.length} letters but the sequence has ${length} residues; there must be one label per residue ` +
        '(a wrapped sequence or label line also causes this).',
    };
  }
  return checkTypeAgainstLabels(labels, type);
}

/**
 * The type in the header and the signal-peptide letters must agree: NO_SP has none; every other type
 * has its own letter (T for both Tat types), no other signal-peptide letter, as one run from residue 1.
 */
function checkTypeAgainstLabels(labels: string, type: SignalpType): LineProblem | null {
  const letter = SIGNAL_PEPTIDE_LETTER[type];
  const firstOther = [...labels].findIndex((c) => SIGNAL_PEPTIDE_LETTERS.includes(c) && c !== letter);
  if (firstOther >= 0) {
    const expected = letter === null ? 'a protein without signal peptide (NO_SP) has no S, T, L or P labels' : `type ${type} uses only "${letter}" for its signal peptide`;
    return { message: `label "${labels[firstOther]}" at residue ${firstOther + 1} does not fit the type: ${expected}.`, position: firstOther + 1 };
  }
  if (letter === null) return null;
  if (!labels.startsWith(letter)) {
    return { message: `type ${type} needs a signal peptide labelled "${letter}" starting at residue 1, but the labels start with "${labels[0] ?? ''}".`, position: 1 };
  }
  const end = labels.lastIndexOf(letter);
  const gap = labels.slice(0, end + 1).search(new RegExp(`[^${letter}]`));
  if (gap >= 0) {
    return { message: `the signal peptide ("${letter}" labels) is interrupted at residue ${gap + 1}: it must be one stretch from residue 1.`, position: gap + 1 };
  }
  return null;
}

/** The label columns a SignalP file imports as (all text: the partition is a group id, not a measurement). */
export const SIGNALP_COLUMNS = { kingdom: 'kingdom', type: 'type', partition: 'partition', residueLabels: 'residue_labels' } as const;

/**
 * True when the first line looks like a SignalP 6.0 header (`>id|KINGDOM|TYPE|PARTITION`: 4 fields with a
 * known kingdom or a numeric partition), so the file is read with this reader. Loose on purpose: a
 * header with one bad field must still reach this reader (which names the field) — read as plain
 * FASTA, the label line (S, T, L, P, I, M, O are amino-acid letters too) would silently join the sequence.
 */
export function looksLikeSignalpFasta(text: string): boolean {
  const first = (text.replace(/^\uFEFF/, '').split(LINE_BREAK, 1)[0] ?? '').trim();
  if (!first.startsWith('>')) return false;
  const fields = first.slice(1).split('|').map((field) => field.trim());
  return fields.length === 4 && (isOneOf(SIGNALP_KINGDOMS, fields[1]!) || /^\d+$/.test(fields[3]!));
}

/**
 * The records and problems as the import's validator takes them: kingdom, type, partition and the
 * per-residue label string become text label columns (SIGNALP_COLUMNS).
 */
export function signalpReaderOutput(file: SignalpFile): ReaderOutput {
  return {
    records: file.records.map((record) => ({
      record: record.record,
      line: record.line,
      id: record.id,
      chunks: [{ text: record.sequence, line: record.line + 1 }],
      labels: {
        [SIGNALP_COLUMNS.kingdom]: record.kingdom,
        [SIGNALP_COLUMNS.type]: record.type,
        [SIGNALP_COLUMNS.partition]: String(record.partition),
        [SIGNALP_COLUMNS.residueLabels]: record.labels,
      },
    })),
    problems: file.problems.map(toImportProblem),
    recordCount: file.recordCount,
    labelColumns: Object.values(SIGNALP_COLUMNS),
    sequenceColumn: null,
    idColumn: null,
  };
}

function toImportProblem(problem: SignalpProblem): ImportProblem {
  const kind = problem.field === 'sequence' && problem.position !== undefined
    ? 'invalid-character'
    : problem.field === 'file' || problem.field === 'header' ? 'bad-row' : 'bad-value';
  return {
    record: problem.record,
    line: problem.line,
    id: problem.id,
    kind,
    ...(problem.position === undefined ? {} : { position: problem.position }),
    message: problem.message,
  };
}
