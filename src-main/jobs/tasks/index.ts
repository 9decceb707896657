/** jobs/tasks — the registry of task bodies the compute process can run, by job kind. */
import { z } from 'zod';
import { FinetuneSettings } from '../../api/schemas';
import { DEVICES } from '../../core/devices';
import { SCORE_METHODS } from '../../variants/score';
import { benchmark } from './benchmark';
import { embedDataset } from './embed-dataset';
import { compressEmbeddings, exportEmbeddings } from './embedding-files';
import { finetuneTask, trainImportTask, trainPredictTask } from './finetune';
import { learnPredict } from './learn-predict';
import { learnScan } from './learn-scan';
import { mapProject } from './map-project';
import { downloadAndInstallModel, installModel } from './models';
import { structureInspect } from './structure-inspect';
import type { Task } from './types';
import { saturateProtein, scoreDataset } from './variants';

interface TaskEntry {
  params: z.ZodType;
  run: Task<never, never>;
}

const storedMatrix = z.object({ path: z.string(), rows: z.number().int(), cols: z.number().int(), offsetsPath: z.string().nullable() });
const variantsCommon = {
  runDir: z.string(),
  models: z.array(z.object({ id: z.number(), name: z.string(), dir: z.string() })).min(1),
  device: z.enum(DEVICES),
  batchTokens: z.number().int().positive(),
};
const install = { precision: z.enum(['fp32', 'fp16']), targetDir: z.string(), catalogId: z.string().nullable() };

export const tasks: Record<string, TaskEntry> = {
  /** The Structure page's contacts and per-layer attention of one sequence (see structure-inspect). */
  'structure.inspect': {
    params: z.object({ modelDir: z.string(), modelName: z.string(), sequence: z.string().min(1), outDir: z.string() }),
    run: structureInspect as Task<never, never>,
  },
  'variants.score': {
    params: z.object({ ...variantsCommon, methods: z.array(z.enum(SCORE_METHODS)).min(1) }),
    run: scoreDataset as Task<never, never>,
  },
  'variants.saturate': {
    params: z.object({ ...variantsCommon, method: z.enum(SCORE_METHODS), wildType: z.string().min(1), wildTypeName: z.string(), offset: z.number().int() }),
    run: saturateProtein as Task<never, never>,
  },
  'system.benchmark': {
    params: z.object({ seconds: z.number().positive(), size: z.number().int().positive() }),
    run: benchmark as Task<never, never>,
  },
  'embed.dataset': {
    params: z.object({
      runDir: z.string(),
      models: z.array(z.object({ id: z.number(), name: z.string(), dir: z.string() })).min(1),
      layers: z.array(z.number().int()),
      pool: z.array(z.enum(['mean', 'bos', 'max', 'per-token'])),
      batchTokens: z.number().int().positive(),
      device: z.enum(DEVICES),
      threads: z.number().int().min(0),
      long: z.enum(['window', 'truncate']),
    }),
    run: embedDataset as Task<never, never>,
  },
  'model.install': {
    params: z.object({ source: z.string(), ...install }),
    run: installModel as Task<never, never>,
  },
  'model.download': {
    params: z.object({ repo: z.string(), downloadDir: z.string(), endpoint: z.string(), ...install }),
    run: downloadAndInstallModel as Task<never, never>,
  },
  'embeddings.compress': {
    params: z.object({ source: storedMatrix, bos: storedMatrix.nullable(), compression: z.string(), outPath: z.string() }),
    run: compressEmbeddings as Task<never, never>,
  },
  'learn.scan': {
    params: z.object({
      runDir: z.string(),
      target: z.string(),
      task: z.enum(['regression', 'classification']),
      learners: z.array(z.string()).min(1),
      split: z.object({ scheme: z.enum(['random', 'stratified', 'contiguous', 'modulo', 'column']), k: z.number().int(), seed: z.number().int(), column: z.string().optional() }),
      scaling: z.enum(['standard', 'minmax', 'none']),
      classWeight: z.enum(['balanced']).nullable(),
      items: z.array(z.object({ embeddingId: z.number(), modelName: z.string(), modelParameters: z.number(), layer: z.number(), pooling: z.string(), path: z.string() })).min(1),
    }),
    run: learnScan as Task<never, never>,
  },
  'learn.predict': {
    params: z.object({
      modelDir: z.string(),
      layer: z.number().int(),
      pooling: z.string(),
      learner: z.string(),
      task: z.enum(['regression', 'classification']),
      split: z.object({ scheme: z.enum(['random', 'stratified', 'contiguous', 'modulo', 'column']), k: z.number().int(), seed: z.number().int(), column: z.string().optional() }),
      scaling: z.enum(['standard', 'minmax', 'none']),
      classWeight: z.enum(['balanced']).nullable(),
      trainingPath: z.string(),
      device: z.enum(DEVICES),
      outPath: z.string(),
    }),
    run: learnPredict as Task<never, never>,
  },
  'embeddings.export': {
    params: z.object({ source: storedMatrix, format: z.enum(['npy', 'npz', 'csv', 'parquet']), outPath: z.string() }),
    run: exportEmbeddings as Task<never, never>,
  },
  'map.project': {
    params: z.object({
      source: z.object({ path: z.string(), rows: z.number().int().positive(), cols: z.number().int().positive() }),
      outPath: z.string(),
      method: z.enum(['pca', 'umap']),
      nNeighbors: z.number().int().min(2),
      minDist: z.number().min(0),
      nEpochs: z.number().int().positive().nullable(),
      seed: z.number().int(),
      pcaDims: z.number().int().min(2),
    }),
    run: mapProject as Task<never, never>,
  },
  'train.finetune': {
    params: z.object({ modelDir: z.string(), modelName: z.string(), runDir: z.string(), settings: FinetuneSettings, initAdapterDir: z.string().nullable() }),
    run: finetuneTask as Task<never, never>,
  },
  'train.import': {
    params: z.object({ sourceDir: z.string(), runDir: z.string(), modelDir: z.string() }),
    run: trainImportTask as Task<never, never>,
  },
  'train.predict': {
    params: z.object({ runDir: z.string(), device: z.enum(DEVICES), outPath: z.string() }),
    run: trainPredictTask as Task<never, never>,
  },
};
