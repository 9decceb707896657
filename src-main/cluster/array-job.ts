/**
 * cluster/array-job — one task run as a Slurm job array of N shards, followed to the end.
 *
 * The job folder holds everything the tasks need and write:
 *   task.json          the task ({ kind, params, input }) exactly as `esm-studio worker` reads it
 *   run-shard.sh       the batch script: `esm-studio worker task.json --shard $SLURM_ARRAY_TASK_ID/N`
 *   shards/<i>/        shard i's work folder (its results, shard.json, its checkpoint)
 *   logs/shard-<i>.<array id>.log  shard i's JSON progress lines, one log per attempt
 *   job.json           the record: arrays submitted, attempts per shard, state
 * Following polls squeue (finished tasks included) and reads the logs' progress lines. A shard
 * has succeeded only when the log of its last attempt ends with a `done` line: Slurm's state alone
 * can be gone (after MinJobAge) or say COMPLETED for a worker that wrote nothing. A failed, killed
 * or cancelled shard is submitted again (a new array of the failed shards) up to the profile's
 * retries; it continues from its checkpoint, so its result is the same bytes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../core/atomic';
import type { ClusterProfile } from './profiles';
import { arrayTasks, hasEnded, sbatch, scancel, type TaskState } from './slurm';

export interface ArrayTask {
  kind: string;
  params: unknown;
  input: unknown;
}

export type ShardState = 'pending' | 'running' | 'done' | 'failed';

export interface ShardStatus {
  shard: number;
  state: ShardState;
  attempts: number;
  /** Fraction done of the current attempt, from its progress lines. */
  fraction: number;
  /** Slurm's state and reason of the last attempt that ended badly, or the worker's error. */
  why: string | null;
}

export interface ArrayJobRecord {
  version: 1;
  profile: string;
  kind: string;
  shards: number;
  /** Array job ids, oldest first, and which shards each ran. */
  arrays: { id: string; shards: number[] }[];
  attempts: number[];
  state: 'running' | 'done' | 'failed' | 'cancelled';
}

export interface ArrayJobOptions {
  shards: number;
  signal?: AbortSignal;
  /** Called after every look at the array. */
  onStatus?(shards: ShardStatus[], fraction: number): void;
}

export interface ArrayJobResult {
  /** The shards' work folders, in shard order (for jobs/shards' merge). */
  shardDirs: string[];
  /** Each shard's task summary (its `done` line). */
  summaries: Record<string, unknown>[];
  record: ArrayJobRecord;
}

/** A job whose shards failed every attempt; names them with their log tails. */
export class ArrayJobFailed extends Error {
  constructor(
    readonly jobDir: string,
    readonly failed: { shard: number; why: string; logTail: string }[],
  ) {
    super(
      `${failed.length === 1 ? 'Shard' : 'Shards'} ${failed.map((f) => f.shard).join(', ')} of the cluster job in ${jobDir} failed on every attempt:\n` +
        failed.map((f) => `shard ${f.shard} (${f.why}), end of its log:\n${f.logTail}`).join('\n'),
    );
  }
}

/** Looks in a row that a task may be missing from squeue (without a `done` line) before it counts as lost. */
const LOOKS_BEFORE_LOST = 3;
/** squeue failures (e.g. slurmctld busy or restarting) tolerated over one job. */
const SQUEUE_FAILURES_TOLERATED = 10;

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export const shardDir = (jobDir: string, shard: number): string => join(jobDir, 'shards', String(shard));
/** The log of shard `shard`'s attempt in array `arrayId` (sbatch's `%a.%A`). */
export const shardLog = (jobDir: string, shard: number, arrayId: string): string => join(jobDir, 'logs', `shard-${shard}.${arrayId}.log`);

/** The array that ran (or runs) the latest attempt of a shard. */
const latestArray = (record: ArrayJobRecord, shard: number): string => record.arrays.findLast((a) => a.shards.includes(shard))!.id;

/** Writes the job folder: the task file, the shards' folders and the batch script. */
function prepareJobFolder(profile: ClusterProfile, jobDir: string, task: ArrayTask, shards: number): string {
  for (let i = 0; i < shards; i++) mkdirSync(shardDir(jobDir, i), { recursive: true });
  mkdirSync(join(jobDir, 'logs'), { recursive: true });
  writeTextAtomically(join(jobDir, 'task.json'), JSON.stringify(task));
  const script = join(jobDir, 'run-shard.sh');
  const worker = [...profile.launcher, 'worker', join(jobDir, 'task.json')].map(quote).join(' ');
  writeFileSync(
    script,
    '#!/bin/bash\n' +
      `# One shard of the ESM Studio job in ${jobDir}: started by sbatch --array, one task per shard.\n` +
      `exec ${worker} --shard "$SLURM_ARRAY_TASK_ID/${shards}" --work-dir ${quote(join(jobDir, 'shards'))}/"$SLURM_ARRAY_TASK_ID"\n`,
    { mode: 0o755 },
  );
  return script;
}

async function submit(profile: ClusterProfile, jobDir: string, script: string, kind: string, shards: number[]): Promise<string> {
  const limit = profile.maxAtOnce > 0 ? `%${profile.maxAtOnce}` : '';
  const args = [
    `--job-name=esm-studio-${kind}`,
    `--array=${shards.join(',')}${limit}`,
    `--output=${join(jobDir, 'logs', 'shard-%a.%A.log')}`,
    `--chdir=${jobDir}`,
    ...(profile.partition ? [`--partition=${profile.partition}`] : []),
    ...(profile.cpusPerTask ? [`--cpus-per-task=${profile.cpusPerTask}`] : []),
    ...profile.extraSbatch,
  ];
  return sbatch(profile, args, script);
}

interface LogView {
  fraction: number;
  done: Record<string, unknown> | null;
  failure: string | null;
}

/** What a shard's log says about its last attempt. */
function readLog(file: string): LogView {
  const view: LogView = { fraction: 0, done: null, failure: null };
  if (!existsSync(file)) return view;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let event: { type?: string; fraction?: number; summary?: Record<string, unknown>; message?: string };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue; // a line cut by a kill
    }
    if (event.type === 'progress') view.fraction = event.fraction ?? view.fraction;
    else if (event.type === 'done') Object.assign(view, { fraction: 1, done: event.summary ?? {} });
    else if (event.type === 'failed' || event.type === 'cancelled') view.failure = event.message ?? event.type;
  }
  return view;
}

function logTail(file: string, lines = 12): string {
  if (!existsSync(file)) return '(no log was written: the task never started)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * A job folder used again (a resumed run) may have arrays of an earlier follower still queued or
 * running: they are cancelled, so that two attempts never write one shard's folder at once.
 */
async function cancelEarlierArrays(profile: ClusterProfile, jobDir: string): Promise<void> {
  const file = join(jobDir, 'job.json');
  if (!existsSync(file)) return;
  const earlier = JSON.parse(readFileSync(file, 'utf8')) as ArrayJobRecord;
  if (earlier.state === 'running') await scancel(profile, earlier.arrays.map((a) => a.id));
}

/** Submits `task` as an array of `options.shards` tasks and follows it until every shard is done. */
export async function runArrayJob(profile: ClusterProfile, jobDir: string, task: ArrayTask, options: ArrayJobOptions): Promise<ArrayJobResult> {
  const count = options.shards;
  await cancelEarlierArrays(profile, jobDir);
  const script = prepareJobFolder(profile, jobDir, task, count);
  const all = Array.from({ length: count }, (_, i) => i);
  const record: ArrayJobRecord = { version: 1, profile: profile.name, kind: task.kind, shards: count, arrays: [], attempts: all.map(() => 0), state: 'running' };
  const save = (): void => writeTextAtomically(join(jobDir, 'job.json'), JSON.stringify(record, null, 2));
  const launch = async (shards: number[]): Promise<void> => {
    const id = await submit(profile, jobDir, script, task.kind, shards);
    record.arrays.push({ id, shards });
    for (const s of shards) record.attempts[s]! += 1;
    save();
  };
  await launch(all);

  const status: ShardStatus[] = all.map((shard) => ({ shard, state: 'pending', attempts: 1, fraction: 0, why: null }));
  const summaries: Record<string, unknown>[] = [];
  const unlisted = new Map<number, number>();
  let squeueFailures = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new Error('cancelled');
      const retry = await lookPatiently(() => look(profile, jobDir, record, status, summaries, unlisted), () => (squeueFailures += 1) <= SQUEUE_FAILURES_TOLERATED);
      const given = status.filter((s) => s.state === 'failed' && !retry.includes(s.shard));
      if (retry.length > 0) {
        await launch(retry);
        for (const s of retry) Object.assign(status[s]!, { state: 'pending', attempts: record.attempts[s], fraction: 0 });
      }
      options.onStatus?.(status.map((s) => ({ ...s })), status.reduce((sum, s) => sum + (s.state === 'done' ? 1 : s.fraction), 0) / count);
      const settled = status.every((s) => s.state === 'done' || s.state === 'failed');
      if (settled && given.length > 0) {
        record.state = 'failed';
        save();
        throw new ArrayJobFailed(jobDir, given.map((s) => ({ shard: s.shard, why: s.why ?? 'failed', logTail: logTail(shardLog(jobDir, s.shard, latestArray(record, s.shard))) })));
      }
      if (status.every((s) => s.state === 'done')) break;
      await pause(profile.pollSeconds * 1000, options.signal);
    }
  } catch (error) {
    if (options.signal?.aborted) {
      await scancel(profile, record.arrays.map((a) => a.id));
      record.state = 'cancelled';
      save();
    }
    throw error;
  }
  record.state = 'done';
  save();
  return { shardDirs: all.map((s) => shardDir(jobDir, s)), summaries, record };
}

/**
 * One look at every shard still under way: updates `status` (and `summaries` of finished shards);
 * returns the failed shards that have attempts left.
 */
async function look(profile: ClusterProfile, jobDir: string, record: ArrayJobRecord, status: ShardStatus[], summaries: Record<string, unknown>[], unlisted: Map<number, number>): Promise<number[]> {
  const open = status.filter((s) => s.state === 'pending' || s.state === 'running');
  // Each open shard's latest array, and what Slurm says of its task there.
  const latest = new Map(open.map((s) => [s.shard, latestArray(record, s.shard)]));
  const listed = new Map<string, TaskState[]>();
  for (const id of new Set(latest.values())) listed.set(id, await arrayTasks(profile, id));
  const retry: number[] = [];
  for (const s of open) {
    const slurm = listed.get(latest.get(s.shard)!)!.find((t) => t.task === s.shard);
    const log = readLog(shardLog(jobDir, s.shard, latest.get(s.shard)!));
    // A task Slurm stops listing without a `done` line counts as lost only after a few looks in a row.
    unlisted.set(s.shard, slurm || log.done ? 0 : (unlisted.get(s.shard) ?? 0) + 1);
    if (!slurm && !log.done && unlisted.get(s.shard)! < LOOKS_BEFORE_LOST) continue;
    const ended = !slurm || hasEnded(slurm.state);
    s.fraction = log.fraction;
    if (!ended) {
      s.state = slurm.state === 'PENDING' ? 'pending' : 'running';
      continue;
    }
    if (log.done && (!slurm || slurm.state === 'COMPLETED')) {
      s.state = 'done';
      summaries[s.shard] = log.done;
      continue;
    }
    s.state = 'failed';
    s.why = slurm ? `${slurm.state}${slurm.reason && slurm.reason !== 'None' ? `, ${slurm.reason}` : ''}${log.failure ? `: ${log.failure}` : ''}` : (log.failure ?? 'gone from the queue without finishing');
    if (record.attempts[s.shard]! <= profile.retries) retry.push(s.shard);
  }
  return retry;
}

/** Looks at the array; a failed squeue (a busy slurmctld) is tolerated while `tolerate()` says so, and the look skipped. */
async function lookPatiently(lookOnce: () => Promise<number[]>, tolerate: () => boolean): Promise<number[]> {
  try {
    return await lookOnce();
  } catch (error) {
    if (!tolerate()) throw error;
    return [];
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolvePromise) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolvePromise();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
