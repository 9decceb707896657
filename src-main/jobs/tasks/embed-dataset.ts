/**
 * jobs/tasks/embed-dataset — an embedding run (`embed.dataset`): for each chosen model, the
 * planned units (batches) are computed in a fixed order and their rows written straight to their
 * final place in float32 .npy files — pooled matrices [sequences, D], per-residue rows
 * `per_token_layer<k>.npy` [all residues, D] with `per_token_offsets.npy`, and on request
 * per-sequence `logits/<i>.npy`, `contacts/<i>.npy`, `attention/<i>_layer<k>.npy`. After every
 * unit the files are synced and a checkpoint records it, so a resumed run skips finished units
 * and ends with the same bytes as an uninterrupted one. The app runs it on a dataset, the command
 * line on a FASTA file, and a cluster worker on one shard of the units (see jobs/shards).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import { Embedder, type EmbedPlan, type SequenceResult } from '../../engine/embed';
import type { Pooling } from '../../models/family';
import { NpyRowWriter, writeNpyAtomic } from '../../store/npy';
import { modelFolderName } from '../../store/paths';
import { contract, defineTask, type TaskContext } from '../task';
import type { TaskParams, TaskSummary } from '../../api/tasks';
import { unitsOfShard, writeShardRecord } from '../shards';
import { clusterProfile } from '../../cluster/profiles';
import { runShardedOnCluster } from '../../cluster/run-sharded';
import { runClusterJobDir } from '../../cluster/job-view';

export type EmbedDatasetParams = TaskParams<'embed.dataset'>;

export const EmbedDatasetInput = z.object({
  sequences: z.array(z.string()),
  /** Set by a cluster worker: only this slice of the units is computed (jobs/shards). */
  shard: z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).nullable().default(null),
});
export type EmbedDatasetInput = z.input<typeof EmbedDatasetInput>;

const EmbedDatasetCheckpoint = z.object({
  /** Models completely written (in params order). */
  modelsDone: z.number().int(),
  /** Units finished of the model in progress. */
  unitsDone: z.array(z.number().int()),
});
type EmbedDatasetCheckpoint = z.output<typeof EmbedDatasetCheckpoint>;

/** Where a model's files go, relative to the work folder. */
export function modelOutDir(params: Pick<EmbedDatasetParams, 'runDir'>, model: EmbedDatasetParams['models'][number]): string {
  return model.outDir ?? join(params.runDir, modelFolderName(model.name));
}

interface MatrixFile {
  layer: number;
  pooling: Pooling;
  /** Relative to the work folder. */
  path: string;
  writer: NpyRowWriter | null;
  rows: number;
  offsetsPath?: string;
}

type Context = TaskContext<EmbedDatasetParams, z.output<typeof EmbedDatasetInput>, EmbedDatasetCheckpoint>;

export function residueOffsets(sequences: readonly string[], long: 'window' | 'truncate', maxResidues: number): BigInt64Array {
  const offsets = new BigInt64Array(sequences.length + 1);
  sequences.forEach((sequence, i) => (offsets[i + 1] = offsets[i]! + BigInt(Embedder.residuesOf(sequence, long, maxResidues))));
  return offsets;
}

/** The matrices a model's results go to: one per (layer, pooling). */
export function matrixFiles(plan: Pick<EmbedPlan, 'options' | 'sequences'>, folder: string, offsets: BigInt64Array): MatrixFile[] {
  const files: MatrixFile[] = [];
  const totalResidues = Number(offsets[offsets.length - 1]);
  for (const layer of plan.options.layers) {
    for (const pooling of plan.options.pool) {
      const name = pooling === 'per-token' ? `per_token_layer${layer}.npy` : `${pooling}_layer${layer}.npy`;
      const rows = pooling === 'per-token' ? totalResidues : plan.sequences.length;
      files.push({
        layer,
        pooling,
        path: join(folder, name),
        writer: null,
        rows,
        offsetsPath: pooling === 'per-token' ? join(folder, 'per_token_offsets.npy') : undefined,
      });
    }
  }
  return files;
}

async function reportArtifacts(ctx: Context, model: EmbedDatasetParams['models'][number], files: MatrixFile[], cols: number): Promise<void> {
  for (const file of files) {
    await ctx.artifact('embedding', file.path, {
      modelId: model.id,
      modelName: model.name,
      layer: file.layer,
      pooling: file.pooling,
      rows: file.rows,
      cols,
      offsetsPath: file.offsetsPath ?? null,
    });
  }
}

/** What computing a model's units used: tokens fed, the device after any fallback, and why it fell back. */
interface ModelRun {
  tokens: number;
  device: string;
  notes: string[];
}

async function embedWithModel(ctx: Context, modelIndex: number, sequences: readonly string[], resumeUnits: Set<number>): Promise<ModelRun> {
  const { params } = ctx;
  const model = params.models[modelIndex]!;
  const embedder = Embedder.open(model.dir, { device: params.device, threads: params.threads || undefined });
  try {
    const plan = embedder.plan(sequences, {
      layers: params.layers,
      pool: params.pool,
      batchTokens: params.batchTokens,
      long: params.long,
      logits: params.logits,
      contacts: params.contacts,
      attentionLayers: params.attentionLayers,
    });
    const D = embedder.manifest.config.hiddenSize;
    const folder = modelOutDir(params, model);
    const offsets = residueOffsets(sequences, params.long, embedder.maxResidues);
    const files = matrixFiles(plan, folder, offsets);
    if (ctx.input.shard === null && files.every((file) => existsSync(join(ctx.workDir, file.path)))) {
      // Finished before an interruption, but not yet recorded as such.
      await reportArtifacts(ctx, model, files, D);
      return { tokens: 0, device: params.device, notes: [] };
    }
    for (const file of files) file.writer = new NpyRowWriter(join(ctx.workDir, file.path), file.rows, D, { resume: resumeUnits.size > 0 });
    if (files.some((f) => f.offsetsPath)) writeNpyAtomic(join(ctx.workDir, folder, 'per_token_offsets.npy'), { dtype: 'int64', shape: [offsets.length], data: offsets });
    let tokens: number;
    try {
      tokens = await computeUnits(ctx, modelIndex, embedder, plan, { folder, files, offsets, heads: embedder.manifest.config.numHeads }, resumeUnits);
    } catch (error) {
      // A cancelled, failed or interrupted run keeps its finished rows: Resume continues from them.
      for (const file of files) file.writer?.close();
      throw error;
    }
    for (const file of files) file.writer!.finish();
    if (ctx.input.shard) writeShardRecord(join(ctx.workDir, folder), ctx.input.shard, plan);
    await reportArtifacts(ctx, model, files, D);
    return { tokens, device: await embedder.actualDevice(), notes: embedder.notes };
  } finally {
    await embedder.close();
  }
}

/** Where a model's unit results go. */
interface Outputs {
  folder: string;
  files: MatrixFile[];
  offsets: BigInt64Array;
  heads: number;
}

/** Per-sequence outputs (whole arrays of their own shape): logits, contacts, attention maps. */
function writeSequenceFiles(ctx: Context, folder: string, heads: number, result: SequenceResult): void {
  const L = result.residues;
  const file = (...parts: string[]): string => join(ctx.workDir, folder, ...parts);
  if (result.logits) writeNpyAtomic(file('logits', `${result.index}.npy`), { dtype: 'float32', shape: [L + 2, result.logits.length / (L + 2)], data: result.logits });
  if (result.contacts) writeNpyAtomic(file('contacts', `${result.index}.npy`), { dtype: 'float32', shape: [L, L], data: result.contacts });
  for (const [layer, maps] of result.attention) {
    writeNpyAtomic(file('attention', `${result.index}_layer${layer}.npy`), { dtype: 'float32', shape: [heads, L + 2, L + 2], data: maps });
  }
}

/** Computes the units not done yet (of this shard); returns the tokens fed. */
async function computeUnits(ctx: Context, modelIndex: number, embedder: Embedder, plan: EmbedPlan, outputs: Outputs, resumeUnits: Set<number>): Promise<number> {
  const { params } = ctx;
  const { files, offsets } = outputs;
  const done = new Set(resumeUnits);
  const mine = ctx.input.shard === null ? plan.units.map(() => true) : unitsOfShard(ctx.input.shard, plan);
  const total = mine.filter(Boolean).length;
  const started = performance.now();
  let tokens = 0;
  for (const [unitIndex, unit] of plan.units.entries()) {
    if (done.has(unitIndex) || !mine[unitIndex]) continue;
    throwIfCancelled(ctx.signal);
    for (const result of await embedder.runUnit(plan, unit)) {
      for (const file of files) {
        if (file.pooling === 'per-token') file.writer!.writeRows(Number(offsets[result.index]), result.perToken.get(file.layer)!);
        else file.writer!.writeRow(result.index, result.pooled.get(`${file.pooling}_${file.layer}`)!);
      }
      writeSequenceFiles(ctx, outputs.folder, outputs.heads, result);
    }
    for (const file of files) file.writer!.sync();
    done.add(unitIndex);
    tokens += Embedder.unitTokens(unit);
    ctx.checkpoint({ modelsDone: modelIndex, unitsDone: [...done].sort((a, b) => a - b) });
    const finished = plan.units.filter((_, i) => done.has(i) && mine[i]);
    const fraction = (modelIndex + finished.length / Math.max(1, total)) / params.models.length;
    const speed = tokens / ((performance.now() - started) / 1000);
    const sequencesDone = finished.reduce((sum, u) => sum + sequencesIn(plan, u), 0);
    const of = ctx.input.shard === null ? plan.sequences.length : `this shard's ${plan.units.filter((_, i) => mine[i]).reduce((sum, u) => sum + sequencesIn(plan, u), 0)}`;
    ctx.progress(fraction, `${params.models[modelIndex]!.name}: ${sequencesDone} of ${of} sequences, ${speed.toFixed(0)} tokens/s`);
    await yieldToEvents();
  }
  return tokens;
}

/** Input sequences a unit covers (duplicates of its sequences included). */
function sequencesIn(plan: EmbedPlan, unit: EmbedPlan['units'][number]): number {
  const owners = new Set(unit.items.map((item) => item.owner));
  return [...owners].reduce((sum, owner) => sum + plan.owners.get(plan.sequences[owner]!)!.length, 0);
}

/**
 * A run placed on a cluster: its shards run there as a job array (the job folder inside the run's
 * folder) and are merged into the files a local run writes; returns the whole job's summary.
 */
async function runOnCluster(ctx: Context): Promise<Record<string, unknown>> {
  const { cluster, ...here } = ctx.params;
  const profile = clusterProfile(cluster!.profile);
  return runShardedOnCluster(profile, 'embed.dataset', here, { sequences: ctx.input.sequences, shard: null }, ctx.workDir, {
    shards: cluster!.shards,
    jobDir: runClusterJobDir(ctx.workDir, ctx.params.runDir),
    origin: 'project',
    signal: ctx.signal,
    onProgress: (fraction, message) => ctx.progress(fraction, `On ${profile.name}: ${message}`),
  });
}

export const embedDataset = defineTask({
  ...contract('embed.dataset'),
  input: EmbedDatasetInput,
  checkpoint: EmbedDatasetCheckpoint,
  async run(ctx) {
    const { sequences } = ctx.input;
    // On a cluster, the merged files are in place before the loop below, which then only records them.
    const onCluster = ctx.params.cluster && ctx.input.shard === null ? await runOnCluster(ctx) : null;
    const resume = ctx.resumeFrom;
    const started = performance.now();
    const runs: ModelRun[] = [];
    for (let modelIndex = resume?.modelsDone ?? 0; modelIndex < ctx.params.models.length; modelIndex++) {
      const resumeUnits = new Set(resume && resume.modelsDone === modelIndex ? resume.unitsDone : []);
      runs.push(await embedWithModel(ctx, modelIndex, sequences, resumeUnits));
      ctx.checkpoint({ modelsDone: modelIndex + 1, unitsDone: [] });
    }
    if (onCluster) return onCluster as TaskSummary<'embed.dataset'>;
    return {
      sequences: sequences.length,
      models: ctx.params.models.map((m) => m.name),
      layers: ctx.params.layers,
      pool: ctx.params.pool,
      long: ctx.params.long,
      device: ctx.params.device,
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      tokens: runs.reduce((sum, run) => sum + run.tokens, 0),
      deviceUsed: runs.at(-1)?.device ?? ctx.params.device,
      notes: [...new Set(runs.flatMap((run) => run.notes))],
    };
  },
});
