/**
 * jobs/tasks/variants — zero-shot variant scoring in the compute process. `variants.score` scores
 * every row of a mutation dataset with each chosen model and method (plus the ensemble mean when
 * several models are chosen); `variants.saturate` scores all 19 × L single mutants of one protein.
 * Each (model, method) result is written to its own file as soon as it is done and recorded in
 * the checkpoint, so a resumed job skips finished work; the combined files are written last.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { csvField } from '../../exports';
import { writeBytesAtomically } from '../../core/atomic';
import { ZeroShotModel } from '../../variants/model';
import { parseVariant, type Mutation } from '../../variants/mutations';
import { ensembleMean, METHOD_LABELS, SATURATION_AMINO_ACIDS, saturationScores, scoreVariants, type ScoreMethod } from '../../variants/score';
import { evaluateScores } from '../../variants/tables';
import { throwIfCancelled } from '../../core/cancel';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask, type TaskContext } from '../task';

export type ScoreParams = TaskParams<'variants.score'>;
export type SaturateParams = TaskParams<'variants.saturate'>;
export type ScoringModel = ScoreParams['models'][number];

export const ScoreInput = z.object({
  wildType: z.string(),
  offset: z.number().int(),
  ids: z.array(z.string()),
  /** The mutation text of each row, as in the dataset. */
  variants: z.array(z.string()),
  /** Numeric label columns, for the evaluation. */
  measured: z.record(z.string(), z.array(z.number().nullable())),
  /** Rows to leave unscored (e.g. a wrong wild-type residue the user chose to skip). */
  unscored: z.array(z.number().int()).default([]),
});
export type ScoreInput = z.input<typeof ScoreInput>;

const VariantsCheckpoint = z.object({
  /** Keys of the (model, method) results already written. */
  done: z.array(z.string()),
});
type VariantsCheckpoint = z.output<typeof VariantsCheckpoint>;

/** What scoring and saturation share: where parts go, and what is done. */
type PartsContext = Pick<TaskContext<{ runDir: string; device: ScoreParams['device']; batchTokens: number }, unknown, VariantsCheckpoint>, 'workDir' | 'params' | 'resumeFrom' | 'signal' | 'progress' | 'checkpoint'>;

/** One column of scores: a model (or the ensemble) with a method. */
export interface ScoreColumn {
  key: string;
  model: string;
  method: ScoreMethod;
  values: (number | null)[];
}

export interface ScoreResults {
  wildType: string;
  offset: number;
  ids: string[];
  variants: string[];
  measured: Record<string, (number | null)[]>;
  columns: ScoreColumn[];
}

export interface SaturationResults {
  wildType: string;
  name: string;
  offset: number;
  method: ScoreMethod;
  aminoAcids: readonly string[];
  /** One [L × 20] map per model, then the ensemble mean when there are several models. */
  maps: { model: string; scores: (number | null)[] }[];
}

export const ENSEMBLE = 'ensemble';

const toJson = (values: ArrayLike<number>): (number | null)[] => Array.from(values, (v) => (Number.isFinite(v) ? v : null));
const fromJson = (values: readonly (number | null)[]): Float64Array => Float64Array.from(values, (v) => (v === null ? NaN : v));

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeBytesAtomically(path, new TextEncoder().encode(JSON.stringify(value)));
}

const partFile = (ctx: PartsContext, key: string): string => join(ctx.workDir, ctx.params.runDir, 'parts', `${key}.json`);

/**
 * Runs `compute` for each key not done yet (its result saved to a part file), with the progress of
 * the whole job; returns every key's values, read back from the part files.
 */
async function eachPart(
  ctx: PartsContext,
  keys: { key: string; model: ScoringModel; label: string; compute: (model: ZeroShotModel, onProgress: (f: number, m: string) => void) => Promise<Float64Array> }[],
  notes: string[],
): Promise<Map<string, Float64Array>> {
  const done = new Set(ctx.resumeFrom?.done ?? []);
  for (const [index, part] of keys.entries()) {
    if (done.has(part.key) && existsSync(partFile(ctx, part.key))) continue;
    throwIfCancelled(ctx.signal);
    const model = await ZeroShotModel.open(part.model.dir, { device: ctx.params.device, batchTokens: ctx.params.batchTokens });
    if (model.fallbackReason && !notes.includes(model.fallbackReason)) notes.push(model.fallbackReason);
    try {
      const values = await part.compute(model, (fraction, message) => ctx.progress((index + fraction) / keys.length, `${part.label}: ${message}`));
      throwIfCancelled(ctx.signal);
      writeJson(partFile(ctx, part.key), toJson(values));
    } finally {
      await model.close();
    }
    done.add(part.key);
    ctx.checkpoint({ done: [...done] });
  }
  return new Map(keys.map((part) => [part.key, fromJson(JSON.parse(readFileSync(partFile(ctx, part.key), 'utf8')) as (number | null)[])]));
}

const partKey = (modelIndex: number, method: ScoreMethod): string => `model${modelIndex}-${method}`;

export const scoreDataset = defineTask({
  ...contract('variants.score'),
  input: ScoreInput,
  checkpoint: VariantsCheckpoint,
  async run(ctx) {
    const input = ctx.input;
    const { params } = ctx;
    const unscored = new Set(input.unscored);
    const variants: (Mutation[] | null)[] = input.variants.map((text, row) => {
      if (unscored.has(row)) return null;
      try {
        return parseVariant(text, input.offset);
      } catch {
        return null;
      }
    });
    const notes: string[] = [];
    const parts = params.models.flatMap((model, m) =>
      params.methods.map((method) => ({
        key: partKey(m, method),
        model,
        label: `${model.name}, ${METHOD_LABELS[method].toLowerCase()}`,
        compute: (zs: ZeroShotModel, onProgress: (f: number, msg: string) => void) => scoreVariants(zs, input.wildType, variants, method, { signal: ctx.signal, onProgress }),
      })),
    );
    const values = await eachPart(ctx, parts, notes);
    const columns: ScoreColumn[] = [];
    for (const method of params.methods) {
      const perModel = params.models.map((_, m) => values.get(partKey(m, method))!);
      params.models.forEach((model, m) => columns.push({ key: `${model.name}:${method}`, model: model.name, method, values: toJson(perModel[m]!) }));
      if (params.models.length > 1) columns.push({ key: `${ENSEMBLE}:${method}`, model: ENSEMBLE, method, values: toJson(ensembleMean(perModel)) });
    }
    const results: ScoreResults = { wildType: input.wildType, offset: input.offset, ids: input.ids, variants: input.variants, measured: input.measured, columns };
    const runDir = join(ctx.workDir, params.runDir);
    writeJson(join(runDir, 'results.json'), results);
    writeBytesAtomically(join(runDir, 'scores.csv'), new TextEncoder().encode(scoresCsv(results)));
    await ctx.artifact('variant-scores', join(params.runDir, 'scores.csv'), { rows: input.ids.length, columns: columns.length });
    const evaluations = columns.flatMap((c) =>
      Object.entries(input.measured).map(([column, measured]) => ({ model: c.model, method: c.method, column, ...evaluateScores(fromJson(c.values), measured) })),
    );
    return { rows: input.ids.length, scored: columns[0]?.values.filter((v) => v !== null).length ?? 0, evaluations, notes };
  },
});

/** The dataset's rows with the measured columns and one score column per model and method. */
export function scoresCsv(results: ScoreResults): string {
  const measured = Object.keys(results.measured);
  const header = ['id', 'mutant', ...measured, ...results.columns.map((c) => `score_${c.model}_${c.method}`)];
  const lines = [header.map(csvField).join(',')];
  results.ids.forEach((id, i) => {
    const cells = [id, results.variants[i]!, ...measured.map((c) => results.measured[c]![i] ?? ''), ...results.columns.map((c) => c.values[i] ?? '')];
    lines.push(cells.map((v) => csvField(String(v))).join(','));
  });
  return `${lines.join('\n')}\n`;
}

/** A cluster shard's share of a saturation map: its 0-based positions (null: the whole map). */
export const SaturateInput = z.object({ positions: z.array(z.number().int().min(0)) }).nullable().default(null);

export const saturateProtein = defineTask({
  ...contract('variants.saturate'),
  input: SaturateInput,
  checkpoint: VariantsCheckpoint,
  async run(ctx) {
    const { params } = ctx;
    const notes: string[] = [];
    const parts = params.models.map((model, m) => ({
      key: partKey(m, params.method),
      model,
      label: model.name,
      compute: (zs: ZeroShotModel, onProgress: (f: number, msg: string) => void) => saturationScores(zs, params.wildType, params.method, { signal: ctx.signal, onProgress, positions: ctx.input?.positions }),
    }));
    const values = await eachPart(ctx, parts, notes);
    const perModel = params.models.map((_, m) => values.get(partKey(m, params.method))!);
    const maps = params.models.map((model, m) => ({ model: model.name, scores: toJson(perModel[m]!) }));
    if (params.models.length > 1) maps.push({ model: ENSEMBLE, scores: toJson(ensembleMean(perModel)) });
    const results: SaturationResults = { wildType: params.wildType, name: params.wildTypeName, offset: params.offset, method: params.method, aminoAcids: SATURATION_AMINO_ACIDS, maps };
    writeJson(join(ctx.workDir, params.runDir, 'saturation.json'), results);
    await ctx.artifact('saturation', join(params.runDir, 'saturation.json'), { length: params.wildType.length });
    return { length: params.wildType.length, variants: 19 * params.wildType.length, maps: maps.map((m) => m.model), notes };
  },
});
