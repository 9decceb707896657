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
import type { FinetuneSettings } from '../../api/schemas';
import type { Device } from '../../engine/session';
import { writeBytesAtomically } from '../../core/atomic';
import { runFinetune } from '../../train/finetune';
import type { FinetuneTable } from '../../train/finetune-data';
import { importFinetuned } from '../../train/import';
import { predictFinetuned, predictionsCsv } from '../../train/predict';
import type { Task } from './types';

export interface FinetuneParams {
  modelDir: string;
  modelName: string;
  runDir: string;
  settings: FinetuneSettings;
  /** A PEFT adapter folder to start from, relative to the project folder or absolute; null: PEFT's init. */
  initAdapterDir: string | null;
}

export const finetuneTask: Task<FinetuneParams, never> = async (context) => {
  const { params } = context;
  const outDir = join(context.workDir, params.runDir);
  const summary = await runFinetune({
    modelDir: params.modelDir,
    outDir,
    table: context.input as FinetuneTable,
    settings: params.settings,
    initAdapterDir: params.initAdapterDir ? resolve(context.workDir, params.initAdapterDir) : null,
    signal: context.signal,
    onMetrics: (metrics) => context.metrics(metrics),
    onProgress: (fraction, message) => context.progress(fraction, message),
  });
  return { ...summary, runDir: params.runDir };
};

export interface TrainImportParams {
  /** The folder the model comes from (absolute). */
  sourceDir: string;
  /** The new run's folder, relative to the project folder. */
  runDir: string;
  modelDir: string;
}

/** Copies a fine-tuned model's files into the run's folder and builds its merged model on the base model. */
export const trainImportTask: Task<TrainImportParams, never> = async (context) => {
  const { params } = context;
  context.progress(0.05, 'Checking the adapter against the model and building the merged model');
  const summary = await importFinetuned(params.sourceDir, join(context.workDir, params.runDir), params.modelDir);
  return { ...summary, runDir: params.runDir };
};

export interface TrainPredictParams {
  /** The fine-tuning run's folder, relative to the project folder. */
  runDir: string;
  device: Device;
  outPath: string;
}

export interface TrainPredictInput {
  ids: string[];
  sequences: string[];
}

export const trainPredictTask: Task<TrainPredictParams, never> = async (context) => {
  const { params, signal } = context;
  const input = context.input as TrainPredictInput;
  const predictions = await predictFinetuned(join(context.workDir, params.runDir), input.sequences, {
    device: params.device,
    signal,
    onProgress: (done, total) => context.progress(done / total, `${done} of ${total} sequences`),
  });
  writeBytesAtomically(join(context.workDir, params.outPath), new TextEncoder().encode(predictionsCsv(input.ids, predictions)));
  return { outPath: params.outPath, sequences: input.ids.length, columns: predictions.columns, device: predictions.device, fallbackReason: predictions.fallbackReason, truncated: predictions.truncated };
};
