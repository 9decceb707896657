// lib/jobs.svelte — every job the back end knows, kept live from job events (newest first).
import { api } from './transport';
import type { Job, JobState } from './types';

export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running'];
const FINAL_STATES: readonly JobState[] = ['done', 'cancelled'];
export const RESUMABLE_STATES: readonly JobState[] = ['interrupted', 'failed'];

/** Whether the Resume button shows: a cancelled fine-tune also continues from its checkpoint (services/train). */
export function canResume(job: Pick<Job, 'state' | 'kind'>): boolean {
  return RESUMABLE_STATES.includes(job.state) || (job.state === 'cancelled' && job.kind === 'train.finetune');
}

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

  /** Replaces the job with the same id, or adds it. */
  upsert(job: Job): void {
    const index = this.list.findIndex((j) => j.id === job.id);
    // A job that is done or cancelled never starts again: a late answer to jobs.start does not undo its end.
    if (index >= 0 && FINAL_STATES.includes(this.list[index]!.state) && ACTIVE_STATES.includes(job.state)) return;
    if (index >= 0) this.list[index] = job;
    else this.list = [job, ...this.list].sort(newestFirst);
  }

  async cancel(id: number): Promise<void> {
    this.upsert(await api.call('jobs.cancel', { id }));
  }

  async resume(id: number): Promise<void> {
    this.upsert(await api.call('jobs.resume', { id }));
  }
}

export const jobs = new JobsStore();
