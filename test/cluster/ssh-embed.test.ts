/**
 * Slurm over SSH (cluster/ssh) on the loopback cluster: a throwaway OpenSSH server on 127.0.0.1
 * (own port, own host key and sshd_config, StrictModes off, run as the current user) and a key
 * made here. `embed --cluster test-ssh`, with an `ssh` profile in a profiles file whose work
 * folder is another folder: the model and job are copied there with rsync, Slurm's commands run
 * through ssh (SLURM_CONF only on the "login node"), the nodes read only the copies, and the
 * shards' results come back and merge into files byte-identical to the local run; the same with
 * scp where this computer has no rsync. A key the server does not know fails with a clear message.
 * Skipped, with the reason printed, only where Debian's sshd is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeSshConnection, sshShell, type SshTarget } from '../../src-main/cluster/ssh';
import { createRng } from '../../src-main/core/rng';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const SSHD = '/usr/sbin/sshd';
const slurm = inject('slurm');
const LETTERS = 'ACDEFGHIKLMNPQRSTVWY';
const sshdMissing = existsSync(SSHD) ? null : `${SSHD} is not installed (Debian: apt-get install openssh-server rsync)`;
if (sshdMissing) console.warn(`SSH cluster test skipped: ${sshdMissing}.`);

let home: string;
let env: NodeJS.ProcessEnv;
let sshd: ChildProcess | null = null;
let target: SshTarget;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Every file below `dir` (relative path → bytes) but those named in `skip`. */
function files(dir: string, skip: string[] = []): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (!skip.includes(entry)) found.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves once something accepts connections on the port; rejects if sshd exits first. */
async function listening(port: number, server: ChildProcess, log: () => string): Promise<void> {
  for (;;) {
    if (server.exitCode !== null) throw new Error(`sshd exited with ${server.exitCode}:\n${log()}`);
    const open = await new Promise<boolean>((r) => {
      const socket = connect(port, '127.0.0.1', () => (socket.end(), r(true))).once('error', () => r(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keygen(file: string): void {
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'esm-studio-test', '-f', file], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
}

describe.skipIf(!slurm || !!sshdMissing)('embedding through an ssh profile (a test sshd on 127.0.0.1, the loopback Slurm)', () => {
  beforeAll(async () => {
    assertBuilt();
    // Short: ssh's ControlMaster socket and Slurm's paths stay well under the unix socket limit.
    home = mkdtempSync('/tmp/esm-ssh-');
    env = { ...process.env, ESM_STUDIO_HOME: home, ...slurm };
    keygen(join(home, 'host_key'));
    keygen(join(home, 'user_key'));
    writeFileSync(join(home, 'authorized_keys'), readFileSync(join(home, 'user_key.pub')));
    const port = await freePort();
    writeFileSync(
      join(home, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(home, 'host_key')}`,
        `AuthorizedKeysFile ${join(home, 'authorized_keys')}`,
        `PidFile ${join(home, 'sshd.pid')}`,
        // The temporary folder is world-readable and may belong to another user than the login: allowed here only.
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        'LogLevel ERROR',
      ].join('\n') + '\n',
    );
    // sshd refuses to start without its privilege separation folder (made by the package's service, which is not started here).
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    let log = '';
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(home, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.on('data', (chunk: Buffer) => (log += String(chunk)));
    await listening(port, sshd, () => log);
    target = {
      host: '127.0.0.1',
      user: userInfo().username,
      port,
      identityFile: join(home, 'user_key'),
      workDir: join(home, 'remote'),
      sshOptions: [`UserKnownHostsFile=${join(home, 'known_hosts')}`, 'StrictHostKeyChecking=accept-new'],
      remoteEnv: { SLURM_CONF: slurm!.SLURM_CONF! },
    };
  }, 120_000);

  afterAll(async () => {
    if (target) await closeSshConnection(target);
    sshd?.kill('SIGTERM');
  });

  it('a key the server does not accept: the message names the host, port and what to check', async () => {
    keygen(join(home, 'stranger_key'));
    const stranger = { ...target, identityFile: join(home, 'stranger_key') };
    await expect(sshShell(stranger).exec('true', [])).rejects.toThrow(
      new RegExp(`^Cannot reach ${target.user}@127\\.0\\.0\\.1 on port ${target.port} over ssh \\(.*Permission denied.*\\)\\. Check the profile's host, user, port and key`, 's'),
    );
  });

  it('the same embedding in 3 shards through ssh: model and job copied there, results back, byte-identical to the local run', { timeout: 240_000 }, async () => {
    const model = join(home, 'model');
    expect(cli('convert', loadGolden('tiny').checkpoint, '--out', model).code).toBe(0);
    const rng = createRng(5);
    const fasta = join(home, 'in.fasta');
    writeFileSync(fasta, Array.from({ length: 40 }, (_, i) => `>s${i}\n${Array.from({ length: 15 + rng.nextInt(60) }, () => LETTERS[rng.nextInt(20)]).join('')}\n`).join(''));
    const settings = ['--model', model, '--fasta', fasta, '--layers', '1,2', '--pool', 'mean,per-token', '--logits', '--batch-tokens', '300', '--threads', '1'];
    const here = cli('embed', ...settings, '--out', join(home, 'local'));
    expect(here.code, here.err).toBe(0);

    // The profile as a user writes it, in the profiles file; the command line is the same as for local Slurm.
    const profiles = join(home, 'clusters.json');
    const { remoteEnv, sshOptions, ...reach } = target;
    writeFileSync(profiles, JSON.stringify({ profiles: { 'test-ssh': { kind: 'ssh', ...reach, sshOptions, remoteEnv, pollSeconds: 1, launcher: { type: 'install', node: process.execPath, install: ROOT } } } }));
    const jobDir = join(home, 'job-ssh');
    const there = spawnSync(process.execPath, [BIN, 'embed', ...settings, '--out', join(home, 'via-ssh'), '--cluster', 'test-ssh', '--shards', '3', '--job-dir', jobDir, '--keep-job-dir'], {
      // No SLURM_CONF here: only the login node's commands need it (remoteEnv).
      env: { ...process.env, ESM_STUDIO_HOME: home, ESM_STUDIO_CLUSTERS: profiles, SLURM_CONF: '' },
      encoding: 'utf8',
    });
    expect(there.status, there.stderr).toBe(0);
    // Each shard ran once: no task was taken for lost because its log came back late.
    expect(JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8'))).toMatchObject({ state: 'done', attempts: [1, 1, 1] });
    expect(there.stdout).toMatch(/^Embedded 40 sequences in [\d.]+ s/);

    // The result: the local run's files, byte for byte (run.json holds timings).
    const expected = files(join(home, 'local'), ['run.json']);
    const actual = files(join(home, 'via-ssh'), ['run.json']);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);

    // Moved: the model and the job live in the remote work folder, and the nodes were told to read those copies.
    const [remoteJob] = readdirSync(join(target.workDir, 'jobs'));
    const [remoteModel] = readdirSync(join(target.workDir, 'models'));
    expect(remoteJob).toMatch(/^job-ssh-[0-9a-f]{12}$/);
    expect(remoteModel).toMatch(/^model-[0-9a-f]{12}$/);
    expect(files(join(target.workDir, 'models', remoteModel!))).toEqual(files(model));
    const remoteTask = JSON.parse(readFileSync(join(target.workDir, 'jobs', remoteJob!, 'task.json'), 'utf8')) as { params: { models: { dir: string }[] } };
    expect(remoteTask.params.models[0]!.dir).toBe(join(target.workDir, 'models', remoteModel!));
    expect(readFileSync(join(target.workDir, 'jobs', remoteJob!, 'run-shard.sh'), 'utf8')).toContain(`--work-dir '${join(target.workDir, 'jobs', remoteJob!, 'shards')}'/"$SLURM_ARRAY_TASK_ID"`);
    // The shards' results were computed there and brought back here, the same bytes.
    for (let s = 0; s < 3; s++) {
      const there = files(join(target.workDir, 'jobs', remoteJob!, 'shards', String(s)));
      expect(there.size).toBeGreaterThan(1);
      expect(files(join(jobDir, 'shards', String(s)))).toEqual(there);
    }
    const logs = readdirSync(join(jobDir, 'logs')).filter((name) => name.endsWith('.log'));
    expect(logs, `${logs.join(' ')}\n${there.stderr}`).toHaveLength(3);
  });

  it('without rsync on this computer, scp copies the same folders: the same files again (runs after the test above: its model, FASTA and profile)', { timeout: 240_000 }, () => {
    // A PATH with ssh and scp only (node is started by its full path).
    const bin = join(home, 'bin-without-rsync');
    mkdirSync(bin);
    for (const tool of ['ssh', 'scp']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    const settings = ['--model', join(home, 'model'), '--fasta', join(home, 'in.fasta'), '--layers', '1,2', '--pool', 'mean,per-token', '--logits', '--batch-tokens', '300', '--threads', '1'];
    const jobDir = join(home, 'job-scp');
    const there = spawnSync(process.execPath, [BIN, 'embed', ...settings, '--out', join(home, 'via-scp'), '--cluster', 'test-ssh', '--shards', '2', '--job-dir', jobDir, '--keep-job-dir'], {
      env: { ...process.env, PATH: bin, ESM_STUDIO_HOME: home, ESM_STUDIO_CLUSTERS: join(home, 'clusters.json'), SLURM_CONF: '' },
      encoding: 'utf8',
    });
    expect(there.status, there.stderr).toBe(0);
    const expected = files(join(home, 'local'), ['run.json']);
    const actual = files(join(home, 'via-scp'), ['run.json']);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
    expect(JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8'))).toMatchObject({ state: 'done', attempts: [1, 1] });
  });
});
