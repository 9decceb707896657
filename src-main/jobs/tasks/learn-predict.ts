/**
 * jobs/tasks/learn-predict — applies a fit of a scan to new sequences: embeds them with the same
 * model, layer and pooling (or compression), refits the fold models on the training data (the
 * fits are deterministic, so these are the models the scan scored) and writes, per sequence,
 * the mean prediction of the fold models and their spread (sd) as the uncertainty.
 */
import { join } from 'node:path';
import { writeTextAtomically } from '../../core/atomic';
import { parseCompression } from '../../core/compression';
import { compress } from '../../embeddings/compress';
import { Embedder } from '../../engine/embed';
import type { Pooling } from '../../models/family';
import { csvField, formatFloat32 } from '../../exports';
import { evaluateClassification, evaluateRegression, predictWithFoldModels } from '../../learn/evaluate';
import { classifierFor, regressorFor } from '../../learn/learners';
import { takeRows, type Matrix } from '../../learn/matrix';
import { buildFolds } from '../../learn/splits';
import { readNpy } from '../../store/npy';
import { ScanInput } from './learn-scan';
import { throwIfCancelled } from '../../core/cancel';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type PredictParams = TaskParams<'learn.predict'>;

export const PredictInput = z.object({ training: ScanInput, ids: z.array(z.string()), sequences: z.array(z.string()) });
export type PredictInput = z.output<typeof PredictInput>;

const IN_GRAPH = new Set(['mean', 'bos', 'max']);

/** The new sequences' feature rows, computed exactly as the training rows were. */
async function features(params: PredictParams, sequences: string[], signal: AbortSignal): Promise<Matrix> {
  const embedder = Embedder.open(params.modelDir, { device: params.device });
  const inGraph = IN_GRAPH.has(params.pooling);
  const compression = inGraph ? null : parseCompression(params.pooling);
  const pool: Pooling[] = inGraph ? [params.pooling as Pooling] : compression!.kind === 'bos' ? ['bos'] : ['per-token', 'bos'];
  const rows: Float32Array[] = new Array(sequences.length);
  try {
    await embedder.run(sequences, { layers: [params.layer], pool }, (result) => {
      const bos = result.pooled.get(`bos_${params.layer}`);
      if (inGraph) rows[result.index] = result.pooled.get(`${params.pooling}_${params.layer}`)!;
      else if (compression!.kind === 'bos') rows[result.index] = bos!;
      else rows[result.index] = compress(compression!, result.perToken.get(params.layer)!, result.residues, embedder.manifest.config.hiddenSize, bos);
    }, { signal });
  } finally {
    await embedder.close();
  }
  throwIfCancelled(signal);
  // Compressions that depend on length (iDCT) are padded to the training width by the caller.
  const width = Math.max(...rows.map((r) => r.length));
  const out: Matrix = { data: new Float64Array(rows.length * width), rows: rows.length, cols: width };
  rows.forEach((row, i) => out.data.set(row, i * width));
  return out;
}

function fitToTraining(params: PredictParams, workDir: string, training: ScanInput) {
  const rows = training.target.flatMap((v, i) => (v === null || v === '' ? [] : [i]));
  const array = readNpy(join(workDir, params.trainingPath));
  const [n, d] = array.shape as [number, number];
  const X = takeRows({ data: Float64Array.from(array.data as Float32Array), rows: n, cols: d }, rows);
  if (params.task === 'regression') {
    const y = Float64Array.from(rows, (r) => Number(training.target[r]));
    const folds = buildFolds(params.split, { rows, labels: null, classes: [], positions: training.positions, splitValues: training.splitValues });
    return { evaluation: evaluateRegression(regressorFor(params.learner), y, { X, folds, scaling: params.scaling }), classes: [] as string[], width: d };
  }
  const names = rows.map((r) => String(training.target[r]));
  const classes = [...new Set(names)].sort();
  const labels = Int32Array.from(names, (c) => classes.indexOf(c));
  const folds = buildFolds(params.split, { rows, labels, classes, positions: training.positions, splitValues: training.splitValues });
  return { evaluation: evaluateClassification(classifierFor(params.learner), labels, classes, { X, folds, scaling: params.scaling, classWeight: params.classWeight }), classes, width: d };
}

/** Pads or cuts rows to the training matrix's width (iDCT of proteins shorter than n is zero-padded). */
function toWidth(X: Matrix, width: number): Matrix {
  if (X.cols === width) return X;
  const out: Matrix = { data: new Float64Array(X.rows * width), rows: X.rows, cols: width };
  for (let r = 0; r < X.rows; r++) out.data.set(X.data.subarray(r * X.cols, r * X.cols + Math.min(width, X.cols)), r * width);
  return out;
}

export const learnPredict = defineTask({
  ...contract('learn.predict'),
  input: PredictInput,
  checkpoint: z.null(),
  async run(ctx) {
    const { params } = ctx;
    const input = ctx.input;
    ctx.progress(0.05, `Embedding ${input.sequences.length} sequences`);
    const newRows = await features(params, input.sequences, ctx.signal);
    ctx.progress(0.5, 'Fitting the fold models on the training data');
    const { evaluation, classes, width } = fitToTraining(params, ctx.workDir, input.training);
    const { mean, sd } = predictWithFoldModels(evaluation, toWidth(newRows, width));
    const header = params.task === 'regression' ? 'id,prediction,uncertainty_sd' : `id,probability${classes.length === 2 ? `_${classes[1]}` : '_top_class'},uncertainty_sd`;
    const lines = [header, ...input.ids.map((id, i) => `${csvField(id)},${formatFloat32(mean[i]!)},${formatFloat32(sd[i]!)}`)];
    const target = join(ctx.workDir, params.outPath);
    writeTextAtomically(target, `${lines.join('\n')}\n`);
    await ctx.artifact('export', params.outPath, { format: 'csv' });
    return { path: params.outPath, sequences: input.ids.length, folds: evaluation.perFold.length };
  },
});
