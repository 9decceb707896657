// lib/types — the API data types the renderer uses, re-exported from the back end's contract (types only).
export type {
  CatalogModel,
  Dataset,
  Embedding,
  ExportFile,
  ExportTable,
  FinetuneOptions,
  FinetuneSettings,
  PeftChoice,
  Fit,
  ImportOptions,
  ImportReport,
  ImportSource,
  Job,
  JobState,
  LabelColumn,
  Metric,
  Model,
  PoolingName,
  Project,
  Run,
  SequenceRow,
  SplitSpec,
} from '../../../src-main/api/schemas';

import type { Output } from '../../../src-main/api/contract';

/** One way of compressing per-residue embeddings, with its one-line explanation. */
export type CompressionInfo = Output<'embeddings.compressions'>[number];

/** What the scan form offers: learners and validation schemes (each with a one-sentence explanation). */
export type LearnOptions = Output<'learn.options'>;
export type LearnerInfo = LearnOptions['learners'][number];
export type SplitInfo = LearnOptions['splits'][number];
export type Task = 'regression' | 'classification' | 'multilabel';
