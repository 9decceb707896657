/**
 * cluster/profiles and the shard summary line, without a cluster: the built-in local-slurm profile
 * takes SLURM_CONF from the environment it is given (and says what to set when there is none), and
 * starts workers with this install; the progress line counts shards by state and names retries.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterProfile, localSlurmProfile } from '../../src-main/cluster/profiles';
import { describeShards } from '../../src-main/cluster/run-sharded';

describe('cluster profiles', () => {
  it('local-slurm carries SLURM_CONF to the Slurm commands and starts this install on the nodes', () => {
    const profile = clusterProfile('local-slurm', { env: { PATH: '/usr/bin', SLURM_CONF: '/tmp/x/slurm.conf' } });
    expect(profile.env.SLURM_CONF).toBe('/tmp/x/slurm.conf');
    expect(profile.launcher[0]).toBe(process.execPath);
    expect(profile.launcher[1]).toMatch(/bin\/esm-studio\.js$/);
    expect(existsSync(profile.launcher[1]!)).toBe(true);
    expect(profile.retries).toBe(2);
  });

  it.skipIf(existsSync('/etc/slurm/slurm.conf'))('without SLURM_CONF (and no /etc/slurm/slurm.conf) it says what to set', () => {
    expect(() => localSlurmProfile({ env: { PATH: '/usr/bin' } })).toThrow(/set SLURM_CONF to the cluster's slurm\.conf/);
  });

  it('an unknown profile is refused, naming the ones there are', () => {
    expect(() => clusterProfile('hpc-west')).toThrow('There is no cluster profile "hpc-west"; the profiles are: local-slurm.');
  });

  it('the progress line counts shards by state and names the retried ones', () => {
    const line = describeShards([
      { shard: 0, state: 'done', attempts: 1, fraction: 1, why: null },
      { shard: 1, state: 'running', attempts: 2, fraction: 0.5, why: 'FAILED, NonZeroExitCode' },
      { shard: 2, state: 'pending', attempts: 1, fraction: 0, why: null },
    ]);
    expect(line).toBe('1 of 3 shards done, 1 running, 1 waiting (shard 1: attempt 2)');
  });
});
