/**
 * cluster/profiles and the shard summary line, without a cluster: the built-in local-slurm profile
 * takes SLURM_CONF from the environment it is given (and says what to set when there is none), and
 * starts workers with this install; profiles of a profiles file (ESM_STUDIO_CLUSTERS) carry every
 * field to the profile and a wrong field is reported with the file and the field; the progress
 * line counts shards by state and names retries; the time-left estimate follows the progress.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterProfile, listClusterProfiles, localSlurmProfile } from '../../src-main/cluster/profiles';
import { describeShards } from '../../src-main/cluster/run-sharded';
import { describeTimeLeft, secondsLeft } from '../../src-main/cluster/view';

/** An environment whose profiles file holds `profiles`. */
function withProfiles(profiles: unknown): NodeJS.ProcessEnv {
  const file = join(mkdtempSync(join(tmpdir(), 'esm-profiles-')), 'clusters.json');
  writeFileSync(file, JSON.stringify(profiles));
  return { PATH: '/usr/bin', SLURM_CONF: '/tmp/x/slurm.conf', ESM_STUDIO_CLUSTERS: file };
}

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
    const env = { PATH: '/usr/bin', ESM_STUDIO_CLUSTERS: '/nonexistent/clusters.json' };
    expect(() => clusterProfile('hpc-west', { env })).toThrow('There is no cluster profile "hpc-west"; the profiles are: local-slurm (more can be defined in /nonexistent/clusters.json).');
  });

  it('a profile of the profiles file carries all its fields; local-slurm stays and lists beside it', () => {
    const env = withProfiles({
      profiles: {
        'hpc-west': {
          kind: 'local-slurm',
          slurmConf: '/etc/hpc/slurm.conf',
          partition: 'gpu',
          account: 'lab42',
          qos: 'short',
          gpusPerTask: 1,
          cpusPerTask: 8,
          memory: '32G',
          timeLimit: '04:00:00',
          maxAtOnce: 10,
          retries: 3,
          extraSbatch: ['--constraint=a100'],
          launcher: { type: 'apptainer', image: '/shared/esm-studio.sif', bind: ['/shared'] },
        },
        lab: { kind: 'local-slurm', launcher: { type: 'install', node: '/opt/node22/bin/node', install: '/shared/esm-studio' } },
      },
    });
    const profile = clusterProfile('hpc-west', { env });
    expect(profile).toMatchObject({
      name: 'hpc-west',
      kind: 'local-slurm',
      partition: 'gpu',
      account: 'lab42',
      qos: 'short',
      gpusPerTask: 1,
      cpusPerTask: 8,
      memory: '32G',
      timeLimit: '04:00:00',
      maxAtOnce: 10,
      retries: 3,
      extraSbatch: ['--constraint=a100'],
      launcher: ['apptainer', 'exec', '--bind', '/shared', '/shared/esm-studio.sif', 'esm-studio'],
    });
    expect(profile.env.SLURM_CONF).toBe('/etc/hpc/slurm.conf');
    expect(clusterProfile('lab', { env }).launcher).toEqual(['/opt/node22/bin/node', '/shared/esm-studio/bin/esm-studio.js']);
    // Flags given on the command line win over the file's settings.
    expect(clusterProfile('hpc-west', { env, retries: 0 }).retries).toBe(0);
    expect(listClusterProfiles(env).map((p) => `${p.name}:${p.kind}:${p.builtIn}`)).toEqual(['local-slurm:local-slurm:true', 'hpc-west:local-slurm:false', 'lab:local-slurm:false']);
  });

  it('a wrong profiles file is reported with the file, the profile and the field', () => {
    const bad = withProfiles({ profiles: { 'hpc-west': { kind: 'local-slurm', memory: 'lots', gpusPerTask: -1 } } });
    expect(() => clusterProfile('hpc-west', { env: bad })).toThrow(
      `${bad.ESM_STUDIO_CLUSTERS}: profiles.hpc-west.gpusPerTask: Too small: expected number to be >=0; profiles.hpc-west.memory: write memory as Slurm does, e.g. 16G or 8000M. See README`,
    );
    const unknownKind = withProfiles({ profiles: { x: { kind: 'pbs' } } });
    expect(() => listClusterProfiles(unknownKind)).toThrow(/clusters\.json: profiles\.x\.kind: /);
    const typo = withProfiles({ profiles: { x: { kind: 'local-slurm', partitoin: 'gpu' } } });
    expect(() => clusterProfile('x', { env: typo })).toThrow(/profiles\.x: Unrecognized key: "partitoin"/);
  });

  it('the time left is the elapsed time scaled by the progress still to make', () => {
    const submittedAt = new Date(Date.UTC(2026, 0, 1, 12, 0, 0)).toISOString();
    const now = Date.parse(submittedAt) + 60_000;
    expect(secondsLeft({ submittedAt, fractionAtSubmit: 0 }, 0.25, now)).toBe(180);
    // A resumed job counts only the progress made since the resume.
    expect(secondsLeft({ submittedAt, fractionAtSubmit: 0.5 }, 0.75, now)).toBe(60);
    expect(secondsLeft({ submittedAt, fractionAtSubmit: 0 }, 0, now)).toBeNull();
    expect([null, 40, 180, 7200].map(describeTimeLeft)).toEqual(['time left not known yet', 'about 40 s left', 'about 3 min left', 'about 2.0 h left']);
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
