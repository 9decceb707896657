/**
 * api/cluster — the contract of running jobs on a Slurm cluster from the app (issue 17): the
 * cluster profiles a form offers ("Where to run"), and what the Jobs panel shows of a cluster job's
 * array (each shard's state, attempts and progress; a failed shard's reason and log tail). Schemas
 * only; services/cluster reads them from the job's folder. Starting, cancelling and resuming a
 * cluster job are the ordinary jobs.start / jobs.cancel / jobs.resume.
 */
import { z } from 'zod';
import { Id } from './schemas';

export const ClusterProfileInfo = z.object({
  name: z.string(),
  /** `local-slurm`: Slurm on this machine; `ssh`: a login node reached with ssh. */
  kind: z.enum(['local-slurm', 'ssh']),
  builtIn: z.boolean(),
});
export type ClusterProfileInfo = z.infer<typeof ClusterProfileInfo>;

export const ClusterShardView = z.object({
  shard: z.number().int(),
  state: z.enum(['pending', 'running', 'done', 'failed']),
  /** Submissions of this shard so far (1 + retries); 0 before the first, or once merged (the job folder is removed then). */
  attempts: z.number().int(),
  /** Fraction done of its latest attempt, from the worker's progress lines. */
  fraction: z.number(),
  /** Why its latest attempt failed (the worker's message), or null. */
  why: z.string().nullable(),
  /** The end of its latest log, for a failed shard; null otherwise. */
  logTail: z.string().nullable(),
});
export type ClusterShardView = z.infer<typeof ClusterShardView>;

export const ClusterJobView = z.object({
  profile: z.string(),
  /** Slurm's array ids, oldest first (a retry is a new array of the shards it runs again). */
  arrays: z.array(z.string()),
  /** The job folder's record: running, done, failed or cancelled. */
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  shards: z.array(ClusterShardView),
});
export type ClusterJobView = z.infer<typeof ClusterJobView>;

export const CLUSTER_METHODS = {
  /** The profiles a job can run on (besides this computer): the built-in `local-slurm` and the profiles file's. */
  'cluster.profiles': { input: z.object({}).strict(), output: z.array(ClusterProfileInfo) },
  /** A job's cluster array as its folder records it; null for a job that does not run on a cluster (or has not submitted yet). */
  'jobs.cluster': { input: z.object({ id: Id }).strict(), output: ClusterJobView.nullable() },
} as const;
