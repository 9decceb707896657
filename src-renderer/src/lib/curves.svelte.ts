// lib/curves.svelte — the open project's runs that recorded metric series, and the series of the runs shown; kept current by 'metrics' events (coalesced) and, for runs written by another process, by polling while a shown run is still running.
import { api, BackendError } from './transport';
import { messageOf } from './errors';
import { toasts } from './toasts.svelte';
import type { Metric, RunMetricsInfo } from '../../../src-main/api/schemas';

/** Bursts of 'metrics' events (one per training step) become at most one reload per this many ms. */
const COALESCE_MS = 500;

class CurvesStore {
  projectId = $state<number | null>(null);
  runs = $state.raw<RunMetricsInfo[]>([]);
  loaded = $state(false);
  /** The series of each run whose curves were asked for. */
  metrics = $state.raw<Record<number, Metric[]>>({});
  #request = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #subscribed = false;

  async load(projectId: number): Promise<void> {
    this.#subscribe();
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.runs = [];
      this.metrics = {};
      this.loaded = false;
    }
    const request = ++this.#request;
    const runs = await api.call('runs.withMetrics', { projectId });
    if (request !== this.#request || projectId !== this.projectId) return;
    this.runs = runs;
    this.loaded = true;
  }

  /** Fetches (again) the series of the given runs. */
  async loadMetrics(runIds: readonly number[]): Promise<void> {
    const projectId = this.projectId;
    const fetched = await Promise.all(runIds.map(async (runId) => [runId, await api.call('runs.metrics', { runId })] as const));
    if (projectId !== this.projectId) return;
    this.metrics = { ...this.metrics, ...Object.fromEntries(fetched) };
  }

  /** Reloads the list and every loaded run's series. */
  async refresh(): Promise<void> {
    if (this.projectId === null) return;
    await this.load(this.projectId);
    await this.loadMetrics(Object.keys(this.metrics).map(Number));
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.refresh().catch((error: unknown) => {
        if (!(error instanceof BackendError && error.body.code === 'not-found')) toasts.error(messageOf(error));
      });
    }, COALESCE_MS);
  }

  #subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    api.onEvent((event) => {
      if (this.projectId === null) return;
      if ((event.type === 'metrics' || event.type === 'runs') && event.projectId === this.projectId) this.#schedule();
      else if (event.type === 'projects') this.#schedule();
    });
  }
}

export const curves = new CurvesStore();
