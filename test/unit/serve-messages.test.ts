/**
 * serve/api-socket against bad input: messages that are not requests get an error answer and
 * leave the socket open; frames that break the WebSocket protocol (invalid UTF-8, no mask, an
 * unknown opcode, a length over the limit) close only the socket that sent them. After each,
 * the server still answers on the other open socket and on a new one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_REQUEST_BYTES } from '../../src-main/api/limits';
import { createHost, type Host } from '../../src-main/services';
import { startServer, type RunningServer } from '../../src-main/serve/server';

let host: Host;
let server: RunningServer;
let bystander: WebSocket;
const logged: string[] = [];
const originalError = console.error;

beforeAll(async () => {
  // The server logs each closed connection; keep those lines for the assertions, off the test output.
  console.error = (...parts: unknown[]) => void logged.push(parts.join(' '));
  const rendererDir = mkdtempSync(join(tmpdir(), 'esm-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>ESM Studio</title>');
  host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-serve-messages-')), transport: 'websocket' });
  server = await startServer({ host, rendererDir });
  bystander = await openSocket();
});

afterAll(async () => {
  bystander?.close();
  await server.close();
  host.close();
  console.error = originalError;
});

function openSocket(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The next message the socket receives, parsed. */
function nextMessage(socket: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => socket.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>)));
}

async function appInfoAnswers(socket: WebSocket, id: number): Promise<void> {
  const answer = nextMessage(socket);
  socket.send(JSON.stringify({ id, method: 'app.info', input: {} }));
  expect(await answer).toMatchObject({ id, envelope: { ok: true, value: { name: 'ESM Studio', transport: 'websocket' } } });
}

/** The server answers on the socket that was open all along and on a fresh one. */
async function serverStillAnswers(): Promise<void> {
  await appInfoAnswers(bystander, 900);
  const fresh = await openSocket();
  await appInfoAnswers(fresh, 901);
  fresh.close();
}

describe('serve: messages that are not requests', () => {
  const cases: { sent: string; id?: number; message: RegExp }[] = [
    { sent: 'null', message: /must be a JSON object.*this message is null/ },
    { sent: '[1, 2]', message: /must be a JSON object.*this message is a list/ },
    { sent: '42', message: /must be a JSON object.*this message is a number/ },
    { sent: '"app.info"', message: /must be a JSON object.*this message is a string/ },
    { sent: '{"id": 1, "method"', message: /must be JSON text.*not JSON/ },
    { sent: '{"method": "app.info", "input": {}}', message: /needs an "id"/ },
    { sent: '{"id": {"x": 1}, "method": "app.info"}', message: /needs an "id"/ },
    { sent: '{"id": 7}', id: 7, message: /needs a "method"/ },
    { sent: '{"id": 8, "method": null}', id: 8, message: /needs a "method"/ },
    { sent: '{"id": "nine", "method": ["app.info"]}', id: 'nine' as unknown as number, message: /needs a "method"/ },
  ];

  it.each(cases)('answers $sent with an error and keeps the socket open', async ({ sent, id, message }) => {
    const socket = await openSocket();
    const answer = nextMessage(socket);
    socket.send(sent);
    const reply = await answer;
    if (id === undefined) {
      expect(reply).toEqual({ error: { code: 'invalid-input', message: expect.stringMatching(message) } });
    } else {
      expect(reply).toEqual({ id, envelope: { ok: false, error: { code: 'invalid-input', message: expect.stringMatching(message) } } });
    }
    await appInfoAnswers(socket, 2);
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });

  it('answers a binary frame with an error', async () => {
    const socket = await openSocket();
    const answer = nextMessage(socket);
    socket.send(Buffer.from(JSON.stringify({ id: 1, method: 'app.info' })), { binary: true });
    expect(await answer).toEqual({ error: { code: 'invalid-input', message: expect.stringMatching(/not binary frames/) } });
    await appInfoAnswers(socket, 2);
    socket.close();
  });

  it('answers an unknown method and invalid input through dispatch, with the id', async () => {
    const socket = await openSocket();
    let answer = nextMessage(socket);
    socket.send('{"id": 3, "method": "nothing.here", "input": null}');
    expect(await answer).toMatchObject({ id: 3, envelope: { ok: false, error: { code: 'invalid-input', message: 'Unknown request "nothing.here".' } } });
    answer = nextMessage(socket);
    socket.send('{"id": 4, "method": "projects.create", "input": [1]}');
    expect(await answer).toMatchObject({ id: 4, envelope: { ok: false, error: { code: 'invalid-input' } } });
    socket.close();
    await serverStillAnswers();
  });
});

// ---------- hand-made frames over a raw TCP socket ----------

interface RawConnection {
  socket: Socket;
  /** Resolves with the close code of the server's close frame (null if none came) once the connection ends. */
  closed: Promise<number | null>;
}

/** Opens /api with a hand-written HTTP upgrade and resolves once the server switched protocols. */
function rawUpgrade(): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(server.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let upgraded = false;
    let closeCode: number | null = null;
    const closed = new Promise<number | null>((settle) => socket.once('close', () => settle(closeCode)));
    socket.on('error', () => undefined); // The server may reset the connection; only `closed` matters.
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = received.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head));
        upgraded = true;
        received = received.subarray(end + 4);
        resolve({ socket, closed });
      }
      // A close frame from the server: 0x88, a 7-bit length, then the 2-byte code.
      if (received.length >= 4 && received[0] === 0x88) closeCode = received.readUInt16BE(2);
    });
    socket.write(
      `GET /api?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** One WebSocket frame: FIN set, the given opcode, the payload masked unless `masked` is false, or a declared length without payload. */
function frame(opcode: number, payload: Buffer, options: { masked?: boolean; declaredLength?: bigint } = {}): Buffer {
  const masked = options.masked ?? true;
  const length = options.declaredLength ?? BigInt(payload.length);
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (length < 126n) header = Buffer.from([0x80 | opcode, maskBit | Number(length)]);
  else if (length < 65536n) {
    header = Buffer.alloc(4);
    header.writeUInt8(0x80 | opcode, 0);
    header.writeUInt8(maskBit | 126, 1);
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(0x80 | opcode, 0);
    header.writeUInt8(maskBit | 127, 1);
    header.writeBigUInt64BE(length, 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, body]);
}

describe('serve: malformed WebSocket frames close only their own socket', () => {
  const requestText = Buffer.from(JSON.stringify({ id: 1, method: 'app.info', input: {} }));

  it('answers a well-formed hand-made frame (the frame builder is right)', async () => {
    const { socket } = await rawUpgrade();
    const answer = new Promise<string>((resolve) => socket.on('data', (chunk) => resolve(chunk.toString())));
    socket.write(frame(0x1, requestText));
    expect(await answer).toContain('"ok":true');
    socket.destroy();
  });

  const malformed: { name: string; bytes: () => Buffer; code: number; log: RegExp }[] = [
    { name: 'a text frame with invalid UTF-8', bytes: () => frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d])), code: 1007, log: /malformed WebSocket frame/ },
    { name: 'an unmasked client frame', bytes: () => frame(0x1, requestText, { masked: false }), code: 1002, log: /malformed WebSocket frame/ },
    { name: 'a frame with the reserved opcode 0x3', bytes: () => frame(0x3, requestText), code: 1002, log: /malformed WebSocket frame/ },
    {
      name: 'a 64-bit length over the limit',
      bytes: () => frame(0x1, Buffer.alloc(0), { declaredLength: BigInt(MAX_REQUEST_BYTES) + 1n }),
      code: 1009,
      log: /larger than the 256 MB a request may have/,
    },
  ];

  it.each(malformed)('closes the socket that sent $name, and the server goes on', async ({ bytes, code, log }) => {
    const before = logged.length;
    const { socket, closed } = await rawUpgrade();
    socket.write(bytes());
    expect(await closed).toBe(code);
    expect(logged.slice(before).join('\n')).toMatch(log);
    await serverStillAnswers();
    expect(bystander.readyState).toBe(WebSocket.OPEN);
  });
});
