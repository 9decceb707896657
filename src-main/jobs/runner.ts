/**
 * jobs/runner — the persistent queue on the main side: creates jobs, hands them to the compute
 * process one at a time, records progress, metrics, checkpoints and files, and turns jobs that a
 * crashed process left "running" into "interrupted" ones the user can resume.
 */
import { ApiError, notFound } from '../api/errors';
import type { ApiEvent } from '../api/contract';
import type { Job } from '../api/schemas';
import type { Store } from '../store';
import type { JobRecord } from '../store/jobs';
import { isProcessAlive } from './process';
import { FromCompute, type ComputeChannel, type ComputeLauncher } from './protocol';

export interface NewJob {
  /** Null for jobs that belong to no project (installing a model). */
  projectId: number | null;
  kind: string;
  title: string;
  /** The task's parameters; a function when they depend on the id of the run being created. */
  params: Record<string, unknown> | ((runId: number | null) => Record<string, unknown>);
  /** Whether the job's results form a new run of the project (listed on the Runs page). */
  createsRun: boolean;
}

export type ArtifactMessage = Extract<FromCompute, { type: 'artifact' }>;

/** What the main side does for a job kind around the compute process's work. */
export interface JobHooks {
  /** Data the task needs besides its parameters (e.g. a dataset's sequences), sent when it starts. */
  prepare?(job: JobRecord): unknown;
  /** Records a file the task finished (default: the artifacts table). */
  onArtifact?(job: JobRecord, artifact: ArtifactMessage): void;
  /** Records the task's result once it is done (e.g. registers an installed model). */
  onDone?(job: JobRecord, summary: Record<string, unknown>): void;
  /** Whether a cancelled job of this kind can be resumed (its task keeps its checkpoints on cancel). */
  resumableAfterCancel?: boolean;
}

/** How long a cancelled task may take to stop before its process is killed. */
const CANCEL_GRACE_MS = 5000;
/** Progress is written to the database and pushed to clients at most this often per job. */
const PROGRESS_INTERVAL_MS = 250;

interface Attempt {
  jobId: number;
  runId: number | null;
  workDir: string;
  startedAt: number;
  startFraction: number;
  lastProgressAt: number;
  cancelTimer?: NodeJS.Timeout;
}

export class JobRunner {
  private channel: ComputeChannel | null = null;
  private current: Attempt | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly launch: ComputeLauncher,
    private readonly emit: (event: ApiEvent) => void,
    private readonly hooks: Record<string, JobHooks> = {},
  ) {}

  /** Marks orphaned jobs interrupted and starts on whatever is queued. */
  start(): void {
    for (const id of this.store.jobs.markOrphansInterrupted(isProcessAlive)) {
      const record = this.store.jobs.record(id);
      if (record?.job.runId) this.store.runs.setState(record.job.runId, 'interrupted');
      this.publish(id);
    }
    this.pump();
  }

  enqueue(job: NewJob): Job {
    const id = this.store.db.transaction(() => {
      const runId =
        job.createsRun && job.projectId !== null
          ? this.store.runs.insert({ projectId: job.projectId, kind: job.kind, title: job.title, params: {} })
          : null;
      const params = typeof job.params === 'function' ? job.params(runId) : job.params;
      if (runId !== null) this.store.runs.setParams(runId, params);
      return this.store.jobs.insert({ projectId: job.projectId, kind: job.kind, title: job.title, params, runId });
    })();
    const runId = this.store.jobs.get(id)!.runId;
    if (runId !== null && job.projectId !== null) this.emit({ type: 'runs', projectId: job.projectId });
    const created = this.publish(id);
    this.pump();
    return created;
  }

  cancel(id: number): Job {
    const record = this.store.jobs.record(id);
    if (!record) throw notFound(`Job ${id}`);
    const { job } = record;
    if (this.current?.jobId === id) {
      this.channel?.send({ type: 'cancel', jobId: id });
      this.current.cancelTimer ??= setTimeout(() => this.forceCancel(id), CANCEL_GRACE_MS);
      return job;
    }
    if (job.state === 'running') {
      throw new ApiError('refused', `Job ${id} is running in another ESM Studio process (pid ${record.ownerPid}); cancel it there.`);
    }
    if (!this.store.jobs.cancelIdle(id)) {
      throw new ApiError('conflict', `Job ${id} has already ended (${job.state}); there is nothing to cancel.`);
    }
    if (job.runId) this.store.runs.setState(job.runId, 'cancelled');
    return this.publish(id);
  }

  resume(id: number): Job {
    const record = this.store.jobs.record(id);
    if (!record) throw notFound(`Job ${id}`);
    const afterCancel = this.hooks[record.job.kind]?.resumableAfterCancel === true;
    if (!this.store.jobs.requeue(id, afterCancel)) {
      const which = afterCancel ? 'interrupted, failed or cancelled' : 'interrupted or failed';
      throw new ApiError('conflict', `Only ${which} jobs can be resumed; job ${id} is ${record.job.state}.`);
    }
    if (record.job.runId) this.store.runs.setState(record.job.runId, 'queued');
    const job = this.publish(id);
    this.pump();
    return job;
  }

  /** Stops taking new work and ends the compute process; the running job becomes resumable. */
  stop(): void {
    this.stopped = true;
    if (this.current) {
      clearTimeout(this.current.cancelTimer);
      this.store.jobs.interrupt(this.current.jobId, 'Stopped when ESM Studio closed; resume to continue');
      if (this.current.runId) this.store.runs.setState(this.current.runId, 'interrupted');
      this.current = null;
    }
    this.channel?.kill();
    this.channel = null;
  }

  private publish(id: number): Job {
    const job = this.store.jobs.get(id);
    if (!job) throw notFound(`Job ${id}`);
    this.emit({ type: 'job', job });
    return job;
  }

  private pump(): void {
    if (this.stopped || this.current) return;
    for (const id of this.store.jobs.queuedIds()) {
      if (this.store.jobs.claim(id, process.pid)) {
        this.begin(id);
        return;
      }
    }
  }

  private begin(id: number): void {
    const record = this.store.jobs.record(id)!;
    const { job } = record;
    const workDir = job.projectId === null ? this.store.home.models : this.projectFolder(job.projectId);
    this.current = {
      jobId: id,
      runId: job.runId,
      workDir,
      startedAt: Date.now(),
      startFraction: job.fraction,
      lastProgressAt: 0,
    };
    if (job.runId) this.store.runs.setState(job.runId, 'running');
    this.publish(id);
    let input: unknown;
    try {
      input = this.hooks[job.kind]?.prepare?.(record) ?? null;
    } catch (error) {
      return this.end('failed', error instanceof Error ? error.message : String(error));
    }
    this.compute().send({ type: 'start', jobId: id, kind: job.kind, params: record.params, checkpoint: record.checkpoint, workDir, input });
  }

  private projectFolder(projectId: number): string {
    const folder = this.store.projects.folderOf(projectId);
    if (!folder) throw notFound(`Project ${projectId}`);
    return folder;
  }

  private compute(): ComputeChannel {
    if (this.channel) return this.channel;
    const channel = this.launch();
    channel.onMessage((raw) => {
      const parsed = FromCompute.safeParse(raw);
      if (parsed.success) this.handle(parsed.data);
    });
    channel.onExit((code) => {
      if (this.channel === channel) this.channel = null;
      if (this.current && !this.stopped) {
        this.end('failed', `The compute process stopped unexpectedly (exit code ${code ?? 'none'}). Resume to try again.`);
      }
    });
    this.channel = channel;
    return channel;
  }

  private handle(message: FromCompute): void {
    const attempt = this.current;
    if (message.type === 'ready' || !attempt || message.jobId !== attempt.jobId) return;
    switch (message.type) {
      case 'progress':
        return this.progress(attempt, message.fraction, message.message);
      case 'checkpoint':
        return this.store.jobs.saveCheckpoint(attempt.jobId, message.state);
      case 'metrics':
        if (attempt.runId) {
          this.store.runs.addMetrics(attempt.runId, message.metrics);
          // Training-curve views redraw on this; they coalesce bursts themselves.
          const projectId = this.store.runs.get(attempt.runId)?.projectId;
          if (projectId) this.emit({ type: 'metrics', projectId, runId: attempt.runId });
        }
        return;
      case 'artifact':
        return this.recordArtifact(attempt, message);
      case 'done':
        return this.finishDone(attempt, message.summary);
      case 'failed':
        return this.end('failed', message.message);
      case 'cancelled':
        return this.end('cancelled', null, 'Cancelled');
    }
  }

  private recordArtifact(attempt: Attempt, message: ArtifactMessage): void {
    const record = this.store.jobs.record(attempt.jobId)!;
    const hook = this.hooks[record.job.kind]?.onArtifact;
    if (hook) return hook(record, message);
    if (record.job.projectId === null) return;
    this.store.runs.addArtifact({
      runId: attempt.runId,
      projectId: record.job.projectId,
      kind: message.kind,
      path: message.path,
      checksum: message.checksum,
      bytes: message.bytes,
      meta: message.meta,
    });
  }

  private finishDone(attempt: Attempt, summary: Record<string, unknown>): void {
    const record = this.store.jobs.record(attempt.jobId)!;
    try {
      this.hooks[record.job.kind]?.onDone?.(record, summary);
    } catch (error) {
      return this.end('failed', error instanceof Error ? error.message : String(error));
    }
    if (attempt.runId) this.store.runs.setSummary(attempt.runId, summary);
    this.end('done', null, 'Finished');
  }

  private progress(attempt: Attempt, fraction: number, text: string): void {
    const nowMs = Date.now();
    if (nowMs - attempt.lastProgressAt < PROGRESS_INTERVAL_MS && fraction < 1) return;
    attempt.lastProgressAt = nowMs;
    const gained = fraction - attempt.startFraction;
    const elapsed = (nowMs - attempt.startedAt) / 1000;
    const eta = gained > 0.001 ? (elapsed * (1 - fraction)) / gained : null;
    this.store.jobs.progress(attempt.jobId, fraction, text, eta);
    this.publish(attempt.jobId);
  }

  private forceCancel(id: number): void {
    if (this.current?.jobId !== id) return;
    const channel = this.channel;
    this.channel = null;
    this.end('cancelled', null, 'Cancelled (the task was stopped)');
    channel?.kill();
  }

  private end(state: 'done' | 'failed' | 'cancelled', error: string | null, message?: string): void {
    const attempt = this.current;
    if (!attempt) return;
    clearTimeout(attempt.cancelTimer);
    this.current = null;
    this.store.jobs.finish(attempt.jobId, state, error, message);
    if (attempt.runId) {
      this.store.runs.setState(attempt.runId, state);
      const job = this.store.jobs.get(attempt.jobId);
      if (job?.projectId) this.emit({ type: 'runs', projectId: job.projectId });
    }
    this.publish(attempt.jobId);
    this.pump();
  }
}
