/**
 * jobs/tasks/learn-scan — a SWAT-style scan in the compute process: every chosen embedding
 * matrix (model × layer × compression) × every learner, each cross-validated on the same outer
 * folds. Each fit writes its out-of-fold predictions (CSV) and fold models (JSON); a checkpoint
 * after each fit lets an interrupted scan continue with the fits it had not done.
 */
import { join, resolve } from 'node:path';
import { writeTextAtomically } from '../../core/atomic';
import { csvField, formatFloat32 } from '../../exports';
import { buildFolds, type SplitSpec } from '../../learn/splits';
import { bootstrapIntervals, type Interval } from '../../learn/bootstrap';
import { classificationMetrics, regressionMetrics } from '../../learn/metrics';
import { clusterTableCsv, DEFAULT_CRITERIA, findRelatedPairs, partition, type HomologyProgress } from '../../learn/homology';
import { threadedChunks } from '../homology-threads';
import { evaluateClassification, evaluateMultiLabel, evaluateRegression, type Evaluation, type Task as LearnTask } from '../../learn/evaluate';
import { classifierFor, multiLabelFor, regressorFor } from '../../learn/learners';
import { takeRows, type Matrix } from '../../learn/matrix';
import { readNpy } from '../../store/npy';
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type ScanParams = TaskParams<'learn.scan'>;
export type ScanItem = ScanParams['items'][number];

const Cell = z.union([z.number(), z.string(), z.null()]);
export const ScanInput = z.object({
  ids: z.array(z.string()),
  /** The target of each dataset row; null when missing (the row is left out). */
  target: z.array(Cell),
  /** For position-grouped splits: the mutated positions of each row. */
  positions: z.array(z.array(z.number())).nullable(),
  /** For column splits: the column's value for each row. */
  splitValues: z.array(Cell).nullable(),
  /** Multi-label: each 0/1 target column's values by row (in params.targets order); a row missing any is left out. */
  targetColumns: z.array(z.array(Cell)).nullable().default(null),
  /** For similarity (homology) splits: each row's protein sequence. */
  sequences: z.array(z.string()).nullable().default(null),
  /** Multi-label GO/EC terms (datasets/ontology): each label's namespace and parents (label indices), for per-namespace CAFA scores and Smin. */
  labelStructure: z.object({ namespaces: z.array(z.string()), parents: z.array(z.array(z.number().int().min(0))) }).nullable().default(null),
  /** A cluster shard's fits (indices into items × learners, item-major); null: all of them. */
  units: z.array(z.number().int().min(0)).optional(),
});
export type ScanInput = z.output<typeof ScanInput>;

const HomologyCheckpoint = z.object({ chunks: z.number().int(), done: z.array(z.number().int()), pairs: z.array(z.number().int()), identities: z.array(z.number()), candidates: z.number() });
/** done: the fits finished; homology: how far the similarity search got (a resumed scan skips the chunks it aligned). */
const ScanCheckpoint = z.object({ done: z.array(z.number().int()), homology: HomologyCheckpoint.optional() });

/**
 * Similarity folds: related pairs among the rows with a target, their clusters packed into k
 * folds; writes the assignment (homology-clusters.csv in the run folder). Returns the fold of
 * every dataset row (−1: not used), a sentence for the summary, and the search (for checkpoints).
 */
async function homologyFolds(
  ctx: { workDir: string; signal: AbortSignal; progress(f: number, m: string): void; checkpoint(state: z.output<typeof ScanCheckpoint>): void },
  split: SplitSpec,
  runDir: string,
  input: ScanInput,
  rows: readonly number[],
  resumeFrom: HomologyProgress | undefined,
): Promise<{ folds: Int32Array; note: string; search: HomologyProgress }> {
  if (!input.sequences) throw new Error('Similarity folds need the protein sequences of the dataset.');
  const sequences = rows.map((row) => input.sequences![row]!);
  const criteria = { minIdentity: (split.identity ?? 100 * DEFAULT_CRITERIA.minIdentity) / 100, minCoverage: (split.coverage ?? 100 * DEFAULT_CRITERIA.minCoverage) / 100 };
  const search = await findRelatedPairs(sequences, {
    criteria,
    signal: ctx.signal,
    resumeFrom: resumeFrom ?? null,
    // On worker threads (one per core) where the built worker is at hand; else on this thread.
    runChunks: threadedChunks(sequences),
    // The similarity search is the first fifth of the scan's progress bar.
    progress: (fraction, message) => ctx.progress(0.2 * fraction, message),
    checkpoint: (state) => ctx.checkpoint({ done: [], homology: state }),
  });
  const result = partition(sequences.length, search.pairs, { shares: Array.from({ length: split.k }, () => 1), removeToBalance: split.removeToBalance ?? false });
  writeTextAtomically(join(ctx.workDir, runDir, 'homology-clusters.csv'), clusterTableCsv(rows.map((row) => input.ids[row]!), result));
  const folds = new Int32Array(input.ids.length).fill(-1);
  rows.forEach((row, i) => (folds[row] = result.fold[i]!));
  const percent = (x: number): string => `${Math.round(100 * x)} %`;
  const note =
    `${(search.pairs.length / 2).toLocaleString('en-US')} related pairs (≥ ${percent(criteria.minIdentity)} identity over ≥ ${percent(criteria.minCoverage)} of both sequences) ` +
    `group ${sequences.length.toLocaleString('en-US')} sequences into ${result.clusterSizes.length.toLocaleString('en-US')} clusters (largest ${result.clusterSizes[0] ?? 0}); the folds hold ${result.foldSizes.join(', ')} sequences.` +
    (result.warning ? ` ${result.warning}` : '');
  return { folds, note, search };
}

/**
 * 95 % bootstrap intervals of every metric over the out-of-fold predictions (1,000 resamples of
 * proteins, seeded). Multi-label fits get none yet: their per-fold metrics use per-fold cut-offs.
 */
function intervalsOf(task: LearnTask, evaluation: { fold: Int32Array; yhat?: Float64Array; proba?: Matrix }, target: { y: Float64Array | null; labels: Int32Array | null; classes: string[] }, seed: number): Record<string, Interval> {
  if (task === 'multilabel') return {};
  const predicted = Int32Array.from(evaluation.fold.keys()).filter((i) => evaluation.fold[i]! >= 0);
  const k = target.classes.length;
  const metricsOf = (sample: Int32Array): Record<string, number | null> => {
    const rows = Int32Array.from(sample, (r) => predicted[r]!);
    if (task === 'regression') return { ...regressionMetrics(Float64Array.from(rows, (r) => target.y![r]!), Float64Array.from(rows, (r) => evaluation.yhat![r]!)) };
    const proba = new Float64Array(rows.length * k);
    rows.forEach((r, i) => proba.set(evaluation.proba!.data.subarray(r * k, (r + 1) * k), i * k));
    const metrics = classificationMetrics(Int32Array.from(rows, (r) => target.labels![r]!), { data: proba, rows: rows.length, cols: k }, target.classes);
    return Object.fromEntries(Object.entries(metrics).map(([name, value]) => [name, typeof value === 'number' ? value : null]));
  };
  return bootstrapIntervals(predicted.length, metricsOf, { replicates: 1000, seed });
}

/** Multi-label targets: the rows with every label known, and Y (rows × labels, 1 = has the label). */
function prepareLabels(input: ScanInput, labels: readonly string[]) {
  const columns = input.targetColumns ?? [];
  if (columns.length !== labels.length || labels.length < 2) throw new Error(`Multi-label scans need at least 2 label columns (0/1); got ${labels.length}.`);
  const known = (value: unknown): boolean => value !== null && value !== '';
  const rows = input.ids.flatMap((_, row) => (columns.every((column) => known(column[row])) ? [row] : []));
  const Y = new Uint8Array(rows.length * labels.length);
  rows.forEach((row, i) =>
    columns.forEach((column, l) => {
      const value = Number(column[row]);
      if (value !== 0 && value !== 1) throw new Error(`Row ${row + 1} (${input.ids[row]}): "${String(column[row])}" in label column "${labels[l]}" is not 0 or 1.`);
      Y[i * labels.length + l] = value;
    }),
  );
  // A label every protein has (or none has) teaches nothing and would count as perfectly predicted.
  labels.forEach((label, l) => {
    const positives = rows.reduce((count, _, i) => count + Y[i * labels.length + l]!, 0);
    if (positives === 0 || positives === rows.length) {
      throw new Error(`Label column "${label}" is ${positives === 0 ? 0 : 1} for every protein with all labels known (${rows.length}), so there is nothing to learn; leave it out of the labels predicted together.`);
    }
  });
  return { rows, Y };
}

/** The GO/EC structure of the labels when the input has one that fits them; undefined for plain 0/1 columns. */
function labelStructureOf(input: ScanInput, labels: readonly string[]) {
  const structure = input.labelStructure;
  if (!structure) return undefined;
  const fits = structure.namespaces.length === labels.length && structure.parents.length === labels.length && structure.parents.every((ps) => ps.every((p) => p < labels.length));
  if (!fits) throw new Error(`The label structure describes ${structure.namespaces.length} labels but the scan has ${labels.length}; rebuild the labels from the annotations.`);
  return structure;
}

/** "GO:1;GO:3": the labels a row has (1 in Y), by name. */
function labelSet(Y: Uint8Array, i: number, labels: readonly string[]): string {
  return labels.filter((_, l) => Y[i * labels.length + l] === 1).join(';');
}

/** The rows that have a target, with the target as numbers (regression) or class indices. */
function prepareTarget(input: ScanInput, task: LearnTask) {
  const rows = input.target.flatMap((value, row) => (value === null || value === '' ? [] : [row]));
  if (task === 'regression') {
    const y = Float64Array.from(rows, (row) => Number(input.target[row]));
    const bad = rows.find((row, i) => !Number.isFinite(y[i]!));
    if (bad !== undefined) throw new Error(`Row ${bad + 1} (${input.ids[bad]}): the target "${String(input.target[bad])}" is not a number.`);
    return { rows, y, labels: null, classes: [] as string[] };
  }
  const classes = [...new Set(rows.map((row) => String(input.target[row])))].sort();
  if (classes.length < 2) throw new Error(`The target has ${classes.length} class; classification needs at least 2.`);
  return { rows, y: null, labels: Int32Array.from(rows, (row) => classes.indexOf(String(input.target[row]))), classes };
}

function loadFeatures(workDir: string, item: ScanItem, rows: number[]): Matrix {
  // Relative to the work folder (a project's runs), or absolute (the command line's files).
  const array = readNpy(resolve(workDir, item.path));
  const [n, d] = array.shape as [number, number];
  const all: Matrix = { data: Float64Array.from(array.data as Float32Array), rows: n, cols: d };
  return takeRows(all, rows);
}

function predictionsCsv(ids: string[], rows: number[], fold: Int32Array, y: ArrayLike<number | string>, yhat: ArrayLike<number | string>): string {
  const lines = ['id,fold,y,yhat'];
  rows.forEach((row, i) => {
    const show = (v: number | string): string => (typeof v === 'number' ? formatFloat32(v) : csvField(v));
    lines.push(`${csvField(ids[row]!)},${fold[i]},${show(y[i]!)},${show(yhat[i]!)}`);
  });
  return `${lines.join('\n')}\n`;
}


export const learnScan = defineTask({
  ...contract('learn.scan'),
  input: ScanInput,
  checkpoint: ScanCheckpoint,
  async run(ctx) {
    const { params } = ctx;
    const input = ctx.input;
    const labels = params.targets ?? [];
    const multi = params.task === 'multilabel' ? prepareLabels(input, labels) : null;
    const target = multi ? { rows: multi.rows, y: null, labels: null, classes: [] as string[] } : prepareTarget(input, params.task);
    const homology = params.split.scheme === 'homology' ? await homologyFolds(ctx, params.split, params.runDir, input, target.rows, ctx.resumeFrom?.homology) : null;
    const folds = buildFolds(params.split, {
      rows: target.rows,
      labels: target.labels,
      classes: target.classes,
      positions: input.positions,
      splitValues: input.splitValues,
      homologyFolds: homology?.folds ?? null,
    });
    const done = new Set(ctx.resumeFrom?.done ?? []);
    // After a similarity search (the first fifth of the bar), fits take the rest of the progress bar.
    const progressStart = homology ? 0.2 : 0;
    const progressScale = 1 - progressStart;
    const units = params.items.flatMap((item) => params.learners.map((learner) => ({ item, learner })));
    // Progress counts this run's fits: all of them, or a cluster shard's.
    const total = input.units?.length ?? units.length;
    for (const [index, { item, learner }] of units.entries()) {
      if (done.has(index) || (input.units && !input.units.includes(index))) continue;
      throwIfCancelled(ctx.signal);
      const label = `${item.modelName} layer ${item.layer} ${item.pooling}, ${learner}`;
      ctx.progress(progressStart + (progressScale * done.size) / total, `Fitting ${label} (${done.size + 1} of ${total})`);
      await yieldToEvents();
      const X = loadFeatures(ctx.workDir, item, target.rows);
      const k = folds.length;
      const onProgress = (f: number): void =>
        ctx.progress(progressStart + (progressScale * (done.size + f)) / total, `Fitting ${label} (${done.size + 1} of ${total}): fold ${Math.min(k, Math.floor(f * k + 1e-9))} of ${k} done`);
      const options = { X, folds, scaling: params.scaling, classWeight: params.classWeight, onProgress };
      const base = join(params.runDir, `${item.embeddingId}-${learner}`);
      let evaluation: Pick<Evaluation, 'fold' | 'perFold' | 'summary' | 'models'> & { yhat?: Float64Array; proba?: Matrix };
      let yShown: ArrayLike<number | string>;
      let yhatShown: ArrayLike<number | string>;
      if (multi) {
        const result = evaluateMultiLabel(multiLabelFor(learner), multi.Y, labels, { ...options, structure: labelStructureOf(input, labels) });
        evaluation = result;
        yShown = target.rows.map((_, i) => labelSet(multi.Y, i, labels));
        yhatShown = target.rows.map((_, i) => labelSet(result.predicted, i, labels));
      } else if (params.task === 'regression') {
        const result = evaluateRegression(regressorFor(learner), target.y!, options);
        evaluation = result;
        yShown = target.y!;
        yhatShown = result.yhat;
      } else {
        const result = evaluateClassification(classifierFor(learner), target.labels!, target.classes, options);
        evaluation = result;
        yShown = Array.from(target.labels!, (c) => target.classes[c]!);
        yhatShown = Array.from(result.yhat, (c) => target.classes[c] ?? '');
      }
      const intervals = intervalsOf(params.task, evaluation, target, params.split.seed);
      const summary = Object.fromEntries(Object.entries(evaluation.summary).map(([name, s]) => [name, intervals[name] ? { ...s, ...intervals[name] } : s]));
      writeTextAtomically(join(ctx.workDir, `${base}-predictions.csv`), predictionsCsv(input.ids, target.rows, evaluation.fold, yShown, yhatShown));
      const classes = multi ? labels : target.classes;
      writeTextAtomically(join(ctx.workDir, `${base}-models.json`), JSON.stringify({ learner, task: params.task, classes, folds: evaluation.models }));
      await ctx.artifact('fit', `${base}-predictions.csv`, {
        ...item,
        learner,
        task: params.task,
        target: params.target,
        modelsPath: `${base}-models.json`,
        metrics: { perFold: evaluation.perFold, summary },
      });
      done.add(index);
      ctx.checkpoint({ done: [...done].sort((a, b) => a - b), homology: homology?.search });
    }
    // Rows without a value of the target (missing measurements) are left out of every fit: say how many.
    const leftOut = input.target.length - target.rows.length;
    return { fits: units.length, folds: folds.length, rows: target.rows.length, leftOut, target: params.target, task: params.task, ...(homology ? { split: homology.note } : {}) };
  },
});
