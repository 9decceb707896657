/** store/runs — runs (the results of jobs), their metric series and their files (artifacts). */
import type { JobState, Metric, Run } from '../api/schemas';
import { now, type Db } from './db';

interface RunRow {
  id: number;
  project_id: number;
  kind: string;
  title: string;
  state: JobState;
  params: string;
  summary: string;
  created_at: string;
}

const toRun = (row: RunRow): Run => ({
  id: row.id,
  projectId: row.project_id,
  kind: row.kind,
  title: row.title,
  state: row.state,
  params: JSON.parse(row.params) as Record<string, unknown>,
  summary: JSON.parse(row.summary) as Record<string, unknown>,
  createdAt: row.created_at,
});

export interface NewArtifact {
  runId: number | null;
  projectId: number;
  kind: string;
  /** Relative to the project folder. */
  path: string;
  checksum: string;
  bytes: number;
  meta?: Record<string, unknown>;
}

export class RunsRepo {
  constructor(private readonly db: Db) {}

  list(projectId: number): Run[] {
    const rows = this.db.prepare('SELECT * FROM runs WHERE project_id = ? ORDER BY id DESC').all(projectId) as RunRow[];
    return rows.map(toRun);
  }

  get(id: number): Run | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  insert(run: { projectId: number; kind: string; title: string; params: unknown }): number {
    const result = this.db
      .prepare(
        "INSERT INTO runs (project_id, kind, title, state, params, created_at) VALUES (?, ?, ?, 'queued', ?, ?)",
      )
      .run(run.projectId, run.kind, run.title, JSON.stringify(run.params), now());
    return Number(result.lastInsertRowid);
  }

  rename(id: number, title: string): void {
    this.db.prepare('UPDATE runs SET title = ? WHERE id = ?').run(title, id);
  }

  /** The run's row; its metrics, artifacts, embeddings and fits go with it (ON DELETE CASCADE), jobs keep a null run. */
  delete(id: number): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  setParams(id: number, params: unknown): void {
    this.db.prepare('UPDATE runs SET params = ? WHERE id = ?').run(JSON.stringify(params), id);
  }

  setState(id: number, state: JobState): void {
    this.db.prepare('UPDATE runs SET state = ? WHERE id = ?').run(state, id);
  }

  setSummary(id: number, summary: Record<string, unknown>): void {
    this.db.prepare('UPDATE runs SET summary = ? WHERE id = ?').run(JSON.stringify(summary), id);
  }

  /** Upserts so that a resumed job may report a step again without duplicating it. */
  addMetrics(runId: number, metrics: readonly Metric[]): void {
    const insert = this.db.prepare(
      'INSERT INTO metrics (run_id, step, name, value) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => metrics.forEach((m) => insert.run(runId, m.step, m.name, m.value)))();
  }

  metrics(runId: number): Metric[] {
    return this.db
      .prepare('SELECT step, name, value FROM metrics WHERE run_id = ? ORDER BY name, step')
      .all(runId) as Metric[];
  }

  addArtifact(artifact: NewArtifact): number {
    const result = this.db
      .prepare(
        `INSERT INTO artifacts (run_id, project_id, kind, path, checksum, bytes, meta, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        artifact.runId,
        artifact.projectId,
        artifact.kind,
        artifact.path,
        artifact.checksum,
        artifact.bytes,
        JSON.stringify(artifact.meta ?? {}),
        now(),
      );
    return Number(result.lastInsertRowid);
  }

  artifacts(runId: number): (NewArtifact & { id: number })[] {
    const rows = this.db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY id').all(runId) as {
      id: number;
      run_id: number | null;
      project_id: number;
      kind: string;
      path: string;
      checksum: string;
      bytes: number;
      meta: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      projectId: r.project_id,
      kind: r.kind,
      path: r.path,
      checksum: r.checksum,
      bytes: r.bytes,
      meta: JSON.parse(r.meta) as Record<string, unknown>,
    }));
  }
}
