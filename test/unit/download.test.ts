/**
 * models/download against a local imitation of the Hugging Face hub (test/support/hub-server):
 * complete and identical files, progress, resume after a dropped connection, corrupt content,
 * cancellation, unreachable hub, missing and gated models, re-runs and sharded weights.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import { findCatalogEntry } from '../../src-main/models/catalog';
import { ESM2_CATALOG as ESM2_FAMILY } from '../../src-main/models/esm2/catalog';
import { downloadModel, hubOptionsFromEnv, type DownloadProgress } from '../../src-main/models/download';
import { startHubServer, type HubServer } from '../support/hub-server';

const CHECKPOINT = resolve(import.meta.dirname, '..', 'fixtures', 'golden', 'tiny', 'checkpoint');
const REPO = 'test-org/tiny-esm';
const WEIGHTS = 'model.safetensors';

let source: string;
let sha256: Map<string, string>;
let weightsSize: number;
let totalSize: number;
let hub: HubServer;

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const freshDir = (): string => mkdtempSync(join(tmpdir(), 'esm-download-'));

/** Rejects with the error the promise rejects with (fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the download to fail');
}

function expectSameFiles(target: string): void {
  for (const [name, digest] of sha256) {
    expect(sha(readFileSync(join(target, name))), name).toBe(digest);
  }
  expect(readdirSync(target).filter((name) => name.endsWith('.part'))).toEqual([]);
}

beforeAll(async () => {
  source = freshDir();
  sha256 = new Map();
  totalSize = 0;
  for (const name of readdirSync(CHECKPOINT)) {
    copyFileSync(join(CHECKPOINT, name), join(source, name));
    const bytes = readFileSync(join(source, name));
    sha256.set(name, sha(bytes));
    totalSize += bytes.length;
  }
  weightsSize = statSync(join(source, WEIGHTS)).size;
  hub = await startHubServer({ dir: source, repo: REPO });
});

afterAll(async () => {
  await hub.close();
});

beforeEach(() => {
  hub.settings = {};
  hub.resetCounters();
});

describe('downloadModel', () => {
  it('downloads every needed file with identical bytes, following the LFS redirect', async () => {
    const target = freshDir();
    const result = await downloadModel(REPO, target, { endpoint: hub.url });
    expectSameFiles(target);
    expect(result.files.map((file) => file.name)).toEqual([
      'config.json',
      WEIGHTS,
      'vocab.txt',
      'tokenizer_config.json',
      'special_tokens_map.json',
    ]);
    for (const file of result.files) {
      expect(file.sha256).toBe(sha256.get(file.name));
      expect(file.bytes).toBe(statSync(join(source, file.name)).size);
    }
    expect(result.revision).toBe(hub.commit);
    expect(hub.requests.some((request) => request.path.startsWith(`/cdn/${REPO}/${WEIGHTS}`))).toBe(true);
    expect(hub.requests.every((request) => request.path.includes(hub.commit) || !request.path.includes('/resolve/'))).toBe(true);
  });

  it('reports monotonic progress, at most every ~100 ms, ending at 1', async () => {
    hub.settings.bytesPerSecond = 1_000_000;
    const events: (DownloadProgress & { at: number })[] = [];
    await downloadModel(REPO, freshDir(), {
      endpoint: hub.url,
      onProgress: (progress) => events.push({ ...progress, at: performance.now() }),
    });
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.fraction).toBeGreaterThanOrEqual(events[i - 1]!.fraction);
      if (i < events.length - 1) expect(events[i]!.at - events[i - 1]!.at).toBeGreaterThanOrEqual(90);
    }
    for (const event of events) {
      expect(event.bytesDone).toBeLessThanOrEqual(event.bytesTotal);
      expect(event.fraction).toBeGreaterThanOrEqual(0);
      expect(event.fraction).toBeLessThanOrEqual(1);
    }
    expect(events.at(-1)!.fraction).toBe(1);
    expect(events.filter((event) => event.fraction === 1)).toHaveLength(1);
    const during = events.filter((event) => event.file === WEIGHTS && event.bytesDone > 0 && event.bytesDone < weightsSize);
    expect(during.length).toBeGreaterThan(0);
    expect(during.some((event) => event.bytesPerSecond > 100_000 && event.bytesPerSecond < 3_000_000)).toBe(true);
  });

  it('resumes after a connection dropped half-way, with a Range request', async () => {
    const target = freshDir();
    hub.settings.dropAfterBytes = Math.floor(weightsSize / 2);
    const error = await failure(downloadModel(REPO, target, { endpoint: hub.url }));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('refused');
    expect(error.message).toContain(WEIGHTS);
    expect(error.message).toMatch(/Run the download again/);
    const part = join(target, `${WEIGHTS}.part`);
    const have = statSync(part).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThanOrEqual(weightsSize / 2);
    expect(existsSync(join(target, WEIGHTS))).toBe(false);

    hub.settings.dropAfterBytes = undefined;
    const result = await downloadModel(REPO, target, { endpoint: hub.url });
    expectSameFiles(target);
    expect(result.files.find((file) => file.name === WEIGHTS)?.sha256).toBe(sha256.get(WEIGHTS));
    const ranged = hub.requests.filter((request) => request.range !== undefined);
    expect(ranged.length).toBeGreaterThan(0);
    expect(ranged.every((request) => request.range === `bytes=${have}-`)).toBe(true);
    expect(ranged.some((request) => request.status === 206)).toBe(true);
    expect(hub.bytesSent).toBeLessThan(1.5 * totalSize);
    expect(hub.bytesSent).toBeLessThan(1.5 * weightsSize);
  });

  it('starts over when the server ignores the Range header (200 instead of 206)', async () => {
    const target = freshDir();
    hub.settings.dropAfterBytes = Math.floor(weightsSize / 3);
    await failure(downloadModel(REPO, target, { endpoint: hub.url }));
    expect(existsSync(join(target, `${WEIGHTS}.part`))).toBe(true);
    hub.settings = { ignoreRange: true };
    await downloadModel(REPO, target, { endpoint: hub.url });
    expectSameFiles(target);
  });

  it('rejects corrupt content, naming the file, and leaves nothing under its name', async () => {
    const target = freshDir();
    const bad = readFileSync(join(source, WEIGHTS));
    bad[bad.length >> 1]! ^= 0xff;
    hub.settings.corrupt = { [WEIGHTS]: bad };
    const error = await failure(downloadModel(REPO, target, { endpoint: hub.url }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toContain(WEIGHTS);
    expect(error.message).toMatch(/corrupt/);
    expect(error.message).toContain(sha256.get(WEIGHTS));
    expect(existsSync(join(target, WEIGHTS))).toBe(false);
    expect(existsSync(join(target, `${WEIGHTS}.part`))).toBe(false);
  });

  it('rejects a file of the wrong size', async () => {
    const target = freshDir();
    hub.settings.corrupt = { 'vocab.txt': Buffer.from('<cls>\n<pad>\n') };
    const error = await failure(downloadModel(REPO, target, { endpoint: hub.url }));
    expect(error.message).toContain('vocab.txt');
    expect(error.message).toMatch(/bytes instead of/);
    expect(existsSync(join(target, 'vocab.txt'))).toBe(false);
  });

  it('on abort keeps the .part file, and the next call resumes it', async () => {
    const target = freshDir();
    hub.settings.bytesPerSecond = 400_000;
    const controller = new AbortController();
    const error = await failure(
      downloadModel(REPO, target, {
        endpoint: hub.url,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.file === WEIGHTS && progress.bytesDone > 50_000) controller.abort();
        },
      }),
    );
    expect(error.name).toBe('CancelledError');
    const have = statSync(join(target, `${WEIGHTS}.part`)).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(weightsSize);
    expect(existsSync(join(target, WEIGHTS))).toBe(false);

    hub.settings = {};
    hub.resetCounters();
    await downloadModel(REPO, target, { endpoint: hub.url });
    expectSameFiles(target);
    expect(hub.requests.some((request) => request.range === `bytes=${have}-` && request.status === 206)).toBe(true);
  });

  it('stops at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(downloadModel(REPO, freshDir(), { endpoint: hub.url, signal: controller.signal }));
    expect(error.name).toBe('CancelledError');
    expect(hub.requests).toHaveLength(0);
  });

  it('says the hub cannot be reached when nothing listens on the port', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', () => done()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const endpoint = `http://127.0.0.1:${port}`;
    const error = await failure(downloadModel(REPO, freshDir(), { endpoint }));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('refused');
    expect(error.message).toBe(
      `Cannot reach the Hugging Face hub at ${endpoint} (connection refused). Check the internet connection, or install the model from a folder instead.`,
    );
  });

  it('says the hub cannot be reached when it does not answer in time', async () => {
    const silent = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', () => done()));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const error = await failure(downloadModel(REPO, freshDir(), { endpoint, timeoutMs: 300 }));
      expect(error.message).toMatch(/^Cannot reach the Hugging Face hub at .* \(no answer for 0 s\)/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });

  it('names the repository when the model does not exist', async () => {
    const error = await failure(downloadModel('nobody/no-such-model', freshDir(), { endpoint: hub.url }));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('not-found');
    expect(error.message).toContain('nobody/no-such-model');
    expect(error.message).toMatch(/not found/);
  });

  it('explains gated models and tokens on 401, and sends the token', async () => {
    hub.settings.token = 'hf_secret';
    const error = await failure(downloadModel(REPO, freshDir(), { endpoint: hub.url }));
    expect((error as ApiError).code).toBe('refused');
    expect(error.message).toMatch(/gated/);
    expect(error.message).toMatch(/access token/);
    const target = freshDir();
    await downloadModel(REPO, target, { endpoint: hub.url, token: 'hf_secret' });
    expectSameFiles(target);
  });

  it('refuses names that are not repository names', async () => {
    for (const repo of ['../etc', 'a/b/c', '', 'org/..']) {
      const error = await failure(downloadModel(repo, freshDir(), { endpoint: hub.url }));
      expect((error as ApiError).code).toBe('invalid-input');
    }
  });

  it('on a re-run skips complete files and replaces wrong ones', async () => {
    const target = freshDir();
    await downloadModel(REPO, target, { endpoint: hub.url });
    hub.resetCounters();
    const again = await downloadModel(REPO, target, { endpoint: hub.url });
    expect(hub.requests.filter((request) => request.path.includes('/resolve/'))).toHaveLength(0);
    expect(again.files.find((file) => file.name === WEIGHTS)?.sha256).toBe(sha256.get(WEIGHTS));

    const spoiled = readFileSync(join(target, WEIGHTS));
    spoiled[0]! ^= 1;
    writeFileSync(join(target, WEIGHTS), spoiled);
    hub.resetCounters();
    await downloadModel(REPO, target, { endpoint: hub.url });
    expectSameFiles(target);
    const fetched = hub.requests.filter((request) => request.path.includes('/resolve/')).map((request) => request.path);
    expect(fetched).toEqual([`/${REPO}/resolve/${hub.commit}/${WEIGHTS}`]);
  });

  it('downloads the shard index and the shards it lists, and nothing else', async () => {
    const dir = freshDir();
    const shardA = Buffer.alloc(70_000, 1);
    const shardB = Buffer.alloc(50_000, 2);
    copyFileSync(join(CHECKPOINT, 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), shardA);
    writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), shardB);
    const index = { metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } };
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    writeFileSync(join(dir, 'pytorch_model.bin'), Buffer.alloc(1000));
    writeFileSync(join(dir, 'README.md'), '# tiny');
    const sharded = await startHubServer({ dir, repo: 'test-org/sharded' });
    try {
      const target = freshDir();
      const progress: DownloadProgress[] = [];
      const result = await downloadModel('test-org/sharded', target, { endpoint: sharded.url, onProgress: (p) => progress.push(p) });
      expect(result.files.map((file) => file.name)).toEqual([
        'config.json',
        'model.safetensors.index.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
      ]);
      expect(readdirSync(target).sort()).toEqual(result.files.map((file) => file.name).sort());
      expect(readFileSync(join(target, 'model-00001-of-00002.safetensors')).equals(shardA)).toBe(true);
      expect(readFileSync(join(target, 'model-00002-of-00002.safetensors')).equals(shardB)).toBe(true);
      expect(progress.at(-1)?.fraction).toBe(1);
    } finally {
      await sharded.close();
    }
  });

  it('refuses a repository with only PyTorch weights', async () => {
    const dir = freshDir();
    copyFileSync(join(CHECKPOINT, 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'pytorch_model.bin'), Buffer.alloc(100));
    const pickle = await startHubServer({ dir, repo: 'test-org/pickle' });
    try {
      const error = await failure(downloadModel('test-org/pickle', freshDir(), { endpoint: pickle.url }));
      expect(error.message).toMatch(/pytorch_model\.bin/);
    } finally {
      await pickle.close();
    }
  });

  it('reports a part file that cannot be written', async () => {
    const target = freshDir();
    mkdirSync(join(target, `${WEIGHTS}.part`));
    const error = await failure(downloadModel(REPO, target, { endpoint: hub.url }));
    expect(error.message).toMatch(/^Cannot write .*model\.safetensors\.part \(EISDIR\)/);
  });

  it('creates the target folder', async () => {
    const target = join(freshDir(), 'models', 'tiny');
    mkdirSync(join(target, '..'), { recursive: true });
    await downloadModel(REPO, target, { endpoint: hub.url });
    expectSameFiles(target);
  });
});

describe('hub settings and catalog', () => {
  it('reads the hub address and token from the environment', () => {
    expect(hubOptionsFromEnv({})).toEqual({ endpoint: 'https://huggingface.co' });
    expect(hubOptionsFromEnv({ ESM_STUDIO_HUB: 'http://mirror.local:8080/', HF_TOKEN: 'hf_x' })).toEqual({
      endpoint: 'http://mirror.local:8080/',
      token: 'hf_x',
    });
  });

  it('lists the ESM-2 family', () => {
    expect(ESM2_FAMILY.map((entry) => [entry.layers, entry.hidden])).toEqual([
      [6, 320],
      [12, 480],
      [30, 640],
      [33, 1280],
      [36, 2560],
      [48, 5120],
    ]);
    for (const entry of ESM2_FAMILY) {
      expect(entry.repo).toBe(`facebook/${entry.id}`);
      expect(entry.id).toContain(`_t${entry.layers}_`);
      expect(entry.hidden % entry.heads).toBe(0);
      expect(Math.abs(entry.sizeBytes / (4 * entry.parameters) - 1)).toBeLessThan(0.1);
    }
    expect(findCatalogEntry('facebook/esm2_t48_15B_UR50D')?.note).toMatch(/64 GB/);
    expect(findCatalogEntry('esm2_t6_8m_ur50d')?.label).toBe('ESM-2 8M');
  });
});
