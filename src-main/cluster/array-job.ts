/**
 * cluster/array-job — one task run as a Slurm job array of N shards, followed to the end.
 *
 * The job folder holds everything the tasks need and write:
 *   task.json          the task ({ kind, params, input }) exactly as `esm-studio worker` reads it
 *   run-shard.sh       the batch script: `esm-studio worker task.json --shard $SLURM_ARRAY_TASK_ID/N`
 *   run-merge.sh       the dependent merge step: `esm-studio worker task.json --merge` (cluster/merge)
 *   shards/<i>/        shard i's work folder (its results, shard.json, its checkpoint)
 *   logs/shard-<i>.<array id>.log  shard i's JSON progress lines, one log per attempt
 *   job.json           the record: profile, merge target, arrays submitted, attempts per shard, state
 *   cancel-requested   written by `cluster cancel`: a follower in another process stops retrying
 *   status.json        the follower's latest look at the shards (Slurm's states), for the app's Jobs panel
 * The record is enough for another process to pick the job up (cluster/follow): a job folder that
 * holds the same task unfinished is followed again, not submitted again; only shards without a
 * finished result are (a resumed failed or cancelled job gets a fresh retry budget).
 * Following polls squeue (finished tasks included) and reads the logs' progress lines. A shard
 * has succeeded only when the log of its last attempt ends with a `done` line: Slurm's state alone
 * can be gone (after MinJobAge) or say COMPLETED for a worker that wrote nothing. A failed, killed
 * or cancelled shard is submitted again (a new array of the failed shards) up to the profile's
 * retries; it continues from its checkpoint, so its result is the same bytes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../core/atomic';
import type { ClusterProfile } from './profiles';
import { rememberArray } from './registry';
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
  version: 2;
  profile: string;
  /** The profile as resolved at submission (its environment reduced to SLURM_CONF): a later process needs nothing else. */
  profileSettings?: Omit<ClusterProfile, 'env'> & { slurmConf: string | null };
  kind: string;
  shards: number;
  /** Where the merged result goes (the task's work folder). */
  workDir?: string;
  /** Array job ids, oldest first, and which shards each ran. */
  arrays: { id: string; shards: number[] }[];
  /** The dependent merge steps submitted (the latest is the live one). */
  mergeJobs?: string[];
  attempts: number[];
  /** Attempts each shard had when the job was last resumed: retries count from there. */
  retryBase?: number[];
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** When the job was (last) submitted or resumed, ISO time, for the time-left estimate. */
  submittedAt?: string;
  /** Progress at submittedAt (shards already done when a job is resumed). */
  fractionAtSubmit?: number;
  /** Who owns the merged result: the command line's folder, or a project's run (merged by the app). */
  origin?: 'files' | 'project';
}

export interface ArrayJobOptions {
  shards: number;
  signal?: AbortSignal;
  /** Called after every look at the array. */
  onStatus?(shards: ShardStatus[], fraction: number): void;
  /** Also submit the dependent merge step (`worker task.json --merge`, afterok on the arrays). */
  mergeStep?: boolean;
  /** Where the merge goes (recorded for a later process). */
  workDir?: string;
  origin?: ArrayJobRecord['origin'];
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
        failed.map((f) => `shard ${f.shard} (${f.why}), end of its log:\n${f.logTail}`).join('\n') +
        `\nFix the cause, then \`esm-studio cluster resume ${jobDir}\` submits only ${failed.length === 1 ? 'that shard' : 'those shards'} again.`,
    );
  }
}

/** Looks in a row that a task may be missing from squeue (without a `done` line) before it counts as lost. */
const LOOKS_BEFORE_LOST = 3;
/** squeue failures (e.g. slurmctld busy or restarting) tolerated over one job. */
const SQUEUE_FAILURES_TOLERATED = 10;

export const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export const shardDir = (jobDir: string, shard: number): string => join(jobDir, 'shards', String(shard));
/** The log of shard `shard`'s attempt in array `arrayId` (sbatch's `%a.%A`). */
export const shardLog = (jobDir: string, shard: number, arrayId: string): string => join(jobDir, 'logs', `shard-${shard}.${arrayId}.log`);
export const recordFile = (jobDir: string): string => join(jobDir, 'job.json');
export const cancelFile = (jobDir: string): string => join(jobDir, 'cancel-requested');
/** The follower's latest look at the shards: { at, shards: ShardStatus[] }. */
export const statusFile = (jobDir: string): string => join(jobDir, 'status.json');

/** The array that ran (or runs) the latest attempt of a shard. */
export const latestArray = (record: ArrayJobRecord, shard: number): string => record.arrays.findLast((a) => a.shards.includes(shard))!.id;

export function readRecord(jobDir: string): ArrayJobRecord {
  const file = recordFile(jobDir);
  if (!existsSync(file)) throw new Error(`${jobDir} is not a cluster job's folder: it has no job.json.`);
  return JSON.parse(readFileSync(file, 'utf8')) as ArrayJobRecord;
}

export function saveRecord(jobDir: string, record: ArrayJobRecord): void {
  writeTextAtomically(recordFile(jobDir), JSON.stringify(record, null, 2));
}

/** The profile as the record keeps it: everything but the environment, whose SLURM_CONF is kept. */
function profileSettings(profile: ClusterProfile): NonNullable<ArrayJobRecord['profileSettings']> {
  const { env, ...settings } = profile;
  return { ...settings, slurmConf: env.SLURM_CONF ?? null };
}

/**
 * Writes the job folder: the task file, the shards' folders and the batch scripts, whose paths are
 * the folder as the nodes see it (`nodeDir`: the folder itself, or its copy on an SSH cluster).
 */
function prepareJobFolder(profile: ClusterProfile, jobDir: string, nodeDir: string, task: ArrayTask, shards: number): void {
  // A different task in a used folder: nothing of the earlier one may be merged into this one.
  for (const stale of ['shards', 'logs', 'merged.json', 'merge.lock', 'cancel-requested', 'status.json']) rmSync(join(jobDir, stale), { recursive: true, force: true });
  for (let i = 0; i < shards; i++) mkdirSync(shardDir(jobDir, i), { recursive: true });
  mkdirSync(join(jobDir, 'logs'), { recursive: true });
  writeTextAtomically(join(jobDir, 'task.json'), JSON.stringify(task));
  const worker = [...profile.launcher, 'worker', join(nodeDir, 'task.json')].map(quote).join(' ');
  writeFileSync(
    join(jobDir, 'run-shard.sh'),
    '#!/bin/bash\n' +
      `# One shard of the ESM Studio job in ${nodeDir}: started by sbatch --array, one task per shard.\n` +
      `exec ${worker} --shard "$SLURM_ARRAY_TASK_ID/${shards}" --work-dir ${quote(join(nodeDir, 'shards'))}/"$SLURM_ARRAY_TASK_ID"\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(jobDir, 'run-merge.sh'),
    '#!/bin/bash\n' +
      `# Merges the shards of the ESM Studio job in ${nodeDir} once all have succeeded (sbatch --dependency=afterok),\n` +
      '# so the result is merged even when the process that submitted the job is gone.\n' +
      `exec ${worker} --merge\n`,
    { mode: 0o755 },
  );
}

/** The sbatch options every step of the job gets from the profile. */
function profileOptions(profile: ClusterProfile): string[] {
  return [
    ...(profile.partition ? [`--partition=${profile.partition}`] : []),
    ...(profile.account ? [`--account=${profile.account}`] : []),
    ...(profile.qos ? [`--qos=${profile.qos}`] : []),
    ...(profile.timeLimit ? [`--time=${profile.timeLimit}`] : []),
  ];
}

async function submitArray(profile: ClusterProfile, jobDir: string, kind: string, shards: number[]): Promise<string> {
  const limit = profile.maxAtOnce > 0 ? `%${profile.maxAtOnce}` : '';
  const args = [
    `--job-name=esm-studio-${kind}`,
    `--array=${shards.join(',')}${limit}`,
    `--output=${join(jobDir, 'logs', 'shard-%a.%A.log')}`,
    `--chdir=${jobDir}`,
    ...profileOptions(profile),
    ...(profile.cpusPerTask ? [`--cpus-per-task=${profile.cpusPerTask}`] : []),
    ...(profile.gpusPerTask ? [`--gpus-per-task=${profile.gpusPerTask}`] : []),
    ...(profile.memory ? [`--mem=${profile.memory}`] : []),
    ...profile.extraSbatch,
  ];
  return sbatch(profile, args, join(jobDir, 'run-shard.sh'));
}

/**
 * The merge step: runs once the latest array has succeeded and every earlier one has ended
 * (their failed tasks were submitted again in a later array). Slurm cancels it when a dependency
 * can no longer be met (--kill-on-invalid-dep), e.g. a shard failed: then it is submitted again
 * with the shard's next array, or the job is picked up later (cluster/follow).
 */
async function submitMergeStep(profile: ClusterProfile, jobDir: string, record: ArrayJobRecord): Promise<string> {
  const [latest, ...earlier] = [...record.arrays].reverse().map((a) => a.id);
  const dependency = [`afterok:${latest}`, ...earlier.map((id) => `afterany:${id}`)].join(',');
  const args = [
    `--job-name=esm-studio-merge`,
    `--dependency=${dependency}`,
    '--kill-on-invalid-dep=yes',
    `--output=${join(jobDir, 'logs', 'merge.%j.log')}`,
    `--chdir=${jobDir}`,
    ...profileOptions(profile),
    ...(profile.memory ? [`--mem=${profile.memory}`] : []),
  ];
  return sbatch(profile, args, join(jobDir, 'run-merge.sh'));
}

/** Cancels what may still be queued or running; Slurm's complaint about ids it no longer knows is no failure. */
export async function cancelQuietly(profile: ClusterProfile, ids: string[]): Promise<void> {
  try {
    await scancel(profile, ids);
  } catch {
    // finished long ago (Invalid job id) or already completing: nothing left to cancel
  }
}

export interface LogView {
  fraction: number;
  done: Record<string, unknown> | null;
  failure: string | null;
}

/** What a shard's log says about its last attempt. */
export function readLog(file: string): LogView {
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

export function logTail(file: string, lines = 12): string {
  if (!existsSync(file)) return '(no log was written: the task never started)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Whether the shard's latest attempt finished (its log ends with a `done` line). */
export function shardFinished(jobDir: string, record: ArrayJobRecord, shard: number): Record<string, unknown> | null {
  if (!record.arrays.some((a) => a.shards.includes(shard))) return null;
  return readLog(shardLog(jobDir, shard, latestArray(record, shard))).done;
}

const sameTask = (jobDir: string, task: ArrayTask): boolean => {
  const file = join(jobDir, 'task.json');
  return existsSync(file) && readFileSync(file, 'utf8') === JSON.stringify(task);
};

/** A job folder holding this very task, not yet merged: it is followed again rather than submitted again. */
function adoptable(jobDir: string, task: ArrayTask, count: number): ArrayJobRecord | null {
  if (!existsSync(recordFile(jobDir)) || !sameTask(jobDir, task)) return null;
  const record = readRecord(jobDir);
  return record.version === 2 && record.shards === count ? record : null;
}

/** Submits `task` as an array of `options.shards` tasks (or picks up the same task's job in `jobDir`) and follows it until every shard is done. */
export async function runArrayJob(profile: ClusterProfile, jobDir: string, task: ArrayTask, options: ArrayJobOptions): Promise<ArrayJobResult> {
  const count = options.shards;
  const all = Array.from({ length: count }, (_, i) => i);
  // On an SSH cluster the folder is mirrored there (cluster/ssh): the task names the models' copies, logs and results come back.
  const remote = profile.remoteFolder?.(jobDir) ?? null;
  const nodeDir = remote?.nodeDir ?? jobDir;
  const nodeTask = remote ? await remote.stageTask(task) : task;
  let record = adoptable(jobDir, nodeTask, count);
  const adopted = record !== null;
  if (!record) {
    // A used folder of another task: what an earlier follower left queued must not write here.
    if (existsSync(recordFile(jobDir))) {
      const earlier = readRecord(jobDir);
      if (earlier.state === 'running') await cancelQuietly(profile, [...earlier.arrays.map((a) => a.id), ...(earlier.mergeJobs ?? [])]);
    }
    prepareJobFolder(profile, jobDir, nodeDir, nodeTask, count);
    record = { version: 2, profile: profile.name, profileSettings: profileSettings(profile), kind: task.kind, shards: count, workDir: options.workDir, arrays: [], mergeJobs: [], attempts: all.map(() => 0), retryBase: all.map(() => 0), state: 'running', submittedAt: new Date().toISOString(), fractionAtSubmit: 0, origin: options.origin };
  }
  const job = record;
  const save = (): void => saveRecord(jobDir, job);
  const launch = async (shards: number[]): Promise<void> => {
    await remote?.push();
    const id = await submitArray(profile, nodeDir, task.kind, shards);
    rememberArray(jobDir, id);
    job.arrays.push({ id, shards });
    for (const s of shards) job.attempts[s]! += 1;
    save();
    // Not over SSH: the merge target is a folder of this computer, which the nodes cannot see.
    if (options.mergeStep && !remote) {
      const previous = job.mergeJobs ?? [];
      await cancelQuietly(profile, previous); // its dependency on a failed array can never be met
      job.mergeJobs = [...previous, await submitMergeStep(profile, jobDir, job)];
      save();
    }
  };

  const status: ShardStatus[] = all.map((shard) => ({ shard, state: 'pending', attempts: job.attempts[shard]!, fraction: 0, why: null }));
  const summaries: Record<string, unknown>[] = [];
  if (adopted) {
    rmSync(cancelFile(jobDir), { force: true });
    await remote?.pull('logs');
    const wasRunning = job.state === 'running';
    // Shards whose latest attempt finished are kept; the others are followed (a live job) or submitted again.
    const open: number[] = [];
    for (const s of all) {
      const done = shardFinished(jobDir, job, s);
      if (!done) {
        open.push(s);
        continue;
      }
      Object.assign(status[s]!, { state: 'done', fraction: 1 });
      summaries[s] = done;
    }
    if (!wasRunning) {
      job.retryBase = [...job.attempts];
      job.submittedAt = new Date().toISOString();
      job.fractionAtSubmit = (count - open.length) / count;
    }
    job.state = 'running';
    job.workDir = options.workDir ?? job.workDir;
    save();
    if (!wasRunning && open.length > 0) {
      await launch(open);
      for (const s of open) status[s]!.attempts = job.attempts[s]!;
    }
  } else await launch(all);

  const unlisted = new Map<number, number>();
  let squeueFailures = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new Error('cancelled');
      if (existsSync(cancelFile(jobDir))) throw new ArrayJobCancelled(jobDir);
      const fetchLogs = remote ? () => remote.pull('logs') : undefined;
      const retry = await lookPatiently(() => look(profile, jobDir, job, status, summaries, unlisted, fetchLogs), () => (squeueFailures += 1) <= SQUEUE_FAILURES_TOLERATED);
      const given = status.filter((s) => s.state === 'failed' && !retry.includes(s.shard));
      if (retry.length > 0 && !existsSync(cancelFile(jobDir))) {
        await launch(retry);
        for (const s of retry) Object.assign(status[s]!, { state: 'pending', attempts: job.attempts[s], fraction: 0 });
      }
      options.onStatus?.(status.map((s) => ({ ...s })), overallFraction(status));
      // What this look saw (Slurm's states included), for the app's Jobs panel (cluster/job-view).
      writeTextAtomically(statusFile(jobDir), JSON.stringify({ at: new Date().toISOString(), shards: status }));
      const settled = status.every((s) => s.state === 'done' || s.state === 'failed');
      if (settled && given.length > 0) {
        job.state = 'failed';
        save();
        await cancelQuietly(profile, job.mergeJobs ?? []);
        throw new ArrayJobFailed(jobDir, failures(jobDir, job, given));
      }
      if (status.every((s) => s.state === 'done')) break;
      await pause(profile.pollSeconds * 1000, options.signal);
    }
  } catch (error) {
    if (options.signal?.aborted || error instanceof ArrayJobCancelled) {
      await cancelQuietly(profile, [...job.arrays.map((a) => a.id), ...(job.mergeJobs ?? [])]);
      job.state = 'cancelled';
      save();
    }
    throw error;
  }
  await remote?.pull('shards');
  return { shardDirs: all.map((s) => shardDir(jobDir, s)), summaries, record: job };
}

/** A job cancelled from another process (`esm-studio cluster cancel`). */
export class ArrayJobCancelled extends Error {
  constructor(readonly jobDir: string) {
    super(`The cluster job in ${jobDir} was cancelled (esm-studio cluster cancel); \`esm-studio cluster resume ${jobDir}\` continues it.`);
  }
}

export function overallFraction(status: readonly ShardStatus[]): number {
  return status.reduce((sum, s) => sum + (s.state === 'done' ? 1 : s.fraction), 0) / Math.max(1, status.length);
}

/** The failed shards with why and the end of the log of their last attempt. */
export function failures(jobDir: string, record: ArrayJobRecord, failed: readonly ShardStatus[]): { shard: number; why: string; logTail: string }[] {
  return failed.map((s) => ({ shard: s.shard, why: s.why ?? 'failed', logTail: logTail(shardLog(jobDir, s.shard, latestArray(record, s.shard))) }));
}

/**
 * One look at every shard still under way: updates `status` (and `summaries` of finished shards);
 * returns the failed shards that have attempts left.
 */
export async function look(profile: ClusterProfile, jobDir: string, record: ArrayJobRecord, status: ShardStatus[], summaries: Record<string, unknown>[], unlisted: Map<number, number>, fetchLogs?: () => Promise<void>): Promise<number[]> {
  const open = status.filter((s) => s.state === 'pending' || s.state === 'running');
  // Each open shard's latest array, and what Slurm says of its task there.
  const latest = new Map(open.map((s) => [s.shard, latestArray(record, s.shard)]));
  const listed = new Map<string, TaskState[]>();
  for (const id of new Set(latest.values())) listed.set(id, await arrayTasks(profile, id));
  // Logs copied from an SSH cluster are fetched after squeue: a task squeue saw end has its `done` line in them.
  await fetchLogs?.();
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
    if (record.attempts[s.shard]! - (record.retryBase?.[s.shard] ?? 0) <= profile.retries) retry.push(s.shard);
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

export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
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
