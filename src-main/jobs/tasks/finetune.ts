/**
 * jobs/tasks/finetune — fine-tuning and predicting with a fine-tuned model in the compute
 * process. `train.finetune` runs train/finetune on the dataset the main side prepared, into the
 * run's folder, streaming each step's metrics (loss, learning rate, validation metrics per
 * epoch) to the run; a resumed or restarted attempt continues from the folder's last checkpoint,
 * optimizer state included. `train.import` makes a fine-tuned model from elsewhere a run of the
 * project. `train.predict` writes a finished run's predictions for a dataset as a CSV in the
 * exports folder.
 */
import { join, resolve } from 'node:path';
import { writeBytesAtomically } from '../../core/atomic';
import { runFinetune } from '../../train/finetune';
import { importFinetuned } from '../../train/import';
import { predictFinetuned, predictionsCsv } from '../../train/predict';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type FinetuneParams = TaskParams<'train.finetune'>;

const Cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** The dataset's rows as fine-tuning reads them (train/finetune-data's FinetuneTable). */
export const FinetuneInput = z.object({ ids: z.array(z.string()), sequences: z.array(z.string()), columns: z.array(z.object({ name: z.string(), values: z.array(Cell) })) });

export const finetuneTask = defineTask({
  ...contract('train.finetune'),
  input: FinetuneInput,
  checkpoint: z.null(),
  async run(context) {
    const { params } = context;
    // An app run's folder is relative to the project; the command line gives an absolute --out.
    const outDir = resolve(context.workDir, params.runDir);
    const summary = await runFinetune({
      modelDir: params.modelDir,
      outDir,
      table: context.input,
      settings: params.settings,
      initAdapterDir: params.initAdapterDir ? resolve(context.workDir, params.initAdapterDir) : null,
      signal: context.signal,
      onMetrics: (metrics) => context.metrics(metrics),
      onProgress: (fraction, message) => context.progress(fraction, message),
    });
    return { ...summary, runDir: params.runDir };
  },
});

export type TrainImportParams = TaskParams<'train.import'>;

/** Copies a fine-tuned model's files into the run's folder and builds its merged model on the base model. */
export const trainImportTask = defineTask({
  ...contract('train.import'),
  input: z.null(),
  checkpoint: z.null(),
  async run(context) {
    const { params } = context;
    context.progress(0.05, 'Checking the adapter against the model and building the merged model');
    const summary = await importFinetuned(params.sourceDir, join(context.workDir, params.runDir), params.modelDir);
    return { ...summary, runDir: params.runDir };
  },
});

export type TrainPredictParams = TaskParams<'train.predict'>;

export const TrainPredictInput = z.object({ ids: z.array(z.string()), sequences: z.array(z.string()) });
export type TrainPredictInput = z.output<typeof TrainPredictInput>;

export const trainPredictTask = defineTask({
  ...contract('train.predict'),
  input: TrainPredictInput,
  checkpoint: z.null(),
  async run(context) {
    const { params, signal } = context;
    const { input } = context;
    const predictions = await predictFinetuned(resolve(context.workDir, params.runDir), input.sequences, {
      ...(params.baseModelDir ? { baseModelDir: params.baseModelDir } : {}),
      ...(params.batchTokens ? { batchTokens: params.batchTokens } : {}),
      device: params.device,
      signal,
      onProgress: (done, total) => context.progress(done / total, `${done} of ${total} sequences`),
    });
    writeBytesAtomically(resolve(context.workDir, params.outPath), new TextEncoder().encode(predictionsCsv(input.ids, predictions)));
    return { outPath: params.outPath, sequences: input.ids.length, columns: predictions.columns, device: predictions.device, fallbackReason: predictions.fallbackReason, truncated: predictions.truncated };
  },
});
