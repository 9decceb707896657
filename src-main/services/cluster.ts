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

  /** The job folder of a job placed on a cluster, or null for a job that runs on this computer. */
  private jobDir(id: number): string | null {
    const record = this.store.jobs.record(id);
    if (!record) throw notFound(`Job ${id}`);
    const params = record.params as ClusterParams;
    const folder = record.job.projectId === null ? undefined : this.store.projects.folderOf(record.job.projectId);
    if (!params?.cluster || typeof params.runDir !== 'string' || !folder) return null;
    return runClusterJobDir(folder, params.runDir);
  }

  view(id: number): ClusterJobView | null {
    const dir = this.jobDir(id);
    return dir ? readClusterJobView(dir) : null;
  }

  /**
   * Resumes the interrupted jobs whose array was still under way (the folder's record says
   * running); returns their ids. Called once the runner has marked the jobs a dead process left.
   */
  pickUp(): number[] {
    const picked: number[] = [];
    for (const job of this.store.jobs.list()) {
      if (job.state !== 'interrupted') continue;
      if (this.view(job.id)?.state !== 'running') continue;
      this.runner().resume(job.id);
      picked.push(job.id);
    }
    return picked;
  }
}
