/**
 * jobs/homology-threads — runs the similarity split's query chunks on worker threads (one per
 * core, at most 8), each chunk to the next free worker, when the built homology-worker.js lies
 * next to the running bundle (the app, serve and the command line); elsewhere (tests on the
 * sources) the search stays on the calling thread. Cancelling stops the workers at once.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../core/cancel';
import type { HomologyOptions } from '../learn/homology';
import type { ChunkResult } from '../learn/homology/search';

const here = dirname(fileURLToPath(import.meta.url));

/** The built worker script: next to this bundle, or one folder up (bundles put shared code in chunks/). */
function workerScript(): string | null {
  return [join(here, 'homology-worker.js'), join(here, '..', 'homology-worker.js')].find((path) => existsSync(path)) ?? null;
}

/**
 * A runChunks for learn/homology's findRelatedPairs, or undefined (run on this thread) when no
 * worker is built or there is one core. `script` and `threads` are for tests.
 */
export function threadedChunks(sequences: readonly string[], script = workerScript(), threads = Math.max(1, Math.min(8, availableParallelism()))): HomologyOptions['runChunks'] {
  if (!script || threads < 2) return undefined;
  return (_index, ranges, criteria, exhaustive, onDone, signal) =>
    new Promise<void>((resolve, reject) => {
      let next = 0;
      let finished = 0;
      let failed = false;
      const workers = Array.from({ length: Math.min(threads, ranges.length) }, () => new Worker(script, { workerData: { sequences, criteria, exhaustive } }));
      const stop = (error: Error): void => {
        if (failed) return;
        failed = true;
        for (const worker of workers) void worker.terminate();
        reject(error);
      };
      const onAbort = (): void => stop(new CancelledError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const feed = (worker: Worker): void => {
        if (next >= ranges.length) return void worker.postMessage('stop');
        const chunk = next++;
        worker.postMessage({ chunk, from: ranges[chunk]![0], to: ranges[chunk]![1] });
      };
      for (const worker of workers) {
        worker.on('message', ({ chunk, result }: { chunk: number; result: ChunkResult }) => {
          if (failed) return;
          onDone(chunk, result);
          if (++finished === ranges.length) {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          }
          feed(worker);
        });
        worker.on('error', (error) => stop(error));
        feed(worker);
      }
    });
}
