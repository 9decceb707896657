// lib/models.svelte — the installed models and the ESM-2 family catalog, and the install jobs started from here.
import { api } from './transport';
import { jobs, ACTIVE_STATES } from './jobs.svelte';
import type { CatalogModel, Job, Model } from './types';

/** Job kinds that add a model; when one finishes, the lists are reloaded. */
export const MODEL_JOB_KINDS: readonly string[] = ['model.install', 'model.download'];

class ModelsStore {
  list = $state.raw<Model[]>([]);
  catalog = $state.raw<CatalogModel[]>([]);
  loaded = $state(false);
  /** Download jobs started from this window: job id → catalog id. */
  downloads = $state<Record<number, string>>({});
  #request = 0;

  /** Loads the installed models and the catalog together (the catalog says which are installed). */
  async load(): Promise<void> {
    const request = ++this.#request;
    const [list, catalog] = await Promise.all([api.call('models.list', {}), api.call('models.catalog', {})]);
    if (request !== this.#request) return;
    this.list = list;
    this.catalog = catalog;
    this.loaded = true;
  }

  async remove(id: number): Promise<void> {
    await api.call('models.delete', { id });
    this.list = this.list.filter((model) => model.id !== id);
    this.catalog = this.catalog.map((entry) => ({ ...entry, installed: entry.installed.filter((m) => m !== id) }));
  }

  async download(entry: CatalogModel, precision: 'fp32' | 'fp16' | 'int8'): Promise<Job> {
    const job = await api.call('jobs.start', { kind: 'model.download', catalogId: entry.id, precision });
    this.downloads[job.id] = entry.id;
    jobs.upsert(job);
    return job;
  }

  async install(path: string, precision: 'fp32' | 'fp16' | 'int8'): Promise<Job> {
    const job = await api.call('jobs.start', { kind: 'model.install', path, precision });
    jobs.upsert(job);
    return job;
  }

  /**
   * The queued or running download of a catalog model, if any: one started here, or else one whose
   * title names it (started from the command line or another window).
   */
  activeDownload(entry: CatalogModel): Job | undefined {
    return jobs.list.find(
      (job) =>
        job.kind === 'model.download' &&
        ACTIVE_STATES.includes(job.state) &&
        (this.downloads[job.id] === entry.id || job.title === `Download and install ${entry.label}`),
    );
  }
}

export const models = new ModelsStore();
