/**
 * serve/server — the browser transport: HTTP for the built renderer and a WebSocket at /api that
 * carries `{ id, method, input }` to `dispatch` and pushes events (see api-socket). Listens on
 * 127.0.0.1 only, answers only requests addressed to this computer by name (the Host header:
 * no DNS rebinding) and requires a random token (in the URL it prints, then in a same-site
 * cookie). No logic here.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import { MAX_REQUEST_BYTES } from '../api/limits';
import type { Host } from '../services';
import { attachApiSocket } from './api-socket';
import { serveExport, serveReport } from './files';

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

/** The names this computer answers to; any other Host is a page of another site reaching us through DNS rebinding. */
const LOCAL_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request's path and query; null when its target is not a URL at all. */
function requestUrl(request: IncomingMessage): URL | null {
  try {
    return new URL(request.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

function requestToken(request: IncomingMessage, url: URL): { query: string | null; cookie: string | null } {
  const cookie = (request.headers.cookie ?? '')
    .split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === COOKIE)?.[1];
  return { query: url.searchParams.get('token'), cookie: cookie ?? null };
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return host !== undefined && LOCAL_NAMES.some((name) => host.toLowerCase() === `${name}:${port}`);
}

/** Only pages served by this server may open the API socket (no cross-site WebSocket use). */
function originAllowed(request: IncomingMessage, port: number): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // Non-browser clients (tests, scripts) send none; the token still applies.
  return LOCAL_NAMES.some((name) => origin.toLowerCase() === `http://${name}:${port}`);
}

function refuse(response: ServerResponse, status: 400 | 403 | 404, message: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(message);
}

function wrongHostMessage(port: number): string {
  return `ESM Studio answers only at http://127.0.0.1:${port}/ or http://localhost:${port}/ (this request named another host).`;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const files = sirv(options.rendererDir, { dev: false, etag: true, single: false });
  let port = 0;

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (!hostAllowed(request.headers.host, port)) return refuse(response, 403, wrongHostMessage(port));
    const url = requestUrl(request);
    if (!url) return refuse(response, 400, 'ESM Studio: this request names no valid address.');
    const { query, cookie } = requestToken(request, url);
    if (!sameToken(query, token) && !sameToken(cookie, token)) {
      return refuse(response, 403, 'ESM Studio: open the address printed by `npm run serve` (it carries the access token).');
    }
    response.setHeader('Content-Security-Policy', CSP);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    if (sameToken(query, token)) {
      response.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (serveExport(options.host, request, response)) return;
    if (serveReport(options.host, request, response)) return;
    files(request, response, () => refuse(response, 404, 'Not found'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  wss.on('connection', (socket) => attachApiSocket(socket, options.host));
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    // Until ws takes the socket over, a reset connection must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    const url = requestUrl(request);
    const { query, cookie } = url ? requestToken(request, url) : { query: null, cookie: null };
    const authorised = sameToken(query, token) || sameToken(cookie, token);
    if (!hostAllowed(request.headers.host, port) || url?.pathname !== '/api' || !authorised || !originAllowed(request, port)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
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

