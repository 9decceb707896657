/**
 * services/cluster — cluster jobs in the app: the profiles a form offers, a job's array as the Jobs
 * panel shows it (read from the job's folder, cluster/job-view), and picking cluster jobs up again
 * when the app or serve mode starts: a job that was following an array when the process ended
 * (closed, or killed) is resumed, and resuming follows the array still on the cluster (the job
 * folder is the project's record of it) and merges its result, instead of submitting it again.
 */
import type { ClusterJobView, ClusterProfileInfo } from '../api/cluster';
import { ApiError, notFound } from '../api/errors';
import { readClusterJobView, runClusterJobDir } from '../cluster/job-view';
import { listClusterProfiles } from '../cluster/profiles';
import type { JobRunner } from '../jobs/runner';
import type { Store } from '../store';

interface ClusterParams {
  runDir?: string;
  cluster?: { profile: string; shards: number } | null;
}

export class ClusterService {
  constructor(
    private readonly store: Store,
    private readonly runner: () => JobRunner,
  ) {}

  profiles(): ClusterProfileInfo[] {
    try {
      return listClusterProfiles();
    } catch (error) {
      throw new ApiError('invalid-input', (error as Error).message);
    }
  }

  /** A job placed on a cluster: its placement and job folder; null for a job that runs on this computer. */
  private placed(id: number): { placement: { profile: string; shards: number }; dir: string } | null {
    const record = this.store.jobs.record(id);
    if (!record) throw notFound(`Job ${id}`);
    const params = record.params as ClusterParams;
    const folder = record.job.projectId === null ? undefined : this.store.projects.folderOf(record.job.projectId);
    if (!params?.cluster || typeof params.runDir !== 'string' || !folder) return null;
    return { placement: params.cluster, dir: runClusterJobDir(folder, params.runDir) };
  }

  /**
   * The job's array from its folder. Without a folder: a job not submitted yet shows its shards
   * waiting, a merged one (the folder is removed after the merge) all done; null for a job that
   * does not run on a cluster, or ended before it submitted anything.
   */
  view(id: number): ClusterJobView | null {
    const placed = this.placed(id);
    if (!placed) return null;
    const recorded = readClusterJobView(placed.dir);
    if (recorded) return recorded;
    const state = this.store.jobs.get(id)!.state;
    const merged = state === 'done';
    if (!merged && state !== 'queued' && state !== 'running') return null;
    const shards = Array.from({ length: placed.placement.shards }, (_, shard) => ({ shard, state: merged ? ('done' as const) : ('pending' as const), attempts: 0, fraction: merged ? 1 : 0, why: null, logTail: null }));
    return { profile: placed.placement.profile, arrays: [], state: merged ? 'done' : 'running', shards };
  }

  /**
   * Resumes the interrupted jobs whose array was still under way or merged (not failed or
   * cancelled: those wait for the user's Resume); returns their ids. Called once the runner has marked the jobs a dead process left.
   */
  pickUp(): number[] {
    const picked: number[] = [];
    for (const job of this.store.jobs.list()) {
      if (job.state !== 'interrupted') continue;
      const placed = this.placed(job.id);
      const state = placed ? readClusterJobView(placed.dir)?.state : undefined;
      // Under way, or merged on the cluster (the merge step) but not yet recorded in the project.
      if (state !== 'running' && state !== 'done') continue;
      this.runner().resume(job.id);
      picked.push(job.id);
    }
    return picked;
  }
}
