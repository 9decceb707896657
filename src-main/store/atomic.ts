/**
 * store/atomic — writing a file so that readers only ever see a complete one: the
 * bytes go to `<path>.partial`, are fsynced, then renamed over `<path>`. A failure on the way
 * removes the partial file and rethrows, naming the file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Appends bytes to an open file; handed to the body of `writeAtomically`. */
export interface FileSink {
  write(bytes: Uint8Array): void;
}

export function writeAtomically(path: string, body: (sink: FileSink) => void): void {
  const partial = openPartial(path);
  try {
    body(partial.sink);
    commit(path, partial);
  } catch (error) {
    throw abort(path, partial, error);
  }
}

/** The same, for a body that awaits (one that yields to the event loop between chunks). */
export async function writeAtomicallyAsync(path: string, body: (sink: FileSink) => Promise<void>): Promise<void> {
  const partial = openPartial(path);
  try {
    await body(partial.sink);
    commit(path, partial);
  } catch (error) {
    throw abort(path, partial, error);
  }
}

export function writeBytesAtomically(path: string, bytes: Uint8Array): void {
  writeAtomically(path, (sink) => sink.write(bytes));
}

interface Partial {
  path: string;
  fd: number | undefined;
  sink: FileSink;
}

function openPartial(path: string): Partial {
  const partialPath = `${path}.partial`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(partialPath, 'w');
    const partial: Partial = { path: partialPath, fd, sink: { write: (bytes) => writeAll(fd, bytes) } };
    return partial;
  } catch (error) {
    throw named(path, error);
  }
}

function commit(path: string, partial: Partial): void {
  const fd = partial.fd as number;
  partial.fd = undefined;
  try {
    fsyncSync(fd); // the data must be on disk before the rename makes it visible
  } finally {
    closeSync(fd);
  }
  renameSync(partial.path, path);
  syncDirectory(dirname(path));
}

function abort(path: string, partial: Partial, error: unknown): Error {
  if (partial.fd !== undefined) {
    try {
      closeSync(partial.fd);
    } catch {
      // already closed
    }
  }
  rmSync(partial.path, { force: true });
  return named(path, error);
}

/** Errors from the body usually name the file already; fs errors name only the partial path. */
function named(path: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith(`${path}:`)) return error instanceof Error ? error : new Error(message);
  return new Error(`${path}: ${message}`, { cause: error });
}

export function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Makes the rename durable. Windows cannot open a folder for fsync, and needs not to. */
export function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on folders; the file itself is already synced.
  }
}
