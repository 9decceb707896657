/**
 * services/runs — renaming and deleting a project's runs. A run is deleted with its folder and
 * everything stored from it (metrics, embedding matrices, fits, files); runs made from it (a scan
 * of its embeddings, a map of them, a prediction with its fine-tuned model) would be left pointing
 * at nothing, so they are named first and deleted with it only when the caller says so. A run a
 * queued or running job reads or writes is never deleted (services/job-usage, one rule for all).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, notFound } from '../api/errors';
import type { Run, RunDependent } from '../api/schemas';
import { kindName } from '../core/wording';
import type { Store } from '../store';
import type { Events } from './events';
import { assertNoJobUses, runUses } from './job-usage';

export class RunsService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
  ) {}

  rename(runId: number, title: string): Run {
    const run = this.run(runId);
    const trimmed = title.trim();
    if (trimmed === '') throw new ApiError('invalid-input', 'A run needs a name; type one, or press Escape to keep the old one.');
    this.store.runs.rename(runId, trimmed);
    this.events.emit({ type: 'runs', projectId: run.projectId });
    return this.run(runId);
  }

  /** The runs that use this one (directly or through another), each with why. */
  dependents(runId: number): RunDependent[] {
    const run = this.run(runId);
    const found = new Map<number, RunDependent>();
    const visit = (id: number, via: string): void => {
      for (const other of this.store.runs.list(run.projectId)) {
        if (other.id === runId || found.has(other.id) || !runUses(this.store, other.params, id)) continue;
        found.set(other.id, { runId: other.id, title: other.title, kind: kindName(other.kind), why: via });
        visit(other.id, `uses run ${other.id}, which uses it`);
      }
    };
    visit(runId, 'uses its results');
    return [...found.values()].sort((a, b) => a.runId - b.runId);
  }

  /**
   * Deletes the run (and, with `withDependents`, the runs that use it). Refused, naming them, when
   * runs use it and `withDependents` is not set, or when a job is using any of them.
   */
  delete(runId: number, withDependents: boolean): { deleted: number[] } {
    const run = this.run(runId);
    const dependents = this.dependents(runId);
    if (dependents.length > 0 && !withDependents) {
      const names = dependents.map((d) => `run ${d.runId} "${d.title}"`).join(', ');
      throw new ApiError('refused', `${dependents.length === 1 ? 'One run uses' : `${dependents.length} runs use`} "${run.title}": ${names}. Delete them together, or keep the run.`);
    }
    const doomed = [run, ...dependents.map((d) => this.run(d.runId))];
    for (const target of doomed) assertNoJobUses(this.store, { runId: target.id }, `Run ${target.id} "${target.title}"`);
    const folder = this.store.projects.folderOf(run.projectId);
    // Dependents first, so nothing points at a deleted run even for a moment.
    for (const target of doomed.reverse()) {
      this.store.runs.delete(target.id);
      if (folder) rmSync(join(folder, 'runs', String(target.id)), { recursive: true, force: true });
    }
    this.events.emit({ type: 'runs', projectId: run.projectId });
    return { deleted: doomed.map((r) => r.id).sort((a, b) => a - b) };
  }

  private run(runId: number): Run {
    const run = this.store.runs.get(runId);
    if (!run) throw notFound(`Run ${runId}`);
    return run;
  }
}
