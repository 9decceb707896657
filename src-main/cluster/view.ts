/**
 * cluster/view — what the command line, the app's Jobs panel and `cluster status` show of a
 * cluster job: its shards by state, overall progress and an estimate of the time left.
 */
import type { TaskKind } from '../api/tasks';
import { failures, overallFraction, type ArrayJobRecord, type ShardStatus } from './array-job';

export interface ClusterJobView {
  jobDir: string;
  kind: TaskKind;
  profile: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  shards: ShardStatus[];
  /** 0…1 over all shards, from their progress lines. */
  fraction: number;
  /** Estimated from the progress since the job was submitted (or resumed); null until there is some. */
  secondsLeft: number | null;
  failed: { shard: number; why: string; logTail: string }[];
  /** Slurm's array ids, oldest first. */
  arrays: string[];
}

/** Time left from the progress made since submission: elapsed × left / made. */
export function secondsLeft(record: Pick<ArrayJobRecord, 'submittedAt' | 'fractionAtSubmit'>, fraction: number, now = Date.now()): number | null {
  if (!record.submittedAt) return null;
  const made = fraction - (record.fractionAtSubmit ?? 0);
  if (made < 0.005 || fraction >= 1) return fraction >= 1 ? 0 : null;
  return Math.round((((now - Date.parse(record.submittedAt)) / 1000) * (1 - fraction)) / made);
}

export function viewOf(jobDir: string, record: ArrayJobRecord, shards: ShardStatus[], state: ClusterJobView['state']): ClusterJobView {
  const fraction = state === 'done' ? 1 : overallFraction(shards);
  return {
    jobDir,
    kind: record.kind as TaskKind,
    profile: record.profile,
    state,
    shards,
    fraction,
    secondsLeft: state === 'running' ? secondsLeft(record, fraction) : null,
    failed: state === 'failed' ? failures(jobDir, record, shards.filter((s) => s.state === 'failed')) : [],
    arrays: record.arrays.map((a) => a.id),
  };
}

/** "about 3 min left", "about 40 s left". */
export function describeTimeLeft(seconds: number | null): string {
  if (seconds === null) return 'time left not known yet';
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s left`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min left`;
  return `about ${(seconds / 3600).toFixed(1)} h left`;
}
