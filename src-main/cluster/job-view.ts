/**
 * cluster/job-view — what the app shows of a cluster job, read from its folder alone (job.json and
 * the shards' logs): cheap enough for the Jobs panel to ask every few seconds, and it asks Slurm
 * nothing (the follower in the compute process does that, and for an SSH cluster brings the logs
 * back at each look). A merged job (merged.json) is done. A shard is done when its latest log ends with the worker's `done` line,
 * running once its latest log has begun or the follower's latest look (status.json) saw Slurm run
 * it, pending before; when the job has failed or was cancelled,
 * its unfinished shards are failed, with their reason and log tail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterJobView, ClusterShardView } from '../api/cluster';
import { shardLog, statusFile, type ArrayJobRecord, type ShardStatus } from './array-job';

/** A project run's cluster job folder: inside the run's folder, so that it goes with the run. */
export const runClusterJobDir = (projectFolder: string, runDir: string): string => join(projectFolder, runDir, 'cluster-job');

/** Lines of a failed shard's log the panel shows. */
const TAIL_LINES = 12;

interface LogFacts {
  started: boolean;
  fraction: number;
  done: boolean;
  failure: string | null;
  tail: string;
}

function readShardLog(file: string): LogFacts {
  if (!existsSync(file)) return { started: false, fraction: 0, done: false, failure: null, tail: '(no log yet: the task has not started)' };
  const text = readFileSync(file, 'utf8');
  const facts: LogFacts = { started: text.length > 0, fraction: 0, done: false, failure: null, tail: text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n') };
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { type?: string; fraction?: number; message?: string };
      if (event.type === 'progress' && typeof event.fraction === 'number') facts.fraction = event.fraction;
      else if (event.type === 'done') Object.assign(facts, { done: true, fraction: 1 });
      else if (event.type === 'failed' || event.type === 'cancelled') facts.failure = event.message ?? event.type;
    } catch {
      // a line cut short by a kill
    }
  }
  return facts;
}

/** The follower's latest look (status.json): each shard's state as Slurm gave it; empty when there is none yet. */
function followerLook(jobDir: string): Map<number, ShardStatus> {
  try {
    const look = JSON.parse(readFileSync(statusFile(jobDir), 'utf8')) as { shards: ShardStatus[] };
    return new Map(look.shards.map((s) => [s.shard, s]));
  } catch {
    return new Map(); // none yet, or being replaced
  }
}

/** The job in `jobDir` as the Jobs panel shows it; null while it has no record (not submitted yet). */
export function readClusterJobView(jobDir: string): ClusterJobView | null {
  const file = join(jobDir, 'job.json');
  if (!existsSync(file)) return null;
  let record: ArrayJobRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as ArrayJobRecord;
  } catch {
    return null; // being replaced: the next look reads it
  }
  // The dependent merge step leaves job.json as it was: merged.json says the job is done.
  // (cluster/merge's merged.json, looked for by name: importing merge would tie the embedding task, which imports this module, into a cycle.)
  if (existsSync(join(jobDir, 'merged.json'))) record.state = 'done';
  const ended = record.state === 'failed' || record.state === 'cancelled';
  const look = followerLook(jobDir);
  const shards = Array.from({ length: record.shards }, (_, shard): ClusterShardView => {
    const array = record.arrays.findLast((a) => a.shards.includes(shard));
    const log = array ? readShardLog(shardLog(jobDir, shard, array.id)) : readShardLog('');
    const attempts = record.attempts[shard] ?? 0;
    if (log.done) return { shard, state: 'done', attempts, fraction: 1, why: null, logTail: null };
    if (ended) return { shard, state: 'failed', attempts, fraction: log.fraction, why: log.failure ?? (record.state === 'cancelled' ? 'cancelled' : 'did not finish'), logTail: log.tail };
    // Running once its log has begun, or once the follower saw Slurm run it (a worker takes a moment to write).
    const seen = look.get(shard);
    const running = log.started || (seen?.state === 'running' && seen.attempts === attempts);
    return { shard, state: running ? 'running' : 'pending', attempts, fraction: log.fraction, why: null, logTail: null };
  });
  return { profile: record.profile, arrays: record.arrays.map((a) => a.id), state: record.state, shards };
}
