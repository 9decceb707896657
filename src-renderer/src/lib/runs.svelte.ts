// lib/runs.svelte — the runs of the open project, the selected run and its recorded metrics.
import { api } from './transport';
import type { Job, Metric, Run } from './types';

const METRICS_REFRESH_MS = 2000;

class RunsStore {
  projectId = $state<number | null>(null);
  list = $state<Run[]>([]);
  loaded = $state(false);
  selectedId = $state<number | null>(null);
  selected = $derived(this.list.find((run) => run.id === this.selectedId) ?? null);
  metrics = $state<Metric[]>([]);
  metricsLoaded = $state(false);
  #request = 0;
  #metricsRequest = 0;
  #lastMetricsRefresh = 0;

  async load(projectId: number): Promise<void> {
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.list = [];
      this.loaded = false;
      this.select(null);
    }
    const request = ++this.#request;
    const list = await api.call('runs.list', { projectId });
    if (request !== this.#request || projectId !== this.projectId) return;
    this.list = list;
    this.loaded = true;
    if (this.selectedId !== null && !list.some((run) => run.id === this.selectedId)) this.select(null);
  }

  select(id: number | null): void {
    this.selectedId = id;
    this.metrics = [];
    this.metricsLoaded = false;
    this.#metricsRequest++;
  }

  async loadMetrics(): Promise<void> {
    const runId = this.selectedId;
    if (runId === null) return;
    const request = ++this.#metricsRequest;
    this.#lastMetricsRefresh = Date.now();
    const metrics = await api.call('runs.metrics', { runId });
    if (request !== this.#metricsRequest || runId !== this.selectedId) return;
    this.metrics = metrics;
    this.metricsLoaded = true;
  }

  /** While the selected run's job reports progress, refresh its metrics now and then. */
  onJob(job: Job): Promise<void> | undefined {
    if (job.runId === null || job.runId !== this.selectedId) return undefined;
    const finished = job.state !== 'running' && job.state !== 'queued';
    if (!finished && Date.now() - this.#lastMetricsRefresh < METRICS_REFRESH_MS) return undefined;
    return this.loadMetrics();
  }
}

export const runs = new RunsStore();
