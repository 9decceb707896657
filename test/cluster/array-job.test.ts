/**
 * cluster/array-job on the loopback Slurm with a stand-in worker (a Node one-liner that prints the
 * worker's JSON lines): a shard that fails every attempt is submitted 1 + retries times, then the
 * job fails naming that shard, why, and the end of its log; the shards that succeeded are done.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ArrayJobFailed, runArrayJob, type ArrayJobRecord } from '../../src-main/cluster/array-job';
import { localSlurmProfile } from '../../src-main/cluster/profiles';

const slurm = inject('slurm');

/** Shard 1 reports an error and exits 3 every time; the others print a `done` line. */
const STAND_IN = `
const shard = Number(process.env.SLURM_ARRAY_TASK_ID);
console.log(JSON.stringify({ type: 'start' }));
if (shard === 1) { console.log(JSON.stringify({ type: 'failed', message: 'model.onnx is missing' })); process.exit(3); }
console.log(JSON.stringify({ type: 'done', summary: { shard } }));
`;

describe.skipIf(!slurm)('a Slurm job array whose shard fails every time', () => {
  it('retries it, then fails naming the shard, Slurm\'s reason and its log tail', { timeout: 120_000 }, async () => {
    const jobDir = mkdtempSync(join(tmpdir(), 'esm-array-'));
    const profile = { ...localSlurmProfile({ launcher: [process.execPath, '-e', STAND_IN], env: { ...process.env, ...slurm }, retries: 2 }), pollSeconds: 0.3 };
    const seen: string[] = [];
    const failure = await runArrayJob(profile, jobDir, { kind: 'embed.dataset', params: {}, input: null }, { shards: 3, onStatus: (s) => seen.push(s.map((x) => x.state).join()) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ArrayJobFailed);
    const error = failure as ArrayJobFailed;
    expect(error.failed.map((f) => f.shard)).toEqual([1]);
    expect(error.failed[0]!.why).toMatch(/^FAILED, NonZeroExitCode: model.onnx is missing$/);
    expect(error.failed[0]!.logTail).toContain('model.onnx is missing');
    expect(error.message).toContain('Shard 1 of the cluster job');
    const record = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as ArrayJobRecord;
    expect(record.state).toBe('failed');
    expect(record.attempts).toEqual([1, 3, 1]);
    expect(record.arrays.map((a) => a.shards)).toEqual([[0, 1, 2], [1], [1]]);
    expect(seen.at(-1)).toBe('done,failed,done');
  });
});
