/**
 * cluster/merge — merging a cluster job's shards into its result, exactly once. Two processes may
 * try: the one following the array (the command, the app) and the dependent merge step Slurm
 * starts after the last shard (`esm-studio worker task.json --merge`), which merges even when the
 * follower is gone. A lock file created exclusively (`merge.lock`, holding the merger's host and
 * pid) lets one of them merge; the result's summary is then written atomically to merged.json,
 * which every later try reads instead of merging again. A lock whose process died on this host is
 * taken over; a merge is written whole again by whoever takes over, so a half-done one is harmless.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { TaskKind } from '../api/tasks';
import { writeTextAtomically } from '../core/atomic';
import { mergeTaskShards, type MergedTask } from '../jobs/shard-kinds';
import { pause, readRecord, shardDir, shardFinished, type ArrayTask } from './array-job';

export const mergedFile = (jobDir: string): string => join(jobDir, 'merged.json');
const lockFile = (jobDir: string): string => join(jobDir, 'merge.lock');
/** A lock held by a process on another host is taken over only after this long without a result. */
const FOREIGN_LOCK_MS = 30 * 60_000;

/** The merged result's summary and artifacts, and the folder the files were merged into. */
export interface MergedJob extends MergedTask {
  workDir: string;
}

export function readMerged(jobDir: string): MergedJob | null {
  return existsSync(mergedFile(jobDir)) ? (JSON.parse(readFileSync(mergedFile(jobDir), 'utf8')) as MergedJob) : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the merge lock, or says who holds it; a dead holder's lock is removed and taken. */
function tryLock(jobDir: string): boolean {
  const file = lockFile(jobDir);
  try {
    writeFileSync(file, JSON.stringify({ host: hostname(), pid: process.pid }), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let holder: { host?: string; pid?: number } = {};
  try {
    holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
  } catch {
    // being written right now, or gone: look again later
    return false;
  }
  const dead = holder.host === hostname() ? !alive(holder.pid ?? -1) : Date.now() - statSync(file).mtimeMs > FOREIGN_LOCK_MS;
  if (dead) rmSync(file, { force: true });
  return false;
}

/** Runs `merge` once per job folder, whichever process asks first; the others get its result. */
export async function mergeOnce(jobDir: string, merge: () => Promise<MergedJob>, signal?: AbortSignal): Promise<MergedJob> {
  for (;;) {
    const merged = readMerged(jobDir);
    if (merged) return merged;
    if (signal?.aborted) throw new Error('cancelled');
    if (tryLock(jobDir)) {
      try {
        const again = readMerged(jobDir);
        if (again) return again;
        const result = await merge();
        writeTextAtomically(mergedFile(jobDir), JSON.stringify(result));
        return result;
      } finally {
        rmSync(lockFile(jobDir), { force: true });
      }
    }
    await pause(200, signal);
  }
}

/** Shards of the job whose latest attempt has not finished (no `done` line). */
export function unfinishedShards(jobDir: string): number[] {
  const record = readRecord(jobDir);
  return Array.from({ length: record.shards }, (_, s) => s).filter((s) => !shardFinished(jobDir, record, s));
}

/**
 * Merges a job's shards into `workDir` (default: the record's), once: what `worker --merge` runs.
 * Refuses while a shard has not finished, naming it.
 */
export async function mergeClusterJob(jobDir: string, workDir?: string, signal?: AbortSignal): Promise<MergedJob> {
  const record = readRecord(jobDir);
  const target = workDir ?? record.workDir;
  if (!target) throw new Error(`${jobDir}/job.json names no folder to merge into.`);
  const already = readMerged(jobDir);
  // Merged elsewhere (the merge step, into the folder of a command that has gone since): merged here again.
  if (already && already.workDir === target) return already;
  if (already) rmSync(mergedFile(jobDir), { force: true });
  const open = unfinishedShards(jobDir);
  if (open.length > 0) throw new Error(`Shard${open.length === 1 ? '' : 's'} ${open.join(', ')} of the cluster job in ${jobDir} ${open.length === 1 ? 'has' : 'have'} not finished; nothing was merged.`);
  const task = JSON.parse(readFileSync(join(jobDir, 'task.json'), 'utf8')) as ArrayTask;
  const all = Array.from({ length: record.shards }, (_, s) => s);
  const summaries = all.map((s) => shardFinished(jobDir, record, s)!);
  const started = record.submittedAt ? Date.parse(record.submittedAt) : Date.now();
  return mergeOnce(
    jobDir,
    async () => ({ ...(await mergeTaskShards({ kind: task.kind as TaskKind, params: task.params, input: task.input }, all.map((s) => shardDir(jobDir, s)), target, summaries, (Date.now() - started) / 1000)), workDir: target }),
    signal,
  );
}
