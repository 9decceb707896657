/**
 * `esm-studio worker` and `merge`: an embedding task run headless from a task file, and the same
 * task split into shards 0/3, 1/3, 2/3 and merged, give byte-identical files; a stopped worker
 * continues where it was; the app's own job writes the same bytes as the worker (one task body).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { openAppHost } from '../support/app-host';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';
import { randomProteins } from '../support/random-proteins';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
let home: string;
let model: string;
let taskFile: string;
const COUNT = 40;

function fasta(): string[] {
  const sequences = randomProteins(17, COUNT, 20, 109);
  sequences[7] = sequences[3]!; // a duplicate: computed once, written to both rows
  return sequences;
}

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Every file below `dir` (relative path → bytes), the worker's own bookkeeping left out. */
function files(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (!entry.startsWith('.worker-checkpoint') && entry !== 'shard.json') found.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return found;
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
}

beforeAll(() => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'esm-worker-'));
  model = join(home, 'model');
  expect(cli('convert', loadGolden('tiny').checkpoint, '--out', model).code).toBe(0);
  taskFile = join(home, 'task.json');
  const task = {
    kind: 'embed.dataset',
    params: {
      runDir: 'run',
      models: [{ id: 1, name: 'tiny', dir: model }],
      layers: [1, 2],
      pool: ['mean', 'bos', 'per-token'],
      batchTokens: 400,
      device: 'cpu',
      threads: 1,
      long: 'window',
      logits: true,
    },
    input: { sequences: fasta() },
  };
  writeFileSync(taskFile, JSON.stringify(task));
});

describe('esm-studio worker', () => {
  it('runs a task file headless with JSON-line progress; shards 0/3, 1/3, 2/3 merged equal the unsharded run byte for byte', { timeout: 300_000 }, () => {
    const whole = join(home, 'whole');
    const run = cli('worker', taskFile, '--work-dir', whole);
    expect(run.code, run.err).toBe(0);
    const events = run.out.trim().split('\n').map((line) => JSON.parse(line) as { type: string; fraction?: number; summary?: { sequences: number } });
    expect(events[0]!.type).toBe('start');
    expect(events.some((e) => e.type === 'progress' && e.fraction! > 0 && e.fraction! < 1)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', summary: { sequences: COUNT } });
    const expected = files(whole);
    expect(expected.has('run/tiny/per_token_layer2.npy')).toBe(true);
    expect(expected.has('run/tiny/logits/39.npy')).toBe(true);

    const shards = [0, 1, 2].map((i) => join(home, `shard${i}`));
    shards.forEach((dir, i) => expect(cli('worker', taskFile, '--shard', `${i}/3`, '--work-dir', dir).code).toBe(0));
    // Each shard computed a real part: none holds every per-sequence file.
    for (const dir of shards) expect(readdirSync(join(dir, 'run', 'tiny', 'logits')).length).toBeLessThan(COUNT);
    const merged = join(home, 'merged');
    const merge = cli('merge', ...shards, '--out', merged);
    expect(merge.code, merge.err).toBe(0);
    expectSameFiles(files(merged), expected);

    // A missing shard is refused, naming what is there.
    const partial = cli('merge', shards[0]!, shards[2]!, '--out', join(home, 'partial'));
    expect(partial.code).toBe(1);
    expect(partial.err).toContain('0/3, 2/3');
  });

  it('continues a stopped worker from its checkpoint, to the same bytes', { timeout: 300_000 }, async () => {
    const dir = join(home, 'stopped');
    const child = spawn(process.execPath, [BIN, 'worker', taskFile, '--work-dir', dir], { env: { ...process.env, ESM_STUDIO_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
    // Waits on the task's progress, however busy the machine is.
    while (!/"fraction":0\.[3-9]/.test(output) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(dir, '.worker-checkpoint.json'))).toBe(true);
    const again = cli('worker', taskFile, '--work-dir', dir);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out.split('\n')[0]!)).toMatchObject({ type: 'start', resuming: true });
    expectSameFiles(files(dir), files(join(home, 'whole')));
  });

  it('the app\'s job and the worker write the same bytes for the same embedding (one task body)', { timeout: 300_000 }, async () => {
    const { host, call, finished, close } = openAppHost();
    try {
      const install = await call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
      await finished(install.id);
      const [installed] = await call<{ id: number }[]>('models.list', {});
      const project = await call<{ id: number }>('projects.create', { name: 'Same bytes' });
      const text = fasta().map((sequence, i) => `>s${i}\n${sequence}\n`).join('');
      const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'set.fasta', text } });
      const job = await call<Job>('jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [installed!.id], layers: [1, 2], pool: ['mean', 'bos', 'per-token'], batchTokens: 400, threads: 1 });
      expect((await finished(job.id)).error).toBeNull();
      const folder = host.store.projects.folderOf(project.id)!;
      const worker = files(join(home, 'whole', 'run', 'tiny'));
      for (const embedding of host.store.embeddings.list(project.id)) {
        const name = relative(join(folder, `runs/${job.runId}`), join(folder, embedding.path)).split('/').slice(1).join('/');
        expect(readFileSync(join(folder, embedding.path)).equals(worker.get(name)!), name).toBe(true);
      }
      expect(host.store.embeddings.list(project.id).length).toBe(6);
    } finally {
      close();
    }
  });
});
