/**
 * jobs/shard-kinds — how each kind of task splits into cluster shards and merges back, beside the
 * embeddings' own split (jobs/shards). A shard runs the task's own body on its share of the
 * task's independent units, so each unit is computed exactly as in an unsharded run:
 *   variants.score     rows, grouped by their first mutated position (masked passes, mutants)
 *   variants.saturate  positions of the wild type (one row of the map each)
 *   learn.scan         fits (embedding matrix × learner), each cross-validated whole
 * The shard's share is set in the task's input (`shardTaskInput`); the worker writes what it owns,
 * and the artifacts it reported, to shard.json in its work folder. Merging takes each unit from the
 * shard that owns it: the scores' part files are assembled and the task body run once more with
 * every part done (it then only writes results.json, scores.csv or saturation.json, exactly as a
 * local run does); a scan's per-fit files are copied.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskKind } from '../api/tasks';
import { writeTextAtomically } from '../core/atomic';
import { parseVariant } from '../variants/mutations';
import { runAnyTask } from './run-here';
import { mergeShards, shardOfUnits, SHARD_RECORD, type Shard } from './shards';

export { SHARDABLE_KINDS } from './shardable';

export interface ArtifactRecord {
  kind: string;
  path: string;
  meta?: Record<string, unknown>;
}

/** What a shard of a (non-embedding) task computed, in its work folder's shard.json. */
export interface TaskShardRecord extends Shard {
  kind: TaskKind;
  /** The units it owns (rows, positions or fits). */
  owned: number[];
  artifacts: ArtifactRecord[];
}

interface ScoreShape {
  offset: number;
  variants: string[];
  unscored?: number[];
}
interface ScanShape {
  items: { embeddingId: number }[];
  learners: string[];
}
interface ScoringShape {
  runDir: string;
  models: unknown[];
  methods?: string[];
  method?: string;
}

/** Which shard scores each row: rows with the same first mutated position go together (they share masked passes). */
function scoreRowOwners(input: ScoreShape, count: number): number[] {
  const firstPosition = input.variants.map((text) => {
    try {
      return parseVariant(text, input.offset).find((m) => m.kind === 'missense')?.position ?? -1;
    } catch {
      return -1; // unreadable: nothing to compute, shard 0 lists it
    }
  });
  const positions = [...new Set(firstPosition)].sort((a, b) => a - b);
  const rowsAt = positions.map((p) => firstPosition.filter((q) => q === p).length);
  const ownerOfPosition = shardOfUnits(rowsAt, count);
  const owner = new Map(positions.map((p, i) => [p, p < 0 ? 0 : ownerOfPosition[i]!]));
  return firstPosition.map((p) => owner.get(p)!);
}

/** The number of independent units of a task (rows, positions, fits). */
function unitOwners(kind: TaskKind, params: unknown, input: unknown, count: number): number[] {
  switch (kind) {
    case 'variants.score':
      return scoreRowOwners(input as ScoreShape, count);
    case 'variants.saturate':
      return shardOfUnits(new Array<number>((params as { wildType: string }).wildType.length).fill(1), count);
    case 'learn.scan': {
      const scan = params as ScanShape;
      return shardOfUnits(new Array<number>(scan.items.length * scan.learners.length).fill(1), count);
    }
    default:
      throw new Error(`A ${kind} task cannot be split into shards.`);
  }
}

const ownedBy = (owners: readonly number[], shard: number): number[] => owners.flatMap((owner, unit) => (owner === shard ? [unit] : []));

/** The task's input for one shard: its units only (the other rows unscored, the other positions or fits skipped). */
export function shardTaskInput(kind: TaskKind, params: unknown, input: unknown, shard: Shard): { input: unknown; owned: number[] | null } {
  if (kind === 'embed.dataset') return { input: { ...(input as Record<string, unknown>), shard }, owned: null };
  const owned = ownedBy(unitOwners(kind, params, input, shard.count), shard.index);
  if (kind === 'variants.score') {
    const score = input as ScoreShape;
    const mine = new Set(owned);
    const others = score.variants.flatMap((_, row) => (mine.has(row) ? [] : [row]));
    return { input: { ...score, unscored: [...new Set([...(score.unscored ?? []), ...others])].sort((a, b) => a - b) }, owned };
  }
  if (kind === 'variants.saturate') return { input: { positions: owned }, owned };
  return { input: { ...(input as Record<string, unknown>), units: owned }, owned };
}

export function writeTaskShardRecord(workDir: string, record: TaskShardRecord): void {
  writeTextAtomically(join(workDir, SHARD_RECORD), JSON.stringify(record));
}

function readTaskShardRecord(dir: string, kind: TaskKind, count: number, index: number): TaskShardRecord {
  const file = join(dir, SHARD_RECORD);
  if (!existsSync(file)) throw new Error(`${dir} has no ${SHARD_RECORD}: did that shard finish?`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as TaskShardRecord;
  if (record.kind !== kind || record.count !== count || record.index !== index) {
    throw new Error(`${file} is shard ${record.index}/${record.count} of a ${record.kind} task; merging needs shard ${index}/${count} of this ${kind} task.`);
  }
  return record;
}

/** The part files of a scoring task (jobs/tasks/variants): one per (model, method). */
function partKeys(kind: TaskKind, params: ScoringShape): string[] {
  const methods = kind === 'variants.score' ? params.methods! : [params.method!];
  return params.models.flatMap((_, m) => methods.map((method) => `model${m}-${method}`));
}

/** Each part's values taken unit by unit from the shard that owns the unit (a row, or a map row of 20). */
function assembleParts(kind: TaskKind, params: ScoringShape, shardDirs: string[], records: TaskShardRecord[], workDir: string): string[] {
  const keys = partKeys(kind, params);
  const width = kind === 'variants.saturate' ? 20 : 1;
  for (const key of keys) {
    const relative = join(params.runDir, 'parts', `${key}.json`);
    const parts = shardDirs.map((dir) => JSON.parse(readFileSync(join(dir, relative), 'utf8')) as (number | null)[]);
    const merged = parts[0]!.slice();
    records.forEach((record, s) => {
      for (const unit of record.owned) for (let k = 0; k < width; k++) merged[unit * width + k] = parts[s]![unit * width + k]!;
    });
    mkdirSync(join(workDir, params.runDir, 'parts'), { recursive: true });
    writeTextAtomically(join(workDir, relative), JSON.stringify(merged));
  }
  return keys;
}

/** Copies every file of a shard's work folder below `out` (a scan's per-fit files), but its own bookkeeping. */
function copyShardFiles(from: string, out: string): void {
  mkdirSync(out, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name === SHARD_RECORD || entry.name.startsWith('.worker-')) continue;
    if (entry.isDirectory()) copyShardFiles(join(from, entry.name), join(out, entry.name));
    else copyFileSync(join(from, entry.name), join(out, entry.name));
  }
}

const notesOf = (summaries: readonly Record<string, unknown>[]): string[] => [...new Set(summaries.flatMap((s) => (Array.isArray(s.notes) ? (s.notes as string[]) : [])))];

export interface MergedTask {
  summary: Record<string, unknown>;
  artifacts: ArtifactRecord[];
}

/**
 * Merges the shards' work folders of a task into `workDir`, as an unsharded run of it writes them;
 * returns the task's summary and the artifacts it reports, in the order a local run reports them.
 */
export async function mergeTaskShards(task: { kind: TaskKind; params: unknown; input: unknown }, shardDirs: string[], workDir: string, summaries: Record<string, unknown>[], seconds: number): Promise<MergedTask> {
  const { kind, params, input } = task;
  if (kind === 'embed.dataset') {
    mergeShards(shardDirs, workDir);
    const tokens = summaries.reduce((sum, s) => sum + (typeof s.tokens === 'number' ? s.tokens : 0), 0);
    return { summary: { ...summaries[0], seconds, tokens, notes: notesOf(summaries) }, artifacts: [] };
  }
  const records = shardDirs.map((dir, index) => readTaskShardRecord(dir, kind, shardDirs.length, index));
  if (kind === 'learn.scan') {
    for (const dir of shardDirs) copyShardFiles(dir, workDir);
    const scan = params as ScanShape & { runDir: string };
    // Artifacts in the order of the fits, as a local scan reports them.
    const order = scan.items.flatMap((item) => scan.learners.map((learner) => join(scan.runDir, `${item.embeddingId}-${learner}-predictions.csv`)));
    const artifacts = records.flatMap((r) => r.artifacts).sort((a, b) => order.indexOf(a.path) - order.indexOf(b.path));
    return { summary: { ...summaries.find((s) => s !== undefined) }, artifacts };
  }
  const keys = assembleParts(kind, params as ScoringShape, shardDirs, records, workDir);
  const artifacts: ArtifactRecord[] = [];
  const summary = await runAnyTask(kind, params, input, workDir, {
    signal: new AbortController().signal,
    resumeFrom: { done: keys },
    onArtifact: (artifactKind, path, meta) => void artifacts.push({ kind: artifactKind, path, meta }),
  });
  return { summary: { ...summary, notes: notesOf([summary, ...summaries]) }, artifacts };
}
