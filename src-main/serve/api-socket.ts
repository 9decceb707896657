/**
 * serve/api-socket — one API WebSocket: reads `{ id, method, input }` requests, hands them to
 * `dispatch` and answers `{ id, envelope }`; pushes events as `{ event }`. Nothing a client sends
 * can stop the server: a message that is not a request is answered with an error (with its id
 * when it has one) and the socket stays open; a frame that breaks the WebSocket protocol closes
 * that socket only.
 */
import type { WebSocket } from 'ws';
import type { ApiErrorBody, Envelope } from '../api/contract';
import { MAX_REQUEST_BYTES } from '../api/limits';
import type { Host } from '../services';

/** A request id a client can match its answer with: a number or a short text. */
type RequestId = number | string;

/** What a message turned out to be: a request to dispatch, or an error to answer (with the id when known). */
type Reading = { request: { id: RequestId; method: string; input: unknown } } | { error: string; id?: RequestId };

const EXAMPLE = '{"id": 1, "method": "app.info", "input": {}}';

function readId(value: unknown): RequestId | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= 200) return value;
  return undefined;
}

/** Checks one text message's shape before anything uses it. */
export function readRequest(text: string): Reading {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { error: `A request must be JSON text such as ${EXAMPLE}; this message is not JSON.` };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    const kind = message === null ? 'null' : Array.isArray(message) ? 'a list' : `a ${typeof message}`;
    return { error: `A request must be a JSON object such as ${EXAMPLE}; this message is ${kind}.` };
  }
  const fields = message as Record<string, unknown>;
  const id = readId(fields.id);
  if (id === undefined) return { error: `A request needs an "id" (a number or a short text) to match its answer, as in ${EXAMPLE}.` };
  if (typeof fields.method !== 'string' || fields.method === '') {
    return { id, error: `A request needs a "method" (text naming the request), as in ${EXAMPLE}.` };
  }
  return { request: { id, method: fields.method, input: fields.input } };
}

/** Why a frame closed the socket, in words, for the server's log. */
function describeProtocolError(error: Error): string {
  const code = (error as { code?: string }).code;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') {
    return `a message larger than the ${MAX_REQUEST_BYTES / 1024 / 1024} MB a request may have`;
  }
  return `a malformed WebSocket frame (${error.message})`;
}

export function attachApiSocket(socket: WebSocket, host: Host, log: (line: string) => void = console.error): void {
  const send = (message: unknown): void => {
    if (socket.readyState !== socket.OPEN) return;
    try {
      socket.send(JSON.stringify(message));
    } catch (error) {
      log(`ESM Studio: could not send an answer: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const refuse = (message: string, id?: RequestId): void => {
    const error: ApiErrorBody = { code: 'invalid-input', message };
    send(id === undefined ? { error } : { id, envelope: { ok: false, error } satisfies Envelope });
  };

  const unsubscribe = host.events.subscribe((event) => send({ event }));
  socket.on('close', unsubscribe);
  // ws has already closed the socket (1002, 1007 or 1009) when it reports a bad frame; without
  // this listener the error would be thrown and stop the whole server.
  socket.on('error', (error) => log(`ESM Studio: closed an API connection that sent ${describeProtocolError(error)}.`));

  socket.on('message', (data, isBinary) => {
    if (isBinary) return refuse(`Requests are JSON text, not binary frames; send for example ${EXAMPLE}.`);
    const reading = readRequest(String(data));
    if ('error' in reading) return refuse(reading.error, reading.id);
    const { id, method, input } = reading.request;
    void answer(host, method, input).then((envelope) => send({ id, envelope }));
  });
}

/** dispatch turns every failure into an envelope; this guards against anything that still escapes. */
async function answer(host: Host, method: string, input: unknown): Promise<Envelope> {
  try {
    return await host.dispatch(method, input);
  } catch (error) {
    return { ok: false, error: { code: 'internal', message: `Something went wrong: ${error instanceof Error ? error.message : String(error)}` } };
  }
}
