/**
 * `esm-studio embed --cluster local-slurm` on a real Slurm (the loopback cluster of
 * slurm-setup.ts): 300 random sequences in 6 shards give files byte-identical to the same
 * embedding run on this computer, and a shard whose worker process is killed is submitted again
 * and the merged result is still identical; a project's dataset embedded on the cluster is a run
 * with the local run's files; Ctrl-C cancels the array.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const slurm = inject('slurm');
const COUNT = 300;
const LETTERS = 'ACDEFGHIKLMNPQRSTVWY';
let home: string;
let env: NodeJS.ProcessEnv;
let model: string;
let fasta: string;
let local: Map<string, Buffer>;

/** Same settings both ways; one thread, since thread count can change float sums. */
const embedArgs = (out: string): string[] => ['embed', '--model', model, '--fasta', fasta, '--out', out, '--layers', '1,2', '--pool', 'mean,bos,per-token', '--logits', '--batch-tokens', '400', '--threads', '1'];

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Every file below `dir` (relative path → bytes) but run.json, whose timings differ run to run. */
function files(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry !== 'run.json') found.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return found;
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
}

/** PIDs of the worker processes Slurm runs for task `task` (or any) of array `arrayId`. */
function workerPids(arrayId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('esm-studio.js') || !cmdline.includes('worker')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`SLURM_ARRAY_JOB_ID=${arrayId}`)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

const waitFor = async <T>(what: () => T | null | undefined, exited: () => boolean): Promise<T> => {
  for (;;) {
    const value = what();
    if (value !== null && value !== undefined) return value;
    if (exited()) throw new Error('the command ended before the awaited state');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(!slurm)('embedding on the loopback Slurm cluster (local-slurm profile)', () => {
  beforeAll(() => {
    assertBuilt();
    home = mkdtempSync(join(tmpdir(), 'esm-cluster-'));
    // SLURM_CONF is passed explicitly: the CLI hands it to every sbatch/squeue/scancel.
    env = { ...process.env, ESM_STUDIO_HOME: home, ...slurm };
    model = join(home, 'model');
    expect(cli('convert', loadGolden('tiny').checkpoint, '--out', model).code).toBe(0);
    const rng = createRng(17);
    const sequences = Array.from({ length: COUNT }, () => Array.from({ length: 20 + rng.nextInt(100) }, () => LETTERS[rng.nextInt(20)]).join(''));
    sequences[11] = sequences[5]!; // a duplicate: computed once, written to both rows
    fasta = join(home, 'in.fasta');
    writeFileSync(fasta, sequences.map((s, i) => `>seq${i}\n${s}\n`).join(''));
    const run = cli(...embedArgs(join(home, 'local')));
    expect(run.code, run.err).toBe(0);
    local = files(join(home, 'local'));
    expect(local.has('per_token_layer2.npy') && local.has('logits/299.npy')).toBe(true);
  }, 120_000);

  it('300 sequences in 6 shards: the merged files are the local run\'s, byte for byte; the summary is the same line', { timeout: 240_000 }, () => {
    const jobDir = join(home, 'job-6');
    const run = cli(...embedArgs(join(home, 'cluster')), '--cluster', 'local-slurm', '--shards', '6', '--job-dir', jobDir, '--keep-job-dir');
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(new RegExp(`^Embedded ${COUNT} sequences in [\\d.]+ s \\(\\d+ tokens/s on cpu\\) into ${join(home, 'cluster')}\\.\\n$`));
    expectSameFiles(files(join(home, 'cluster')), local);
    const record = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { state: string; arrays: unknown[]; attempts: number[] };
    expect(record).toMatchObject({ state: 'done', attempts: [1, 1, 1, 1, 1, 1] });
    expect(record.arrays).toHaveLength(1);
    // Every shard computed a real part (balanced by tokens): each wrote some sequences' logits, none all.
    for (let s = 0; s < 6; s++) {
      const written = readdirSync(join(jobDir, 'shards', String(s), 'logits')).length;
      expect(written).toBeGreaterThan(COUNT / 12);
      expect(written).toBeLessThan(COUNT / 3);
    }
  });

  it('a shard whose worker is killed is submitted again and the merged result is still identical', { timeout: 240_000 }, async () => {
    const jobDir = join(home, 'job-killed');
    const child = spawn(process.execPath, [BIN, ...embedArgs(join(home, 'killed')), '--cluster', 'local-slurm', '--shards', '6', '--job-dir', jobDir, '--keep-job-dir'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    const exited = (): boolean => child.exitCode !== null;
    const arrayId = await waitFor(() => {
      try {
        return (JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { arrays: { id: string }[] }).arrays[0]?.id;
      } catch {
        return null; // not written yet
      }
    }, exited);
    // The first worker seen running is killed outright (SIGKILL, as an OOM killer or a crash would).
    const [victim] = await waitFor(() => (workerPids(arrayId).length > 0 ? workerPids(arrayId) : null), exited);
    const task = readFileSync(`/proc/${victim}/environ`, 'utf8').split('\0').find((v) => v.startsWith('SLURM_ARRAY_TASK_ID='))!.split('=')[1]!;
    process.kill(victim!, 'SIGKILL');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, err).toBe(0);
    expectSameFiles(files(join(home, 'killed')), local);
    const record = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { state: string; arrays: { id: string; shards: number[] }[]; attempts: number[] };
    expect(record.state).toBe('done');
    expect(record.attempts[Number(task)]).toBe(2);
    expect(record.arrays).toEqual([{ id: arrayId, shards: [0, 1, 2, 3, 4, 5] }, { id: expect.any(String), shards: [Number(task)] }]);
  });

  it('a project\'s dataset (--project --dataset) on the cluster: a run the app lists, with the local run\'s files byte for byte', { timeout: 240_000 }, () => {
    expect(cli('import', '--project', 'Cluster', '--fasta', fasta, '--name', 'proteins').code).toBe(0);
    const settings = ['--project', 'Cluster', '--dataset', 'proteins', '--model', loadGolden('tiny').checkpoint, '--layers', '1,2', '--pool', 'mean,per-token', '--batch-tokens', '400', '--threads', '1'];
    const here = cli('embed', ...settings);
    expect(here.code, here.err).toBe(0);
    const there = cli('embed', ...settings, '--cluster', 'local-slurm', '--shards', '3');
    expect(there.code, there.err).toBe(0);
    // Progress lines are printed per step of 1 %: which counts show depends on when the looks fell.
    expect(there.err).toMatch(/On local-slurm: \d of 3 shards done, \d running, \d waiting; /);
    // The same summary line, for the next run.
    expect(there.out.replace(/^Run \d+/, 'Run N')).toBe(here.out.replace(/^Run \d+/, 'Run N'));
    const [project] = readdirSync(join(home, 'projects'));
    const runs = join(home, 'projects', project!, 'runs');
    const [first, second] = [/^Run (\d+)/.exec(here.out)![1]!, /^Run (\d+)/.exec(there.out)![1]!];
    const local = files(join(runs, first));
    expect(local.size).toBeGreaterThanOrEqual(5);
    // The cluster job's folder is gone after the merge: the run holds what a local run holds.
    expectSameFiles(files(join(runs, second)), local);
    expect(cli('runs', '--project', 'Cluster').out).toMatch(new RegExp(`^${second}\\tembed\\.dataset\\tdone`, 'm'));
  });

  it('Ctrl-C cancels the array (scancel): nothing of it stays queued and --out gets no files', { timeout: 120_000 }, async () => {
    const jobDir = join(home, 'job-cancelled');
    const out = join(home, 'cancelled');
    // One shard at a time, so that most of the array is still queued when the user stops it.
    const child = spawn(process.execPath, [BIN, ...embedArgs(out), '--cluster', 'local-slurm', '--shards', '6', '--max-at-once', '1', '--job-dir', jobDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    const arrayId = await waitFor(() => (/shards done/.test(err) ? (JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { arrays: { id: string }[] }).arrays[0]!.id : null), () => child.exitCode !== null);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, err).toBe(130);
    expect(err).toContain('Embedding cancelled; no result files were kept.');
    // Queued or running: a cancelled task Slurm is still tearing down (COMPLETING) is neither.
    const queued = spawnSync('squeue', ['-h', '-r', '-j', arrayId, '-t', 'PENDING,RUNNING', '-o', '%K|%T'], { env, encoding: 'utf8' });
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stdout.trim()).toBe('');
    expect(JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8'))).toMatchObject({ state: 'cancelled' });
    expect(readdirSync(out).filter((name) => !name.startsWith('.'))).toEqual([]);
  });
});
