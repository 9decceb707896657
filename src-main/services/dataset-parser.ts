/**
 * services/dataset-parser — reads and parses a sequence file for the datasets service, either
 * right here or, for large files, in a worker thread (dataset-parse-worker, built next to the
 * transports as dataset-parse-worker.js) so that a 50 MB upload does not keep the main loop, and
 * with it every other client's requests, waiting while it is parsed.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApiError } from '../api/errors';
import type { ErrorCode } from '../api/contract';
import type { ImportOptions, ImportSource } from '../api/schemas';
import { parseSequenceFile, type ParsedFile } from '../datasets';

/** Larger files are refused with a clear message rather than exhausting memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** Below this size a file is parsed at once (tens of milliseconds); starting a thread would cost more. */
export const OFF_THREAD_BYTES = 2 * 1024 * 1024;

/** What a parse is for: a preview needs only the report, an import the records too. */
export type ParseWant = 'report' | 'records';

export interface ParseRequest {
  source: ImportSource;
  options: ImportOptions;
  want: ParseWant;
}

/**
 * The records as a few flat values (each field's texts joined, with where each ends): copying
 * these between threads holds up the main loop far less than 100,000 small objects would.
 */
export interface PackedRecords {
  ids: string;
  idEnds: Int32Array;
  sequences: string;
  sequenceEnds: Int32Array;
  /** JSON of the records' label objects, in order. */
  labels: string;
  recordNumbers: Int32Array;
  lines: Int32Array;
}

/** What the worker answers: the report and the records (when asked for), or the error to rethrow. */
export type ParseReply =
  | { report: ParsedFile['report']; records: PackedRecords | null }
  | { error: { code: ErrorCode; message: string; details?: unknown } | { message: string } };

function ends(texts: readonly string[]): Int32Array {
  const result = new Int32Array(texts.length);
  let end = 0;
  texts.forEach((text, i) => (result[i] = end += text.length));
  return result;
}

export function packRecords(records: ParsedFile['records']): PackedRecords {
  const ids = records.map((r) => r.seqId);
  const sequences = records.map((r) => r.sequence);
  return {
    ids: ids.join(''),
    idEnds: ends(ids),
    sequences: sequences.join(''),
    sequenceEnds: ends(sequences),
    labels: JSON.stringify(records.map((r) => r.labels)),
    recordNumbers: Int32Array.from(records, (r) => r.record),
    lines: Int32Array.from(records, (r) => r.line),
  };
}

export function unpackRecords(packed: PackedRecords): ParsedFile['records'] {
  const labels = JSON.parse(packed.labels) as ParsedFile['records'][number]['labels'][];
  return labels.map((recordLabels, i) => ({
    seqId: packed.ids.slice(i === 0 ? 0 : packed.idEnds[i - 1], packed.idEnds[i]),
    sequence: packed.sequences.slice(i === 0 ? 0 : packed.sequenceEnds[i - 1], packed.sequenceEnds[i]),
    labels: recordLabels,
    record: packed.recordNumbers[i]!,
    line: packed.lines[i]!,
  }));
}

function readSource(source: ImportSource): { fileName: string; text: string } {
  if (source.kind === 'text') return { fileName: source.fileName, text: source.text };
  try {
    const buffer = readFileSync(source.path);
    if (buffer.length > MAX_FILE_BYTES) {
      throw new ApiError('invalid-input', `${source.path}: the file is larger than 512 MB; split it into smaller files.`);
    }
    return { fileName: basename(source.path), text: buffer.toString('utf8') };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder, not a file' : (error as Error).message;
    throw new ApiError('invalid-input', `Cannot read ${source.path}: ${reason}.`);
  }
}

/** Reads and parses a source on the calling thread (the worker runs this too). */
export function readAndParse(source: ImportSource, options: ImportOptions): ParsedFile {
  const { fileName, text } = readSource(source);
  return parseSequenceFile(fileName, text, options);
}

/** The source's size in bytes when known cheaply (text length for uploads), else 0. */
function sourceBytes(source: ImportSource): number {
  if (source.kind === 'text') return source.text.length;
  try {
    return statSync(source.path).size;
  } catch {
    return 0; // readSource reports the missing file.
  }
}

export interface DatasetParser {
  /** On this thread, at once (the CLI, tests, small files). */
  parseNow(source: ImportSource, options: ImportOptions): ParsedFile;
  /** Without holding up the main loop when the file is large. */
  parse(source: ImportSource, options: ImportOptions, want: ParseWant): Promise<ParsedFile>;
}

export const IN_PROCESS_PARSER: DatasetParser = {
  parseNow: readAndParse,
  parse: (source, options) => Promise.resolve(readAndParse(source, options)),
};

function fromReply(reply: ParseReply): ParsedFile {
  if ('report' in reply) return { report: reply.report, records: reply.records ? unpackRecords(reply.records) : [] };
  const { error } = reply;
  throw 'code' in error ? new ApiError(error.code, error.message, error.details) : new Error(error.message);
}

function sourceName(source: ImportSource): string {
  return source.kind === 'text' ? source.fileName : source.path;
}

/** Parses large files in a fresh worker thread (one per file: its memory is returned when it ends). */
export function workerParser(workerFile: string): DatasetParser {
  return {
    parseNow: readAndParse,
    parse(source, options, want) {
      if (sourceBytes(source) < OFF_THREAD_BYTES) return Promise.resolve(readAndParse(source, options));
      return new Promise<ParsedFile>((resolve, reject) => {
        const worker = new Worker(resolvePath(workerFile), { workerData: { source, options, want } satisfies ParseRequest });
        let settled = false;
        const settle = (action: () => void): void => {
          if (settled) return;
          settled = true;
          action();
          void worker.terminate();
        };
        worker.once('message', (reply: ParseReply) => settle(() => {
          try {
            resolve(fromReply(reply));
          } catch (error) {
            reject(error);
          }
        }));
        const stopped = (why: string): void =>
          settle(() => reject(new ApiError('internal', `Reading ${sourceName(source)} stopped unexpectedly (${why}). If the file is very large, split it into smaller files.`)));
        worker.once('error', (error) => stopped(error.message));
        worker.once('exit', (code) => stopped(`exit code ${code}`));
      });
    },
  };
}
