/**
 * Embedding runs as jobs (compute process, real models): installing a model from a folder,
 * embedding a dataset, and resuming an interrupted run to byte-identical files.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Job, StoredJob } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { decodeNpz, readNpy } from '../../src-main/store/npy';
import { parseCompression } from '../../src-main/core/compression';
import { compress } from '../../src-main/embeddings/compress';
import { parse } from 'csv-parse/sync';
import { parquetReadObjects } from 'hyparquet';
import { loadGolden, maxAbsDiff, seqKey } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';
import { fastaText, randomProteins } from '../support/random-proteins';

const COMPUTE = join(ROOT, 'out', 'main', 'compute.js');

function arrayBufferOf(path: string): ArrayBuffer {
  const bytes = readFileSync(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
const golden = loadGolden('esm2-8M-random');

function openHost(home: string): Host {
  assertBuilt();
  return createHost({ home, transport: 'cli', launcher: nodeComputeLauncher(COMPUTE) });
}

function waitFor(host: Host, id: number, test: (job: StoredJob) => boolean, timeoutMs = 240_000): Promise<StoredJob> {
  return new Promise((resolve, reject) => {
    const check = (job: StoredJob | undefined): boolean => {
      if (job && test(job)) {
        clearTimeout(timer);
        unsubscribe();
        resolve(job);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => reject(new Error(`job ${id}: ${JSON.stringify(host.store.jobs.get(id))}`)), timeoutMs);
    const unsubscribe = host.events.subscribe((event) => void (event.type === 'job' && event.job.id === id && check(event.job)));
    check(host.store.jobs.get(id));
  });
}

async function call<T>(host: Host, method: string, input: unknown): Promise<T> {
  const envelope = await host.dispatch(method, input);
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as T;
}

/** A dataset of `count` sequences: the golden ones first, then random ones of varied length. */
function fasta(count: number): string {
  const random = randomProteins(5, count, 30, 149);
  const sequences = random.map((sequence, i) => golden.sequences[i]?.sequence ?? sequence);
  return fastaText(sequences, 's');
}

async function setUp(home: string, count: number) {
  const host = openHost(home);
  const install = await call<Job>(host, 'jobs.start', { kind: 'model.install', path: golden.checkpoint });
  await waitFor(host, install.id, (j) => j.state === 'done' || j.state === 'failed');
  const [model] = await call<{ id: number; layers: number }[]>(host, 'models.list', {});
  const project = await call<{ id: number }>(host, 'projects.create', { name: 'P' });
  const { dataset } = await call<{ dataset: { id: number } }>(host, 'datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'set.fasta', text: fasta(count) } });
  return { host, model: model!, project, dataset };
}

describe('embedding runs', () => {
  it('installs a model and embeds a dataset into indexed .npy files equal to the references', { timeout: 300_000 }, async () => {
    const { host, model, project, dataset } = await setUp(mkdtempSync(join(tmpdir(), 'esm-run-')), 12);
    expect(model.layers).toBe(6);
    const job = await call<Job>(host, 'jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [model.id], pool: ['mean', 'bos', 'per-token'] });
    const done = await waitFor(host, job.id, (j) => j.state === 'done' || j.state === 'failed');
    expect(done.error).toBeNull();
    const embeddings = await call<{ pooling: string; rows: number; cols: number; path: string }[]>(host, 'embeddings.list', { projectId: project.id });
    expect(embeddings.map((e) => e.pooling).sort()).toEqual(['bos', 'mean', 'per-token']);
    const folder = host.store.projects.folderOf(project.id)!;
    const mean = embeddings.find((e) => e.pooling === 'mean')!;
    expect([mean.rows, mean.cols]).toEqual([12, 320]);
    const matrix = readNpy(join(folder, mean.path)).data as Float32Array;
    for (const seq of golden.sequences) {
      const ref = golden.array(seqKey(seq.index, 'mean_embedding')).data.subarray(6 * 320, 7 * 320);
      expect(maxAbsDiff(matrix.subarray(seq.index * 320, (seq.index + 1) * 320), ref)).toBeLessThan(1e-4);
    }

    // Per-residue rows: sequence i is rows offsets[i]..offsets[i+1] and equals the golden hidden states.
    const perToken = embeddings.find((e) => e.pooling === 'per-token')!;
    const offsets = Array.from(readNpy(join(folder, perToken.path.replace('per_token_layer6.npy', 'per_token_offsets.npy'))).data as BigInt64Array, Number);
    const rows = readNpy(join(folder, perToken.path)).data as Float32Array;
    const first = golden.sequences[0]!;
    const states = golden.array(seqKey(0, 'hidden_states')).data.subarray(6 * (first.length + 2) * 320, 7 * (first.length + 2) * 320);
    expect(offsets[1]).toBe(first.length);
    expect(maxAbsDiff(rows.subarray(0, first.length * 320), states.subarray(320, (first.length + 1) * 320))).toBeLessThan(1e-4);

    // A compression job gives what compress() gives on the stored rows.
    const ids = await call<{ id: number; pooling: string }[]>(host, 'embeddings.list', { projectId: project.id });
    const perTokenId = ids.find((e) => e.pooling === 'per-token')!.id;
    const compressJob = await call<Job>(host, 'jobs.start', { kind: 'embeddings.compress', embeddingId: perTokenId, compression: 'idct_3x8' });
    expect((await waitFor(host, compressJob.id, (j) => j.state === 'done' || j.state === 'failed')).error).toBeNull();
    const compressed = host.store.embeddings.list(project.id).find((e) => e.pooling === 'idct_3x8')!;
    expect([compressed.rows, compressed.cols]).toEqual([12, 24]);
    const expected = compress(parseCompression('idct_3x8'), rows.subarray(0, first.length * 320), first.length, 320);
    expect(maxAbsDiff((readNpy(join(folder, compressed.path)).data as Float32Array).subarray(0, 24), expected)).toBeLessThan(1e-6);

    // Exports read back equal the stored matrix.
    const meanId = ids.find((e) => e.pooling === 'mean')!.id;
    for (const format of ['npy', 'npz', 'csv', 'parquet'] as const) {
      const exportJob = await call<Job>(host, 'jobs.start', { kind: 'embeddings.export', embeddingId: meanId, format });
      expect((await waitFor(host, exportJob.id, (j) => j.state === 'done' || j.state === 'failed')).error).toBeNull();
    }
    const files = await call<{ name: string; path: string }[]>(host, 'exports.list', { projectId: project.id });
    const byFormat = (ext: string): string => files.find((f) => f.name.endsWith(`.${ext}`))!.path;
    expect(Buffer.from((readNpy(byFormat('npy')).data as Float32Array).buffer).equals(Buffer.from(matrix.buffer))).toBe(true);
    expect(Buffer.from((decodeNpz(readFileSync(byFormat('npz')), 'export.npz', ['embeddings']).embeddings!.data as Float32Array).buffer).equals(Buffer.from(matrix.buffer))).toBe(true);
    const csv = parse(readFileSync(byFormat('csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => `s${i}`));
    expect(Float32Array.from(csv.flatMap((r) => Array.from({ length: 320 }, (_, c) => Number(r[`e${c}`]))))).toEqual(matrix);
    const parquetRows = (await parquetReadObjects({ file: arrayBufferOf(byFormat('parquet')) })) as { id: string; embedding: number[] }[];
    expect(Float32Array.from(parquetRows.flatMap((r) => r.embedding))).toEqual(matrix);
    host.close();
  });

  const settings = { kind: 'embed.dataset', pool: ['mean', 'bos'], batchTokens: 1100 };
  let cleanFiles: Buffer[] | null = null;
  /** The files of an uninterrupted run of the same embedding (computed once for the resume tests). */
  async function uninterruptedFiles(): Promise<Buffer[]> {
    if (cleanFiles) return cleanFiles;
    const clean = await setUp(mkdtempSync(join(tmpdir(), 'esm-run-')), 120);
    const reference = await call<Job>(clean.host, 'jobs.start', { ...settings, modelIds: [clean.model.id], projectId: clean.project.id, datasetId: clean.dataset.id });
    await waitFor(clean.host, reference.id, (j) => j.state === 'done', 240_000);
    const cleanFolder = clean.host.store.projects.folderOf(clean.project.id)!;
    cleanFiles = clean.host.store.embeddings.list(clean.project.id).map((e) => readFileSync(join(cleanFolder, e.path)));
    clean.host.close();
    return cleanFiles;
  }

  /** Resumes the job to its end; checks it continued past `from` and wrote the uninterrupted run's bytes. */
  async function resumeToIdenticalFiles(host: Host, job: Job, projectId: number, from: number): Promise<void> {
    const fractions: number[] = [];
    host.events.subscribe((event) => void (event.type === 'job' && event.job.id === job.id && event.job.state === 'running' && fractions.push(event.job.fraction)));
    await call<Job>(host, 'jobs.resume', { id: job.id });
    const finished = await waitFor(host, job.id, (j) => j.state === 'done' || j.state === 'failed', 240_000);
    expect(finished.error).toBeNull();
    // The resumed attempt started where the first stopped: its first progress is past the units already done.
    expect(fractions.filter((f) => f > 0)[0]).toBeGreaterThan(from);
    const folder = host.store.projects.folderOf(projectId)!;
    const files = host.store.embeddings.list(projectId).map((e) => readFileSync(join(folder, e.path)));
    expect(files.length).toBe(2);
    const expected = await uninterruptedFiles();
    files.forEach((bytes, i) => expect(bytes.equals(expected[i]!)).toBe(true));
  }

  it('resumes an interrupted run without recomputing finished batches, to byte-identical files', { timeout: 600_000 }, async () => {
    await uninterruptedFiles();
    const home = mkdtempSync(join(tmpdir(), 'esm-run-'));
    const first = await setUp(home, 120);
    const job = await call<Job>(first.host, 'jobs.start', { ...settings, modelIds: [first.model.id], projectId: first.project.id, datasetId: first.dataset.id });
    await waitFor(first.host, job.id, (j) => j.fraction >= 0.4, 240_000);
    first.host.close(); // the app quits mid-run

    const second = openHost(home);
    const record = second.store.jobs.record(job.id)!;
    expect(record.job.state).toBe('interrupted');
    const unitsDoneBefore = (record.checkpoint as { unitsDone: number[] }).unitsDone.length;
    expect(unitsDoneBefore).toBeGreaterThan(0);
    await resumeToIdenticalFiles(second, job, first.project.id, 0.4);
    second.close();
  });

  it('keeps the finished batches of a cancelled run: Resume continues it to byte-identical files', { timeout: 600_000 }, async () => {
    await uninterruptedFiles();
    const { host, model, project, dataset } = await setUp(mkdtempSync(join(tmpdir(), 'esm-run-')), 120);
    const job = await call<Job>(host, 'jobs.start', { ...settings, modelIds: [model.id], projectId: project.id, datasetId: dataset.id });
    await waitFor(host, job.id, (j) => j.fraction >= 0.4, 240_000);
    await call<Job>(host, 'jobs.cancel', { id: job.id });
    await waitFor(host, job.id, (j) => j.state === 'cancelled', 240_000);
    const [listed] = await call<Job[]>(host, 'jobs.list', { projectId: project.id });
    expect(listed).toMatchObject({ id: job.id, state: 'cancelled', resumable: true, keepsWorkOnCancel: true });
    expect((host.store.jobs.record(job.id)!.checkpoint as { unitsDone: number[] }).unitsDone.length).toBeGreaterThan(0);
    await resumeToIdenticalFiles(host, job, project.id, 0.4);
    host.close();
  });
});
