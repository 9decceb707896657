/** store/jobs — the persistent job queue: states, progress, checkpoints and who runs each job. */
import type { JobState, StoredJob } from '../api/schemas';
import { now, type Db } from './db';

interface JobRow {
  id: number;
  project_id: number | null;
  run_id: number | null;
  kind: string;
  title: string;
  params: string;
  state: JobState;
  fraction: number;
  message: string;
  eta_seconds: number | null;
  error: string | null;
  checkpoint: string | null;
  owner_pid: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  revision: number;
}

/** What the runner needs beyond the public view of a job. */
export interface JobRecord {
  job: StoredJob;
  params: unknown;
  checkpoint: unknown;
  ownerPid: number | null;
}

const toJob = (row: JobRow): StoredJob => ({
  id: row.id,
  projectId: row.project_id,
  kind: row.kind,
  title: row.title,
  state: row.state,
  fraction: row.fraction,
  message: row.message,
  etaSeconds: row.eta_seconds,
  error: row.error,
  runId: row.run_id,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  revision: row.revision,
});

const toRecord = (row: JobRow): JobRecord => ({
  job: toJob(row),
  params: JSON.parse(row.params) as unknown,
  checkpoint: row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as unknown),
  ownerPid: row.owner_pid,
});

export const FINISHED_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

export class JobsRepo {
  constructor(private readonly db: Db) {}

  /** The jobs a panel shows: all but the finished ones the user cleared. */
  list(projectId?: number): StoredJob[] {
    const rows = (
      projectId === undefined
        ? this.db.prepare('SELECT * FROM jobs WHERE cleared = 0 ORDER BY id DESC LIMIT 500').all()
        : this.db.prepare('SELECT * FROM jobs WHERE cleared = 0 AND project_id = ? ORDER BY id DESC LIMIT 500').all(projectId)
    ) as JobRow[];
    return rows.map(toJob);
  }

  /** Queued and running jobs with their parameters (what a delete must not pull away). */
  active(): JobRecord[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY id").all() as JobRow[]).map(toRecord);
  }

  /** Hides the given finished jobs from the panel (their runs and files stay); returns their ids. */
  clear(ids: readonly number[]): number[] {
    const mark = this.db.prepare(`UPDATE jobs SET cleared = 1 WHERE id = ? AND cleared = 0 AND state IN ('done', 'failed', 'cancelled')`);
    return this.db.transaction(() => ids.filter((id) => mark.run(id).changes === 1))();
  }

  /** A running job's status line, e.g. while its compute process starts. */
  note(id: number, message: string): void {
    this.db.prepare("UPDATE jobs SET message = ? WHERE id = ? AND state = 'running'").run(message, id);
  }

  get(id: number): StoredJob | undefined {
    return this.record(id)?.job;
  }

  record(id: number): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && toRecord(row);
  }

  insert(job: { projectId: number | null; runId: number | null; kind: string; title: string; params: unknown }): number {
    const result = this.db
      .prepare(
        `INSERT INTO jobs (project_id, run_id, kind, title, params, state, created_at)
         VALUES (?, ?, ?, ?, ?, 'queued', ?)`,
      )
      .run(job.projectId, job.runId, job.kind, job.title, JSON.stringify(job.params), now());
    return Number(result.lastInsertRowid);
  }

  queuedIds(): number[] {
    return (this.db.prepare("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id").all() as { id: number }[]).map(
      (r) => r.id,
    );
  }

  /** Atomically takes a queued job for this process; false when another process took it first. */
  claim(id: number, pid: number): boolean {
    const result = this.db
      .prepare(
        `UPDATE jobs SET state = 'running', owner_pid = ?, started_at = ?, error = NULL, eta_seconds = NULL
         WHERE id = ? AND state = 'queued'`,
      )
      .run(pid, now(), id);
    return result.changes === 1;
  }

  progress(id: number, fraction: number, message: string, etaSeconds: number | null): void {
    this.db
      .prepare("UPDATE jobs SET fraction = ?, message = ?, eta_seconds = ? WHERE id = ? AND state = 'running'")
      .run(fraction, message, etaSeconds, id);
  }

  saveCheckpoint(id: number, checkpoint: unknown): void {
    this.db.prepare('UPDATE jobs SET checkpoint = ? WHERE id = ?').run(JSON.stringify(checkpoint), id);
  }

  finish(id: number, state: 'done' | 'failed' | 'cancelled', error: string | null, message?: string): void {
    this.db
      .prepare(
        `UPDATE jobs SET state = ?, error = ?, finished_at = ?, eta_seconds = NULL,
           fraction = CASE WHEN ? = 'done' THEN 1 ELSE fraction END,
           message = COALESCE(?, message)
         WHERE id = ?`,
      )
      .run(state, error, now(), state, message ?? null, id);
  }

  /** Cancels a job that no process runs yet (queued or interrupted). */
  cancelIdle(id: number): boolean {
    const result = this.db
      .prepare(
        `UPDATE jobs SET state = 'cancelled', finished_at = ?, eta_seconds = NULL
         WHERE id = ? AND state IN ('queued', 'interrupted')`,
      )
      .run(now(), id);
    return result.changes === 1;
  }

  /** Queues a job again; cancelled ones only with `includeCancelled` (kinds that keep their checkpoints on cancel). */
  requeue(id: number, includeCancelled = false): boolean {
    const states = includeCancelled ? "('interrupted', 'failed', 'cancelled')" : "('interrupted', 'failed')";
    const result = this.db
      .prepare(
        `UPDATE jobs SET state = 'queued', error = NULL, finished_at = NULL, owner_pid = NULL, eta_seconds = NULL,
           message = 'Waiting to resume', cleared = 0
         WHERE id = ? AND state IN ${states}`,
      )
      .run(id);
    return result.changes === 1;
  }

  interrupt(id: number, message: string): void {
    this.db
      .prepare("UPDATE jobs SET state = 'interrupted', eta_seconds = NULL, message = ? WHERE id = ? AND state = 'running'")
      .run(message, id);
  }

  /**
   * Jobs left "running" by a process that no longer exists become "interrupted". `isAlive` decides
   * for each owner pid; the current process counts as dead because it has only just started.
   */
  markOrphansInterrupted(isAlive: (pid: number) => boolean): number[] {
    const running = this.db.prepare("SELECT id, owner_pid FROM jobs WHERE state = 'running'").all() as {
      id: number;
      owner_pid: number | null;
    }[];
    const orphans = running.filter((r) => r.owner_pid === null || r.owner_pid === process.pid || !isAlive(r.owner_pid));
    const mark = this.db.prepare(
      `UPDATE jobs SET state = 'interrupted', eta_seconds = NULL,
         message = 'Stopped when ESM Studio closed unexpectedly; resume to continue'
       WHERE id = ? AND state = 'running'`,
    );
    this.db.transaction(() => orphans.forEach((r) => mark.run(r.id)))();
    return orphans.map((r) => r.id);
  }
}
