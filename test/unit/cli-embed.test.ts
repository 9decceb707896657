/** `esm-studio embed --project --dataset`: a stored run, and kill -9 then the same command resumes it to identical files. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';
import { fastaText, randomProteins } from '../support/random-proteins';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const checkpoint = loadGolden('esm2-8M-random').checkpoint;

function fasta(count: number): string {
  return fastaText(randomProteins(9, count, 40, 199), 'p');
}

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const EMBED = ['embed', '--project', 'P', '--dataset', 'set', '--model', checkpoint, '--pool', 'mean,bos', '--batch-tokens', '2000'];

function prepare(): string {
  assertBuilt();
  const home = mkdtempSync(join(tmpdir(), 'esm-cli-embed-'));
  const file = join(home, 'set.fasta');
  writeFileSync(file, fasta(200));
  expect(cli(home, 'import', '--project', 'P', '--fasta', file).code).toBe(0);
  return home;
}

function matrices(home: string): Buffer[] {
  const db = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
  const folder = (db.prepare('SELECT folder FROM projects').get() as { folder: string }).folder;
  const paths = db.prepare('SELECT path FROM embeddings ORDER BY pooling').all() as { path: string }[];
  db.close();
  return paths.map((p) => readFileSync(join(folder, p.path)));
}

function fractionDone(home: string): number {
  try {
    const db = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
    const row = db.prepare("SELECT fraction FROM jobs WHERE kind = 'embed.dataset'").get() as { fraction: number } | undefined;
    db.close();
    return row?.fraction ?? 0;
  } catch {
    return 0;
  }
}

describe('esm-studio embed --project', () => {
  it('resumes after kill -9 and ends with the same bytes as an uninterrupted run', { timeout: 600_000 }, async () => {
    const clean = prepare();
    const reference = cli(clean, ...EMBED, '--out', join(clean, 'out'));
    expect(reference.code, reference.err).toBe(0);
    expect(reference.out).toMatch(/mean_layer6 \[200, 320\]/);
    expect(readFileSync(join(clean, 'out', 'ids.txt'), 'utf8').split('\n')[0]).toBe('p0');
    const expected = matrices(clean);
    expect(expected.length).toBe(2);

    const home = prepare();
    const child = spawn(process.execPath, [BIN, ...EMBED], { env: { ...process.env, ESM_STUDIO_HOME: home }, stdio: 'ignore' });
    // Waits on the run's progress, however busy the machine is (the test's timeout is the limit).
    while (fractionDone(home) < 0.3 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(fractionDone(home)).toBeGreaterThanOrEqual(0.3);
    expect(fractionDone(home)).toBeLessThan(1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const resumed = cli(home, ...EMBED);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/Resuming run \d+/);
    const got = matrices(home);
    got.forEach((bytes, i) => expect(bytes.equals(expected[i]!), `matrix ${i}`).toBe(true));
    const db = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare("SELECT COUNT(*) AS n FROM runs WHERE kind = 'embed.dataset'").get()).toEqual({ n: 1 });
    db.close();
  });

  it('after Ctrl-C says the run is kept, and the same command resumes that cancelled run (one run, same bytes)', { timeout: 600_000 }, async () => {
    const clean = prepare();
    expect(cli(clean, ...EMBED).code).toBe(0);
    const expected = matrices(clean);

    const home = prepare();
    const child = spawn(process.execPath, [BIN, ...EMBED], { env: { ...process.env, ESM_STUDIO_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    while (fractionDone(home) < 0.3 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(fractionDone(home)).toBeLessThan(1);
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code, err).toBe(130);
    expect(err).toMatch(/Cancelled run (\d+); its finished batches are kept\. Run the same command again to resume it\./);
    const runId = /Cancelled run (\d+)/.exec(err)![1];

    const resumed = cli(home, ...EMBED);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(new RegExp(`Resuming run ${runId} \\(job \\d+, cancelled, \\d+ % done`));
    matrices(home).forEach((bytes, i) => expect(bytes.equals(expected[i]!), `matrix ${i}`).toBe(true));
    const db = new Database(join(home, 'esm-studio.sqlite'), { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM runs WHERE kind = 'embed.dataset'").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT state FROM jobs WHERE kind = 'embed.dataset'").all()).toEqual([{ state: 'done' }]);
    db.close();
  });
});
