// lib/jobs.svelte — every job the back end knows, kept live from job events (newest first).
// What a job can do (resume) and what it waits for come from the back end; this only keeps the
// newest state of each job, by its revision, whatever order answers and events arrive in.
import { api } from './transport';
import type { Job, JobState } from './types';

export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running'];
export const FINISHED_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

const newestFirst = (a: Job, b: Job): number => b.id - a.id;

class JobsStore {
  list = $state<Job[]>([]);
  loaded = $state(false);
  active = $derived(this.list.filter((job) => ACTIVE_STATES.includes(job.state)).length);
  #request = 0;

  async load(): Promise<void> {
    const request = ++this.#request;
    const list = await api.call('jobs.list', {});
    if (request !== this.#request) return;
    this.list = [...list].sort(newestFirst);
    this.loaded = true;
  }

  /** Replaces the job with the same id unless what is shown is newer (e.g. a late answer to jobs.start), or adds it. */
  upsert(job: Job): void {
    const index = this.list.findIndex((j) => j.id === job.id);
    if (index < 0) {
      this.list = [job, ...this.list].sort(newestFirst);
      return;
    }
    if (this.list[index]!.revision > job.revision) return;
    this.list[index] = job;
  }

  async cancel(id: number): Promise<void> {
    this.upsert(await api.call('jobs.cancel', { id }));
  }

  async resume(id: number): Promise<void> {
    this.upsert(await api.call('jobs.resume', { id }));
  }

  /** Removes the given jobs' finished entries from the panel (their results stay). */
  async clear(ids: number[]): Promise<void> {
    const { cleared } = await api.call('jobs.clear', { ids });
    this.list = this.list.filter((job) => !cleared.includes(job.id));
  }
}

export const jobs = new JobsStore();
