// lib/types — the API data types the renderer uses, re-exported from the back end's contract (types only).
export type {
  Dataset,
  ImportOptions,
  ImportReport,
  ImportSource,
  Job,
  JobState,
  LabelColumn,
  Metric,
  Model,
  Project,
  Run,
  SequenceRow,
} from '../../../src-main/api/schemas';
