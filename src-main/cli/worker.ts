/**
 * cli/worker — `esm-studio worker <task.json>`: one task, or one shard of one, headless, as a
 * cluster job runs it. The task file holds `{ "kind", "params", "input" }` exactly as the app's
 * jobs have them (api/tasks); the task runs through the same body (jobs/run-here) and reports
 * progress as JSON lines on stdout. It saves its checkpoint beside its results, so a worker that
 * is stopped (a preempted cluster job) continues where it was when started again.
 * `esm-studio merge` joins the shards' folders into the unsharded result (jobs/shards).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { TASK_KINDS, type TaskKind } from '../api/tasks';
import { writeTextAtomically } from '../core/atomic';
import { runAnyTask } from '../jobs/run-here';
import { mergeShards, parseShard, type Shard } from '../jobs/shards';
import { interruptible } from './engine-commands';
import { CliExit } from './exit';

/** Job kinds whose input can be split into shards (their units are independent). */
const SHARDABLE: readonly TaskKind[] = ['embed.dataset'];

const TaskFile = z.object({
  kind: z.enum(TASK_KINDS as [TaskKind, ...TaskKind[]]),
  params: z.unknown(),
  input: z.unknown().default(null),
  /** Where the task writes (default: the current folder); `--work-dir` overrides it. */
  workDir: z.string().optional(),
});

export interface WorkerFlags {
  shard?: string;
  workDir?: string;
}

/** One line of JSON per event, so that a scheduler's log or a watcher can follow the task. */
function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
}

function readTaskFile(file: string): z.output<typeof TaskFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliExit(`${file}: cannot read it as JSON (${(error as Error).message}).`);
  }
  const parsed = TaskFile.safeParse(raw);
  if (!parsed.success) throw new CliExit(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`).join('; ')}.`);
  return parsed.data;
}

/** The task's input with the shard set, for kinds that can be split. */
function shardedInput(kind: TaskKind, input: unknown, shard: Shard | null): unknown {
  if (!shard) return input;
  if (!SHARDABLE.includes(kind)) throw new CliExit(`A ${kind} task cannot be split into shards; run it without --shard.`, 2);
  return { ...(input as Record<string, unknown>), shard };
}

export async function workerCommand(taskFile: string, flags: WorkerFlags): Promise<void> {
  const file = resolve(taskFile);
  const task = readTaskFile(file);
  const shard = flags.shard ? parseShardFlag(flags.shard) : null;
  const workDir = resolve(flags.workDir ?? task.workDir ?? '.');
  const checkpointFile = join(workDir, `.worker-checkpoint${shard ? `-${shard.index}-of-${shard.count}` : ''}.json`);
  const resumeFrom = existsSync(checkpointFile) ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as unknown) : null;
  emit({ type: 'start', kind: task.kind, shard, workDir, resuming: resumeFrom !== null });
  const interrupt = interruptible();
  try {
    const summary = await runAnyTask(task.kind, task.params, shardedInput(task.kind, task.input, shard), workDir, {
      signal: interrupt.signal,
      resumeFrom,
      onProgress: (fraction, message) => emit({ type: 'progress', fraction, message }),
      onCheckpoint: (state) => writeTextAtomically(checkpointFile, JSON.stringify(state)),
      onMetrics: (metrics) => emit({ type: 'metrics', metrics }),
      onArtifact: (kind, path, meta) => emit({ type: 'artifact', kind, path, meta }),
    });
    rmSync(checkpointFile, { force: true });
    emit({ type: 'done', summary });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    emit({ type: interrupt.signal.aborted ? 'cancelled' : 'failed', message });
    if (interrupt.signal.aborted) throw new CliExit('Stopped; run the same command again to continue.', 130);
    throw error;
  } finally {
    interrupt.done();
  }
}

function parseShardFlag(text: string): Shard {
  try {
    return parseShard(text);
  } catch (error) {
    throw new CliExit((error as Error).message, 2);
  }
}

export function mergeCommand(shardDirs: string[], flags: { out: string }): void {
  if (shardDirs.length === 0) throw new CliExit('Name the shards\' work folders to merge.', 2);
  try {
    const merged = mergeShards(shardDirs.map((dir) => resolve(dir)), resolve(flags.out));
    console.log(`Merged ${shardDirs.length} shards (${merged.sequences} sequences) into ${resolve(flags.out)}.`);
  } catch (error) {
    throw new CliExit((error as Error).message);
  }
}
