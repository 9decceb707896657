// lib/job-launch.svelte — what a form's Start button needs: start one job, keep it live (from the
// jobs store) for the note beside the button, and the back end's refusal as the form's error.
import { messageOf } from './errors';
import { jobs } from './jobs.svelte';
import { api } from './transport';
import type { Job } from './types';

type StartRequest = Parameters<typeof api.call<'jobs.start'>>[1];

export class JobLaunch {
  starting = $state(false);
  /** Why the last start failed (or another problem the form reports in the same place). */
  error = $state<string | null>(null);
  #jobId = $state<number | null>(null);
  /** The job this form started last, as it is now. */
  readonly job: Job | null = $derived(this.#jobId === null ? null : (jobs.list.find((j) => j.id === this.#jobId) ?? null));

  /** Starts the job; returns it, or null with `error` set when the back end refused. */
  start(request: StartRequest): Promise<Job | null> {
    return this.launch(() => api.call('jobs.start', request));
  }

  /** The same for a method that queues a job of its own (e.g. signalPeptide.train) and answers it. */
  async launch(queue: () => Promise<Job>): Promise<Job | null> {
    this.starting = true;
    this.error = null;
    try {
      const job = await queue();
      jobs.upsert(job);
      this.#jobId = job.id;
      return job;
    } catch (failure) {
      this.error = messageOf(failure);
      return null;
    } finally {
      this.starting = false;
    }
  }
}
