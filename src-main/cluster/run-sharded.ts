/**
 * cluster/run-sharded — a task run on a cluster as a job array and merged back: what the command
 * line (and later the app) calls instead of running the task here. The merged work folder holds
 * the same files, byte for byte, as `jobs/run-here` writes for the same task, and the summary has
 * the same shape (the wall time is the whole job's, from submission to merge).
 */
import { rmSync } from 'node:fs';
import type { TaskKind } from '../api/tasks';
import { mergeShards } from '../jobs/shards';
import { runArrayJob, type ShardStatus } from './array-job';
import type { ClusterProfile } from './profiles';

/** Kinds whose units are independent, so that the worker can split them (`worker --shard`). */
export const CLUSTER_KINDS: readonly TaskKind[] = ['embed.dataset'];

export interface ShardedOptions {
  shards: number;
  /** The job folder (task, scripts, shards' results, logs); on the filesystem the nodes share. */
  jobDir: string;
  signal?: AbortSignal;
  onProgress?(fraction: number, message: string): void;
  /** Keep the job folder after a successful merge (it is always kept when the job fails). */
  keepJobDir?: boolean;
}

/** "2 of 6 shards done, 3 running, 1 waiting (shard 4: attempt 2)". */
export function describeShards(status: readonly ShardStatus[]): string {
  const count = (state: ShardStatus['state']): number => status.filter((s) => s.state === state).length;
  const retried = status.filter((s) => s.attempts > 1 && s.state !== 'done').map((s) => `shard ${s.shard}: attempt ${s.attempts}`);
  return `${count('done')} of ${status.length} shards done, ${count('running')} running, ${count('pending')} waiting${retried.length > 0 ? ` (${retried.join('; ')})` : ''}`;
}

/** One summary for the whole task from its shards' summaries. */
function combineSummaries(kind: TaskKind, summaries: Record<string, unknown>[], seconds: number): Record<string, unknown> {
  const [first] = summaries;
  if (kind !== 'embed.dataset' || !first) throw new Error(`A ${kind} task cannot be merged from shards.`);
  const tokens = summaries.reduce((sum, s) => sum + (typeof s.tokens === 'number' ? s.tokens : 0), 0);
  const notes = [...new Set(summaries.flatMap((s) => (Array.isArray(s.notes) ? (s.notes as string[]) : [])))];
  return { ...first, seconds, tokens, notes };
}

/** Runs `kind` on the cluster in `options.shards` shards and merges the results into `workDir`. */
export async function runShardedOnCluster(profile: ClusterProfile, kind: TaskKind, params: unknown, input: unknown, workDir: string, options: ShardedOptions): Promise<Record<string, unknown>> {
  if (!CLUSTER_KINDS.includes(kind)) throw new Error(`A ${kind} task cannot run on a cluster yet; the kinds that can are: ${CLUSTER_KINDS.join(', ')}.`);
  if (!Number.isInteger(options.shards) || options.shards < 1) throw new Error(`The number of shards must be a whole number of at least 1, not ${options.shards}.`);
  const started = performance.now();
  const result = await runArrayJob(profile, options.jobDir, { kind, params, input }, {
    shards: options.shards,
    signal: options.signal,
    onStatus: (status, fraction) => options.onProgress?.(fraction, describeShards(status)),
  });
  mergeShards(result.shardDirs, workDir);
  const summary = combineSummaries(kind, result.summaries, (performance.now() - started) / 1000);
  if (!options.keepJobDir) rmSync(options.jobDir, { recursive: true, force: true });
  return summary;
}
