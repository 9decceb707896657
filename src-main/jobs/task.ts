/**
 * jobs/task — how a job kind's body is defined and run. A task joins its kind's contract (params
 * and summary, api/tasks) with what only the compute side knows (the input the main side prepares,
 * the checkpoint it saves) and its body. `runTask` validates what a task is given and runs it with
 * its callbacks: the compute process (for the app and serve), the command line and the cluster
 * worker all run tasks through it, so they cannot differ.
 */
import type { z } from 'zod';
import type { Metric } from '../api/schemas';
import { TASK_PARAMS, TASK_SUMMARIES, type TaskKind } from '../api/tasks';

export interface TaskContext<Params, Input, Checkpoint> {
  params: Params;
  /** Data the main side prepared for this run (see JobHooks.prepare). */
  input: Input;
  /** The checkpoint saved by an earlier, interrupted attempt; null on a first run. */
  resumeFrom: Checkpoint | null;
  /** The folder the task writes below (a project's folder, the models folder, or a command's output folder). */
  workDir: string;
  /** Aborted when the user cancels; tasks check it between chunks of work. */
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
  /** Saves how far the task got, so that a resumed attempt can skip finished work. */
  checkpoint(state: Checkpoint): void;
  metrics(metrics: Metric[]): void;
  /** Reports a finished file (relative to workDir) for the main side to record. */
  artifact(kind: string, relativePath: string, meta?: Record<string, unknown>): Promise<void>;
}

export interface TaskDefinition<P extends z.ZodType, S extends z.ZodType, I extends z.ZodType, C extends z.ZodType> {
  kind: TaskKind;
  params: P;
  summary: S;
  /** What the main side prepares for it (z.null() when nothing). */
  input: I;
  /** What it saves to resume from (z.null() when it never resumes part-way). */
  checkpoint: C;
  run(context: TaskContext<z.output<P>, z.output<I>, z.output<C>>): Promise<z.input<S>>;
}

/** The contract of a kind, to spread into its task's definition. */
export function contract<K extends TaskKind>(kind: K): { kind: K; params: (typeof TASK_PARAMS)[K]; summary: (typeof TASK_SUMMARIES)[K] } {
  return { kind, params: TASK_PARAMS[kind], summary: TASK_SUMMARIES[kind] };
}

/** What a runner gives a task: raw values to validate, and the callbacks of TaskContext. */
export interface TaskStart {
  params: unknown;
  input: unknown;
  checkpoint: unknown;
  workDir: string;
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
  checkpointed(state: unknown): void;
  metrics(metrics: Metric[]): void;
  artifact(kind: string, relativePath: string, meta?: Record<string, unknown>): Promise<void>;
}

/** A defined task with its types erased behind validation, so tasks of every kind share one registry. */
export interface RunnableTask {
  kind: TaskKind;
  run(start: TaskStart): Promise<Record<string, unknown>>;
}

/** Bad parameters or input: a bug of whoever started the task, reported with what was wrong. */
export class InvalidTaskError extends Error {}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidTaskError(`Invalid ${what}: ${parsed.error.message}`);
  return parsed.data;
}

export function defineTask<P extends z.ZodType, S extends z.ZodType, I extends z.ZodType, C extends z.ZodType>(definition: TaskDefinition<P, S, I, C>): RunnableTask {
  return {
    kind: definition.kind,
    async run(start) {
      const params = parse(definition.params, start.params, `parameters of a ${definition.kind} job`);
      const input = parse(definition.input, start.input ?? null, `input of a ${definition.kind} job`);
      // A checkpoint of another shape (e.g. from an older version) is no checkpoint: start over.
      const resumeFrom = start.checkpoint === null || start.checkpoint === undefined ? null : definition.checkpoint.safeParse(start.checkpoint);
      const summary = await definition.run({
        params,
        input,
        resumeFrom: resumeFrom?.success ? resumeFrom.data : null,
        workDir: start.workDir,
        signal: start.signal,
        progress: (fraction, message) => start.progress(Math.min(1, Math.max(0, fraction)), message),
        checkpoint: (state) => start.checkpointed(state),
        metrics: (metrics) => start.metrics(metrics),
        artifact: (kind, path, meta) => start.artifact(kind, path, meta),
      });
      return parse(definition.summary, summary, `summary of a ${definition.kind} job`) as Record<string, unknown>;
    },
  };
}
