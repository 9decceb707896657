// lib/datasets.svelte — the datasets of the open project and which one is selected.
import { api } from './transport';
import type { Dataset } from './types';

class DatasetsStore {
  projectId = $state<number | null>(null);
  list = $state<Dataset[]>([]);
  loaded = $state(false);
  selectedId = $state<number | null>(null);
  selected = $derived(this.list.find((dataset) => dataset.id === this.selectedId) ?? null);
  #request = 0;

  /** Loads the datasets of `projectId`, forgetting the previous project's list if it changed. */
  async load(projectId: number): Promise<void> {
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.list = [];
      this.loaded = false;
      this.selectedId = null;
    }
    const request = ++this.#request;
    const list = await api.call('datasets.list', { projectId });
    if (request !== this.#request || projectId !== this.projectId) return;
    this.list = list;
    this.loaded = true;
    if (this.selectedId !== null && !list.some((dataset) => dataset.id === this.selectedId)) this.selectedId = null;
  }

  select(id: number | null): void {
    this.selectedId = id;
  }

  async remove(id: number): Promise<void> {
    await api.call('datasets.delete', { id });
    this.list = this.list.filter((dataset) => dataset.id !== id);
    if (this.selectedId === id) this.selectedId = null;
  }
}

export const datasets = new DatasetsStore();
