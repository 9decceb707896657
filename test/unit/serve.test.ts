/** serve/server over a real socket: the token guards pages and the API; requests reach dispatch. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHost, type Host } from '../../src-main/services';
import { startServer, type RunningServer } from '../../src-main/serve/server';

let host: Host;
let server: RunningServer;

beforeAll(async () => {
  const rendererDir = mkdtempSync(join(tmpdir(), 'esm-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>ESM Studio</title>');
  host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-serve-')), transport: 'websocket' });
  server = await startServer({ host, rendererDir });
});

afterAll(async () => {
  await server.close();
  host.close();
});

function connect(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function request(socket: WebSocket, id: number, method: string, input: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(String(data)) as { id?: number; envelope?: unknown };
      if (message.id === id) {
        socket.off('message', onMessage);
        resolve(message.envelope);
      }
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, method, input }));
  });
}

describe('serve', () => {
  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the page with the token, sets a cookie, and refuses it without', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${server.port}/?token=wrong`)).status).toBe(403);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`http://127.0.0.1:${server.port}/index.html`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses API sockets without the token or from another site', async () => {
    await expect(connect('')).rejects.toThrow(/403/);
    await expect(connect(`?token=${server.token}`, { Origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });

  it('carries requests to the services and pushes events to the client', async () => {
    const socket = await connect(`?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` });
    const events: unknown[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { event?: unknown };
      if (message.event) events.push(message.event);
    });
    expect(await request(socket, 1, 'projects.create', { name: 'Over the wire' })).toMatchObject({ ok: true, value: { name: 'Over the wire' } });
    expect(await request(socket, 2, 'app.info', {})).toMatchObject({ ok: true, value: { transport: 'websocket' } });
    expect(await request(socket, 3, 'projects.create', {})).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    await expect.poll(() => events).toContainEqual({ type: 'projects' });
    socket.close();
  });
});
