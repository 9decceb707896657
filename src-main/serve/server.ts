/**
 * serve/server — the browser transport: HTTP for the built renderer and a WebSocket at /api that
 * carries `{ id, method, input }` to `dispatch` and pushes events. Listens on 127.0.0.1 only and
 * requires a random token (in the URL it prints, then in a same-site cookie). No logic here.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import sirv from 'sirv';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Host } from '../services';
import { exportFilePath } from '../services/exports';

export interface ServeOptions {
  host: Host;
  rendererDir: string;
  port?: number;
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'esm_studio_token';
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function requestToken(request: IncomingMessage): { query: string | null; cookie: string | null } {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const cookie = (request.headers.cookie ?? '')
    .split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === COOKIE)?.[1];
  return { query: url.searchParams.get('token'), cookie: cookie ?? null };
}

/** Only pages served by this server may open the API socket (no cross-site WebSocket use). */
function originAllowed(request: IncomingMessage, port: number): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // Non-browser clients (tests, scripts) send none; the token still applies.
  return origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

function attachApi(wss: WebSocketServer, host: Host): void {
  wss.on('connection', (socket: WebSocket) => {
    const unsubscribe = host.events.subscribe((event) => socket.send(JSON.stringify({ event })));
    socket.on('close', unsubscribe);
    socket.on('message', async (data) => {
      let request: { id?: unknown; method?: unknown; input?: unknown };
      try {
        request = JSON.parse(String(data)) as typeof request;
      } catch {
        return socket.close(1003, 'Messages must be JSON');
      }
      const envelope = await host.dispatch(request.method, request.input);
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ id: request.id, envelope }));
    });
  });
}

/** GET /exports/<projectId>/<file>: a project's export file, as a download. */
function serveExport(host: Host, request: IncomingMessage, response: ServerResponse): boolean {
  const match = /^\/exports\/(\d+)\/([^/]+)$/.exec(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
  if (!match) return false;
  let path: string;
  try {
    path = exportFilePath(host.store, Number(match[1]), decodeURIComponent(match[2]!));
  } catch {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('No such export.');
    return true;
  }
  response.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': statSync(path).size,
    'Content-Disposition': `attachment; filename="${basename(path).replace(/"/g, '')}"`,
  });
  createReadStream(path).pipe(response);
  return true;
}

/** Reports are opened in the browser (then printed to PDF there), under a CSP that allows no script and no loads. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/** GET /reports/<projectId>/<file>: a report's HTML, shown in the browser rather than downloaded. */
function serveReport(host: Host, request: IncomingMessage, response: ServerResponse): boolean {
  const match = /^\/reports\/(\d+)\/([^/]+)$/.exec(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
  if (!match) return false;
  let path: string;
  try {
    path = host.reports.reportPath(Number(match[1]), decodeURIComponent(match[2]!));
  } catch {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('No such report.');
    return true;
  }
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': statSync(path).size, 'Content-Security-Policy': REPORT_CSP });
  createReadStream(path).pipe(response);
  return true;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const files = sirv(options.rendererDir, { dev: false, etag: true, single: false });
  let port = 0;

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const { query, cookie } = requestToken(request);
    if (!sameToken(query, token) && !sameToken(cookie, token)) {
      response.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('ESM Studio: open the address printed by `npm run serve` (it carries the access token).');
      return;
    }
    response.setHeader('Content-Security-Policy', CSP);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    if (sameToken(query, token)) {
      response.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (serveExport(options.host, request, response)) return;
    if (serveReport(options.host, request, response)) return;
    files(request, response, () => {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('Not found');
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 600 * 1024 * 1024 });
  attachApi(wss, options.host);
  server.on('upgrade', (request, socket, head) => {
    const { query, cookie } = requestToken(request);
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const authorised = sameToken(query, token) || sameToken(cookie, token);
    if (path !== '/api' || !authorised || !originAllowed(request, port)) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
