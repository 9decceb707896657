/**
 * cluster/follow — a cluster job seen from its folder alone, for any process: following it again
 * after the process that submitted it is gone (the app or serve restarted, a command killed),
 * resuming a failed or cancelled one, a one-off status, and cancelling. Everything needed is in
 * the job folder: task.json, job.json (with the profile as it was resolved) and the shards' logs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskKind } from '../api/tasks';
import { ArrayJobCancelled, cancelFile, cancelQuietly, look, readRecord, recordFile, saveRecord, type ArrayJobRecord, type ArrayTask, type ShardStatus } from './array-job';
import { readMerged } from './merge';
import { clusterProfile, type ClusterProfile } from './profiles';
import { runShardedOnCluster } from './run-sharded';
import { viewOf, type ClusterJobView } from './view';

export { secondsLeft, viewOf, type ClusterJobView } from './view';

export interface ClusterJobResult {
  summary: Record<string, unknown>;
  artifacts: { kind: string; path: string; meta?: Record<string, unknown> }[];
}

/** The profile a job was submitted with: the named one as configured now, else the record's copy of it. */
export function profileOfJob(record: ArrayJobRecord, env: NodeJS.ProcessEnv = process.env): ClusterProfile {
  const saved = record.profileSettings;
  const savedEnv = saved?.slurmConf && !env.SLURM_CONF ? { ...env, SLURM_CONF: saved.slurmConf } : env;
  try {
    return clusterProfile(record.profile, { env: savedEnv });
  } catch (error) {
    if (!saved) throw error;
    const { slurmConf, ...settings } = saved;
    return { ...settings, env: { ...env, ...(slurmConf ? { SLURM_CONF: slurmConf } : {}) } };
  }
}

/** Is there a cluster job in this folder that is neither merged nor cancelled? Reads files only. */
export function isUnfinishedClusterJob(jobDir: string): boolean {
  if (!existsSync(recordFile(jobDir)) || readMerged(jobDir)) return false;
  return readRecord(jobDir).state !== 'cancelled' && !existsSync(cancelFile(jobDir));
}

/** One look at the job (squeue and the shards' logs); submits nothing. */
export async function clusterJobStatus(jobDir: string, profile?: ClusterProfile): Promise<ClusterJobView> {
  const record = readRecord(jobDir);
  const shards: ShardStatus[] = Array.from({ length: record.shards }, (_, shard) => ({ shard, state: 'pending', attempts: record.attempts[shard]!, fraction: 0, why: null }));
  if (readMerged(jobDir)) return viewOf(jobDir, record, shards.map((s) => ({ ...s, state: 'done', fraction: 1 })), 'done');
  // A few looks in a row, so that a task that finished long ago (gone from squeue) counts as lost.
  const unlisted = new Map<number, number>();
  const using = profile ?? profileOfJob(record);
  for (let i = 0; i < 3; i++) await look(using, jobDir, record, shards, [], unlisted);
  const cancelled = record.state === 'cancelled' || existsSync(cancelFile(jobDir));
  const open = shards.some((s) => s.state === 'pending' || s.state === 'running');
  const state = cancelled ? 'cancelled' : shards.every((s) => s.state === 'done') ? 'running' : shards.some((s) => s.state === 'failed') && (!open || record.state === 'failed') ? 'failed' : 'running';
  return viewOf(jobDir, record, shards, state);
}

/** Cancels the job's arrays and merge step (scancel); a follower in another process stops at its next look. */
export async function cancelClusterJob(jobDir: string, profile?: ClusterProfile): Promise<void> {
  const record = readRecord(jobDir);
  if (readMerged(jobDir)) throw new Error(`The cluster job in ${jobDir} has finished and its result is merged: there is nothing to cancel.`);
  writeFileSync(cancelFile(jobDir), new Date().toISOString());
  await cancelQuietly(profile ?? profileOfJob(record), [...record.arrays.map((a) => a.id), ...(record.mergeJobs ?? [])]);
  saveRecord(jobDir, { ...readRecord(jobDir), state: 'cancelled' });
}

export interface FollowOptions {
  signal?: AbortSignal;
  onStatus?(view: ClusterJobView): void;
  /** The profile to use instead of the record's. */
  profile?: ClusterProfile;
  /** Merge into this folder instead of the record's. */
  workDir?: string;
  keepJobDir?: boolean;
}

/**
 * Picks a job up from its folder and sees it to the end: a running one is followed (lost shards
 * submitted again), a failed or cancelled one resumed (only shards without a finished result are
 * submitted again), and the shards merged (once, atomically) into the record's folder. A merged
 * job answers at once. Throws ArrayJobFailed when shards fail every attempt again.
 */
export async function followClusterJob(jobDir: string, options: FollowOptions = {}): Promise<ClusterJobResult> {
  const record = readRecord(jobDir);
  const merged = readMerged(jobDir);
  if (merged && (!options.workDir || options.workDir === merged.workDir)) return { summary: merged.summary, artifacts: merged.artifacts };
  const task = JSON.parse(readFileSync(join(jobDir, 'task.json'), 'utf8')) as ArrayTask;
  const workDir = options.workDir ?? record.workDir;
  if (!workDir) throw new Error(`${jobDir}/job.json names no folder to merge into; give one.`);
  const artifacts: ClusterJobResult['artifacts'] = [];
  const summary = await runShardedOnCluster(options.profile ?? profileOfJob(record), task.kind as TaskKind, task.params, task.input, workDir, {
    shards: record.shards,
    jobDir,
    signal: options.signal,
    onStatus: options.onStatus,
    onArtifact: (artifact) => void artifacts.push(artifact),
    keepJobDir: options.keepJobDir ?? true,
    origin: record.origin,
  });
  return { summary, artifacts };
}

export { ArrayJobCancelled };
