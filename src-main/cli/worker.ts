/**
 * cli/worker — `esm-studio worker <task.json>`: one task, or one shard of one, headless, as a
 * cluster job runs it. The task file holds `{ "kind", "params", "input" }` exactly as the app's
 * jobs have them (api/tasks); the task runs through the same body (jobs/run-here) and reports
 * progress as JSON lines on stdout. It saves its checkpoint beside its results, so a worker that
 * is stopped (a preempted cluster job) continues where it was when started again.
 * `esm-studio merge` joins the shards' folders into the unsharded result (jobs/shards);
 * `worker task.json --merge` merges the shards of the cluster job whose folder holds task.json
 * (the dependent merge step a cluster job submits: cluster/merge, once, atomically).
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { TASK_KINDS, type TaskKind } from '../api/tasks';
import { mergeClusterJob } from '../cluster/merge';
import { writeTextAtomically } from '../core/atomic';
import { runAnyTask } from '../jobs/run-here';
import { shardTaskInput, writeTaskShardRecord, type ArtifactRecord } from '../jobs/shard-kinds';
import { SHARDABLE_KINDS } from '../jobs/shardable';
import { mergeShards, parseShard, type Shard } from '../jobs/shards';
import { interruptible } from './engine-commands';
import { CliExit } from './exit';

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
  merge?: boolean;
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

/** The task's input for its shard (kinds that can be split), and the units the shard owns. */
function shardedInput(kind: TaskKind, params: unknown, input: unknown, shard: Shard | null): { input: unknown; owned: number[] | null } {
  if (!shard) return { input, owned: null };
  if (!SHARDABLE_KINDS.includes(kind)) throw new CliExit(`A ${kind} task cannot be split into shards; run it without --shard.`, 2);
  return shardTaskInput(kind, params, input, shard);
}

/**
 * The artifacts the task reported, kept in the work folder as they come: a worker started again
 * after a stop does not report again what it had finished, yet the shard's record lists them all.
 */
function artifactLog(workDir: string): { add(artifact: ArtifactRecord): void; all(): ArtifactRecord[] } {
  const file = join(workDir, '.worker-artifacts.jsonl');
  return {
    add: (artifact) => appendFileSync(file, `${JSON.stringify(artifact)}\n`),
    all: () => {
      if (!existsSync(file)) return [];
      const byPath = new Map<string, ArtifactRecord>();
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        try {
          const artifact = JSON.parse(line) as ArtifactRecord;
          byPath.set(artifact.path, artifact);
        } catch {
          // an empty last line, or one cut by a kill
        }
      }
      return [...byPath.values()];
    },
  };
}

/** `worker task.json --merge`: the cluster job of the folder holding task.json, merged once. */
async function mergeStep(file: string): Promise<void> {
  const jobDir = dirname(file);
  emit({ type: 'start', kind: 'merge', jobDir });
  try {
    const merged = await mergeClusterJob(jobDir);
    emit({ type: 'done', summary: merged.summary });
  } catch (error) {
    emit({ type: 'failed', message: (error as Error).message });
    throw new CliExit((error as Error).message);
  }
}

export async function workerCommand(taskFile: string, flags: WorkerFlags): Promise<void> {
  const file = resolve(taskFile);
  if (flags.merge) {
    if (flags.shard) throw new CliExit('--merge merges all the shards; leave out --shard.', 2);
    return mergeStep(file);
  }
  const task = readTaskFile(file);
  const shard = flags.shard ? parseShardFlag(flags.shard) : null;
  const workDir = resolve(flags.workDir ?? task.workDir ?? '.');
  const checkpointFile = join(workDir, `.worker-checkpoint${shard ? `-${shard.index}-of-${shard.count}` : ''}.json`);
  const resumeFrom = existsSync(checkpointFile) ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as unknown) : null;
  emit({ type: 'start', kind: task.kind, shard, workDir, resuming: resumeFrom !== null });
  const { input, owned } = shardedInput(task.kind, task.params, task.input, shard);
  const artifacts = artifactLog(workDir);
  const interrupt = interruptible();
  try {
    const summary = await runAnyTask(task.kind, task.params, input, workDir, {
      signal: interrupt.signal,
      resumeFrom,
      onProgress: (fraction, message) => emit({ type: 'progress', fraction, message }),
      onCheckpoint: (state) => writeTextAtomically(checkpointFile, JSON.stringify(state)),
      onMetrics: (metrics) => emit({ type: 'metrics', metrics }),
      onArtifact: (kind, path, meta) => {
        if (shard) artifacts.add({ kind, path, meta });
        emit({ type: 'artifact', kind, path, meta });
      },
    });
    // What this shard owns, for the merge (embeddings write their own record beside their matrices).
    if (shard && owned) writeTaskShardRecord(workDir, { ...shard, kind: task.kind, owned, artifacts: artifacts.all() });
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
