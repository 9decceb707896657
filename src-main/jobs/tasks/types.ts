/** jobs/tasks/types — what a task (the body of a job, run in the compute process) is given. */
import type { Metric } from '../../api/schemas';

export interface TaskContext<Params, Checkpoint> {
  params: Params;
  /** Data the main side prepared for this run (see JobHooks.prepare); null when none. */
  input: unknown;
  /** The checkpoint saved by an earlier, interrupted attempt; null on a first run. */
  resumeFrom: Checkpoint | null;
  /** The project folder; tasks write their files below it. */
  workDir: string;
  /** Aborted when the user cancels; tasks check it between chunks of work. */
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
  /** Saves how far the task got, so that a resumed attempt can skip finished work. */
  checkpoint(state: Checkpoint): void;
  metrics(metrics: Metric[]): void;
  artifact(kind: string, relativePath: string, meta?: Record<string, unknown>): Promise<void>;
}

export type Task<Params, Checkpoint> = (context: TaskContext<Params, Checkpoint>) => Promise<Record<string, unknown>>;

// CancelledError, throwIfCancelled and yieldToEvents live in core/cancel.
