/**
 * jobs/tasks/learn-scan — a SWAT-style scan in the compute process: every chosen embedding
 * matrix (model × layer × compression) × every learner, each cross-validated on the same outer
 * folds. Each fit writes its out-of-fold predictions (CSV) and fold models (JSON); a checkpoint
 * after each fit lets an interrupted scan continue with the fits it had not done.
 */
import { join, resolve } from 'node:path';
import { writeTextAtomically } from '../../core/atomic';
import { csvField, formatFloat32 } from '../../exports';
import { buildFolds } from '../../learn/splits';
import { evaluateClassification, evaluateRegression, type Task as LearnTask } from '../../learn/evaluate';
import { classifierFor, regressorFor } from '../../learn/learners';
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
});
export type ScanInput = z.output<typeof ScanInput>;

const ScanCheckpoint = z.object({ done: z.array(z.number().int()) });

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
    const target = prepareTarget(input, params.task);
    const folds = buildFolds(params.split, {
      rows: target.rows,
      labels: target.labels,
      classes: target.classes,
      positions: input.positions,
      splitValues: input.splitValues,
    });
    const done = new Set(ctx.resumeFrom?.done ?? []);
    const units = params.items.flatMap((item) => params.learners.map((learner) => ({ item, learner })));
    for (const [index, { item, learner }] of units.entries()) {
      if (done.has(index)) continue;
      throwIfCancelled(ctx.signal);
      const label = `${item.modelName} layer ${item.layer} ${item.pooling}, ${learner}`;
      ctx.progress(done.size / units.length, `Fitting ${label} (${done.size + 1} of ${units.length})`);
      await yieldToEvents();
      const X = loadFeatures(ctx.workDir, item, target.rows);
      const k = folds.length;
      const onProgress = (f: number): void =>
        ctx.progress((done.size + f) / units.length, `Fitting ${label} (${done.size + 1} of ${units.length}): fold ${Math.min(k, Math.floor(f * k + 1e-9))} of ${k} done`);
      const evaluation =
        params.task === 'regression'
          ? evaluateRegression(regressorFor(learner), target.y!, { X, folds, scaling: params.scaling, onProgress })
          : evaluateClassification(classifierFor(learner), target.labels!, target.classes, { X, folds, scaling: params.scaling, classWeight: params.classWeight, onProgress });
      const base = join(params.runDir, `${item.embeddingId}-${learner}`);
      const yShown = params.task === 'regression' ? target.y! : Array.from(target.labels!, (c) => target.classes[c]!);
      const yhatShown = params.task === 'regression' ? evaluation.yhat : Array.from(evaluation.yhat, (c) => target.classes[c] ?? '');
      writeTextAtomically(join(ctx.workDir, `${base}-predictions.csv`), predictionsCsv(input.ids, target.rows, evaluation.fold, yShown, yhatShown));
      writeTextAtomically(join(ctx.workDir, `${base}-models.json`), JSON.stringify({ learner, task: params.task, classes: target.classes, folds: evaluation.models }));
      await ctx.artifact('fit', `${base}-predictions.csv`, {
        ...item,
        learner,
        task: params.task,
        target: params.target,
        modelsPath: `${base}-models.json`,
        metrics: { perFold: evaluation.perFold, summary: evaluation.summary },
      });
      done.add(index);
      ctx.checkpoint({ done: [...done].sort((a, b) => a - b) });
    }
    // Rows without a value of the target (missing measurements) are left out of every fit: say how many.
    const leftOut = input.target.length - target.rows.length;
    return { fits: units.length, folds: folds.length, rows: target.rows.length, leftOut, target: params.target, task: params.task };
  },
});
