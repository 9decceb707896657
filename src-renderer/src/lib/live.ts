// lib/live — first loads and keeping every list current from the back end's events.
import { api, BackendError } from './transport';
import { attempt, messageOf } from './errors';
import { toasts } from './toasts.svelte';
import { projects } from './projects.svelte';
import { datasets } from './datasets.svelte';
import { runs } from './runs.svelte';
import { jobs } from './jobs.svelte';
import type { ApiEvent } from '../../../src-main/api/contract';

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

function reloadProjectLists(projectId: number | null): void {
  if (projectId !== null && datasets.projectId === projectId) refresh(() => datasets.load(projectId));
  if (projectId !== null && runs.projectId === projectId) {
    refresh(() => runs.load(projectId));
    if (runs.selectedId !== null) refresh(() => runs.loadMetrics());
  }
}

function onEvent(event: ApiEvent): void {
  switch (event.type) {
    case 'job':
      jobs.upsert(event.job);
      void runs.onJob(event.job)?.catch(() => undefined);
      break;
    case 'projects':
      // Also sent after reconnecting to a restarted back end: refresh everything shown.
      refresh(() => projects.load());
      refresh(() => jobs.load());
      reloadProjectLists(projects.currentId);
      break;
    case 'datasets':
      // Dataset counts on the project list change too.
      refresh(() => projects.load());
      if (datasets.projectId === event.projectId) refresh(() => datasets.load(event.projectId));
      break;
    case 'runs':
      refresh(() => projects.load());
      if (runs.projectId === event.projectId) {
        refresh(() => runs.load(event.projectId));
        if (runs.selectedId !== null) refresh(() => runs.loadMetrics());
      }
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
