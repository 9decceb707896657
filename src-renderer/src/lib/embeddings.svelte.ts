// lib/embeddings.svelte — the embedding matrices of the selected run, the ways to compress them, and the project's exports.
import { api } from './transport';
import type { CompressionInfo, Embedding, ExportFile } from './types';

class EmbeddingsStore {
  projectId = $state<number | null>(null);
  runId = $state<number | null>(null);
  list = $state.raw<Embedding[]>([]);
  loaded = $state(false);
  compressions = $state.raw<CompressionInfo[]>([]);
  #request = 0;
  #compressionsLoading: Promise<void> | null = null;

  /** Loads the matrices of one run, forgetting the previous run's list if it changed. */
  async load(projectId: number, runId: number): Promise<void> {
    if (projectId !== this.projectId || runId !== this.runId) {
      this.projectId = projectId;
      this.runId = runId;
      this.list = [];
      this.loaded = false;
    }
    const request = ++this.#request;
    const list = await api.call('embeddings.list', { projectId, runId });
    if (request !== this.#request || runId !== this.runId) return;
    this.list = list;
    this.loaded = true;
  }

  /** Reloads the shown run's matrices (after a 'runs' event of its project). */
  async reload(projectId: number): Promise<void> {
    if (this.projectId === projectId && this.runId !== null) await this.load(projectId, this.runId);
  }

  forget(): void {
    this.#request++;
    this.runId = null;
    this.list = [];
    this.loaded = false;
  }

  /** The compression kinds with their explanations; fetched once. */
  loadCompressions(): Promise<void> {
    this.#compressionsLoading ??= api.call('embeddings.compressions', {}).then(
      (list) => {
        this.compressions = list;
      },
      (error: unknown) => {
        this.#compressionsLoading = null;
        throw error;
      },
    );
    return this.#compressionsLoading;
  }
}

/**
 * A list belonging to the open project, reloaded per project; a late answer for an
 * earlier request or another project is dropped.
 */
class ProjectListStore<T> {
  projectId = $state<number | null>(null);
  list = $state.raw<T[]>([]);
  loaded = $state(false);
  #request = 0;
  readonly #fetch: (projectId: number) => Promise<T[]>;

  constructor(fetch: (projectId: number) => Promise<T[]>) {
    this.#fetch = fetch;
  }

  async load(projectId: number): Promise<void> {
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.list = [];
      this.loaded = false;
    }
    const request = ++this.#request;
    const list = await this.#fetch(projectId);
    if (request !== this.#request || projectId !== this.projectId) return;
    this.list = list;
    this.loaded = true;
  }
}

export const embeddings = new EmbeddingsStore();
/** Every embedding matrix of the open project (all runs), for choosing what a scan fits on. */
export const projectEmbeddings = new ProjectListStore<Embedding>((projectId) => api.call('embeddings.list', { projectId }));
/** The files saved in the open project's exports folder. */
export const exportFiles = new ProjectListStore<ExportFile>((projectId) => api.call('exports.list', { projectId }));
