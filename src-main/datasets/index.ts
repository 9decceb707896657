/**
 * datasets — reading a sequence file before import: detects the format, parses FASTA or CSV/TSV,
 * checks every record and reports what will (and will not) be imported. Pure: no database, no
 * file system, no network, so the same code serves the app, the CLI and the tests.
 */
import type { ImportOptions, SequenceFormat } from '../api/schemas';
import { ApiError } from '../api/errors';
import { readFasta } from './fasta';
import { SIGNALP_COLUMNS, looksLikeSignalpFasta, readSignalpFasta, signalpReaderOutput } from './signalp';
import { readMutationTable } from './mutation-table';
import { readTable } from './table';
import { baseName, stripByteOrderMark } from './text';
import type { ParsedFile } from './types';
import { buildParsedFile, type LabelReading } from './validate';

export { MAX_RESIDUES, VALID_RESIDUES } from './residues';
export { MAX_REPORTED_NOTICES, MAX_REPORTED_PROBLEMS, requireValidFile, type LabelReading } from './validate';
export { isIndexColumnName, measuredValues, measurementColumns, readNumberCell } from './labels';
export { chooseWildType, type WildTypeChoice } from './mutation-table';
export { ID_COLUMN_NAMES, SEQUENCE_COLUMN_NAMES } from './table';
export type { LabelValue, ParsedFile, ParsedRecord } from './types';

const FORMAT_BY_EXTENSION: Record<string, SequenceFormat> = {
  fasta: 'fasta',
  fa: 'fasta',
  faa: 'fasta',
  fas: 'fasta',
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
};

/**
 * The format a file name implies, or null. A `.txt` file is FASTA when its first non-blank
 * character is ">" — which needs `text`; without it (or otherwise) `.txt` gives null.
 */
export function detectFormat(fileName: string, text?: string): SequenceFormat | null {
  const extension = extensionOf(fileName);
  if (extension === 'txt') return text !== undefined && stripByteOrderMark(text).trimStart().startsWith('>') ? 'fasta' : null;
  return FORMAT_BY_EXTENSION[extension] ?? null;
}

/**
 * Parses and checks a whole file. Problems with single records end up in the report (and those
 * records are left out of `records`); problems with the file as a whole — unknown format, no
 * sequences, no sequence column, an unknown chosen column, an unclosed quote — throw an
 * `ApiError('invalid-input')` whose message names the file.
 */
export function parseSequenceFile(fileName: string, text: string, options: ImportOptions, reading: LabelReading = {}): ParsedFile {
  const name = baseName(fileName);
  const format = options.format ?? detectFormat(name, text);
  if (!format) throw unknownFormat(name);
  const body = stripByteOrderMark(text);
  if (body.trim() === '') throw new ApiError('invalid-input', `${name}: no sequences found. The file is empty.`);
  if (options.mutations) {
    if (format === 'fasta') throw new ApiError('invalid-input', `${name}: a mutation scan is a CSV or TSV table with a mutation column, not a FASTA file.`);
    const table = readMutationTable(name, body, format === 'csv' ? ',' : '\t', { ...options, mutations: options.mutations });
    const parsed = buildParsedFile(name, format, table.read, reading);
    const hint = table.offsetHint ? [{ kind: 'offset-hint' as const, message: table.offsetHint }] : [];
    return { ...parsed, report: { ...parsed.report, variants: table.variants, notices: [...hint, ...parsed.report.notices] } };
  }
  if (format === 'fasta' && looksLikeSignalpFasta(body)) {
    // SignalP 6.0's 3-line FASTA: kingdom, type, partition and per-residue labels become text columns.
    const categories = [...(reading.categories ?? []), ...Object.values(SIGNALP_COLUMNS)];
    return buildParsedFile(name, format, signalpReaderOutput(readSignalpFasta(name, body)), { ...reading, categories });
  }
  const read = format === 'fasta' ? readFasta(name, body) : readTable(name, body, format === 'csv' ? ',' : '\t', options);
  return buildParsedFile(name, format, read, reading);
}

function extensionOf(fileName: string): string {
  const name = baseName(fileName);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

function unknownFormat(fileName: string): ApiError {
  const extension = extensionOf(fileName);
  const why =
    extension === 'gz' || extension === 'zip'
      ? 'Compressed files are not read directly: unpack it first.'
      : ['fna', 'ffn', 'fastq', 'fq'].includes(extension)
        ? 'Nucleotide files are not supported: ESM models read protein sequences.'
        : extension === 'txt'
          ? 'A .txt file is read as FASTA only when it starts with a ">" header line.'
          : 'Use .fasta/.fa/.faa/.fas, .csv, or .tsv/.tab, or choose the format when importing.';
  return new ApiError('invalid-input', `${fileName}: cannot tell the file format. ${why}`);
}
