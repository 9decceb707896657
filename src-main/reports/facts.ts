/**
 * reports/facts — everything a report says about a run, gathered by services/reports and handed
 * to the pure builder. Kind-specific facts are optional fields: a new run kind adds its own field
 * here and its sections in reports/sections (see KIND_SECTIONS in reports/index).
 */
import type { Fit, LabelColumn, Metric, Run } from '../api/schemas';

export interface DatasetFacts {
  id: number;
  name: string;
  sourceFile: string;
  format: string;
  sequenceCount: number;
  lengths: { min: number; median: number; mean: number; max: number } | null;
  labelColumns: LabelColumn[];
}

export interface ModelFacts {
  name: string;
  /** The family, for people: 'ESM-2' or 'ESM C'. */
  family: string;
  catalogId: string | null;
  layers: number;
  hiddenSize: number;
  precision: string;
  /** Counted from the checkpoint's tensors (services/model-facts); 0 when unknown. */
  parameters: number;
  /** The source checkpoint's checksum from the model's manifest.json; null when the manifest is gone. */
  checksum: string | null;
}

export interface SoftwareFacts {
  app: string;
  onnxruntime: string;
  node: string;
  electron: string | null;
  platform: string;
}

export interface EmbeddingFacts {
  modelName: string;
  layer: number;
  pooling: string;
  rows: number;
  cols: number;
  path: string;
}

/** Out-of-fold predictions of one fit (regression), with the fit they belong to. */
export interface FitPredictions {
  fit: Fit;
  measured: number[];
  predicted: number[];
}

export interface ScanFacts {
  fits: Fit[];
  /** The best fit by the main metric, with its out-of-fold predictions; null when none can be read. */
  best: FitPredictions | null;
}

export interface ReportFacts {
  /** ISO date of the report. */
  generatedAt: string;
  /** Words for stored values, by parameter key (learner ids → their names). */
  valueWords?: Record<string, Record<string, string>>;
  /** The reader's time zone (IANA name) the report's dates are written in; absent: this process's. */
  timeZone?: string;
  project: { id: number; name: string };
  run: Run;
  dataset: DatasetFacts | null;
  models: ModelFacts[];
  /** The device the run asked for (cpu, cuda, …), when it has one. */
  device: string | null;
  software: SoftwareFacts;
  /** The run's recorded series (training curves); empty for most non-training runs. */
  metrics: Metric[];
  embeddings?: EmbeddingFacts[];
  scan?: ScanFacts;
  saturation?: SaturationFacts;
}

/** A saturation map's protein and its scores (as the Variants page shows them). */
export interface SaturationFacts {
  name: string;
  wildType: string;
  /** Residue number of the first residue − 1. */
  offset: number;
  method: string;
  /** Column order of each map's scores. */
  aminoAcids: string[];
  /** One map per model, then "ensemble" when there are several: [L × 20] row-major, 0 at the wild type, null when not scored. */
  maps: { model: string; scores: (number | null)[] }[];
}
