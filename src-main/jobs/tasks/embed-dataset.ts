/**
 * jobs/tasks/embed-dataset — an embedding run over a dataset, in the compute process: for each
 * chosen model, the planned units (batches) are computed in a fixed order and their rows written
 * straight to their final place in float32 .npy files. After every unit the files are synced
 * and a checkpoint records it, so a resumed run skips finished units and ends with the same
 * bytes as an uninterrupted one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Embedder, type EmbedPlan } from '../../engine/embed';
import type { Device } from '../../engine/session';
import type { Pooling } from '../../models/esm2/graph';
import { NpyRowWriter, writeNpyAtomic } from '../../store/npy';
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import type { Task, TaskContext } from './types';

export interface EmbedDatasetParams {
  /** Folder of this run, relative to the project folder. */
  runDir: string;
  models: { id: number; name: string; dir: string }[];
  layers: number[];
  pool: Pooling[];
  batchTokens: number;
  device: Device;
  threads: number;
  long: 'window' | 'truncate';
}

export interface EmbedDatasetInput {
  sequences: string[];
}

export interface EmbedDatasetCheckpoint {
  /** Models completely written (in params order). */
  modelsDone: number;
  /** Units finished of the model in progress. */
  unitsDone: number[];
}

/** Folder name of a model's results inside the run folder. */
export const modelFolderName = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, '_');

interface MatrixFile {
  layer: number;
  pooling: Pooling;
  /** Relative to the project folder. */
  path: string;
  writer: NpyRowWriter | null;
  rows: number;
  offsetsPath?: string;
}

type Context = TaskContext<EmbedDatasetParams, EmbedDatasetCheckpoint>;

function residueOffsets(sequences: readonly string[], long: 'window' | 'truncate'): BigInt64Array {
  const offsets = new BigInt64Array(sequences.length + 1);
  sequences.forEach((sequence, i) => (offsets[i + 1] = offsets[i]! + BigInt(Embedder.residuesOf(sequence, long))));
  return offsets;
}

/** The matrices a model's results go to: one per (layer, pooling). */
function matrixFiles(plan: EmbedPlan, folder: string, offsets: BigInt64Array): MatrixFile[] {
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

async function embedWithModel(ctx: Context, modelIndex: number, sequences: string[], resumeUnits: Set<number>): Promise<void> {
  const { params } = ctx;
  const model = params.models[modelIndex]!;
  const embedder = Embedder.open(model.dir, { device: params.device, threads: params.threads || undefined });
  try {
    const plan = embedder.plan(sequences, { layers: params.layers, pool: params.pool, batchTokens: params.batchTokens, long: params.long });
    const D = embedder.manifest.config.hiddenSize;
    const folder = join(params.runDir, modelFolderName(model.name));
    const offsets = residueOffsets(sequences, params.long);
    const files = matrixFiles(plan, folder, offsets);
    if (files.every((file) => existsSync(join(ctx.workDir, file.path)))) {
      // Finished before an interruption, but not yet recorded as such.
      return reportArtifacts(ctx, model, files, D);
    }
    for (const file of files) file.writer = new NpyRowWriter(join(ctx.workDir, file.path), file.rows, D, { resume: resumeUnits.size > 0 });
    if (files.some((f) => f.offsetsPath)) writeNpyAtomic(join(ctx.workDir, folder, 'per_token_offsets.npy'), { dtype: 'int64', shape: [offsets.length], data: offsets });
    try {
      await computeUnits(ctx, modelIndex, embedder, plan, files, offsets, resumeUnits);
    } catch (error) {
      // A cancelled, failed or interrupted run keeps its finished rows: Resume continues from them.
      for (const file of files) file.writer?.close();
      throw error;
    }
    for (const file of files) file.writer!.finish();
    await reportArtifacts(ctx, model, files, D);
  } finally {
    await embedder.close();
  }
}

async function computeUnits(
  ctx: Context,
  modelIndex: number,
  embedder: Embedder,
  plan: EmbedPlan,
  files: MatrixFile[],
  offsets: BigInt64Array,
  resumeUnits: Set<number>,
): Promise<void> {
  const { params } = ctx;
  const done = new Set(resumeUnits);
  const started = performance.now();
  let tokens = 0;
  for (const [unitIndex, unit] of plan.units.entries()) {
    if (done.has(unitIndex)) continue;
    throwIfCancelled(ctx.signal);
    for (const result of await embedder.runUnit(plan, unit)) {
      for (const file of files) {
        if (file.pooling === 'per-token') file.writer!.writeRows(Number(offsets[result.index]), result.perToken.get(file.layer)!);
        else file.writer!.writeRow(result.index, result.pooled.get(`${file.pooling}_${file.layer}`)!);
      }
    }
    for (const file of files) file.writer!.sync();
    done.add(unitIndex);
    tokens += Embedder.unitTokens(unit);
    ctx.checkpoint({ modelsDone: modelIndex, unitsDone: [...done].sort((a, b) => a - b) });
    const fraction = (modelIndex + done.size / plan.units.length) / params.models.length;
    const speed = tokens / ((performance.now() - started) / 1000);
    const sequencesDone = plan.units.filter((_, i) => done.has(i)).reduce((sum, u) => sum + sequencesIn(plan, u), 0);
    ctx.progress(fraction, `${params.models[modelIndex]!.name}: ${sequencesDone} of ${plan.sequences.length} sequences, ${speed.toFixed(0)} tokens/s`);
    await yieldToEvents();
  }
}

/** Input sequences a unit covers (duplicates of its sequences included). */
function sequencesIn(plan: EmbedPlan, unit: EmbedPlan['units'][number]): number {
  const owners = new Set(unit.items.map((item) => item.owner));
  return [...owners].reduce((sum, owner) => sum + plan.owners.get(plan.sequences[owner]!)!.length, 0);
}

export const embedDataset: Task<EmbedDatasetParams, EmbedDatasetCheckpoint> = async (ctx) => {
  const { sequences } = ctx.input as EmbedDatasetInput;
  const resume = ctx.resumeFrom;
  const started = performance.now();
  for (let modelIndex = resume?.modelsDone ?? 0; modelIndex < ctx.params.models.length; modelIndex++) {
    const resumeUnits = new Set(resume && resume.modelsDone === modelIndex ? resume.unitsDone : []);
    await embedWithModel(ctx, modelIndex, sequences, resumeUnits);
    ctx.checkpoint({ modelsDone: modelIndex + 1, unitsDone: [] });
  }
  return {
    sequences: sequences.length,
    models: ctx.params.models.map((m) => m.name),
    layers: ctx.params.layers,
    pool: ctx.params.pool,
    long: ctx.params.long,
    device: ctx.params.device,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
};
