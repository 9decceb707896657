/** test/support/ws-client — the serve API over its WebSocket, as the renderer uses it (for test set-up). */
import WebSocket from 'ws';
import type { Job } from '../../src-main/api/schemas';
import type { ServeHandle } from './serve';

export interface ApiClient {
  call<T>(method: string, input: unknown): Promise<T>;
  waitForJob(id: number, timeoutMs?: number): Promise<Job>;
  close(): void;
}

export async function connectApi(server: ServeHandle): Promise<ApiClient> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, (envelope: { ok: boolean; value?: unknown; error?: { message: string } }) => void>();
  const jobListeners = new Set<(job: Job) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; envelope?: never; event?: { type: string; job?: Job } };
    if (message.id !== undefined) pending.get(message.id)?.(message.envelope!);
    if (message.event?.type === 'job') jobListeners.forEach((listener) => listener(message.event!.job!));
  });
  const call = <T>(method: string, input: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (envelope) => (envelope.ok ? resolve(envelope.value as T) : reject(new Error(envelope.error!.message))));
      socket.send(JSON.stringify({ id, method, input }));
    });
  const waitForJob = (id: number, timeoutMs = 120_000): Promise<Job> =>
    new Promise((resolve, reject) => {
      const finished = (job: Job): boolean => ['done', 'failed', 'cancelled', 'interrupted'].includes(job.state);
      const timer = setTimeout(() => reject(new Error(`job ${id} did not finish`)), timeoutMs);
      const listener = (job: Job): void => {
        if (job.id === id && finished(job)) {
          clearTimeout(timer);
          jobListeners.delete(listener);
          resolve(job);
        }
      };
      jobListeners.add(listener);
      void call<Job[]>('jobs.list', {}).then((jobs) => {
        const job = jobs.find((j) => j.id === id);
        if (job) listener(job);
      });
    });
  return { call, waitForJob, close: () => socket.close() };
}
