/**
 * cluster/slurm — the Slurm client commands (sbatch, squeue, scancel) as functions, run with an
 * explicit environment: every call carries the profile's SLURM_CONF, since without it (and with no
 * /etc/slurm/slurm.conf) a client falls back to DNS look-ups and fails. Only plain text formats are
 * parsed: they are the same from Slurm 22.05 to 24.x, where the JSON outputs are not.
 */
import { execFile } from 'node:child_process';
import type { RemoteShell } from './ssh';

export interface SlurmClient {
  /** Environment for every client command (SLURM_CONF and PATH included). */
  env: NodeJS.ProcessEnv;
  /** Set: the commands run on a login node through this shell (cluster/ssh), not here. */
  shell?: RemoteShell;
}

/** States after which an array task runs no more (squeue's %T names). */
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'REVOKED']);

export interface TaskState {
  /** The array task id (`SLURM_ARRAY_TASK_ID`). */
  task: number;
  state: string;
  /** Why it waits or how it ended (squeue's %r), e.g. NonZeroExitCode. */
  reason: string;
}

export function hasEnded(state: string): boolean {
  return ENDED.has(state);
}

function run(client: SlurmClient, command: string, args: string[]): Promise<string> {
  if (client.shell) return client.shell.exec(command, args);
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { env: client.env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new Error(missing ? `${command} is not on PATH: install the Slurm client commands, or run on the cluster's login node.` : `${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      } else resolvePromise(stdout);
    });
  });
}

/** Submits a batch script; returns the job id (for an array, the array's id). */
export async function sbatch(client: SlurmClient, args: string[], script: string): Promise<string> {
  const out = await run(client, 'sbatch', ['--parsable', ...args, script]);
  const id = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch answered "${out.trim()}" instead of a job id.`);
  return id;
}

/**
 * The tasks of an array job that Slurm still lists, finished ones included (until MinJobAge).
 * An array Slurm no longer knows gives an empty list, not an error.
 */
export async function arrayTasks(client: SlurmClient, jobId: string): Promise<TaskState[]> {
  let out: string;
  try {
    out = await run(client, 'squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%K|%T|%r']);
  } catch (error) {
    if (/Invalid job id/i.test((error as Error).message)) return [];
    throw error;
  }
  return out
    .split('\n')
    .map((line) => line.trim().split('|'))
    .filter(([task]) => task !== undefined && /^\d+$/.test(task))
    .map(([task, state, reason]) => ({ task: Number(task), state: state ?? '', reason: reason ?? '' }));
}

/** Cancels whole arrays or single tasks (`12` or `12_3`). */
export async function scancel(client: SlurmClient, ids: string[]): Promise<void> {
  if (ids.length > 0) await run(client, 'scancel', ids);
}
