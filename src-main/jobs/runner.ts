/**
 * jobs/runner — the persistent queue on the main side: creates jobs, starts each one in a compute
 * process of its own lane (heavy work one at a time by default, light work beside it), records
 * progress, metrics, checkpoints and files, and turns jobs that a crashed process left "running"
 * into "interrupted" ones the user can resume.
 *
 * Every running job is bound to the compute process that runs it: a process that exits ends its
 * own job and no other (a force-stopped process of a cancelled job cannot fail the next job).
 */
import { ApiError, notFound } from '../api/errors';
import type { ApiEvent } from '../api/contract';
import type { Job, StoredJob } from '../api/schemas';
import type { Store } from '../store';
import type { JobRecord } from '../store/jobs';
import { isProcessAlive } from '../core/process';
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
export type Lane = Job['lane'];

/** What the main side does for a job kind around the compute process's work. */
export interface JobHooks {
  /** Data the task needs besides its parameters (e.g. a dataset's sequences), sent when it starts. */
  prepare?(job: JobRecord): unknown;
  /** Records a file the task finished (default: the artifacts table). */
  onArtifact?(job: JobRecord, artifact: ArtifactMessage): void;
  /** Records the task's result once it is done (e.g. registers an installed model). */
  onDone?(job: JobRecord, summary: Record<string, unknown>): void;
  /** Whether a cancelled job of this kind can be resumed (its task keeps its finished work on cancel). */
  resumableAfterCancel?: boolean;
  /** 'light' for short jobs that should not wait behind models and fits (default 'heavy'). */
  lane?: Lane;
}

export interface RunnerOptions {
  /** How many heavy jobs run at once (default: ESM_STUDIO_HEAVY_JOBS, else 1: each may use every core and much memory). */
  heavySlots?: number;
  /** How many light jobs run at once beside them (default 2). */
  lightSlots?: number;
}

/** How long a cancelled task may take to stop before its process is killed. */
const CANCEL_GRACE_MS = 5000;
/** Progress is written to the database and pushed to clients at most this often per job. */
const PROGRESS_INTERVAL_MS = 250;
/** Compute processes kept waiting for the next job, so that it starts without loading onnxruntime again. */
const IDLE_PROCESSES = 1;

/** A compute process and whether it has said it is ready. */
interface Worker {
  channel: ComputeChannel;
  ready: boolean;
  exited: boolean;
}

interface Attempt {
  jobId: number;
  runId: number | null;
  title: string;
  lane: Lane;
  worker: Worker;
  startedAt: number;
  startFraction: number;
  fraction: number;
  lastProgressAt: number;
  cancelTimer?: NodeJS.Timeout;
}

/** Whether a job in this state can continue from what it kept (one rule, for every client). */
export function isResumable(job: Pick<StoredJob, 'state'>, hooks: JobHooks | undefined): boolean {
  if (job.state === 'interrupted' || job.state === 'failed') return true;
  return job.state === 'cancelled' && hooks?.resumableAfterCancel === true;
}

/** The job as clients see it, where no runner knows what it waits for (a process that runs no jobs). */
export function describeJob(job: StoredJob, hooks: Record<string, JobHooks>, waitingFor: string | null = null): Job {
  const kindHooks = hooks[job.kind];
  return {
    ...job,
    lane: kindHooks?.lane ?? 'heavy',
    resumable: isResumable(job, kindHooks),
    keepsWorkOnCancel: kindHooks?.resumableAfterCancel === true,
    waitingFor: job.state === 'queued' ? waitingFor : null,
  };
}

export class JobRunner {
  private readonly attempts = new Map<number, Attempt>();
  private readonly idle: Worker[] = [];
  private readonly slots: Record<Lane, number>;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly launch: ComputeLauncher,
    private readonly emit: (event: ApiEvent) => void,
    private readonly hooks: Record<string, JobHooks> = {},
    options: RunnerOptions = {},
  ) {
    const heavy = options.heavySlots ?? (Number(process.env.ESM_STUDIO_HEAVY_JOBS) || 1);
    this.slots = { heavy: Math.max(1, Math.floor(heavy)), light: Math.max(1, options.lightSlots ?? 2) };
  }

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
    this.publish(id);
    this.pump();
    return this.describe(this.store.jobs.get(id)!);
  }

  cancel(id: number): Job {
    const record = this.store.jobs.record(id);
    if (!record) throw notFound(`Job ${id}`);
    const attempt = this.attempts.get(id);
    if (attempt) {
      attempt.worker.channel.send({ type: 'cancel', jobId: id });
      attempt.cancelTimer ??= setTimeout(() => this.forceCancel(attempt), CANCEL_GRACE_MS);
      return this.describe(record.job);
    }
    if (record.job.state === 'running') {
      throw new ApiError('refused', `Job ${id} is running in another ESM Studio process (pid ${record.ownerPid}); cancel it there.`);
    }
    if (!this.store.jobs.cancelIdle(id)) {
      throw new ApiError('conflict', `Job ${id} has already ended (${record.job.state}); there is nothing to cancel.`);
    }
    if (record.job.runId) this.store.runs.setState(record.job.runId, 'cancelled');
    const job = this.publish(id);
    this.publishQueued();
    return job;
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

  /** Stops taking new work and ends the compute processes; running jobs become resumable. */
  stop(): void {
    this.stopped = true;
    for (const attempt of this.attempts.values()) {
      clearTimeout(attempt.cancelTimer);
      this.store.jobs.interrupt(attempt.jobId, 'Stopped when ESM Studio closed; resume to continue');
      if (attempt.runId) this.store.runs.setState(attempt.runId, 'interrupted');
      attempt.worker.channel.kill();
    }
    this.attempts.clear();
    for (const worker of this.idle.splice(0)) worker.channel.kill();
  }

  /** The job as clients see it: with its lane, whether it can be resumed, and what it waits for. */
  describe(job: StoredJob): Job {
    const described = describeJob(job, this.hooks);
    return job.state === 'queued' ? { ...described, waitingFor: this.waitingFor(job.id, described.lane) } : described;
  }

  list(projectId?: number): Job[] {
    return this.store.jobs.list(projectId).map((job) => this.describe(job));
  }

  private waitingFor(id: number, lane: Lane): string | null {
    const running = [...this.attempts.values()].filter((a) => a.lane === lane);
    const ahead = this.store.jobs.queuedIds().filter((other) => other < id && this.laneOf(other) === lane).length;
    const first = running[0];
    if (!first) return ahead > 0 ? `${ahead} earlier job${ahead > 1 ? 's' : ''}` : null;
    const then = ahead > 0 ? `, then ${ahead} earlier job${ahead > 1 ? 's' : ''}` : '';
    return `${first.title} (${Math.floor(first.fraction * 100)} %)${then}`;
  }

  private laneOf(id: number): Lane {
    const kind = this.store.jobs.get(id)?.kind;
    return (kind && this.hooks[kind]?.lane) || 'heavy';
  }

  private publish(id: number): Job {
    const stored = this.store.jobs.get(id);
    if (!stored) throw notFound(`Job ${id}`);
    const job = this.describe(stored);
    this.emit({ type: 'job', job });
    return job;
  }

  /** Queued jobs say what they wait for; this refreshes that line for every client. */
  private publishQueued(): void {
    for (const id of this.store.jobs.queuedIds()) this.publish(id);
  }

  private pump(): void {
    if (this.stopped) return;
    let started = false;
    for (const id of this.store.jobs.queuedIds()) {
      const lane = this.laneOf(id);
      if (this.busy(lane) >= this.slots[lane]) continue;
      if (this.store.jobs.claim(id, process.pid)) {
        this.begin(id, lane);
        started = true;
      }
    }
    if (started) this.publishQueued();
  }

  private busy(lane: Lane): number {
    let count = 0;
    for (const attempt of this.attempts.values()) if (attempt.lane === lane) count++;
    return count;
  }

  private begin(id: number, lane: Lane): void {
    const record = this.store.jobs.record(id)!;
    const { job } = record;
    let workDir: string;
    let input: unknown;
    try {
      workDir = job.projectId === null ? this.store.home.models : this.projectFolder(job.projectId);
      input = this.hooks[job.kind]?.prepare?.(record) ?? null;
    } catch (error) {
      return this.finish(id, job.runId, 'failed', error instanceof Error ? error.message : String(error));
    }
    const worker = this.worker();
    const attempt: Attempt = {
      jobId: id,
      runId: job.runId,
      title: job.title,
      lane,
      worker,
      startedAt: Date.now(),
      startFraction: job.fraction,
      fraction: job.fraction,
      lastProgressAt: 0,
    };
    this.attempts.set(id, attempt);
    if (job.runId) this.store.runs.setState(job.runId, 'running');
    // A new compute process takes a few seconds to load its libraries: say so rather than "0 %".
    if (!worker.ready) this.store.jobs.note(id, 'Starting…');
    this.publish(id);
    worker.channel.send({ type: 'start', jobId: id, kind: job.kind, params: record.params, checkpoint: record.checkpoint, workDir, input });
  }

  private projectFolder(projectId: number): string {
    const folder = this.store.projects.folderOf(projectId);
    if (!folder) throw notFound(`Project ${projectId}`);
    return folder;
  }

  /** An idle compute process if there is one, else a new one. */
  private worker(): Worker {
    const reused = this.idle.pop();
    if (reused) return reused;
    const worker: Worker = { channel: this.launch(), ready: false, exited: false };
    worker.channel.onMessage((raw) => {
      const parsed = FromCompute.safeParse(raw);
      if (!parsed.success) return;
      if (parsed.data.type === 'ready') worker.ready = true;
      else this.handle(worker, parsed.data);
    });
    worker.channel.onExit((code) => this.workerExited(worker, code));
    return worker;
  }

  private workerExited(worker: Worker, code: number | null): void {
    worker.exited = true;
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    if (this.stopped) return;
    for (const attempt of [...this.attempts.values()]) {
      if (attempt.worker !== worker) continue;
      this.end(attempt, 'failed', `The compute process stopped unexpectedly (exit code ${code ?? 'none'}). Resume to try again.`);
    }
  }

  private handle(worker: Worker, message: Exclude<FromCompute, { type: 'ready' }>): void {
    const attempt = this.attempts.get(message.jobId);
    // Messages of a job this process no longer runs (e.g. after a forced cancel) are stale.
    if (!attempt || attempt.worker !== worker) return;
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
        return this.end(attempt, 'failed', message.message);
      case 'cancelled':
        return this.end(attempt, 'cancelled', null, 'Cancelled');
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
      return this.end(attempt, 'failed', error instanceof Error ? error.message : String(error));
    }
    if (attempt.runId) this.store.runs.setSummary(attempt.runId, summary);
    this.end(attempt, 'done', null, 'Finished');
  }

  private progress(attempt: Attempt, fraction: number, text: string): void {
    const nowMs = Date.now();
    if (nowMs - attempt.lastProgressAt < PROGRESS_INTERVAL_MS && fraction < 1) return;
    attempt.lastProgressAt = nowMs;
    const percentBefore = Math.floor(attempt.fraction * 100);
    attempt.fraction = fraction;
    const gained = fraction - attempt.startFraction;
    const elapsed = (nowMs - attempt.startedAt) / 1000;
    const eta = gained > 0.001 ? (elapsed * (1 - fraction)) / gained : null;
    this.store.jobs.progress(attempt.jobId, fraction, text, eta);
    this.publish(attempt.jobId);
    if (Math.floor(fraction * 100) !== percentBefore) this.publishQueued();
  }

  /** The task did not stop within the grace time: its process is ended, and with it only this job. */
  private forceCancel(attempt: Attempt): void {
    if (this.attempts.get(attempt.jobId) !== attempt) return;
    this.end(attempt, 'cancelled', null, 'Cancelled (the task was stopped)', { stopProcess: true });
  }

  private end(attempt: Attempt, state: 'done' | 'failed' | 'cancelled', error: string | null, message?: string, options: { stopProcess?: boolean } = {}): void {
    if (this.attempts.get(attempt.jobId) !== attempt) return;
    clearTimeout(attempt.cancelTimer);
    this.attempts.delete(attempt.jobId);
    this.release(attempt.worker, options.stopProcess === true);
    this.finish(attempt.jobId, attempt.runId, state, error, message);
  }

  /** A process whose job ended waits for the next job, unless it was stopped or enough already wait. */
  private release(worker: Worker, kill: boolean): void {
    if (worker.exited) return;
    if (kill || this.stopped || this.idle.length >= IDLE_PROCESSES) {
      worker.channel.kill();
      return;
    }
    this.idle.push(worker);
  }

  private finish(id: number, runId: number | null, state: 'done' | 'failed' | 'cancelled', error: string | null, message?: string): void {
    this.store.jobs.finish(id, state, error, message);
    if (runId) {
      this.store.runs.setState(runId, state);
      const job = this.store.jobs.get(id);
      if (job?.projectId) this.emit({ type: 'runs', projectId: job.projectId });
    }
    this.publish(id);
    this.pump();
    this.publishQueued();
  }
}
