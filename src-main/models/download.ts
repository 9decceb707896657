/**
 * models/download — fetches the files of a Hugging Face model repository that ESM Studio needs for
 * an ESM-2 model (config.json, model.safetensors or the shard index and its shards, vocab.txt and
 * the tokenizer files present) into a folder. Downloads are resumable (`<file>.part`, HTTP Range),
 * checked (size, and sha256 for LFS files) before they take their final name, and cancellable.
 * Network and hub failures become ApiErrors written for the user.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ApiError } from '../api/errors';
import { CancelledError } from '../core/cancel';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
/** No bytes (or no answer) for this long and a request is given up. */
export const DEFAULT_TIMEOUT_MS = 30_000;
const PROGRESS_INTERVAL_MS = 100;
const SPEED_WINDOW_MS = 3_000;

export interface HubOptions {
  /** The hub's address; default 'https://huggingface.co' (env ESM_STUDIO_HUB, see hubOptionsFromEnv). */
  endpoint: string;
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  /** A Hugging Face access token, for gated or private models. */
  token?: string;
}

export interface DownloadProgress {
  /** The file being downloaded (a name inside the repository). */
  file: string;
  /** Bytes of `file` present so far (including those of an earlier, resumed attempt). */
  bytesDone: number;
  /** Size of `file` (0 while unknown). */
  bytesTotal: number;
  /** Over all the files, 0..1; never decreases during one call, and the last report is 1. */
  fraction: number;
  /** Transfer speed over the last few seconds (bytes actually received, not resumed ones). */
  bytesPerSecond: number;
}

export interface DownloadOptions extends HubOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Give up a request after this long without an answer or a byte; default 30 s. */
  timeoutMs?: number;
}

export interface DownloadedFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface DownloadResult {
  files: DownloadedFile[];
  /** The commit the files came from (the revision resolved by the hub), for provenance. */
  revision: string;
}

/** Hub settings from the environment: ESM_STUDIO_HUB (address) and HF_TOKEN (access token). */
export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  const endpoint = env.ESM_STUDIO_HUB?.trim() || DEFAULT_HUB_ENDPOINT;
  const token = env.HF_TOKEN?.trim();
  return token ? { endpoint, token } : { endpoint };
}

const CONFIG_FILE = 'config.json';
const SINGLE_WEIGHTS_FILE = 'model.safetensors';
const SHARD_INDEX_FILE = 'model.safetensors.index.json';
const TOKENIZER_FILES = ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json', 'added_tokens.json'];

interface PlannedFile {
  name: string;
  /** From the tree listing; undefined when the hub did not say. */
  size?: number;
  /** For LFS files, from the tree listing. */
  sha256?: string;
}

/**
 * Downloads the ESM-2 files of `repo` into `targetDir` (created if needed). Files already there
 * with the right size (and sha256) are kept; `.part` files left by an interrupted call are resumed.
 * Throws CancelledError when `signal` aborts (the `.part` files stay for the next call), and
 * ApiError for everything a user should read.
 */
export async function downloadModel(repo: string, targetDir: string, options: DownloadOptions): Promise<DownloadResult> {
  const endpoint = normalizeEndpoint(options.endpoint);
  checkRepo(repo);
  const revision = options.revision?.trim() || DEFAULT_REVISION;
  const hub = new Hub(endpoint, repo, revision, options);
  try {
    return await hub.downloadAll(resolve(targetDir));
  } catch (error) {
    if (options.signal?.aborted) throw new CancelledError();
    throw error;
  }
}

class Hub {
  private readonly token: string | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly timeoutMs: number;
  private readonly progress: ProgressReporter;

  constructor(
    private readonly endpoint: string,
    private readonly repo: string,
    private readonly revision: string,
    options: DownloadOptions,
  ) {
    this.token = options.token?.trim() || undefined;
    this.signal = options.signal;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.progress = new ProgressReporter(options.onProgress);
  }

  async downloadAll(targetDir: string): Promise<DownloadResult> {
    this.throwIfCancelled();
    const repoPath = this.repo.split('/').map(encodeURIComponent).join('/');
    const info = await this.getJson(`${this.endpoint}/api/models/${repoPath}/revision/${encodeURIComponent(this.revision)}`);
    const siblings = parseSiblings(info, this.endpoint);
    const sha = (info as { sha?: unknown }).sha;
    const commit = typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha : this.revision;
    const tree = await this.listTree(`${this.endpoint}/api/models/${repoPath}/tree/${encodeURIComponent(commit)}`);
    const plan = (name: string): PlannedFile => ({ name, ...tree.get(name) });

    if (!siblings.has(CONFIG_FILE)) {
      throw new ApiError('not-found', `${this.repo} has no ${CONFIG_FILE}, so it is not a Hugging Face ESM-2 model.`);
    }
    await fsp.mkdir(targetDir, { recursive: true });
    const files: PlannedFile[] = [plan(CONFIG_FILE)];
    const results: DownloadedFile[] = [];
    if (siblings.has(SINGLE_WEIGHTS_FILE)) {
      files.push(plan(SINGLE_WEIGHTS_FILE));
    } else if (siblings.has(SHARD_INDEX_FILE)) {
      // The index says which shards to fetch: get it first (it is small, and not in the progress).
      const index = plan(SHARD_INDEX_FILE);
      results.push(await this.fetchFile(index, targetDir, commit, false));
      const shards = await readShardNames(join(targetDir, SHARD_INDEX_FILE), this.repo);
      const missing = shards.filter((shard) => !siblings.has(shard));
      if (missing.length > 0) {
        throw new ApiError('not-found', `The shard index of ${this.repo} lists ${missing.join(', ')}, which the repository does not have.`);
      }
      files.push(index, ...shards.map(plan));
    } else {
      const pytorch = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].some((name) => siblings.has(name));
      throw new ApiError(
        'not-found',
        `${this.repo} has no ${SINGLE_WEIGHTS_FILE} (or ${SHARD_INDEX_FILE})` +
          (pytorch ? ': it only has PyTorch pickle weights (pytorch_model.bin), which ESM Studio does not read.' : '.') +
          ' Choose a model with safetensors weights.',
      );
    }
    files.push(...TOKENIZER_FILES.filter((name) => siblings.has(name)).map(plan));

    for (const file of files) safePath(targetDir, file.name, this.repo);
    this.progress.start(files.reduce((sum, file) => sum + (file.size ?? 0), 0));
    for (const file of files) {
      if (results.some((done) => done.name === file.name)) {
        this.progress.fileDone(file.name, results.find((done) => done.name === file.name)?.bytes ?? 0);
        continue;
      }
      results.push(await this.fetchFile(file, targetDir, commit, true));
    }
    const last = results.find((done) => done.name === files[files.length - 1]?.name);
    this.progress.finish(last?.name ?? CONFIG_FILE, last?.bytes ?? 0);
    const order = new Map(files.map((file, i) => [file.name, i]));
    results.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
    return { files: results, revision: commit };
  }

  /** One file: kept if already complete, else downloaded (resumed) into `.part`, checked, renamed. */
  private async fetchFile(file: PlannedFile, targetDir: string, commit: string, report: boolean): Promise<DownloadedFile> {
    const finalPath = safePath(targetDir, file.name, this.repo);
    const partPath = `${finalPath}.part`;
    await fsp.mkdir(dirname(finalPath), { recursive: true });
    const onBytes = (done: number, total: number): void => {
      if (report) this.progress.update(file.name, done, total);
    };

    const existing = await sizeOf(finalPath);
    if (existing !== undefined && file.size !== undefined && existing === file.size) {
      const sha256 = (await this.hashFile(finalPath)).digest('hex');
      if (file.sha256 === undefined || sha256 === file.sha256) {
        if (report) this.progress.fileDone(file.name, existing);
        return { name: file.name, bytes: existing, sha256 };
      }
    }

    for (let attempt = 0; ; attempt++) {
      let have = (await sizeOf(partPath)) ?? 0;
      if (file.size !== undefined && have > file.size) {
        await fsp.rm(partPath, { force: true });
        have = 0;
      }
      const resumed = have > 0;
      onBytes(have, file.size ?? 0);
      let hash: Hash;
      if (file.size !== undefined && have === file.size) {
        hash = await this.hashFile(partPath);
      } else {
        const transferred = await this.transfer(file, commit, partPath, have, onBytes);
        if (transferred === 'restart') {
          if (attempt < 2) continue;
          throw new ApiError('refused', `The hub at ${this.endpoint} kept sending ${file.name} from the wrong position. Try again later.`);
        }
        hash = transferred;
      }

      const bytes = (await sizeOf(partPath)) ?? 0;
      const sha256 = hash.digest('hex');
      const problem =
        file.size !== undefined && bytes !== file.size
          ? `it has ${bytes} bytes instead of ${file.size}`
          : file.sha256 !== undefined && sha256 !== file.sha256
            ? `its sha256 is ${sha256} instead of ${file.sha256}`
            : null;
      if (problem === null) {
        await fsp.rename(partPath, finalPath);
        if (report) this.progress.fileDone(file.name, bytes);
        return { name: file.name, bytes, sha256 };
      }
      await fsp.rm(partPath, { force: true });
      // A resumed file may have been spoiled by the earlier attempt: once more, from the start.
      if (resumed && attempt === 0) continue;
      await fsp.rm(finalPath, { force: true });
      throw new ApiError(
        'refused',
        `The downloaded file ${file.name} of ${this.repo} is corrupt (${problem}), so it was deleted. ` +
          'Try again; if it happens again, something between this computer and the hub is changing the file.',
      );
    }
  }

  /**
   * Requests the file (from byte `have` when resuming) and writes it into the part file. Returns the
   * sha256 of the whole part file so far, or 'restart' when the part file was dropped.
   */
  private async transfer(
    file: PlannedFile,
    commit: string,
    partPath: string,
    have: number,
    onBytes: (done: number, total: number) => void,
  ): Promise<Hash | 'restart'> {
    const path = file.name.split('/').map(encodeURIComponent).join('/');
    const url = `${this.endpoint}/${this.repo}/resolve/${encodeURIComponent(commit)}/${path}`;
    const request = await this.open(url, have > 0 ? { Range: `bytes=${have}-` } : {});
    const { response, watchdog } = request;
    try {
      let append = false;
      if (response.status === 206 && have > 0) {
        const start = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(response.headers.get('content-range') ?? '')?.[1];
        if (start === undefined || Number(start) !== have) {
          await discard(response);
          await fsp.rm(partPath, { force: true });
          return 'restart';
        }
        append = true;
      } else if (response.status === 416 && have > 0) {
        await discard(response);
        await fsp.rm(partPath, { force: true });
        return 'restart';
      } else if (!response.ok || response.status === 206) {
        await discard(response);
        throw this.httpError(response, file.name);
      }
      if (!response.body) throw new ApiError('refused', `The hub at ${this.endpoint} sent no content for ${file.name}.`);

      const hash = append ? await this.hashFile(partPath, () => watchdog.poke()) : createHash('sha256');
      let done = append ? have : 0;
      const length = Number(response.headers.get('content-length') ?? NaN);
      const total = file.size ?? (Number.isFinite(length) ? done + length : 0);
      const counter = new Transform({
        transform: (chunk: Buffer, _encoding, callback) => {
          watchdog.poke();
          hash.update(chunk);
          done += chunk.length;
          this.progress.received(chunk.length);
          onBytes(done, total);
          callback(null, chunk);
        },
      });
      onBytes(done, total);
      const writer = createWriteStream(partPath, { flags: append ? 'a' : 'w' });
      const closed = new Promise<void>((resolve) => writer.once('close', () => resolve()));
      // pipeline also destroys the writer with a network error; only fs errors carry a syscall.
      let diskError: NodeJS.ErrnoException | null = null;
      writer.once('error', (error: NodeJS.ErrnoException) => {
        if (typeof error.syscall === 'string') diskError = error;
      });
      try {
        await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>), counter, writer);
      } catch (error) {
        // pipeline can reject before the file is closed: wait, so the part file's size is final
        // when the caller (or the next attempt) looks at it.
        writer.destroy();
        await closed;
        if (diskError !== null && !this.signal?.aborted) {
          const { code, message } = diskError as NodeJS.ErrnoException;
          throw new ApiError('refused', `Cannot write ${partPath} (${code ?? message}). Check the free disk space and the folder's permissions.`);
        }
        throw this.failure(error, watchdog.fired, file.name);
      }
      return hash;
    } finally {
      request.close();
    }
  }

  /** GET with the token, redirects followed, cancellation and a no-activity timeout. */
  private async open(url: string, headers: Record<string, string>): Promise<OpenRequest> {
    this.throwIfCancelled();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(this.signal?.reason);
    this.signal?.addEventListener('abort', onAbort, { once: true });
    const watchdog = new Watchdog(this.timeoutMs, () => controller.abort(new Error('timeout')));
    const close = (): void => {
      watchdog.stop();
      this.signal?.removeEventListener('abort', onAbort);
    };
    const allHeaders: Record<string, string> = { 'User-Agent': 'esm-studio', ...headers };
    if (this.token) allHeaders.Authorization = `Bearer ${this.token}`;
    try {
      const response = await fetch(url, { headers: allHeaders, redirect: 'follow', signal: controller.signal });
      watchdog.poke();
      return { response, watchdog, close };
    } catch (error) {
      close();
      throw this.failure(error, watchdog.fired, null);
    }
  }

  private async getJson(url: string): Promise<unknown> {
    return (await this.getJsonPage(url)).value;
  }

  private async getJsonPage(url: string): Promise<{ value: unknown; next: string | null }> {
    const request = await this.open(url, {});
    try {
      const { response } = request;
      if (!response.ok) {
        await discard(response);
        throw this.httpError(response, null);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw this.failure(error, request.watchdog.fired, null);
      }
      try {
        return { value: JSON.parse(text) as unknown, next: nextLink(response.headers.get('link'), url) };
      } catch {
        throw this.unexpected(`${new URL(url).pathname} is not JSON`);
      }
    } finally {
      request.close();
    }
  }

  /** Sizes and LFS sha256 of the files at the top of the repository (following pagination). */
  private async listTree(firstUrl: string): Promise<Map<string, { size?: number; sha256?: string }>> {
    const files = new Map<string, { size?: number; sha256?: string }>();
    let url: string | null = firstUrl;
    for (let page = 0; url !== null && page < 100; page++) {
      const { value, next }: { value: unknown; next: string | null } = await this.getJsonPage(url);
      if (!Array.isArray(value)) throw this.unexpected('the file list is not a list');
      for (const entry of value as unknown[]) {
        const { type, path, size, lfs } = (entry ?? {}) as { type?: unknown; path?: unknown; size?: unknown; lfs?: unknown };
        if (type !== 'file' || typeof path !== 'string') continue;
        const lfsInfo = (lfs ?? {}) as { oid?: unknown; size?: unknown };
        const oid = typeof lfsInfo.oid === 'string' ? lfsInfo.oid.replace(/^sha256:/, '').toLowerCase() : undefined;
        const fileSize = typeof lfsInfo.size === 'number' ? lfsInfo.size : typeof size === 'number' ? size : undefined;
        files.set(path, {
          ...(fileSize !== undefined && Number.isSafeInteger(fileSize) && fileSize >= 0 ? { size: fileSize } : {}),
          ...(oid !== undefined && /^[0-9a-f]{64}$/.test(oid) ? { sha256: oid } : {}),
        });
      }
      url = next !== null && new URL(next).origin === new URL(this.endpoint).origin ? next : null;
    }
    return files;
  }

  private async hashFile(path: string, onChunk?: () => void): Promise<Hash> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, this.signal ? { signal: this.signal } : {})) {
      hash.update(chunk as Buffer);
      onChunk?.();
    }
    return hash;
  }

  private throwIfCancelled(): void {
    if (this.signal?.aborted) throw new CancelledError();
  }

  private httpError(response: Response, file: string | null): ApiError {
    const status = response.status;
    const hubCode = response.headers.get('x-error-code') ?? '';
    const page = `${this.endpoint}/${this.repo}`;
    if (status === 401 || status === 403) {
      if (hubCode === 'GatedRepo') {
        return new ApiError(
          'refused',
          `${this.repo} is a gated model (HTTP ${status}): accept its conditions at ${page} while signed in, then give ESM Studio a Hugging Face access token` +
            `${this.token ? ' (the token given does not have access yet)' : ''}.`,
        );
      }
      return new ApiError(
        'refused',
        `The hub refused access to ${this.repo} (HTTP ${status}): the model is private or gated, or does not exist. ` +
          (this.token
            ? 'The access token given was not accepted for it: check the token and that its account may read this model.'
            : 'Check the name; for a gated or private model, accept its conditions on its page and give ESM Studio a Hugging Face access token.'),
      );
    }
    if (status === 404) {
      if (hubCode === 'RevisionNotFound') {
        return new ApiError('not-found', `The revision "${this.revision}" of ${this.repo} was not found on the hub at ${this.endpoint}.`);
      }
      if (file !== null && hubCode === 'EntryNotFound') {
        return new ApiError('not-found', `The file ${file} of ${this.repo} was not found on the hub at ${this.endpoint}.`);
      }
      return new ApiError(
        'not-found',
        `The model ${this.repo} was not found on the Hugging Face hub at ${this.endpoint}` +
          `${file !== null ? ` (while downloading ${file})` : ''}. Check the name, e.g. facebook/esm2_t6_8M_UR50D.`,
      );
    }
    if (status === 429) {
      return new ApiError('refused', `The hub at ${this.endpoint} is limiting requests (HTTP 429). Wait a few minutes and try again.`);
    }
    const what = file !== null ? `for ${file} of ${this.repo}` : `for ${this.repo}`;
    if (status >= 500) {
      return new ApiError('refused', `The hub at ${this.endpoint} has a problem (HTTP ${status} ${what}). Try again later.`);
    }
    return new ApiError('refused', `The hub at ${this.endpoint} answered HTTP ${status} ${what}.`);
  }

  private unexpected(detail: string): ApiError {
    return new ApiError(
      'refused',
      `The server at ${this.endpoint} does not answer like the Hugging Face hub (${detail}). Check the hub address (ESM_STUDIO_HUB).`,
    );
  }

  /** What a thrown network, timeout or disk error means for the user. */
  private failure(error: unknown, timedOut: boolean, file: string | null): Error {
    if (this.signal?.aborted) return new CancelledError();
    if (error instanceof ApiError) return error;
    const reason = timedOut ? `no answer for ${Math.round(this.timeoutMs / 1000)} s` : describeNetworkError(error);
    if (file !== null) {
      return new ApiError(
        'refused',
        `Lost the connection to the Hugging Face hub at ${this.endpoint} while downloading ${file} (${reason}). ` +
          'Run the download again: it continues where it stopped.',
      );
    }
    return new ApiError(
      'refused',
      `Cannot reach the Hugging Face hub at ${this.endpoint} (${reason}). Check the internet connection, or install the model from a folder instead.`,
    );
  }
}

interface OpenRequest {
  response: Response;
  watchdog: Watchdog;
  close(): void;
}

/** Calls `onTimeout` when `poke` has not been called for `ms`. */
class Watchdog {
  fired = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {
    this.poke();
  }

  poke(): void {
    if (this.fired) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onTimeout();
    }, this.ms);
    this.timer.unref?.();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Throttles progress to one report per ~100 ms, keeps the fraction monotonic, measures speed. */
class ProgressReporter {
  private total = 0;
  private finishedBytes = 0;
  private lastFraction = 0;
  private lastReport = -Infinity;
  private receivedBytes = 0;
  private samples: { t: number; bytes: number }[] = [];

  constructor(private readonly onProgress: ((progress: DownloadProgress) => void) | undefined) {}

  start(total: number): void {
    this.total = total;
    this.samples = [{ t: performance.now(), bytes: 0 }];
  }

  received(bytes: number): void {
    this.receivedBytes += bytes;
  }

  update(file: string, bytesDone: number, bytesTotal: number): void {
    const now = performance.now();
    if (!this.onProgress || now - this.lastReport < PROGRESS_INTERVAL_MS) return;
    const raw = this.total > 0 ? (this.finishedBytes + bytesDone) / this.total : 0;
    // Only the final report says 1 (a file of unknown size can make the sum overshoot).
    this.lastFraction = Math.max(this.lastFraction, Math.min(raw, 0.999));
    this.emit(now, file, bytesDone, bytesTotal);
  }

  fileDone(file: string, bytes: number): void {
    this.update(file, bytes, bytes);
    this.finishedBytes += bytes;
  }

  finish(file: string, bytes: number): void {
    this.lastFraction = 1;
    if (this.onProgress) this.emit(performance.now(), file, bytes, bytes);
  }

  private emit(now: number, file: string, bytesDone: number, bytesTotal: number): void {
    this.lastReport = now;
    this.samples.push({ t: now, bytes: this.receivedBytes });
    while (this.samples.length > 2 && now - (this.samples[1]?.t ?? now) > SPEED_WINDOW_MS) this.samples.shift();
    const first = this.samples[0] ?? { t: now, bytes: this.receivedBytes };
    const seconds = (now - first.t) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.round((this.receivedBytes - first.bytes) / seconds) : 0;
    this.onProgress?.({ file, bytesDone, bytesTotal, fraction: this.lastFraction, bytesPerSecond });
  }
}

function normalizeEndpoint(endpoint: string): string {
  const trimmed = (endpoint ?? '').trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ApiError('invalid-input', `The hub address "${endpoint}" is not a web address (such as ${DEFAULT_HUB_ENDPOINT}). Check ESM_STUDIO_HUB.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiError('invalid-input', `The hub address "${endpoint}" must start with https:// or http://. Check ESM_STUDIO_HUB.`);
  }
  return trimmed;
}

function checkRepo(repo: string): void {
  const valid = typeof repo === 'string' && /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/.test(repo) && !repo.includes('..');
  if (!valid) {
    throw new ApiError('invalid-input', `"${repo}" is not a Hugging Face model name; names look like facebook/esm2_t6_8M_UR50D.`);
  }
}

function parseSiblings(info: unknown, endpoint: string): Set<string> {
  const siblings = (info as { siblings?: unknown } | null)?.siblings;
  if (!Array.isArray(siblings)) {
    throw new ApiError(
      'refused',
      `The server at ${endpoint} does not answer like the Hugging Face hub (no file list). Check the hub address (ESM_STUDIO_HUB).`,
    );
  }
  const names = new Set<string>();
  for (const sibling of siblings as unknown[]) {
    const name = (sibling as { rfilename?: unknown } | null)?.rfilename;
    if (typeof name === 'string') names.add(name);
  }
  return names;
}

async function readShardNames(indexFile: string, repo: string): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(await fsp.readFile(indexFile, 'utf8')) as { weight_map?: unknown } | null)?.weight_map;
  } catch (error) {
    throw new ApiError('refused', `The shard index ${SHARD_INDEX_FILE} of ${repo} cannot be read (${(error as Error).message}).`);
  }
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new ApiError('refused', `The shard index ${SHARD_INDEX_FILE} of ${repo} has no "weight_map".`);
  }
  const shards = new Set<string>();
  for (const shard of Object.values(weightMap)) {
    if (typeof shard !== 'string' || shard === '') throw new ApiError('refused', `The shard index ${SHARD_INDEX_FILE} of ${repo} names a shard that is not a file name.`);
    shards.add(shard);
  }
  return [...shards].sort();
}

/** The file's path inside the target folder; refuses names that would land outside it. */
function safePath(targetDir: string, name: string, repo: string): string {
  const path = resolve(targetDir, name);
  const inside = relative(targetDir, path);
  if (name.includes('\\') || inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new ApiError('refused', `${repo} lists a file "${name}" outside the model folder; it was not downloaded.`);
  }
  return path;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const stats = await fsp.stat(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to do: the connection is going away anyway.
  }
}

function nextLink(header: string | null, base: string): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match?.[1]) return new URL(match[1], base).toString();
  }
  return null;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_BODY_TIMEOUT: 'timed out',
  ECONNRESET: 'the connection was reset',
  UND_ERR_SOCKET: 'the connection was closed',
  ENETUNREACH: 'the network is unreachable',
  EHOSTUNREACH: 'the host is unreachable',
  ENETDOWN: 'the network is down',
};

/** A short reason for a fetch failure, from the error codes in its cause chain. */
function describeNetworkError(error: unknown): string {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  let fallback: string | null = null;
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, cause, errors, message } = current as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_REASONS[code]) return NETWORK_REASONS[code];
      if (/CERT|SSL|TLS/.test(code)) return `a secure-connection (TLS certificate) problem: ${code}`;
      fallback ??= code;
    }
    if (typeof message === 'string' && message !== 'fetch failed' && message !== 'terminated') fallback ??= message;
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return fallback ?? 'network error';
}
