/**
 * core/atomic — the one atomic write: a file that readers only ever see complete. The
 * bytes go to `<path>.partial`, are fsynced, then renamed over `<path>`. A failure on the way
 * removes the partial file and rethrows, naming the file. Also the one home of `writeFailure`:
 * a full disk (ENOSPC) reads "The disk is full while writing <file>; free space and resume" on
 * every write path (atomic files, streamed matrices, checkpoints, exports, merged models).
 *
 * The same for a set of files: they are written into a staging folder `<parent>/<prefix><pid>`
 * and moved into `<parent>` by `publishStaging` in a chosen order (embed's run.json last, a
 * fine-tune's training.json first). A process killed while staging leaves an unsealed folder,
 * which `settleStaging` removes; one killed while moving leaves a sealed folder, which
 * `settleStaging` finishes moving. Folders of processes that still run are left alone.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isProcessAlive } from './process';

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

/** A text file (UTF-8), written atomically. */
export function writeTextAtomically(path: string, text: string): void {
  writeBytesAtomically(path, new TextEncoder().encode(text));
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
  if (isDiskFull(error)) return writeFailure(path, error);
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith(`${path}:`)) return error instanceof Error ? error : new Error(message);
  return new Error(`${path}: ${message}`, { cause: error });
}

/** A full disk (or a full quota), which the user can fix by freeing space and resuming. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || error instanceof DiskFullError;
}

/** Says which file could not be written because the disk is full, and what to do. */
export class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor(
    readonly path: string,
    cause?: unknown,
  ) {
    super(`The disk is full while writing ${path}; free space and resume.`, { cause });
  }
}

/**
 * The error to rethrow when writing `path` failed: a full disk becomes a DiskFullError naming
 * `path` (the file the user knows, not its `.partial`), anything else is returned as it was.
 * An error that already names a file (a DiskFullError from deeper down) is kept.
 */
export function writeFailure(path: string, error: unknown): Error {
  if (error instanceof DiskFullError) return error;
  if (isDiskFull(error)) return new DiskFullError(path, error);
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs `body`, which writes `path`; a full disk on the way is reported naming `path`. */
export function writingFile<T>(path: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw writeFailure(path, error);
  }
}

/** The same, for a body that awaits. */
export async function writingFileAsync<T>(path: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw writeFailure(path, error);
  }
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

// ---------------------------------------------------------------------------------------------
// Staging folders: a set of files that appears complete or not at all

/** Written into a staging folder once every file is in it: only a sealed folder is published. */
const SEALED = '.sealed';

/** The order in which a staging folder's entries arrive in place (see publishStaging). */
export interface PublishOrder {
  /** Moved before every other entry (e.g. a summary that must be there whenever the results are). */
  first?: readonly string[];
  /** Moved after every other entry, and removed from the target first (the mark of a complete set). */
  last?: readonly string[];
}

/** A fresh staging folder `<parent>/<prefix><pid>` for this process. */
export function openStaging(parent: string, prefix: string): string {
  const staging = join(parent, `${prefix}${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  writingFile(staging, () => mkdirSync(staging, { recursive: true }));
  return staging;
}

/**
 * Marks `staging` complete and moves its entries into `parent` (replacing entries of the same
 * name, folders too; other files in `parent` stay), in `order`, then removes it. Once sealed, a
 * move cut short by a crash is finished by `settleStaging`.
 */
export function publishStaging(staging: string, parent: string, order: PublishOrder = {}): void {
  writeBytesAtomically(join(staging, SEALED), new Uint8Array(0));
  moveSealed(staging, parent, order);
}

function moveSealed(staging: string, parent: string, order: PublishOrder): void {
  const first = order.first ?? [];
  const last = order.last ?? [];
  for (const name of last) rmSync(join(parent, name), { recursive: true, force: true });
  syncDirectory(parent);
  const entries = readdirSync(staging).filter((entry) => entry !== SEALED);
  const middle = entries.filter((entry) => !first.includes(entry) && !last.includes(entry));
  for (const entry of [...first, ...middle, ...last]) {
    if (!entries.includes(entry)) continue;
    const target = join(parent, entry);
    rmSync(target, { recursive: true, force: true }); // a folder cannot be renamed over
    renameSync(join(staging, entry), target);
  }
  syncDirectory(parent);
  rmSync(staging, { recursive: true, force: true });
}

/** The pid in a `<prefix><pid>` folder name; null for other names. */
function stagingOwner(entry: string, prefix: string): number | null {
  if (!entry.startsWith(prefix)) return null;
  const pid = Number(entry.slice(prefix.length));
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Whether a folder's owner is gone (this process counts as gone: its earlier attempt failed). */
function abandoned(pid: number): boolean {
  return pid === process.pid || !isProcessAlive(pid);
}

/**
 * Cleans up after killed processes in `parent`: a sealed staging folder is moved into place (its
 * files were complete; `order` as its publisher used), any other abandoned `<prefix><pid>`
 * folder is removed. Folders of running processes stay. Returns the folders it handled.
 */
export function settleStaging(parent: string, prefix: string, order: PublishOrder = {}): string[] {
  if (!existsSync(parent)) return [];
  const handled: string[] = [];
  for (const entry of readdirSync(parent)) {
    const pid = stagingOwner(entry, prefix);
    if (pid === null || !abandoned(pid)) continue;
    const staging = join(parent, entry);
    if (existsSync(join(staging, SEALED))) moveSealed(staging, parent, order);
    else rmSync(staging, { recursive: true, force: true });
    handled.push(entry);
  }
  return handled;
}
