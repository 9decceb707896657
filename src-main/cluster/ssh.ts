/**
 * cluster/ssh — Slurm over SSH: a workstation submits to a cluster's login node with the system's
 * `ssh` (the user's keys or agent, or the profile's identity file; BatchMode so that a missing key
 * fails at once instead of asking for a password, and one ControlMaster connection reused by every
 * command of a job) and moves files with `rsync` over that same connection.
 *
 * Why rsync: it sends only what changed, so the model (hundreds of MB) crosses once and is reused
 * by every later job, the shards' logs can be pulled at every look at the array for a few bytes,
 * and an interrupted transfer is resumed (`--partial`) instead of started over. Where rsync is
 * missing on either side, `scp -r` copies whole folders instead (slower, same result).
 *
 * What lives where: the job folder is written here (as for local Slurm) and mirrored to
 * `<workDir>/jobs/<name>-<hash of the local path>` on the cluster; the task's model folders go to
 * `<workDir>/models/<name>-<hash>` and the task the nodes read names those copies. The shards'
 * logs come back at every look, their results once all are done; then jobs/shards merges them
 * here exactly as for local Slurm.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';

/** The fields of an `ssh` cluster profile that say how to reach the login node. */
export const SshTargetFields = z.object({
  /** The login node's name or address. */
  host: z.string().min(1),
  /** The account there; by default ssh's (the local user name, or the ~/.ssh/config entry's). */
  user: z.string().min(1).nullable().default(null),
  port: z.number().int().min(1).max(65535).default(22),
  /** A private key file; by default the user's agent and ~/.ssh keys, as plain `ssh` uses them. */
  identityFile: z.string().min(1).nullable().default(null),
  /** An absolute folder on the cluster, on a filesystem the nodes share: jobs and models go below it. */
  workDir: z.string().regex(/^\//, 'must be an absolute path on the cluster (starting with /)'),
  /** Further `ssh -o` options, e.g. `ProxyJump=gateway` or `UserKnownHostsFile=…`. */
  sshOptions: z.array(z.string()).default([]),
  /** Variables set for every Slurm command there (e.g. SLURM_CONF where the cluster needs it). */
  remoteEnv: z.record(z.string().regex(/^[A-Za-z_]\w*$/), z.string()).default({}),
});
export type SshTarget = z.output<typeof SshTargetFields>;

/** Runs a command on the login node. */
export interface RemoteShell {
  /** Runs `command args…` there (arguments quoted for its shell); resolves with stdout. */
  exec(command: string, args: string[]): Promise<string>;
}

/** A job folder mirrored on the cluster; the nodes read and write the copy. */
export interface RemoteJobFolder {
  /** The job folder as the nodes see it. */
  nodeDir: string;
  /** Copies the task's model folders there (only what changed); returns the task naming the copies. */
  stageTask<T extends { params: unknown }>(task: T): Promise<T>;
  /** Sends the job's own files (task, batch script, folders) before a submission. */
  push(): Promise<void>;
  /** Brings back the shards' logs (`logs`) or their results (`shards`). */
  pull(what: 'logs' | 'shards'): Promise<void>;
}

/** A word for a POSIX shell, quoted unless plainly safe. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** `user@host` or `host`. */
const destination = (target: SshTarget): string => (target.user ? `${target.user}@${target.host}` : target.host);

/** Where ControlMaster sockets live: short (unix sockets take ≤ 108 bytes), private to this user. */
function controlDir(): string {
  const dir = join(tmpdir(), `esm-ssh-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** ssh's options for every connection to the target (also rsync's `-e` command). */
export function sshOptions(target: SshTarget): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${join(controlDir(), '%C')}`,
    '-o', 'ControlPersist=60',
    '-o', 'ConnectTimeout=20',
    '-p', String(target.port),
    ...(target.identityFile ? ['-i', target.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
    ...target.sshOptions.flatMap((option) => ['-o', option]),
  ];
}

function runLocal(command: string, args: string[], what: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolvePromise(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${command} is not on PATH: install it (OpenSSH's client, rsync) to use a cluster over SSH.`));
      reject(new Error(`${what} failed: ${stderr.trim() || error.message}`));
    });
  });
}

/** The login node's shell, over ssh; Slurm's commands get the profile's remote variables. */
export function sshShell(target: SshTarget): RemoteShell {
  const env = Object.entries(target.remoteEnv).map(([key, value]) => `${key}=${value}`);
  return {
    exec: (command, args) => {
      // ssh hands the remote shell one line: every word quoted, so paths with spaces stay whole.
      const line = [...(env.length > 0 ? ['env', ...env] : []), command, ...args].map(shellQuote).join(' ');
      return runLocal('ssh', [...sshOptions(target), destination(target), line], `${command} on ${destination(target)} (over ssh, port ${target.port})`).catch((error: Error) => {
        throw new Error(error.message.replace(/^(.*) failed: (.*(Permission denied|Connection refused|Could not resolve|Host key verification failed).*)$/s, `Cannot reach ${destination(target)} on port ${target.port} over ssh ($2). Check the profile's host, user, port and key (ssh must log in without a password: BatchMode).`));
      });
    },
  };
}

/** A short, stable name for a local folder on the cluster: its name and a hash of its full path. */
const remoteName = (local: string): string => `${basename(local)}-${createHash('sha256').update(resolve(local)).digest('hex').slice(0, 12)}`;

let rsyncHere: boolean | null = null;
const hasRsyncHere = (): boolean => (rsyncHere ??= (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'rsync'))));

/** The task's model folders (`params.models[].dir`, `params.modelDir`): what the nodes must read. */
function modelDirs(params: Record<string, unknown>): string[] {
  const models = Array.isArray(params.models) ? (params.models as Record<string, unknown>[]) : [];
  return [...models.map((m) => m.dir), params.modelDir].filter((dir): dir is string => typeof dir === 'string');
}

/** The same params with each model folder replaced by `rename(folder)`. */
function renameModelDirs(params: Record<string, unknown>, rename: (dir: string) => string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...params };
  if (Array.isArray(params.models)) copy.models = (params.models as Record<string, unknown>[]).map((m) => (typeof m.dir === 'string' ? { ...m, dir: rename(m.dir) } : m));
  if (typeof params.modelDir === 'string') copy.modelDir = rename(params.modelDir);
  return copy;
}

/** The job folder `jobDir` (here) mirrored below the target's work folder. */
export function sshJobFolder(target: SshTarget, jobDir: string): RemoteJobFolder {
  const shell = sshShell(target);
  const nodeDir = `${target.workDir.replace(/\/+$/, '')}/jobs/${remoteName(jobDir)}`;
  const remote = (path: string): string => `${destination(target)}:${shellQuote(path)}`;
  let useRsync: boolean | null = null;
  /** rsync on both sides, or else scp; asked once per job. */
  const rsyncBothSides = async (): Promise<boolean> => (useRsync ??= hasRsyncHere() && (await shell.exec('sh', ['-c', 'command -v rsync || true'])).trim() !== '');
  const rsync = (args: string[], what: string): Promise<string> =>
    runLocal('rsync', ['-a', '--partial', '-e', ['ssh', ...sshOptions(target)].map(shellQuote).join(' '), ...args], what);
  /** Copies folder `from` into `to` (both end with their own name's contents). */
  const copyFolder = async (from: string, to: string, direction: 'up' | 'down', excludes: string[] = []): Promise<void> => {
    const [source, target_] = direction === 'up' ? [from, remote(to)] : [remote(from), to];
    if (await rsyncBothSides()) {
      await rsync([...excludes.map((e) => `--exclude=${e}`), `${source}/`, `${target_}/`], `Copying ${from} ${direction === 'up' ? 'to' : 'from'} the cluster`);
      return;
    }
    // scp copies a folder into an existing one under its own name: copy its entries instead.
    await runLocal('scp', ['-r', '-p', ...scpOptions(target), direction === 'up' ? `${from}/.` : `${remote(from)}/.`, direction === 'up' ? remote(to) : to], `Copying ${from} with scp`);
  };
  return {
    nodeDir,
    async stageTask(task) {
      const params = task.params as Record<string, unknown>;
      const copies = new Map(modelDirs(params).map((dir) => [dir, `${target.workDir.replace(/\/+$/, '')}/models/${remoteName(dir)}`]));
      if (copies.size === 0) return task;
      await shell.exec('mkdir', ['-p', ...copies.values()]);
      for (const [here, there] of copies) await copyFolder(here, there, 'up');
      return { ...task, params: renameModelDirs(params, (dir) => copies.get(dir)!) };
    },
    async push() {
      await shell.exec('mkdir', ['-p', `${nodeDir}/logs`, `${nodeDir}/shards`]);
      // The shards' folders there are newer than here (checkpoints of earlier attempts): never sent back up.
      await copyFolder(jobDir, nodeDir, 'up', ['/logs', '/shards/*/**']);
    },
    async pull(what) {
      mkdirSync(join(jobDir, what), { recursive: true });
      await copyFolder(`${nodeDir}/${what}`, join(jobDir, what), 'down');
    },
  };
}

/** scp takes the port as -P and no ControlPersist-free -p: the same options otherwise. */
function scpOptions(target: SshTarget): string[] {
  const options = sshOptions(target);
  const port = options.indexOf('-p');
  return [...options.slice(0, port), '-P', options[port + 1]!, ...options.slice(port + 2)];
}

/** Closes the reused connection (ControlMaster) now instead of after ControlPersist's idle time. */
export function closeSshConnection(target: SshTarget): Promise<void> {
  return runLocal('ssh', [...sshOptions(target), '-O', 'exit', destination(target)], 'Closing the ssh connection').then(
    () => undefined,
    () => undefined, // no master was running
  );
}
