/**
 * Zero-shot scoring, saturation maps and scans as Slurm job arrays on the loopback cluster
 * (slurm-setup.ts), each compared byte for byte with the same task run on this computer; and the
 * faults: a shard cancelled with `scancel` mid-way is submitted again (result still identical), a
 * shard that fails every time leaves the job failed naming it with its log tail, `cluster status`
 * shows it, and `cluster resume` after fixing the cause submits only that shard and merges the
 * local run's files; `cluster cancel` stops a followed array; the dependent merge step merges
 * when the submitting command was killed, and without it a new process picks the job up
 * (followClusterJob) and merges; `fit --cluster` writes the local fit's files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ArrayJobFailed, type ArrayJobRecord } from '../../src-main/cluster/array-job';
import { followClusterJob } from '../../src-main/cluster/follow';
import { localSlurmProfile } from '../../src-main/cluster/profiles';
import { runShardedOnCluster } from '../../src-main/cluster/run-sharded';
import { createRng } from '../../src-main/core/rng';
import { runTaskHere } from '../../src-main/jobs/run-here';
import { encodeNpy } from '../../src-main/store/npy';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const slurm = inject('slurm');
const AMINO = 'ACDEFGHIKLMNPQRSTVWY';
let home: string;
let env: NodeJS.ProcessEnv;
let model: string;
let wtFasta: string;
/** A short protein for the saturation map: PLL costs L² × 19 passes. */
let shortFasta: string;
let variantsCsv: string;
let localScores: { out: string; err: string; code: number | null };
const scoreArgs = (): string[] => ['score', '--model', model, '--wt', wtFasta, '--variants', variantsCsv, '--method', 'masked-marginal'];

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Every file below `dir` (relative path → bytes). */
function files(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else found.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return found;
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
}

const readJob = (jobDir: string): ArrayJobRecord => JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as ArrayJobRecord;

async function waitFor<T>(what: () => T | null | undefined, gaveUp: () => string | null = () => null): Promise<T> {
  for (;;) {
    const value = what();
    if (value !== null && value !== undefined) return value;
    const reason = gaveUp();
    if (reason) throw new Error(reason);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The record's first array id, once it is written. */
const firstArray = (jobDir: string): string | null => {
  try {
    return readJob(jobDir).arrays[0]?.id ?? null;
  } catch {
    return null; // not written yet
  }
};

/** A task's state in Slurm (squeue), or null once it is not listed. */
function taskState(arrayId: string, task: number): string | null {
  const out = spawnSync('squeue', ['-h', '-r', '-t', 'all', '-j', arrayId, '-o', '%K|%T'], { env, encoding: 'utf8' }).stdout;
  return out.split('\n').find((line) => line.startsWith(`${task}|`))?.split('|')[1] ?? null;
}

describe.skipIf(!slurm)('scoring, saturation and scans on the loopback Slurm cluster', () => {
  beforeAll(() => {
    assertBuilt();
    home = mkdtempSync(join(tmpdir(), 'esm-kinds-'));
    env = { ...process.env, ESM_STUDIO_HOME: home, ...slurm };
    // The tests' own in-process submissions record their arrays in this home too (cluster resume by id).
    process.env.ESM_STUDIO_HOME = home;
    model = join(home, 'model');
    expect(cli('convert', loadGolden('tiny').checkpoint, '--out', model).code).toBe(0);
    const rng = createRng(23);
    const wildType = Array.from({ length: 48 }, () => AMINO[rng.nextInt(20)]).join('');
    wtFasta = join(home, 'wt.fasta');
    writeFileSync(wtFasta, `>wt\n${wildType}\n`);
    shortFasta = join(home, 'short.fasta');
    writeFileSync(shortFasta, `>short\n${wildType.slice(0, 20)}\n`);
    const mutation = (): string => {
      const p = rng.nextInt(wildType.length);
      const mut = AMINO.replace(wildType[p]!, '')[rng.nextInt(19)]!;
      return `${wildType[p]}${p + 1}${mut}`;
    };
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 7 === 0 ? `${mutation()}:${mutation()}` : mutation()},${(rng.next() * 4 - 2).toFixed(3)}`);
    variantsCsv = join(home, 'variants.csv');
    writeFileSync(variantsCsv, `mutant,fitness\n${rows.join('\n')}\n`);
    // The local scores several tests compare with.
    localScores = cli(...scoreArgs(), '--out', join(home, 'scores-local.csv'));
    expect(localScores.code, localScores.err).toBe(0);
  }, 120_000);

  it('zero-shot scores (masked marginals) in 3 shards: the CSV is the local one, byte for byte', { timeout: 180_000 }, () => {
    const jobDir = join(home, 'job-score');
    const there = cli(...scoreArgs(), '--out', join(home, 'scores-cluster.csv'), '--cluster', 'local-slurm', '--shards', '3', '--job-dir', jobDir, '--keep-job-dir');
    expect(there.code, there.err).toBe(0);
    expect(there.out).toBe(localScores.out.replace('scores-local.csv', 'scores-cluster.csv'));
    expect(readFileSync(join(home, 'scores-cluster.csv')).equals(readFileSync(join(home, 'scores-local.csv')))).toBe(true);
    // Each shard scored a real part of the rows.
    for (let s = 0; s < 3; s++) {
      const record = JSON.parse(readFileSync(join(jobDir, 'shards', String(s), 'shard.json'), 'utf8')) as { owned: number[] };
      expect(record.owned.length).toBeGreaterThan(5);
    }
    expect(readJob(jobDir)).toMatchObject({ state: 'done', attempts: [1, 1, 1] });
  });

  it('a profile of the profiles file: its Slurm settings reach the array; the scores are still the local ones', { timeout: 120_000 }, () => {
    const profiles = join(home, 'clusters.json');
    const settings = { kind: 'local-slurm', slurmConf: slurm!.SLURM_CONF, partition: 'debug', timeLimit: '10', memory: '100M', cpusPerTask: 1, retries: 0, pollSeconds: 0.5, extraSbatch: ['--comment=esm-studio-test'] };
    writeFileSync(profiles, JSON.stringify({ profiles: { lab: settings } }));
    const withProfiles = { ...env, ESM_STUDIO_CLUSTERS: profiles };
    const listed = spawnSync(process.execPath, [BIN, 'cluster', 'profiles'], { env: withProfiles, encoding: 'utf8' });
    expect(listed.stdout).toContain('local-slurm\tlocal-slurm\tbuilt in\nlab\tlocal-slurm\n');
    const jobDir = join(home, 'job-profile');
    const run = spawnSync(process.execPath, [BIN, ...scoreArgs(), '--out', join(home, 'scores-profile.csv'), '--cluster', 'lab', '--shards', '2', '--job-dir', jobDir, '--keep-job-dir'], { env: withProfiles, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(home, 'scores-profile.csv')).equals(readFileSync(join(home, 'scores-local.csv')))).toBe(true);
    const record = readJob(jobDir);
    expect(record.profile).toBe('lab');
    const shown = spawnSync('scontrol', ['-o', 'show', 'job', record.arrays[0]!.id], { env, encoding: 'utf8' }).stdout;
    expect(shown).toMatch(/Partition=debug /);
    expect(shown).toMatch(/TimeLimit=00:10:00 /);
    expect(shown).toMatch(/MinMemoryNode=100M /);
    expect(shown).toMatch(/Comment=esm-studio-test /);
  });

  it('a saturation map (PLL) in 4 shards with one shard cancelled by scancel mid-way: retried, and the map is the local one', { timeout: 240_000 }, async () => {
    const args = ['saturate', '--model', model, '--wt', shortFasta, '--method', 'pll'];
    const here = cli(...args, '--out', join(home, 'map-local.csv'));
    expect(here.code, here.err).toBe(0);
    const jobDir = join(home, 'job-map');
    const child = spawn(process.execPath, [BIN, ...args, '--out', join(home, 'map-cluster.csv'), '--cluster', 'local-slurm', '--shards', '4', '--job-dir', jobDir, '--keep-job-dir'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    const ended = (): string | null => (child.exitCode !== null ? `the command ended first: ${err}` : null);
    const arrayId = await waitFor(() => firstArray(jobDir), ended);
    // Shard 1 is cancelled once its worker has begun computing (its first progress line).
    await waitFor(() => (existsSync(join(jobDir, 'logs', `shard-1.${arrayId}.log`)) && readFileSync(join(jobDir, 'logs', `shard-1.${arrayId}.log`), 'utf8').includes('"progress"') ? true : null), ended);
    expect(spawnSync('scancel', [`${arrayId}_1`], { env }).status).toBe(0);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, err).toBe(0);
    const record = readJob(jobDir);
    expect(record.attempts[1]).toBe(2);
    expect(record.arrays[1]).toEqual({ id: expect.any(String), shards: [1] });
    expect(readFileSync(join(home, 'map-cluster.csv')).equals(readFileSync(join(home, 'map-local.csv')))).toBe(true);
  });

  describe('a scan (2 embedding matrices × 2 learners, 4 shards)', () => {
    let matrices: string[];
    let params: Record<string, unknown>;
    let input: Record<string, unknown>;
    let local: Map<string, Buffer>;
    const localArtifacts: unknown[] = [];
    const profile = () => ({ ...localSlurmProfile({ env: { ...process.env, ...slurm }, retries: 1 }), pollSeconds: 0.3 });

    beforeAll(async () => {
      const rng = createRng(5);
      const rows = 40;
      matrices = [0, 1].map((m) => {
        const file = join(home, `matrix${m}.npy`);
        writeFileSync(file, encodeNpy({ dtype: 'float32', shape: [rows, 12], data: Float32Array.from({ length: rows * 12 }, () => rng.next() * 2 - 1) }));
        return file;
      });
      const ids = Array.from({ length: rows }, (_, i) => `p${i}`);
      const items = matrices.map((path, m) => ({ embeddingId: m + 1, modelName: 'tiny', modelParameters: 0, layer: m + 1, pooling: 'mean', path }));
      params = { runDir: 'scan', target: 'y', task: 'regression', learners: ['ridgecv', 'knn'], split: { scheme: 'random', k: 3, seed: 7 }, scaling: 'standard', classWeight: null, items };
      input = { ids, target: ids.map(() => Number((rng.next() * 10).toFixed(2))), positions: null, splitValues: null, targetColumns: null };
      const localDir = join(home, 'scan-local');
      await runTaskHere('learn.scan', params as never, input, localDir, { signal: new AbortController().signal, onArtifact: (kind, path, meta) => void localArtifacts.push({ kind, path, meta }) });
      local = files(localDir);
      expect(local.size).toBe(4 * 2);
    }, 60_000);

    it('the merged files and the fits reported are the local run\'s', { timeout: 180_000 }, async () => {
      const artifacts: unknown[] = [];
      const workDir = join(home, 'scan-cluster');
      const summary = await runShardedOnCluster(profile(), 'learn.scan', params, input, workDir, { shards: 4, jobDir: join(home, 'job-scan'), onArtifact: (a) => void artifacts.push(a) });
      expect(summary).toMatchObject({ fits: 4, folds: 3, rows: 40, task: 'regression' });
      expectSameFiles(files(workDir), local);
      expect(artifacts).toEqual(localArtifacts);
      expect(existsSync(join(home, 'job-scan'))).toBe(false);
    });

    it('fit --cluster: the fit runs as an array task; predictions.csv and models.json are the local ones', { timeout: 120_000 }, () => {
      const ids = join(home, 'ids.txt');
      writeFileSync(ids, `${(input.ids as string[]).join('\n')}\n`);
      const labels = join(home, 'labels.csv');
      writeFileSync(labels, `id,y\n${(input.ids as string[]).map((id, i) => `${id},${(input.target as number[])[i]}`).join('\n')}\n`);
      const args = ['fit', '--embeddings', matrices[0]!, '--ids', ids, '--labels', labels, '--target', 'y', '--learner', 'ridgecv', '--cv', '3'];
      const here = cli(...args, '--out', join(home, 'fit-local'));
      expect(here.code, here.err).toBe(0);
      const there = cli(...args, '--out', join(home, 'fit-cluster'), '--cluster', 'local-slurm', '--shards', '1');
      expect(there.code, there.err).toBe(0);
      const strip = (line: string): string => line.replace(/[\d.]+ s\) → .*$/m, '');
      expect(strip(there.out)).toBe(strip(here.out));
      for (const name of ['predictions.csv', 'models.json']) expect(readFileSync(join(home, 'fit-cluster', name)).equals(readFileSync(join(home, 'fit-local', name))), name).toBe(true);
    });

    it('a shard failing every time fails the job naming it with its log tail; status shows it; resume after the fix merges the local files', { timeout: 240_000 }, async () => {
      const jobDir = join(home, 'job-scan-fails');
      const hidden = `${matrices[1]}.away`;
      renameSync(matrices[1]!, hidden); // the fits of matrix 1 (units 2 and 3: shards 2 and 3) cannot read it
      const failure = await runShardedOnCluster(profile(), 'learn.scan', params, input, join(home, 'scan-gone'), { shards: 4, jobDir }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ArrayJobFailed);
      const error = failure as ArrayJobFailed;
      expect(error.failed.map((f) => f.shard)).toEqual([2, 3]);
      expect(error.message).toContain('Shards 2, 3 of the cluster job');
      expect(error.failed[0]!.why).toMatch(/^FAILED, NonZeroExitCode: /);
      expect(error.failed[0]!.logTail).toContain(matrices[1]);
      expect(error.message).toContain(`esm-studio cluster resume ${jobDir}`);
      expect(readJob(jobDir)).toMatchObject({ state: 'failed', attempts: [1, 1, 2, 2] });

      const status = cli('cluster', 'status', jobDir);
      expect(status.code, status.err).toBe(0);
      expect(status.out).toContain('State: failed');
      expect(status.out).toContain('Tasks: 0 pending, 0 running, 2 done, 2 failed');
      expect(status.out).toMatch(/shard 2: failed, attempt 2 \(FAILED, NonZeroExitCode: /);
      expect(status.out).toContain("End of shard 3's log:");

      renameSync(hidden, matrices[1]!); // the cause fixed
      const arrays = readJob(jobDir).arrays.length;
      const out = join(home, 'scan-resumed');
      // By the array id Slurm shows, as a user would copy it from squeue.
      const resumed = cli('cluster', 'resume', readJob(jobDir).arrays[0]!.id, '--out', out);
      expect(resumed.code, resumed.err).toBe(0);
      expect(resumed.out).toContain(`Merged the 4 shards of learn.scan into ${out}.`);
      expectSameFiles(files(out), local);
      const record = readJob(jobDir);
      expect(record.arrays.slice(arrays).map((a) => a.shards)).toEqual([[2, 3]]);
      expect(record.state).toBe('done');
      expect(cli('cluster', 'status', jobDir).out).toContain('State: done, 100 % done');
    });
  });

  it('cluster cancel stops a followed array (scancel); cluster resume then completes it with the local scores', { timeout: 240_000 }, async () => {
    const args = ['score', '--model', model, '--wt', wtFasta, '--variants', variantsCsv, '--method', 'pll'];
    const here = cli(...args, '--out', join(home, 'pll-local.csv'));
    expect(here.code, here.err).toBe(0);
    const jobDir = join(home, 'job-cancel');
    const child = spawn(process.execPath, [BIN, ...args, '--out', join(home, 'pll-cluster.csv'), '--cluster', 'local-slurm', '--shards', '4', '--max-at-once', '1', '--job-dir', jobDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    const arrayId = await waitFor(() => firstArray(jobDir), () => (child.exitCode !== null ? `ended first: ${err}` : null));
    // One task at a time (%1): while the first runs, the others wait.
    const running = cli('cluster', 'status', arrayId);
    expect(running.code, running.err).toBe(0);
    expect(running.out).toMatch(/^State: running, \d+ % done, (about \d+ (s|min) left|time left not known yet)$/m);
    expect(Number(/Tasks: (\d+) pending/.exec(running.out)![1])).toBeGreaterThanOrEqual(2);
    const cancelled = cli('cluster', 'cancel', jobDir);
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(cancelled.out).toContain(`Cancelled the cluster job in ${jobDir}`);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, err).toBe(130);
    expect(err).toContain('was cancelled (esm-studio cluster cancel)');
    // Nothing of the array waits or runs any more (a killed task may still be COMPLETING for a moment).
    for (let t = 0; t < 4; t++) expect(['PENDING', 'RUNNING']).not.toContain(taskState(arrayId, t));
    expect(cli('cluster', 'status', jobDir).out).toContain('State: cancelled');
    const out = join(home, 'pll-resumed');
    const resumed = cli('cluster', 'resume', jobDir, '--out', out);
    expect(resumed.code, resumed.err).toBe(0);
    expect(readFileSync(join(out, 'scores.csv')).equals(readFileSync(join(home, 'pll-local.csv')))).toBe(true);
    // A merged job is not marked cancelled afterwards.
    const late = cli('cluster', 'cancel', jobDir);
    expect(late.code).toBe(1);
    expect(late.err).toContain('has finished and its result is merged: there is nothing to cancel.');
    expect(cli('cluster', 'status', jobDir).out).toContain('State: done');
  });

  it('a job whose submitter was killed (and its merge step cancelled) is picked up by followClusterJob and merged', { timeout: 180_000 }, async () => {
    const out = join(home, 'picked-up');
    mkdirSync(out);
    const jobDir = join(home, 'job-picked');
    const child = spawn(process.execPath, [BIN, ...scoreArgs(), '--out', join(out, 'scores.csv'), '--cluster', 'local-slurm', '--shards', '3', '--max-at-once', '1', '--job-dir', jobDir], { env, stdio: 'ignore' });
    const mergeJob = await waitFor(
      () => (firstArray(jobDir) ? readJob(jobDir).mergeJobs?.[0] : null),
      () => (child.exitCode !== null ? 'the command ended before its merge step was submitted' : null),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(spawnSync('scancel', [mergeJob], { env }).status).toBe(0);
    const statuses: string[] = [];
    const picked = await followClusterJob(jobDir, { profile: { ...localSlurmProfile({ env: { ...process.env, ...slurm } }), pollSeconds: 0.3 }, onStatus: (view) => statuses.push(view.state) });
    expect(picked.summary).toMatchObject({ rows: 60 });
    expect(statuses.length).toBeGreaterThan(0);
    const record = readJob(jobDir);
    expect(record.arrays).toHaveLength(1); // followed, not submitted again
    expect(readFileSync(join(record.workDir!, 'scores.csv')).equals(readFileSync(join(home, 'scores-local.csv')))).toBe(true);
  });

  it('the dependent merge step merges when the submitting command was killed; a new process then picks the result up', { timeout: 180_000 }, async () => {
    const out = join(home, 'killed-submitter');
    mkdirSync(out);
    const jobDir = join(home, 'job-orphan');
    const child = spawn(process.execPath, [BIN, ...scoreArgs(), '--out', join(out, 'scores.csv'), '--cluster', 'local-slurm', '--shards', '3', '--job-dir', jobDir], { env, stdio: 'ignore' });
    await waitFor(
      () => (firstArray(jobDir) && (readJob(jobDir).mergeJobs ?? []).length > 0 ? true : null),
      () => (child.exitCode !== null ? 'the command ended before its merge step was submitted' : null),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Slurm starts the merge step after the last shard; it writes merged.json when done.
    const merged = await waitFor(() => (existsSync(join(jobDir, 'merged.json')) ? (JSON.parse(readFileSync(join(jobDir, 'merged.json'), 'utf8')) as { workDir: string }) : null));
    expect(readFileSync(join(merged.workDir, 'scores.csv')).equals(readFileSync(join(home, 'scores-local.csv')))).toBe(true);
    const picked = await followClusterJob(jobDir);
    expect(picked.summary).toMatchObject({ rows: 60 });
  });
});
