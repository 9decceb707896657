/**
 * test/support/hub-server — a small imitation of the Hugging Face hub on 127.0.0.1 (node:http) for
 * download tests: serves one folder as one model repository through the three endpoints
 * models/download uses (revision info, tree, resolve), with Range requests, LFS-style redirects,
 * optional throttling, dropped connections, corrupted content and a required token, and it
 * records every request and the file bytes it sent.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubServerSettings {
  /** Serve file bodies at about this many bytes a second (undefined: as fast as possible). */
  bytesPerSecond?: number;
  /** Close the connection after sending this many bytes of a file body (each response). */
  dropAfterBytes?: number;
  /** Bytes to send instead of a file's content; the tree still describes the real file. */
  corrupt?: Record<string, Buffer>;
  /** Answer resolve requests for LFS files with a 302 to /cdn/… like the hub (default true). */
  redirectLfs?: boolean;
  /** Ignore Range headers and always send the whole file with 200. */
  ignoreRange?: boolean;
  /** Require `Authorization: Bearer <token>`; without it answer 401 (X-Error-Code GatedRepo). */
  token?: string;
}

export interface HubRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
}

export interface HubServer {
  /** Base address, e.g. http://127.0.0.1:41234 (the `endpoint` for downloadModel). */
  url: string;
  port: number;
  repo: string;
  commit: string;
  /** Mutable: change between calls to switch behaviours on and off. */
  settings: HubServerSettings;
  requests: HubRequest[];
  /** File-body bytes written to sockets (resolve and cdn answers). */
  bytesSent: number;
  /** Forgets the recorded requests and byte count. */
  resetCounters(): void;
  close(): Promise<void>;
}

export interface HubServerOptions extends HubServerSettings {
  /** The folder whose top-level files make up the repository. */
  dir: string;
  /** The repository name it answers to, e.g. 'test-org/tiny-esm'. */
  repo: string;
  /** Which files are LFS files (tree has `lfs: { oid: sha256 }`); default *.safetensors and *.bin. */
  isLfs?: (name: string) => boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const { dir, repo } = options;
  const isLfs = options.isLfs ?? ((name: string) => /\.(safetensors|bin)$/.test(name));
  const commit = createHash('sha1').update(`${repo}@${dir}`).digest('hex');
  const { dir: _dir, repo: _repo, isLfs: _isLfs, ...settings } = options;

  const listFiles = (): string[] =>
    readdirSync(dir)
      .filter((name) => statSync(join(dir, name)).isFile())
      .sort();

  const handle = async (req: IncomingMessage, res: ServerResponse, record: HubRequest): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'Method not allowed' });
    if (hub.settings.token !== undefined && req.headers.authorization !== `Bearer ${hub.settings.token}`) {
      return send(401, { error: 'Access to this model is restricted.' }, { 'X-Error-Code': 'GatedRepo' });
    }

    const repoNotFound = (): void => send(404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    const api = /^\/api\/models\/(.+)\/(revision|tree)\/([^/]+)$/.exec(path);
    if (api) {
      if (api[1] !== repo) return repoNotFound();
      const files = listFiles();
      if (api[2] === 'revision') {
        return send(200, { id: repo, modelId: repo, sha: commit, siblings: files.map((rfilename) => ({ rfilename })) });
      }
      return send(
        200,
        files.map((name) => {
          const content = readFileSync(join(dir, name));
          const oid = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
          const entry: Record<string, unknown> = { type: 'file', oid, size: content.length, path: name };
          if (isLfs(name)) entry.lfs = { oid: createHash('sha256').update(content).digest('hex'), size: content.length, pointerSize: 134 };
          return entry;
        }),
      );
    }

    const resolveMatch = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const cdnMatch = /^\/cdn\/(.+)\/([^/]+)$/.exec(path);
    const target = resolveMatch ? { repo: resolveMatch[1], file: resolveMatch[3] } : cdnMatch ? { repo: cdnMatch[1], file: cdnMatch[2] } : null;
    if (!target) return send(404, { error: 'Not found' });
    if (target.repo !== repo) return repoNotFound();
    const file = target.file ?? '';
    if (!listFiles().includes(file)) return send(404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    if (resolveMatch && isLfs(file) && hub.settings.redirectLfs !== false) {
      record.status = 302;
      res.writeHead(302, { Location: `${hub.url}/cdn/${repo}/${encodeURIComponent(file)}` });
      res.end();
      return;
    }

    const content = hub.settings.corrupt?.[file] ?? readFileSync(join(dir, file));
    let start = 0;
    let end = content.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !hub.settings.ignoreRange) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= content.length || start > end) {
        record.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${content.length}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      ETag: `"${createHash('sha256').update(content).digest('hex')}"`,
    };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${content.length}`;
    record.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();

    const { bytesPerSecond, dropAfterBytes } = hub.settings;
    const chunkSize = bytesPerSecond ? Math.max(1, Math.min(16_384, Math.floor(bytesPerSecond / 20))) : 65_536;
    let sent = 0;
    let position = start;
    while (position <= end) {
      if (res.destroyed) return;
      let size = Math.min(chunkSize, end + 1 - position);
      if (dropAfterBytes !== undefined) size = Math.min(size, dropAfterBytes - sent);
      if (size <= 0) {
        // Let what was written reach the client, then cut the connection mid-body.
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      const chunk = content.subarray(position, position + size);
      hub.bytesSent += chunk.length;
      sent += chunk.length;
      position += chunk.length;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.on('drain', done).on('close', done);
        });
      }
      if (bytesPerSecond) await sleep((chunk.length / bytesPerSecond) * 1000);
    }
    res.end();
  };

  const server = createServer((req, res) => {
    const record: HubRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
    };
    hub.requests.push(record);
    handle(req, res, record).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const hub: HubServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    repo,
    commit,
    settings,
    requests: [],
    bytesSent: 0,
    resetCounters() {
      hub.requests = [];
      hub.bytesSent = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return hub;
}
