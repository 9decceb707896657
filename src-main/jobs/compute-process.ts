/**
 * jobs/compute-process — the entry of the compute process, where heavy work runs (ONNX sessions,
 * training, fitting) so that the UI and the API never block. Electron starts it as a
 * utilityProcess, serve and the CLI as a Node child process; both speak jobs/protocol.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { FromCompute, ToCompute } from './protocol';
import { isTaskKind } from '../api/tasks';
import { tasks } from './tasks';
import { CancelledError } from '../core/cancel';

interface Port {
  post(message: FromCompute): void;
  listen(listener: (message: unknown) => void): void;
}

/** The part of Electron's `process.parentPort` this process uses. */
interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/** Electron's utilityProcess gets `process.parentPort`; a Node fork gets `process.send`. */
function parentPort(): Port {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      post: (message) => electronPort.postMessage(message),
      listen: (listener) => electronPort.on('message', (event) => listener(event.data)),
    };
  }
  if (!process.send) throw new Error('The compute process must be started by ESM Studio.');
  // If the parent dies (even by SIGKILL) the IPC channel closes: stop instead of computing for nobody.
  process.on('disconnect', () => process.exit(0));
  return {
    post: (message) => process.send!(message),
    listen: (listener) => process.on('message', listener),
  };
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

const port = parentPort();
const running = new Map<number, AbortController>();

async function runJob(message: Extract<ToCompute, { type: 'start' }>): Promise<void> {
  const { jobId } = message;
  const task = isTaskKind(message.kind) ? tasks.get(message.kind) : undefined;
  if (!task) return port.post({ type: 'failed', jobId, message: `Unknown job kind "${message.kind}".` });
  const controller = new AbortController();
  running.set(jobId, controller);
  try {
    const summary = await task.run({
      params: message.params,
      input: message.input,
      checkpoint: message.checkpoint,
      workDir: message.workDir,
      signal: controller.signal,
      progress: (fraction, text) => port.post({ type: 'progress', jobId, fraction, message: text }),
      checkpointed: (state) => port.post({ type: 'checkpoint', jobId, state }),
      metrics: (metrics) => port.post({ type: 'metrics', jobId, metrics }),
      artifact: async (kind, path, meta) => {
        const file = join(message.workDir, path);
        port.post({ type: 'artifact', jobId, kind, path, checksum: await sha256(file), bytes: statSync(file).size, meta });
      },
    });
    port.post({ type: 'done', jobId, summary });
  } catch (error) {
    // A task stopped by the user's cancel is "cancelled" whatever error its stopping raised.
    if (error instanceof CancelledError || controller.signal.aborted) port.post({ type: 'cancelled', jobId });
    else port.post({ type: 'failed', jobId, message: error instanceof Error ? error.message : String(error) });
  } finally {
    running.delete(jobId);
  }
}

port.listen((raw) => {
  const parsed = ToCompute.safeParse(raw);
  if (!parsed.success) return; // Only ESM Studio's own runner talks to this process.
  const message = parsed.data;
  if (message.type === 'start') void runJob(message);
  else running.get(message.jobId)?.abort();
});

port.post({ type: 'ready', pid: process.pid });
