// lib/fits.svelte — the fits of the shown scan run (refreshed as they arrive), and the learners and validation schemes on offer.
import { api } from './transport';
import type { Fit, LearnOptions } from './types';

class FitsStore {
  runId = $state<number | null>(null);
  list = $state.raw<Fit[]>([]);
  loaded = $state(false);
  #request = 0;

  /** Loads the fits of one run, forgetting the previous run's list if it changed. */
  async load(runId: number): Promise<void> {
    if (runId !== this.runId) {
      this.runId = runId;
      this.list = [];
      this.loaded = false;
    }
    const request = ++this.#request;
    const list = await api.call('fits.list', { runId });
    if (request !== this.#request || runId !== this.runId) return;
    this.list = list;
    this.loaded = true;
  }

  /** Reloads the shown run's fits (after a 'runs' event or when its job ends). */
  async reload(): Promise<void> {
    if (this.runId !== null) await this.load(this.runId);
  }

  forget(): void {
    this.#request++;
    this.runId = null;
    this.list = [];
    this.loaded = false;
  }
}

class LearnOptionsStore {
  /** Options by dataset id ("" for no dataset). */
  byDataset = $state<Record<string, LearnOptions>>({});
  #loading = new Map<string, Promise<LearnOptions>>();

  get(datasetId: number | null): LearnOptions | null {
    return this.byDataset[datasetId === null ? '' : String(datasetId)] ?? null;
  }

  /** Fetches the options for a dataset once (the default scheme depends on its rows, which never change). */
  load(datasetId: number | null): Promise<LearnOptions> {
    const key = datasetId === null ? '' : String(datasetId);
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = api.call('learn.options', datasetId === null ? {} : { datasetId }).then(
        (options) => {
          this.byDataset[key] = options;
          return options;
        },
        (error: unknown) => {
          this.#loading.delete(key);
          throw error;
        },
      );
      this.#loading.set(key, loading);
    }
    return loading;
  }
}

export const fits = new FitsStore();
export const learnOptions = new LearnOptionsStore();
