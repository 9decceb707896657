/**
 * What the app shows of a cluster job, read from its folder alone (cluster/job-view), and the
 * `ssh` profile's checks and quoting (cluster/ssh, cluster/profiles): a job folder written here by
 * hand, as the follower and Slurm's workers leave it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClusterJobView } from '../../src-main/cluster/job-view';
import { ClustersFile } from '../../src-main/cluster/profiles';
import { shellQuote } from '../../src-main/cluster/ssh';

function jobFolder(record: object, logs: Record<string, string[]>, status?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'esm-job-view-'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'job.json'), JSON.stringify(record));
  for (const [name, lines] of Object.entries(logs)) writeFileSync(join(dir, 'logs', name), lines.join('\n') + '\n');
  if (status) writeFileSync(join(dir, 'status.json'), JSON.stringify(status));
  return dir;
}

const progress = (fraction: number): string => JSON.stringify({ type: 'progress', fraction, message: '' });
const done = JSON.stringify({ type: 'done', summary: { sequences: 3 } });

describe('readClusterJobView', () => {
  it('a running job: done from the done line, running from a begun log or the follower\'s look, waiting otherwise; a retried shard reads its latest attempt', () => {
    const record = { version: 2, profile: 'local-slurm', kind: 'embed.dataset', shards: 4, arrays: [{ id: '7', shards: [0, 1, 2, 3] }, { id: '9', shards: [1] }], attempts: [1, 2, 1, 1], state: 'running' };
    const dir = jobFolder(
      record,
      { 'shard-0.7.log': [progress(0.5), done], 'shard-1.7.log': ['worker killed'], 'shard-1.9.log': [progress(0.25)] },
      { at: '', shards: [{ shard: 2, state: 'running', attempts: 1, fraction: 0, why: null }, { shard: 3, state: 'pending', attempts: 1, fraction: 0, why: null }] },
    );
    expect(readClusterJobView(dir)).toEqual({
      profile: 'local-slurm',
      arrays: ['7', '9'],
      state: 'running',
      shards: [
        { shard: 0, state: 'done', attempts: 1, fraction: 1, why: null, logTail: null },
        { shard: 1, state: 'running', attempts: 2, fraction: 0.25, why: null, logTail: null },
        { shard: 2, state: 'running', attempts: 1, fraction: 0, why: null, logTail: null },
        { shard: 3, state: 'pending', attempts: 1, fraction: 0, why: null, logTail: null },
      ],
    });
  });

  it('a failed job: its unfinished shards are failed, with the worker\'s message and the end of the log', () => {
    const record = { version: 2, profile: 'hpc', kind: 'embed.dataset', shards: 2, arrays: [{ id: '3', shards: [0, 1] }], attempts: [1, 3], state: 'failed' };
    const tail = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const dir = jobFolder(record, { 'shard-0.3.log': [done], 'shard-1.3.log': [...tail, JSON.stringify({ type: 'failed', message: 'Out of memory while reading batch 4' })] });
    const view = readClusterJobView(dir)!;
    expect(view.state).toBe('failed');
    expect(view.shards[0]!.state).toBe('done');
    expect(view.shards[1]).toMatchObject({ state: 'failed', attempts: 3, why: 'Out of memory while reading batch 4' });
    const lines = view.shards[1]!.logTail!.split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe('line 9');
    expect(lines.at(-1)).toContain('Out of memory');
  });

  it('merged by the dependent merge step (merged.json; job.json still says running): done', () => {
    const dir = jobFolder({ version: 2, profile: 'p', kind: 'embed.dataset', shards: 1, arrays: [{ id: '1', shards: [0] }], attempts: [1], state: 'running' }, { 'shard-0.1.log': [done] });
    writeFileSync(join(dir, 'merged.json'), '{}');
    expect(readClusterJobView(dir)?.state).toBe('done');
  });

  it('no record yet: null', () => {
    expect(readClusterJobView(mkdtempSync(join(tmpdir(), 'esm-job-view-')))).toBeNull();
  });
});

describe('ssh profiles', () => {
  const ssh = { kind: 'ssh', host: 'login.example.org', workDir: '/scratch/me/esm', launcher: { type: 'install', install: '/shared/esm-studio' } };

  it('a complete profile passes with ssh\'s defaults (port 22, the agent\'s keys)', () => {
    expect(ClustersFile.parse({ profiles: { hpc: ssh } }).profiles.hpc).toMatchObject({ kind: 'ssh', port: 22, user: null, identityFile: null, sshOptions: [], remoteEnv: {} });
  });

  it('a relative work folder, a missing launcher or a stray field are refused, naming the field', () => {
    const problems = (profile: object): string[] => ClustersFile.safeParse({ profiles: { hpc: profile } }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(problems({ ...ssh, workDir: 'scratch/esm' })).toEqual(['profiles.hpc.workDir: must be an absolute path on the cluster (starting with /)']);
    const { launcher: _, ...noLauncher } = ssh;
    expect(problems(noLauncher)[0]).toMatch(/^profiles\.hpc\.launcher: /);
    expect(problems({ ...ssh, hostname: 'x' })[0]).toMatch(/hostname/);
  });

  it('shellQuote keeps plain words and quotes the rest for the login node\'s shell', () => {
    expect(shellQuote('/scratch/me/jobs/a-1')).toBe('/scratch/me/jobs/a-1');
    expect(shellQuote('%K|%T|%r')).toBe(`'%K|%T|%r'`);
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(shellQuote('')).toBe(`''`);
  });
});
