/**
 * cli/cluster-options — `--cluster <profile> --shards N` on the commands that can run on a cluster:
 * the task is submitted as a Slurm job array (cluster/), followed with a progress line, and its
 * shards merged into the same folder the local run writes to, so the rest of the command (summary,
 * output files) is the same either way.
 */
import { rmdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ClusterPlacement } from '../api/schemas';
import type { TaskKind } from '../api/tasks';
import { ArrayJobCancelled, ArrayJobFailed } from '../cluster/array-job';
import { clusterProfile, listClusterProfiles } from '../cluster/profiles';
import { runShardedOnCluster } from '../cluster/run-sharded';
import { CliExit } from './exit';

export interface ClusterFlags {
  cluster?: string;
  shards?: string;
  jobDir?: string;
  retries?: string;
  maxAtOnce?: string;
  keepJobDir?: boolean;
}

function wholeNumber(text: string | undefined, fallback: number, flag: string, min: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < min) throw new CliExit(`${flag} takes a whole number of at least ${min}, not "${text}".`, 2);
  return value;
}

/** Where a job's folder goes when --job-dir is not given: beside the output folder, named after it and the time. */
function defaultJobDir(out: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dirname(resolve(out)), '.esm-studio-cluster', `${basename(resolve(out))}-${stamp}`);
}

/** Drops the default jobs' folder once its last job is merged; one still in use by another job stays. */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty: another job's folder is there
  }
}

export type TaskRunner = (
  kind: TaskKind,
  params: unknown,
  input: unknown,
  workDir: string,
  hooks: { signal: AbortSignal; onProgress(fraction: number, message: string): void; onArtifact?(kind: string, path: string, meta?: Record<string, unknown>): void },
) => Promise<Record<string, unknown>>;

/**
 * A project run's placement (`--project … --cluster P --shards N`): the job runs in the app's job
 * system, which keeps its cluster job inside the run's folder with the profile's own retries.
 */
export function clusterPlacement(flags: ClusterFlags): ClusterPlacement | null {
  if (!flags.cluster) {
    if (flags.shards) throw new CliExit('--shards goes with --cluster <profile> (e.g. --cluster local-slurm).', 2);
    return null;
  }
  if (flags.jobDir || flags.keepJobDir || flags.retries || flags.maxAtOnce) {
    throw new CliExit('With --project, a cluster job lives in the run\'s folder with the profile\'s retries: leave out --job-dir, --keep-job-dir, --retries and --max-at-once.', 2);
  }
  let names: string[];
  try {
    names = listClusterProfiles().map((p) => p.name);
  } catch (error) {
    throw new CliExit((error as Error).message, 2);
  }
  if (!names.includes(flags.cluster)) throw new CliExit(`There is no cluster profile "${flags.cluster}"; the profiles are: ${names.join(', ')}.`, 2);
  return { profile: flags.cluster as ClusterPlacement['profile'], shards: wholeNumber(flags.shards, 4, '--shards', 1) };
}

/** A runner that puts the task on the cluster the flags name, or null when they name none. */
export function clusterRunner(flags: ClusterFlags, out: string): TaskRunner | null {
  if (!flags.cluster) {
    if (flags.shards || flags.jobDir || flags.keepJobDir) throw new CliExit('--shards, --job-dir and --keep-job-dir go with --cluster <profile> (e.g. --cluster local-slurm).', 2);
    return null;
  }
  const shards = wholeNumber(flags.shards, 4, '--shards', 1);
  let profile;
  try {
    // Given flags win over the profile's settings; left out, the profile's (or the built-in defaults) apply.
    profile = clusterProfile(flags.cluster, {
      retries: flags.retries === undefined ? undefined : wholeNumber(flags.retries, 2, '--retries', 0),
      maxAtOnce: flags.maxAtOnce === undefined ? undefined : wholeNumber(flags.maxAtOnce, 0, '--max-at-once', 0),
    });
  } catch (error) {
    throw new CliExit((error as Error).message, 2);
  }
  const jobDir = resolve(flags.jobDir ?? defaultJobDir(out));
  return async (kind, params, input, workDir, hooks) => {
    try {
      const summary = await runShardedOnCluster(profile, kind, params, input, workDir, {
        shards,
        jobDir,
        keepJobDir: !!flags.keepJobDir,
        signal: hooks.signal,
        onProgress: hooks.onProgress,
        onArtifact: (artifact) => hooks.onArtifact?.(artifact.kind, artifact.path, artifact.meta),
        origin: 'files',
      });
      if (!flags.jobDir && !flags.keepJobDir) removeIfEmpty(dirname(jobDir));
      return summary;
    } catch (error) {
      if (error instanceof ArrayJobFailed) throw new CliExit(`${error.message}\nThe job's folder is kept: ${jobDir}`);
      if (error instanceof ArrayJobCancelled) throw new CliExit(error.message, 130);
      throw error;
    }
  };
}
