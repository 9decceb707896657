/**
 * Files that look complete are complete, from the command line: `embed --fasta --out` leaves no
 * result file after kill -9, Ctrl-C (SIGINT) or a full disk, and the next run cleans up what a
 * killed one left; a fine-tune's adapter and head files never exist without training.json, and
 * the staging and merge folders of killed runs are removed; user errors print no stack trace
 * (only with --debug).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src-main/store/npy';
import { GOLDEN } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';
import { mountSmallDisk, unmountSmallDisk } from '../support/small-disk';
import { fastaText, randomProteins } from '../support/random-proteins';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const TINY = join(GOLDEN, 'tiny', 'checkpoint');
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

let home: string;
const env = () => ({ ...process.env, ESM_STUDIO_HOME: home });

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: env(), encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function start(...args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
}

function exited(child: ChildProcess): Promise<{ code: number | null; err: string }> {
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, err })));
}

/** Polls `ready` (every 20 ms) until it holds or the process ends; true when it held. */
async function until(child: ChildProcess, ready: () => boolean): Promise<boolean> {
  while (child.exitCode === null && child.signalCode === null) {
    if (ready()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return ready();
}

function randomFasta(file: string, count: number): void {
  writeFileSync(file, fastaText(randomProteins(7, count, 40, 159), 'p'));
}

/** Entries of `dir`, hidden staging folders included. */
const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const stagingFolders = (dir: string): string[] => entries(dir).filter((e) => e.startsWith('.embedding-staging-'));
/** Bytes of per-residue rows the staging folders hold so far (the matrix is written row range by row range). */
const stagedPerToken = (dir: string): number =>
  stagingFolders(dir).reduce((n, s) => n + entries(join(dir, s)).filter((e) => e.startsWith('per_token_layer') && e.endsWith('.partial')).reduce((m, e) => m + statSync(join(dir, s, e)).size, 0), 0);

const small = mountSmallDisk();
let fasta: string;

beforeAll(() => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'esm-cli-files-'));
  fasta = join(home, 'many.fasta');
  randomFasta(fasta, 3000);
  // Converts the checkpoint once into the home's cache, so the runs below start computing at once.
  const warm = join(home, 'warm.fasta');
  randomFasta(warm, 2);
  expect(cli('embed', '--model', TINY, '--fasta', warm, '--out', join(home, 'warm')).code).toBe(0);
});
afterAll(() => unmountSmallDisk(small));

const EMBED = (out: string) => ['embed', '--model', TINY, '--fasta', fasta, '--pool', 'mean,per-token', '--batch-tokens', '1000', '--out', out];

describe('embed --fasta --out keeps no partial output', () => {
  it('after kill -9: nothing in --out but the hidden staging folder, which the next run removes', { timeout: 120_000 }, async () => {
    const out = join(home, 'killed');
    const child = start(...EMBED(out));
    const ended = exited(child);
    expect(await until(child, () => stagedPerToken(out) >= 64 * 1024), 'the run wrote per-residue rows before it ended').toBe(true);
    child.kill('SIGKILL');
    await ended;
    expect(entries(out).filter((e) => !e.startsWith('.'))).toEqual([]);
    expect(stagingFolders(out).length).toBe(1);

    const again = cli(...EMBED(out));
    expect(again.code, again.err).toBe(0);
    expect(entries(out)).toEqual(['ids.txt', 'mean_layer2.npy', 'per_token_layer2.npy', 'per_token_offsets.npy', 'run.json']);
    expect(readNpy(join(out, 'per_token_offsets.npy')).shape).toEqual([3001]);
  });

  it('after Ctrl-C (SIGINT): exit 130, no result file and no staging folder', { timeout: 120_000 }, async () => {
    const out = join(home, 'interrupted');
    const child = start(...EMBED(out));
    const ended = exited(child);
    expect(await until(child, () => stagedPerToken(out) >= 64 * 1024)).toBe(true);
    child.kill('SIGINT');
    const { code, err } = await ended;
    expect(code, err).toBe(130);
    expect(err).toContain('Embedding cancelled; no result files were kept.');
    expect(entries(out)).toEqual([]);
  });

  it.skipIf(!small.dir)(`on a full disk: names the file, exit 1, no stack trace, nothing left (${small.reason})`, () => {
    const out = join(small.dir!, 'embeddings');
    const run = cli(...EMBED(out));
    expect(run.code).toBe(1);
    expect(run.err).toMatch(new RegExp(`^The disk is full while writing ${out}/\\S+\\.npy; free space and resume\\.$`, 'm'));
    expect(run.err).not.toMatch(STACK_LINE);
    expect(entries(out)).toEqual([]);
  });
});

describe('finetune results appear with their training.json', () => {
  function data(file: string): void {
    let seed = 3;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const letters = 'ACDEFGHIKLMNPQRSTVWY';
    const lines = ['id,sequence,y'];
    for (let i = 0; i < 24; i++) lines.push(`p${i},${Array.from({ length: 30 }, () => letters[Math.floor(random() * 20)]).join('')},${random()}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
  }
  const SHAREABLE = ['adapter_model.safetensors', 'adapter_config.json', 'head.safetensors', 'head_config.json'];

  it('a watcher never sees the shareable files without training.json; killed runs\' staging and merge folders go', { timeout: 120_000 }, async () => {
    const csv = join(home, 'ft.csv');
    data(csv);
    const out = join(home, 'finetune');
    mkdirSync(out);
    // What killed runs left: a merge and a staging folder of a process that has ended.
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    mkdirSync(join(out, `.merged.merging-${dead}`));
    mkdirSync(join(out, `.results-staging-${dead}`));
    writeFileSync(join(out, `.results-staging-${dead}`, 'adapter_model.safetensors'), 'half-written');

    const child = start('finetune', '--model', TINY, '--data', csv, '--target', 'y', '--epochs', '2', '--max-steps', '4', '--out', out);
    const ended = exited(child);
    const seen: string[] = [];
    let sawStaging = false;
    while (child.exitCode === null && child.signalCode === null) {
      const shared = SHAREABLE.filter((f) => existsSync(join(out, f)));
      if (shared.length > 0 && !existsSync(join(out, 'training.json'))) seen.push(shared.join(', '));
      sawStaging ||= entries(out).some((e) => e === `.results-staging-${child.pid}`);
      await new Promise((r) => setImmediate(r));
    }
    const { code, err } = await ended;
    expect(code, err).toBe(0);
    expect(seen, 'shareable files without training.json').toEqual([]);
    expect(sawStaging, 'the results were staged').toBe(true);
    for (const file of [...SHAREABLE, 'training.json', 'metrics.csv']) expect(existsSync(join(out, file)), file).toBe(true);
    expect(entries(out).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('killed while its results are being written: neither the shareable files nor training.json are there', { timeout: 120_000 }, async () => {
    const csv = join(home, 'ft.csv');
    const out = join(home, 'finetune-killed');
    const child = start('finetune', '--model', TINY, '--data', csv, '--target', 'y', '--epochs', '1', '--max-steps', '2', '--out', out);
    const ended = exited(child);
    expect(await until(child, () => existsSync(join(out, `.results-staging-${child.pid}`, 'adapter_model.safetensors')))).toBe(true);
    child.kill('SIGKILL');
    await ended;
    for (const file of [...SHAREABLE, 'training.json']) expect(existsSync(join(out, file)), file).toBe(false);
  });
});

describe('user errors', () => {
  it('print the message and exit 1, without a JavaScript stack trace unless --debug', () => {
    const bad = join(home, 'not-numpy.npy');
    writeFileSync(bad, 'plain text');
    const args = ['fit', '--embeddings', bad, '--ids', bad, '--labels', bad, '--target', 'y', '--learner', 'ridgecv', '--out', join(home, 'fit')];
    const plain = cli(...args);
    expect(plain.code).toBe(1);
    expect(plain.err.trim()).toBe(`${bad}: not a NumPy .npy file (bad magic)`);
    const debug = cli('--debug', ...args);
    expect(debug.code).toBe(1);
    expect(debug.err).toContain(`${bad}: not a NumPy .npy file (bad magic)`);
    expect(debug.err).toMatch(STACK_LINE);
    const after = cli(...args.slice(0, 1), '--debug', ...args.slice(1));
    expect(after.err).toMatch(STACK_LINE);
  });
});
