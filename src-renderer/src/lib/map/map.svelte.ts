// lib/map/map.svelte — the open project's maps, which one is shown, its points (as typed arrays)
// and the extra colour columns fetched for it (a fit's predictions and residuals).
import { api } from '../transport';
import type { MapColumn, MapFit, Projection } from '../../../../src-main/api/schemas';

export interface LoadedMap {
  projectionId: number;
  datasetId: number;
  ids: string[];
  x: Float32Array;
  y: Float32Array;
  columns: MapColumn[];
  fits: MapFit[];
}

class MapStore {
  projectId = $state<number | null>(null);
  list = $state.raw<Projection[]>([]);
  loaded = $state(false);
  selectedId = $state<number | null>(null);
  selected = $derived(this.list.find((p) => p.id === this.selectedId) ?? null);
  points = $state.raw<LoadedMap | null>(null);
  loadingPoints = $state(false);
  #request = 0;
  #pointsRequest = 0;

  /** Loads the project's maps; shows the newest ready one when none is chosen. */
  async load(projectId: number): Promise<void> {
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.list = [];
      this.loaded = false;
      this.selectedId = null;
      this.points = null;
    }
    const request = ++this.#request;
    const list = await api.call('map.list', { projectId });
    if (request !== this.#request || projectId !== this.projectId) return;
    this.list = list;
    this.loaded = true;
    if (this.selectedId !== null && !list.some((p) => p.id === this.selectedId)) this.select(null);
    if (this.selectedId === null) {
      const newest = list.find((p) => p.ready);
      if (newest) await this.select(newest.id);
    } else if (this.selected?.ready && this.points?.projectionId !== this.selectedId) {
      await this.select(this.selectedId);
    }
  }

  async select(id: number | null): Promise<void> {
    this.selectedId = id;
    const request = ++this.#pointsRequest;
    if (id === null || !this.list.find((p) => p.id === id)?.ready) {
      this.points = null;
      return;
    }
    if (this.points?.projectionId === id) return;
    this.loadingPoints = true;
    try {
      const answer = await api.call('map.points', { projectionId: id });
      if (request !== this.#pointsRequest) return;
      this.points = { ...answer, x: Float32Array.from(answer.x), y: Float32Array.from(answer.y) };
    } finally {
      if (request === this.#pointsRequest) this.loadingPoints = false;
    }
  }

  /** Adds a fit's prediction columns to the shown map (once). */
  async addPredictions(fitId: number): Promise<MapColumn[]> {
    const shown = this.points;
    if (!shown) return [];
    const columns = await api.call('map.predictions', { projectionId: shown.projectionId, fitId });
    if (this.points !== shown) return [];
    const known = new Set(shown.columns.map((c) => c.name));
    this.points = { ...shown, columns: [...shown.columns, ...columns.filter((c) => !known.has(c.name))] };
    return columns;
  }
}

export const maps = new MapStore();
