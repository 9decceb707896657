/**
 * What serve and the desktop app let another site do: serve answers only requests addressed to
 * 127.0.0.1, localhost or [::1] at its port (no DNS rebinding), pages and API alike; the desktop
 * app hands only https links to the sites it points to to the system browser.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { externalLinkAllowed } from '../../src-main/electron/external-links';
import { createHost, type Host } from '../../src-main/services';
import { hostAllowed, startServer, type RunningServer } from '../../src-main/serve/server';

let host: Host;
let server: RunningServer;

beforeAll(async () => {
  const rendererDir = mkdtempSync(join(tmpdir(), 'esm-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>ESM Studio</title>');
  host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-serve-security-')), transport: 'websocket' });
  server = await startServer({ host, rendererDir });
});

afterAll(async () => {
  await server.close();
  host.close();
});

/** GET with a chosen Host header (fetch does not let a caller set it). */
function getWithHost(path: string, hostHeader: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: server.port, path, headers: { Host: hostHeader } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

function openSocket(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('serve: the Host header', () => {
  it('serves the page to this computer by its names', async () => {
    for (const name of ['127.0.0.1', 'localhost', 'LOCALHOST', '[::1]']) {
      expect((await getWithHost(`/?token=${server.token}`, `${name}:${server.port}`)).status, name).toBe(200);
    }
  });

  it('refuses pages asked for under another name (DNS rebinding), even with the token', async () => {
    for (const name of ['rebind.example', `rebind.example:${server.port}`, '127.0.0.1', `127.0.0.1:${server.port + 1}`, `localhost.evil.example:${server.port}`, `127.0.0.2:${server.port}`]) {
      const answer = await getWithHost(`/?token=${server.token}`, name);
      expect(answer.status, name).toBe(403);
      expect(answer.body).toContain(`http://127.0.0.1:${server.port}/`);
    }
    expect((await getWithHost(`/exports/1/x.csv?token=${server.token}`, `rebind.example:${server.port}`)).status).toBe(403);
  });

  it('refuses the API socket under another name, and accepts it under its own', async () => {
    await expect(openSocket({ Host: `rebind.example:${server.port}` })).rejects.toThrow(/403/);
    await expect(openSocket({ Host: `rebind.example:${server.port}`, Origin: `http://rebind.example:${server.port}` })).rejects.toThrow(/403/);
    const socket = await openSocket({ Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` });
    socket.close();
  });

  it('hostAllowed: only the three local names at the right port', () => {
    expect(hostAllowed(`127.0.0.1:${8080}`, 8080)).toBe(true);
    expect(hostAllowed(undefined, 8080)).toBe(false);
    expect(hostAllowed('127.0.0.1:80800', 8080)).toBe(false);
    expect(hostAllowed('[::1]:8080', 8080)).toBe(true);
  });

  it('answers a request target that is no URL with 400, and goes on', async () => {
    expect((await getWithHost('http://[', `127.0.0.1:${server.port}`)).status).toBe(400);
    expect((await getWithHost(`/?token=${server.token}`, `127.0.0.1:${server.port}`)).status).toBe(200);
  });
});

describe('desktop app: links opened in the system browser', () => {
  it('opens https links to the sites the app points to', () => {
    expect(externalLinkAllowed('https://huggingface.co/facebook/esm2_t6_8M_UR50D')).toBe(true);
    expect(externalLinkAllowed('https://github.com/facebookresearch/esm')).toBe(true);
    expect(externalLinkAllowed('https://docs.github.com/en')).toBe(true);
  });

  it('refuses everything else', () => {
    for (const url of [
      'http://huggingface.co/x', // not https
      'file:///etc/passwd',
      'smb://server/share',
      'javascript:alert(1)',
      'https://evil.example/',
      'https://huggingface.co.evil.example/',
      'https://evilgithub.com/',
      'https://user:pass@github.com/',
      'https://github.com:8443/',
      'not a url',
    ]) {
      expect(externalLinkAllowed(url), url).toBe(false);
    }
  });
});
