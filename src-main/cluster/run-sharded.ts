/**
 * cluster/run-sharded — a task run on a cluster as a job array and merged back: what the command
 * line and the app call instead of running the task here. The merged work folder holds the same
 * files, byte for byte, as `jobs/run-here` writes for the same task, and the summary has the same
 * shape (the wall time is the whole job's, from submission to merge). A job folder that already
 * holds the same task is picked up (followed, resumed or, when merged, answered at once).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskKind } from '../api/tasks';
import type { ArtifactRecord } from '../jobs/shard-kinds';
import { SHARDABLE_KINDS } from '../jobs/shardable';
import { cancelQuietly, readRecord, runArrayJob, saveRecord, type ArrayJobRecord, type ShardStatus } from './array-job';
import { mergeClusterJob, readMerged } from './merge';
import type { ClusterProfile } from './profiles';
import { describeTimeLeft, viewOf, type ClusterJobView } from './view';

/** Kinds whose units are independent, so that the worker can split them (`worker --shard`). */
export const CLUSTER_KINDS: readonly TaskKind[] = SHARDABLE_KINDS;

export interface ShardedOptions {
  shards: number;
  /** The job folder (task, scripts, shards' results, logs); on the filesystem the nodes share. */
  jobDir: string;
  signal?: AbortSignal;
  onProgress?(fraction: number, message: string): void;
  /** Every look at the array: shards by state, progress, time left. */
  onStatus?(view: ClusterJobView): void;
  /** The merged task's artifacts, in the order a local run reports them. */
  onArtifact?(artifact: ArtifactRecord): void;
  /** Keep the job folder after a successful merge (it is always kept when the job fails). */
  keepJobDir?: boolean;
  origin?: ArrayJobRecord['origin'];
}

/** "2 of 6 shards done, 3 running, 1 waiting (shard 4: attempt 2)". */
export function describeShards(status: readonly ShardStatus[]): string {
  const count = (state: ShardStatus['state']): number => status.filter((s) => s.state === state).length;
  const retried = status.filter((s) => s.attempts > 1 && s.state !== 'done').map((s) => `shard ${s.shard}: attempt ${s.attempts}`);
  return `${count('done')} of ${status.length} shards done, ${count('running')} running, ${count('pending')} waiting${retried.length > 0 ? ` (${retried.join('; ')})` : ''}`;
}

/** The merged result of this very task in `jobDir`, when a process (the merge step) already merged it into `workDir`. */
function alreadyMerged(jobDir: string, task: string, workDir: string): ReturnType<typeof readMerged> {
  const taskFile = join(jobDir, 'task.json');
  if (!existsSync(taskFile) || readFileSync(taskFile, 'utf8') !== task) return null;
  const merged = readMerged(jobDir);
  return merged?.workDir === workDir ? merged : null;
}

/** Runs `kind` on the cluster in `options.shards` shards and merges the results into `workDir`. */
export async function runShardedOnCluster(profile: ClusterProfile, kind: TaskKind, params: unknown, input: unknown, workDir: string, options: ShardedOptions): Promise<Record<string, unknown>> {
  if (!CLUSTER_KINDS.includes(kind)) throw new Error(`A ${kind} task cannot run on a cluster; the kinds that can are: ${CLUSTER_KINDS.join(', ')}.`);
  if (!Number.isInteger(options.shards) || options.shards < 1) throw new Error(`The number of shards must be a whole number of at least 1, not ${options.shards}.`);
  const { jobDir } = options;
  const task = { kind, params, input };
  let merged = alreadyMerged(jobDir, JSON.stringify(task), workDir);
  if (!merged) {
    const result = await runArrayJob(profile, jobDir, task, {
      shards: options.shards,
      signal: options.signal,
      mergeStep: true,
      workDir,
      origin: options.origin,
      onStatus: (status, fraction) => {
        const view = viewOf(jobDir, readRecord(jobDir), status, 'running');
        options.onProgress?.(fraction, `${describeShards(status)}; ${describeTimeLeft(view.secondsLeft)}`);
        options.onStatus?.(view);
      },
    });
    merged = await mergeClusterJob(jobDir, workDir, options.signal);
    // The merge step is no longer needed (it would find the job merged and stop).
    await cancelQuietly(profile, result.record.mergeJobs ?? []);
  }
  const record = readRecord(jobDir);
  saveRecord(jobDir, { ...record, state: 'done' });
  for (const artifact of merged.artifacts) options.onArtifact?.(artifact);
  if (!options.keepJobDir) rmSync(jobDir, { recursive: true, force: true });
  return merged.summary;
}
