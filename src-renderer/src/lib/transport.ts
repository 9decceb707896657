/**
 * lib/transport — picks how the renderer reaches the back end, once, at start-up: the preload's
 * IPC bridge inside Electron, otherwise a WebSocket to the serve process (token from the URL).
 * Views only see `api.call` / `api.onEvent` and cannot tell the two apart.
 */
import type { ApiEvent, Envelope, Input, MethodName, Output } from '../../../src-main/api/contract';
import type { ApiErrorBody } from '../../../src-main/api/contract';
import { MAX_REQUEST_BYTES } from '../../../src-main/api/limits';

/** What the preload exposes as `window.esmStudio` (see src-main/electron/preload.ts). */
export interface IpcBridge {
  call(method: string, input: unknown): Promise<Envelope>;
  onEvent(listener: (event: unknown) => void): () => void;
}

declare global {
  interface Window {
    esmStudio?: IpcBridge;
  }
}

/** A back-end error, carrying the service's message for the user. */
export class BackendError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
    this.name = 'BackendError';
  }
}

interface Channel {
  readonly name: 'ipc' | 'websocket';
  send(method: string, input: unknown): Promise<Envelope>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** Tells whether the back end is reachable, now and on every change. */
  onConnection(listener: (connected: boolean) => void): () => void;
}

function ipcChannel(bridge: IpcBridge): Channel {
  return {
    name: 'ipc',
    send: (method, input) => bridge.call(method, input),
    onEvent: (listener) => bridge.onEvent((event) => listener(event as ApiEvent)),
    // Inside the app the back end is the same program: it cannot go away alone.
    onConnection: (listener) => {
      listener(true);
      return () => undefined;
    },
  };
}

/**
 * Serve closes the socket on a message over MAX_REQUEST_BYTES (only an uploaded file can be that
 * large); say why before sending instead. A character is 1 to 3 bytes in UTF-8: count exactly only near the limit.
 */
function tooLargeToSend(message: string): string | null {
  if (message.length * 3 <= MAX_REQUEST_BYTES) return null;
  const bytes = new Blob([message]).size;
  if (bytes <= MAX_REQUEST_BYTES) return null;
  const mb = (n: number): string => (n / 1024 / 1024).toFixed(0);
  return `This file is too large to send from the browser (${mb(bytes)} MB; at most ${mb(MAX_REQUEST_BYTES)} MB). Split it into smaller files, or import it with the command line (npx esm-studio import).`;
}

/** WebSocket channel with request ids and automatic reconnection (the server may restart). */
function webSocketChannel(url: string): Channel {
  const pending = new Map<number, (envelope: Envelope) => void>();
  const listeners = new Set<(event: ApiEvent) => void>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  /** Null until the first attempt to connect has an outcome. */
  let connected: boolean | null = null;
  const setConnected = (value: boolean): void => {
    if (connected === value) return;
    connected = value;
    connectionListeners.forEach((listener) => listener(value));
  };
  let socket: WebSocket | null = null;
  let opened: Promise<WebSocket> | null = null;
  let nextId = 1;

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => {
        socket = ws;
        setConnected(true);
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('Cannot reach the ESM Studio back end.'));
      ws.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as
          | { id: number; envelope: Envelope }
          | { event: ApiEvent };
        if ('event' in data) listeners.forEach((listener) => listener(data.event));
        else pending.get(data.id)?.(data.envelope);
        if ('id' in data) pending.delete(data.id);
      };
      ws.onclose = () => {
        socket = null;
        opened = null;
        setConnected(false);
        for (const [id, settle] of pending) {
          settle({ ok: false, error: { code: 'internal', message: 'The connection to the back end was lost.' } });
          pending.delete(id);
        }
        // Reconnect so that events resume after a server restart; announce it as a 'projects' refresh.
        setTimeout(() => {
          connect()
            .then(() => listeners.forEach((listener) => listener({ type: 'projects' })))
            .catch(() => undefined);
        }, 1000);
      };
    });
    return opened;
  };

  return {
    name: 'websocket',
    async send(method, input) {
      const ws = socket ?? (await connect());
      const id = nextId++;
      const message = JSON.stringify({ id, method, input });
      const tooLarge = tooLargeToSend(message);
      if (tooLarge) return { ok: false, error: { code: 'invalid-input', message: tooLarge } };
      return new Promise<Envelope>((resolve) => {
        pending.set(id, resolve);
        ws.send(message);
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      if (connected !== null) listener(connected);
      return () => connectionListeners.delete(listener);
    },
  };
}

function pickChannel(): Channel {
  if (window.esmStudio) return ipcChannel(window.esmStudio);
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return webSocketChannel(`${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`);
}

const channel = pickChannel();

export const api = {
  transport: channel.name,
  /** Calls a back-end method; rejects with BackendError carrying the service's message. */
  async call<M extends MethodName>(method: M, input: Input<M>): Promise<Output<M>> {
    const envelope = await channel.send(method, input);
    if (!envelope.ok) throw new BackendError(envelope.error);
    return envelope.value as Output<M>;
  },
  onEvent(listener: (event: ApiEvent) => void): () => void {
    return channel.onEvent(listener);
  },
  onConnection(listener: (connected: boolean) => void): () => void {
    return channel.onConnection(listener);
  },
};
