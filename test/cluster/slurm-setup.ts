/**
 * test/cluster/slurm-setup — vitest globalSetup of the `cluster` project only: starts a real
 * single-node Slurm on 127.0.0.1 (scripts/slurm/, Debian's packages, installed by the script when
 * missing) before the cluster tests and stops it after them. The tests get the cluster's
 * environment through `inject('slurm')` and pass SLURM_CONF explicitly to every child process.
 * Where Slurm cannot run (not Linux, not root, no apt-get and no Slurm), `slurm` is null and the
 * tests say so and skip; on a machine that should run it (CI), a failed start fails the run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const SCRIPTS = resolve(import.meta.dirname, '..', '..', 'scripts', 'slurm');
/**
 * Unix sockets live below it: at most 60 characters. One per run, so parallel runs do not meet.
 * Not SLURM_LOCAL_DIR: a cluster a developer started by hand must not be stopped and purged here.
 */
const DIR = process.env.ESM_STUDIO_TEST_SLURM_DIR ?? `/tmp/esm-slurm-vitest-${process.pid}`;

declare module 'vitest' {
  export interface ProvidedContext {
    /** The loopback cluster's variables (SLURM_CONF, SLURM_LOCAL_DIR, …), or null where it cannot run. */
    slurm: Record<string, string> | null;
  }
}

function cannotRun(): string | null {
  if (process.platform !== 'linux') return `Slurm's loopback cluster runs on Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the loopback Slurm cluster runs its daemons as root (run the tests as root, as CI does)';
  const has = (command: string): boolean => ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((dir) => existsSync(join(dir, command)));
  if (!has('slurmctld') && !has('apt-get')) return 'Slurm is not installed and there is no apt-get to install it';
  return null;
}

export default function setup(project: TestProject): () => void {
  const reason = cannotRun();
  if (reason) {
    console.warn(`Cluster tests skipped: ${reason}.`);
    project.provide('slurm', null);
    return () => {};
  }
  const out = execFileSync('bash', [join(SCRIPTS, 'start-local-cluster.sh'), DIR], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  // stdout holds only lines like: export SLURM_CONF='/tmp/…/slurm.conf'
  const variables = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
  if (!variables.SLURM_CONF) throw new Error(`start-local-cluster.sh printed no SLURM_CONF:\n${out}`);
  project.provide('slurm', variables);
  return () => execFileSync('bash', [join(SCRIPTS, 'stop-local-cluster.sh'), '--purge', DIR], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
}
