/**
 * cluster/profiles — where a cluster job runs and how. The built-in `local-slurm` profile needs no
 * configuration: this machine is a Slurm login node (sbatch, squeue, scancel on PATH), SLURM_CONF
 * comes from the environment, and a node starts workers with this same Node and install (the work
 * folder must be on a filesystem the nodes share, as a project folder on a login node is).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SlurmClient } from './slurm';

export interface ClusterProfile extends SlurmClient {
  name: string;
  kind: 'local-slurm';
  /** How a node starts `esm-studio`: a program and its first arguments (e.g. node + bin/esm-studio.js). */
  launcher: string[];
  partition: string | null;
  /** At most this many array tasks at once (sbatch's `%K`); 0: no limit. */
  maxAtOnce: number;
  /** How often a failed or killed task is submitted again before the job fails. */
  retries: number;
  cpusPerTask: number | null;
  /** Further sbatch options, one per entry (e.g. `--account=lab`, `--qos=short`). */
  extraSbatch: string[];
  /** Seconds between two looks at the array (squeue and the tasks' logs). */
  pollSeconds: number;
}

export const PROFILE_NAMES = ['local-slurm'] as const;

/** This package's bin/esm-studio.js, found upwards from this module (out/main/, out/main/chunks/ or src-main/cluster/). */
function thisInstallBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'esm-studio.js');
    if (existsSync(bin)) return bin;
  }
  throw new Error(`Cannot find bin/esm-studio.js above ${fileURLToPath(import.meta.url)}: the cluster's nodes start ESM Studio with it.`);
}

/** How a node starts this same install: this Node and this package's bin/esm-studio.js. Under Electron, its binary runs as plain Node. */
export function thisInstallLauncher(): string[] {
  const bin = thisInstallBin();
  return process.versions.electron ? ['env', 'ELECTRON_RUN_AS_NODE=1', process.execPath, bin] : [process.execPath, bin];
}

export interface LocalSlurmOptions {
  /** The launcher on the nodes; by default this install (`thisInstallLauncher`). */
  launcher?: string[];
  env?: NodeJS.ProcessEnv;
  maxAtOnce?: number;
  retries?: number;
}

/** Slurm's own default configuration file, used when SLURM_CONF is not set. */
const SYSTEM_SLURM_CONF = '/etc/slurm/slurm.conf';

export function localSlurmProfile(options: LocalSlurmOptions = {}): ClusterProfile {
  const env = { ...(options.env ?? process.env) };
  if (!env.SLURM_CONF && !existsSync(SYSTEM_SLURM_CONF)) {
    throw new Error(`The local-slurm profile needs Slurm's configuration: set SLURM_CONF to the cluster's slurm.conf (there is no ${SYSTEM_SLURM_CONF} on this machine).`);
  }
  return {
    name: 'local-slurm',
    kind: 'local-slurm',
    env,
    launcher: options.launcher ?? thisInstallLauncher(),
    partition: null,
    maxAtOnce: options.maxAtOnce ?? 0,
    retries: options.retries ?? 2,
    cpusPerTask: null,
    extraSbatch: [],
    pollSeconds: 1,
  };
}

/** The profile called `name`; only the built-in one so far. */
export function clusterProfile(name: string, options: LocalSlurmOptions = {}): ClusterProfile {
  if (name === 'local-slurm') return localSlurmProfile(options);
  throw new Error(`There is no cluster profile "${name}"; the profiles are: ${PROFILE_NAMES.join(', ')}.`);
}
