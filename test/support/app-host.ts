/**
 * test/support/app-host — the app's back end in the test process, with the real compute process
 * (out/main/compute.js): `call` a method as a transport would, and wait until a job has finished.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { assertBuilt, ROOT } from './serve';

export interface AppHost {
  host: Host;
  call<T>(method: string, input: unknown): Promise<T>;
  /** The job once it is done, failed or cancelled (waits on its events, however long it takes). */
  finished(id: number): Promise<Job>;
  close(): void;
}

export function openAppHost(home = mkdtempSync(join(tmpdir(), 'esm-app-'))): AppHost {
  assertBuilt();
  const host = createHost({ home, transport: 'cli', launcher: nodeComputeLauncher(join(ROOT, 'out', 'main', 'compute.js')) });
  const call = async <T>(method: string, input: unknown): Promise<T> => {
    const envelope = await host.dispatch(method, input);
    if (!envelope.ok) throw new Error(envelope.error.message);
    return envelope.value as T;
  };
  const finished = (id: number): Promise<Job> =>
    new Promise((resolve) => {
      const unsubscribe = host.events.subscribe((event) => {
        if (event.type === 'job' && event.job.id === id && ['done', 'failed', 'cancelled'].includes(event.job.state)) {
          unsubscribe();
          resolve(event.job);
        }
      });
    });
  return { host, call, finished, close: () => host.close() };
}
