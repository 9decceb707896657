/**
 * lib/variants.svelte — the Variants page's state: the project's variant-effect runs (saturation
 * maps and dataset scorings), which one is shown, the scoring methods, and the loaded results of
 * the shown run (a saturation map, or scores with their evaluation at the chosen threshold).
 */
import { api } from './transport';
import type { Run } from './types';
import type { SaturationMap, ScoreMethodInfo, VariantScores } from './variants-types';

export const VARIANT_RUN_KINDS: readonly string[] = ['variants.saturate', 'variants.score'];

class VariantsStore {
  projectId = $state<number | null>(null);
  runs = $state.raw<Run[]>([]);
  loaded = $state(false);
  selectedId = $state<number | null>(null);
  selected = $derived(this.runs.find((run) => run.id === this.selectedId) ?? null);
  methods = $state.raw<ScoreMethodInfo[]>([]);
  /** The shown saturation run's maps, or null. */
  saturation = $state.raw<SaturationMap | null>(null);
  /** The shown scoring run's scores, or null. */
  scores = $state.raw<VariantScores | null>(null);
  /** AUROC threshold of the shown scores: measured ≥ threshold counts as positive; null = no AUROC. */
  threshold = $state<number | null>(null);
  /**
   * Bumped when the shown run's results must be fetched again though it is the same run in the
   * same state (clicked again after its results were dropped): the page's loading effect keys on it.
   */
  reloads = $state(0);
  #request = 0;
  #resultRequest = 0;
  #methodsLoading: Promise<void> | null = null;

  async load(projectId: number): Promise<void> {
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.runs = [];
      this.loaded = false;
      this.select(null);
    }
    const request = ++this.#request;
    const list = await api.call('runs.list', { projectId });
    if (request !== this.#request || projectId !== this.projectId) return;
    this.runs = list.filter((run) => VARIANT_RUN_KINDS.includes(run.kind));
    this.loaded = true;
    if (this.selectedId !== null && !this.runs.some((run) => run.id === this.selectedId)) this.select(null);
  }

  /** The methods with their explanations; fetched once. */
  loadMethods(): Promise<void> {
    this.#methodsLoading ??= api.call('variants.methods', {}).then(
      (list) => {
        this.methods = list;
      },
      (error: unknown) => {
        this.#methodsLoading = null;
        throw error;
      },
    );
    return this.#methodsLoading;
  }

  select(id: number | null): void {
    if (id !== null && id === this.selectedId) {
      // The same run again: keep what is shown; fetch it only if nothing is (never stuck on "Loading").
      if (!this.saturation && !this.scores) this.reloads++;
      return;
    }
    this.selectedId = id;
    this.saturation = null;
    this.scores = null;
    this.#resultRequest++;
  }

  /** Loads the shown run's results (when it has finished). */
  async loadResult(): Promise<void> {
    const run = this.selected;
    if (!run || run.state !== 'done') return;
    const request = ++this.#resultRequest;
    if (run.kind === 'variants.saturate') {
      const map = await api.call('variants.saturation', { runId: run.id });
      if (request === this.#resultRequest) this.saturation = map;
    } else {
      const scores = await api.call('variants.scores', { runId: run.id, threshold: this.threshold });
      if (request === this.#resultRequest) this.scores = scores;
    }
  }

  /** Evaluates the shown scores again at another AUROC threshold. */
  async setThreshold(threshold: number | null): Promise<void> {
    this.threshold = threshold;
    if (this.selected?.kind === 'variants.score') await this.loadResult();
  }
}

export const variants = new VariantsStore();
