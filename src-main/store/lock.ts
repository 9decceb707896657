/**
 * store/lock — one process runs jobs on a data folder at a time. The process that runs jobs (the
 * app, serve mode, a CLI command that runs a job) holds `esm-studio.lock` with its pid; a second
 * one is refused with a message naming the holder. The lock of a process that no longer exists is
 * taken over, so a crash never locks a user out.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../api/errors';
import { isProcessAlive } from '../core/process';

interface LockContent {
  pid: number;
  /** What holds it, in words: "serve mode", "the desktop app", "the command line". */
  holder: string;
  since: string;
}

export interface FolderLock {
  release(): void;
}

/** Locks held by this process, by file, with how many hosts share each (tests open several). */
const held = new Map<string, number>();

function readLock(file: string): LockContent | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch {
    return null; // Missing, or half-written by a process that died while writing it.
  }
}

function writeNew(file: string, content: LockContent): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
  return true;
}

function takeOver(file: string, content: LockContent): void {
  const staging = `${file}.${process.pid}`;
  rmSync(staging, { force: true });
  if (!writeNew(staging, content)) throw new Error(`Could not write ${staging}`);
  renameSync(staging, file);
}

export function lockDataFolder(root: string, holder: string): FolderLock {
  const file = join(root, 'esm-studio.lock');
  const count = held.get(file) ?? 0;
  if (count === 0) {
    const content: LockContent = { pid: process.pid, holder, since: new Date().toISOString() };
    if (!writeNew(file, content)) {
      const other = readLock(file);
      if (other && other.pid !== process.pid && isProcessAlive(other.pid)) {
        throw new ApiError(
          'refused',
          `ESM Studio is already running on this data folder (${root}): ${other.holder}, process ${other.pid}, since ${other.since}. ` +
            'Use that one, or stop it first. To work on other data at the same time, set ESM_STUDIO_HOME to another folder.',
        );
      }
      takeOver(file, content);
    }
  }
  held.set(file, count + 1);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      const left = (held.get(file) ?? 1) - 1;
      if (left > 0) return void held.set(file, left);
      held.delete(file);
      if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}
