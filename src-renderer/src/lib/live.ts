// lib/live — first loads and keeping every list current from the back end's events.
import { api, BackendError } from './transport';
import { attempt, messageOf } from './errors';
import { toasts } from './toasts.svelte';
import { projects } from './projects.svelte';
import { datasets } from './datasets.svelte';
import { runs } from './runs.svelte';
import { jobs, ACTIVE_STATES } from './jobs.svelte';
import { models, MODEL_JOB_KINDS } from './models.svelte';
import { embeddings, exportFiles, projectEmbeddings } from './embeddings.svelte';
import { fits } from './fits.svelte';
import type { ApiEvent } from '../../../src-main/api/contract';
import type { Job } from './types';

/**
 * A background refresh after an event. "Not found" is expected when the thing was just deleted
 * (events can arrive before the delete call answers), so only other failures are shown.
 */
function refresh(work: () => Promise<void>): void {
  work().catch((error: unknown) => {
    if (error instanceof BackendError && error.body.code === 'not-found') return;
    toasts.error(messageOf(error));
  });
}

/** Runs, the shown run's matrices and fits, and the exports of a project, where they are shown. */
function reloadRunLists(projectId: number): void {
  if (runs.projectId === projectId) {
    refresh(() => runs.load(projectId));
    if (runs.selectedId !== null) refresh(() => runs.loadMetrics());
    // A scan adds its fits one by one, each announced by a 'runs' event.
    if (fits.runId !== null) refresh(() => fits.reload());
  }
  if (embeddings.projectId === projectId) refresh(() => embeddings.reload(projectId));
  if (projectEmbeddings.projectId === projectId) refresh(() => projectEmbeddings.load(projectId));
  if (exportFiles.projectId === projectId) refresh(() => exportFiles.load(projectId));
}

function reloadProjectLists(projectId: number | null): void {
  if (projectId !== null && datasets.projectId === projectId) refresh(() => datasets.load(projectId));
  if (projectId !== null) reloadRunLists(projectId);
}

/** Job kinds that write a file to the project's exports folder. */
const EXPORT_JOB_KINDS: readonly string[] = ['embeddings.export', 'learn.predict', 'train.predict'];

/** A job that just finished may have added a model or an export file. */
function onJobFinished(job: Job): void {
  // The shown scan's last fits (or why it stopped) arrive with the end of its job.
  if (job.runId !== null && job.runId === fits.runId && !ACTIVE_STATES.includes(job.state)) refresh(() => fits.reload());
  if (job.state !== 'done') return;
  if (MODEL_JOB_KINDS.includes(job.kind) && models.loaded) refresh(() => models.load());
  if (EXPORT_JOB_KINDS.includes(job.kind) && job.projectId !== null && exportFiles.projectId === job.projectId) {
    const projectId = job.projectId;
    refresh(() => exportFiles.load(projectId));
  }
}

function onEvent(event: ApiEvent): void {
  switch (event.type) {
    case 'job': {
      const before = jobs.list.find((job) => job.id === event.job.id);
      jobs.upsert(event.job);
      if (before?.state !== event.job.state) onJobFinished(event.job);
      void runs.onJob(event.job)?.catch(() => undefined);
      break;
    }
    case 'projects':
      // Also sent after reconnecting to a restarted back end: refresh everything shown.
      refresh(() => projects.load());
      refresh(() => jobs.load());
      if (models.loaded) refresh(() => models.load());
      reloadProjectLists(projects.currentId);
      break;
    case 'datasets':
      // Dataset counts on the project list change too.
      refresh(() => projects.load());
      if (datasets.projectId === event.projectId) refresh(() => datasets.load(event.projectId));
      break;
    case 'runs':
      refresh(() => projects.load());
      reloadRunLists(event.projectId);
      break;
    case 'models':
      if (models.loaded) refresh(() => models.load());
      break;
  }
}

let started = false;

/** Subscribes to events and loads the first lists; safe to call more than once. */
export function startLive(): void {
  if (started) return;
  started = true;
  api.onEvent(onEvent);
  void attempt(() => projects.load());
  void attempt(() => jobs.load());
}
