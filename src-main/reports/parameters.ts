/**
 * reports/parameters — a run's parameters as a reader says them: "Learning rate 0.001",
 * "Cross-validation: contiguous blocks of positions · 5 folds · seed 42", never the stored JSON
 * (`{"scheme":"contiguous",…}`) or the internal key names. File locations inside the project and
 * lists other sections show (models, embeddings, the dataset) are left out.
 */
import { humanize } from '../core/wording';
import { formatValue } from './html';

/** Keys whose values other sections show, or that are locations inside the project. */
const HIDDEN = new Set(['runDir', 'items', 'models', 'outPath', 'modelDir', 'datasetId', 'trainingPath', 'initAdapterDir', 'sourceDir']);
const isHidden = (key: string): boolean => HIDDEN.has(key) || /(Dir|Path)$/.test(key);

/** Objects whose fields are each a setting of their own (one row per field, no prefix). */
const SPREAD = new Set(['settings']);

const LABELS: Record<string, string> = {
  lr: 'Learning rate',
  loraR: 'LoRA rank',
  loraAlpha: 'LoRA alpha',
  loraDropout: 'LoRA dropout',
  loraTargets: 'LoRA on',
  loraLayers: 'LoRA layers',
  lora: 'LoRA',
  r: 'rank',
  alpha: 'alpha',
  targets: 'Targets',
  layers: 'Layers',
  peft: 'Parameter-efficient method',
  headOnly: 'Head only',
  headDropout: 'Head dropout',
  pool: 'Pooling',
  batchTokens: 'Tokens per batch',
  batchSize: 'Proteins per batch',
  valFraction: 'Validation share',
  maxGradNorm: 'Gradient clipping (max norm)',
  warmupRatio: 'Warm-up share of steps',
  weightDecay: 'Weight decay',
  accumulation: 'Gradient accumulation (batches)',
  maxSteps: 'Most updates',
  patience: 'Early-stopping patience (epochs)',
  metric: 'Validation metric',
  classWeight: 'Class weights',
  split: 'Cross-validation',
  scheme: 'scheme',
  k: 'folds',
  seed: 'Seed',
  column: 'column',
  scaling: 'Feature scaling',
  learners: 'Learners',
  target: 'Target',
  task: 'Task',
  modelName: 'Model',
  wildTypeName: 'Protein',
  wildType: 'Wild-type sequence',
  offset: 'Numbering offset',
  method: 'Method',
  methods: 'Methods',
  threads: 'CPU threads (0: all)',
  long: 'Sequences longer than the model’s window',
  pooling: 'Pooling',
  layer: 'Layer',
  learner: 'Learner',
  device: 'Device',
  trainPartitions: 'Training partitions',
  validationPartitions: 'Validation partitions',
  regularization: 'Region regulariser weight',
  attentionLayers: 'Attention of layers',
};

/** Stored values that read better as words. */
const VALUE_WORDS: Record<string, Record<string, string>> = {
  scheme: { random: 'random', stratified: 'stratified by class', contiguous: 'contiguous blocks of positions', modulo: 'positions by modulo', column: 'from a column' },
  long: { window: 'read in overlapping windows', truncate: 'cut at the window' },
  classWeight: { none: 'none', balanced: 'balanced' },
};

const MAX_VALUE_CHARS = 400;

/** Words for stored values by key, beyond VALUE_WORDS (e.g. learner ids → their names, given by the caller). */
export type ValueWords = Record<string, Record<string, string>>;

const label = (key: string): string => LABELS[key] ?? humanize(key);

function valueText(key: string, value: unknown, words: ValueWords = {}): string {
  if (typeof value === 'string') return words[key]?.[value] ?? VALUE_WORDS[key]?.[value] ?? value;
  if (value === null) return key === 'classWeight' ? 'none' : '—';
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return value.length === 0 ? 'none' : value.map((v) => valueText(key, v, words)).join(', ');
    return value.map((v) => (v && typeof v === 'object' ? objectText(v as Record<string, unknown>, words) : valueText(key, v, words))).join('; ');
  }
  if (typeof value === 'object') return objectText(value as Record<string, unknown>, words);
  return formatValue(value);
}

/** "scheme contiguous blocks of positions · folds 5 · seed 42" */
function objectText(object: Record<string, unknown>, words: ValueWords): string {
  const parts = Object.entries(object)
    .filter(([key, value]) => !isHidden(key) && value !== undefined)
    .map(([key, value]) => `${label(key).replace(/^./, (c) => c.toLowerCase())} ${valueText(key, value, words)}`);
  return parts.length > 0 ? parts.join(' · ') : '—';
}

const clip = (text: string): string => (text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text);

/** The parameter table's rows: [what, its value in words]. */
export function parameterRows(params: Record<string, unknown>, words: ValueWords = {}): [string, string][] {
  return Object.entries(params).flatMap(([key, value]): [string, string][] => {
    if (isHidden(key) || value === undefined) return [];
    if (SPREAD.has(key) && value && typeof value === 'object' && !Array.isArray(value)) return parameterRows(value as Record<string, unknown>, words);
    return [[label(key), clip(valueText(key, value, words))]];
  });
}
