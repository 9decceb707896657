/**
 * services/dataset-parser — reads and parses a sequence file for the datasets service, either
 * right here or, for large files, in a worker thread (dataset-parse-worker, built next to the
 * transports as dataset-parse-worker.js) so that a 50 MB upload does not keep the main loop, and
 * with it every other client's requests, waiting while it is parsed.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
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

/** What the worker answers: the parsed file (records only when asked for), or the error to rethrow. */
export type ParseReply = { parsed: ParsedFile } | { error: { code: ErrorCode; message: string; details?: unknown } | { message: string } };

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
  if ('parsed' in reply) return reply.parsed;
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
        const worker = new Worker(workerFile, { workerData: { source, options, want } satisfies ParseRequest });
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
