/**
 * jobs/run-here — runs a task in this process: the command line's commands and the cluster worker
 * run the same task bodies as the app's compute process (jobs/tasks), through the same validating
 * runner (jobs/task), so a command and a job cannot write different files.
 */
import type { Metric } from '../api/schemas';
import { TASK_SUMMARIES, type TaskKind, type TaskParamsInput, type TaskSummary } from '../api/tasks';
import { tasks } from './tasks';

export interface HereOptions {
  signal: AbortSignal;
  /** A checkpoint saved by an earlier attempt, to resume from. */
  resumeFrom?: unknown;
  onProgress?(fraction: number, message: string): void;
  onCheckpoint?(state: unknown): void;
  onMetrics?(metrics: Metric[]): void;
  onArtifact?(kind: string, relativePath: string, meta?: Record<string, unknown>): void | Promise<void>;
}

/** Runs a task of any kind with unchecked parameters and input (e.g. read from a task file); they are validated first. */
export async function runAnyTask(kind: TaskKind, params: unknown, input: unknown, workDir: string, options: HereOptions): Promise<Record<string, unknown>> {
  const task = tasks.get(kind);
  if (!task) throw new Error(`No task body for job kind ${kind}.`);
  return task.run({
    params,
    input,
    checkpoint: options.resumeFrom ?? null,
    workDir,
    signal: options.signal,
    progress: (fraction, message) => options.onProgress?.(fraction, message),
    checkpointed: (state) => options.onCheckpoint?.(state),
    metrics: (metrics) => options.onMetrics?.(metrics),
    artifact: async (artifactKind, path, meta) => {
      await options.onArtifact?.(artifactKind, path, meta);
    },
  });
}

/** Runs a task with typed parameters, returning its typed summary. */
export async function runTaskHere<K extends TaskKind>(kind: K, params: TaskParamsInput<K>, input: unknown, workDir: string, options: HereOptions): Promise<TaskSummary<K>> {
  const summary = await runAnyTask(kind, params, input, workDir, options);
  return TASK_SUMMARIES[kind].parse(summary) as TaskSummary<K>;
}
