/**
 * jobs/shards — one task split over several workers (cluster job arrays) and merged back. A shard
 * is a deterministic slice of the task's units, balanced by token count so that the shards of an
 * array take similar time (`shardOfUnits`; it depends only on the plan). Every shard
 * computes its units exactly as an unsharded run would (same plan, same batches), writes them at
 * their final rows of full-size files, and records which sequences it owns (`shard.json` in each
 * output folder). Merging copies each sequence's rows from the shard that owns it, so the merged
 * files are byte for byte those of an unsharded run on the same machine and thread count.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Embedder, type EmbedPlan } from '../engine/embed';
import { writeBytesAtomically } from '../core/atomic';
import { NpyRowReader, NpyRowWriter, readNpy } from '../store/npy';

export interface Shard {
  index: number;
  count: number;
}

export const SHARD_RECORD = 'shard.json';

interface ShardRecord extends Shard {
  /** Input indices whose rows this shard wrote (duplicates of its sequences included). */
  sequences: number[];
}

/** "2/3" (the third of three shards, counting from 0) → { index: 2, count: 3 }. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw new Error(`--shard takes i/n with 0 ≤ i < n (e.g. 0/3, 1/3, 2/3); "${text}" is not one.`);
  return { index, count };
}

/**
 * Which shard computes each unit: units taken from the most tokens to the fewest (ties: plan
 * order), each to the shard with the fewest tokens so far (ties: the lowest index). A greedy
 * longest-first split: every shard ends within one unit's tokens of the others, and the split
 * depends only on the units' sizes, so every worker of an array computes the same one.
 */
export function shardOfUnits(unitTokens: readonly number[], count: number): number[] {
  const order = unitTokens.map((tokens, index) => ({ tokens, index })).sort((a, b) => b.tokens - a.tokens || a.index - b.index);
  const load = new Array<number>(count).fill(0);
  const owner = new Array<number>(unitTokens.length).fill(0);
  for (const { tokens, index } of order) {
    let lightest = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[lightest]!) lightest = s;
    owner[index] = lightest;
    load[lightest]! += tokens;
  }
  return owner;
}

/** For each unit of the plan, whether `shard` computes it. */
export function unitsOfShard(shard: Shard, plan: Pick<EmbedPlan, 'units'>): boolean[] {
  return shardOfUnits(plan.units.map((unit) => Embedder.unitTokens(unit)), shard.count).map((owner) => owner === shard.index);
}

/** Writes which sequences of the plan this shard computed, into the model's output folder. */
export function writeShardRecord(folder: string, shard: Shard, plan: Pick<EmbedPlan, 'units' | 'owners' | 'sequences'>): void {
  const mine = unitsOfShard(shard, plan);
  const sequences = plan.units
    .flatMap((unit, unitIndex) => (mine[unitIndex] ? unit.items.flatMap((item) => plan.owners.get(plan.sequences[item.owner]!)!) : []))
    .sort((a, b) => a - b);
  const record: ShardRecord = { ...shard, sequences: [...new Set(sequences)] };
  writeBytesAtomically(join(folder, SHARD_RECORD), new TextEncoder().encode(JSON.stringify(record)));
}

/** The output folders (relative) below a shard's work folder that hold a shard record. */
function shardFolders(root: string, below = ''): string[] {
  const here = join(root, below);
  const found = existsSync(join(here, SHARD_RECORD)) ? [below] : [];
  for (const entry of readdirSync(here, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...shardFolders(root, join(below, entry.name)));
  }
  return found;
}

function readRecord(folder: string): ShardRecord {
  return JSON.parse(readFileSync(join(folder, SHARD_RECORD), 'utf8')) as ShardRecord;
}

/** Rows [first, first + count) of the output a sequence owns in a matrix file. */
function rowsOf(file: string, sequence: number, offsets: BigInt64Array | null): [number, number] {
  if (!file.startsWith('per_token_layer')) return [sequence, 1];
  return [Number(offsets![sequence]), Number(offsets![sequence + 1]! - offsets![sequence]!)];
}

function mergeMatrix(shardDirs: string[], records: ShardRecord[], name: string, out: string, offsets: BigInt64Array | null): void {
  const readers = shardDirs.map((dir) => new NpyRowReader(join(dir, name)));
  try {
    const writer = new NpyRowWriter(join(out, name), readers[0]!.rows, readers[0]!.columns);
    records.forEach((record, s) => {
      for (const sequence of record.sequences) {
        const [first, count] = rowsOf(name, sequence, offsets);
        if (count > 0) writer.writeRows(first, readers[s]!.readRows(first, count));
      }
    });
    writer.finish();
  } finally {
    for (const reader of readers) reader.close();
  }
}

/** Copies per-sequence files (logits/, contacts/, attention/) of every shard. */
function copyFolders(shardDir: string, out: string): void {
  for (const entry of readdirSync(shardDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    mkdirSync(join(out, entry.name), { recursive: true });
    for (const file of readdirSync(join(shardDir, entry.name))) copyFileSync(join(shardDir, entry.name, file), join(out, entry.name, file));
  }
}

/**
 * Merges the shards' work folders into `outRoot`: every output folder with a shard record becomes
 * the unsharded result. Refuses shards that are missing, doubled, or of different splits.
 */
export function mergeShards(shardRoots: string[], outRoot: string): { folders: string[]; sequences: number } {
  const folders = shardFolders(shardRoots[0]!);
  if (folders.length === 0) throw new Error(`${shardRoots[0]} holds no shard results (${SHARD_RECORD}).`);
  let sequences = 0;
  for (const folder of folders) {
    const dirs = shardRoots.map((root) => join(root, folder));
    const records = dirs.map((dir) => {
      if (!existsSync(join(dir, SHARD_RECORD))) throw new Error(`${dir} has no ${SHARD_RECORD}: did that shard finish?`);
      return readRecord(dir);
    });
    const count = records[0]!.count;
    const indices = records.map((r) => r.index).sort((a, b) => a - b);
    if (records.some((r) => r.count !== count) || indices.join() !== Array.from({ length: count }, (_, i) => i).join()) {
      throw new Error(`The shards of ${folder || 'the run'} are ${records.map((r) => `${r.index}/${r.count}`).join(', ')}; merging needs each of 0/${count} … ${count - 1}/${count} once.`);
    }
    const out = join(outRoot, folder);
    mkdirSync(out, { recursive: true });
    const offsetsFile = join(dirs[0]!, 'per_token_offsets.npy');
    const offsets = existsSync(offsetsFile) ? (readNpy(offsetsFile).data as BigInt64Array) : null;
    if (offsets) copyFileSync(offsetsFile, join(out, 'per_token_offsets.npy'));
    const matrices = readdirSync(dirs[0]!).filter((name) => name.endsWith('.npy') && name !== 'per_token_offsets.npy' && statSync(join(dirs[0]!, name)).isFile());
    for (const name of matrices) mergeMatrix(dirs, records, name, out, offsets);
    for (const dir of dirs) copyFolders(dir, out);
    sequences = Math.max(sequences, records.reduce((sum, r) => sum + r.sequences.length, 0));
  }
  return { folders, sequences };
}
