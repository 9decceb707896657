/**
 * api/signal-peptide — the contract of signal-peptide prediction the PEFT-SP way (issue 16): the
 * form's settings, the requests that start training, cross-validation and prediction jobs, and the
 * shapes of their results (the per-kingdom benchmark table, the prediction list, one protein's
 * region probabilities and Viterbi segments). Schemas only; the services hold the logic.
 *
 * Conventions: positions are 1-based residue numbers; a cleavage site (CS) is the position of the
 * last residue of the signal peptide (cleavage is after it), null when there is none; metrics that
 * are undefined (0/0, a type never predicted) are null, never 0.
 */
import { z } from 'zod';
import { Device, ExportFile, Id, Job, LoraTargetName, PeftChoice } from './schemas';

/** SignalP 6.0's kingdoms and types, in its order (datasets/signalp). */
export const SignalpKingdomName = z.enum(['EUKARYA', 'POSITIVE', 'NEGATIVE', 'ARCHAEA']);
export type SignalpKingdomName = z.infer<typeof SignalpKingdomName>;
export const SignalpTypeName = z.enum(['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN']);
export type SignalpTypeName = z.infer<typeof SignalpTypeName>;

/**
 * The per-residue probability tracks of SignalP's region plot, each summed over the 37 CRF states:
 * n = {SP,LIPO,TAT,TATLIPO}_N; h = {SP,LIPO,TAT,TATLIPO,PILIN}_H; c = SP_C, TAT_C; rr = the Tat
 * twin-arginine motif; lipobox = the Sec/SPII and Tat/SPII cleavage-site states before the Cys;
 * pilin = the Sec/SPIII leader; other = everything else (inside, membrane, outside, the lipidated Cys).
 * The seven sum to 1 at every residue.
 */
export const SignalPeptideTrackName = z.enum(['n', 'h', 'c', 'rr', 'lipobox', 'pilin', 'other']);
export type SignalPeptideTrackName = z.infer<typeof SignalPeptideTrackName>;

/** Regions of the Viterbi path (what a view colours): the signal peptide's regions, the lipidated Cys, and the mature protein's topology. */
export const SignalPeptideRegionName = z.enum(['n', 'h', 'c', 'rr', 'lipobox', 'pilin', 'cys', 'inside', 'membrane', 'outside']);
export type SignalPeptideRegionName = z.infer<typeof SignalPeptideRegionName>;

/** PEFT-SP's defaults; every field settable (signalPeptide.options explains each). */
export const SignalPeptideSettings = z.object({
  /** H1's PEFT choice (LoRA, prompts, adapters), passed through to training when given; absent: LoRA. */
  peft: PeftChoice.optional(),
  loraR: z.number().int().min(1).max(512).default(8),
  loraAlpha: z.number().positive().max(4096).default(16),
  loraDropout: z.number().min(0).lt(1).default(0.1),
  loraTargets: z.array(LoraTargetName).min(1, 'Choose at least one projection to adapt.').default(['query', 'key', 'value', 'attention-output']),
  /** 'all', or the top K layers (PEFT-SP: the top layers). */
  loraLayers: z.union([z.literal('all'), z.number().int().min(1)]).default(4),
  epochs: z.number().int().min(1).max(10_000).default(10),
  /** Proteins per optimizer step. */
  batchSize: z.number().int().min(1).max(1000).default(20),
  /** Adamax's learning rate. */
  lr: z.number().positive().max(10).default(1e-3),
  maxGradNorm: z.number().positive().default(0.25),
  /** Weight of the region regulariser (cosine between n/h and h/c amino-acid profiles); 0 turns it off. */
  regularization: z.number().min(0).max(100).default(0.5),
  seed: z.number().int().default(42),
  device: Device.default('cpu'),
  threads: z.number().int().min(0).max(512).default(0),
});
export type SignalPeptideSettings = z.output<typeof SignalPeptideSettings>;

const Partitions = z.array(z.number().int().min(0)).max(64);

/** Train one model on a dataset imported from a SignalP 6.0 file (columns kingdom, type, partition, residue_labels). */
export const SignalPeptideTrainRequest = z
  .object({
    projectId: Id,
    datasetId: Id,
    modelId: Id,
    trainPartitions: Partitions.min(1, 'Choose at least one partition to train on.').default([0]),
    /** Picks the best epoch (detection MCC + CS MCC, averaged over kingdoms); empty: the last epoch is kept. */
    validationPartitions: Partitions.default([1]),
    /** Held out and predicted after training (signalPeptide.results); empty: no test. */
    testPartitions: Partitions.default([2]),
    ...SignalPeptideSettings.shape,
  })
  .strict();

/** PEFT-SP's cross-validation: every arrangement of three partitions (train, validate, test): six models. */
export const SignalPeptideCrossValidateRequest = z
  .object({
    projectId: Id,
    datasetId: Id,
    modelId: Id,
    partitions: Partitions.length(3, 'Give exactly three partitions.').default([0, 1, 2]),
    ...SignalPeptideSettings.shape,
  })
  .strict();

/** New sequences: a dataset of the project, or FASTA text (plain FASTA, or SignalP's 3-line format whose labels then count as the truth). */
export const SignalPeptidePredictSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dataset'), datasetId: Id }),
  z.object({ kind: z.literal('fasta'), fileName: z.string().min(1).max(300), text: z.string().min(1, 'The FASTA text is empty.') }),
]);

export const SignalPeptidePredictRequest = z
  .object({
    /** A finished signal-peptide training run (or a cross-validation run: its best arrangement's model). */
    runId: Id,
    source: SignalPeptidePredictSource,
    /** Asked only when the run's model uses the kingdom (SignalPeptideResults.usesKingdom); PEFT-SP's does not. */
    kingdom: SignalpKingdomName.nullable().default(null),
    device: Device.default('cpu'),
  })
  .strict();

export const SignalPeptideOptions = z.object({
  defaults: SignalPeptideSettings,
  /** One sentence per setting (keys of SignalPeptideSettings, plus trainPartitions/validationPartitions/testPartitions/partitions). */
  explanations: z.record(z.string(), z.string()),
  kingdoms: z.array(z.object({ id: SignalpKingdomName, label: z.string() })),
  /** Types with their names in the papers (Sec/SPI…). */
  types: z.array(z.object({ id: SignalpTypeName, label: z.string() })),
  tracks: z.array(z.object({ id: SignalPeptideTrackName, label: z.string() })),
  regions: z.array(z.object({ id: SignalPeptideRegionName, label: z.string() })),
});
export type SignalPeptideOptions = z.infer<typeof SignalPeptideOptions>;

const Metric = z.number().nullable();
const TypeProbabilities = z.object({ NO_SP: z.number(), SP: z.number(), LIPO: z.number(), TAT: z.number(), TATLIPO: z.number(), PILIN: z.number() });

/** One cell of the paper's table (a kingdom and a signal-peptide type), averaged over the test runs. */
export const SignalPeptideCell = z.object({
  kingdom: SignalpKingdomName,
  type: SignalpTypeName,
  mcc1: Metric,
  mcc2: Metric,
  /** CS recall, precision and F1 at windows 0, 1, 2, 3 residues (index = window). F1 is the mean of the per-run F1s. */
  recall: z.array(Metric).length(4),
  precision: z.array(Metric).length(4),
  f1: z.array(Metric).length(4),
});
export type SignalPeptideCell = z.infer<typeof SignalPeptideCell>;

export const SignalPeptideTable = z.object({
  /** Test runs averaged (6 for a full cross-validation). */
  runs: z.number().int(),
  /** Always the 16 cells in the paper's order: ARCHAEA × (SP, LIPO, PILIN, TAT, TATLIPO), EUKARYA SP, NEGATIVE × …, POSITIVE × …. */
  cells: z.array(SignalPeptideCell),
  /** Plain mean of MCC2 over the defined cells (the paper's headline). */
  meanMcc2: Metric,
  /** PEFT-SP's selection metrics on the test sets: multiclass type MCC and CS MCC per kingdom, and their means over kingdoms. */
  selection: z.object({
    perKingdom: z.array(z.object({ kingdom: SignalpKingdomName, detectionMcc: Metric, csMcc: Metric })),
    detectionMcc: Metric,
    csMcc: Metric,
  }),
});
export type SignalPeptideTable = z.infer<typeof SignalPeptideTable>;

/** One train/validate/test arrangement of a run (a single training run has one). */
export const SignalPeptideArrangement = z.object({
  train: z.array(z.number().int()),
  validation: z.array(z.number().int()),
  test: z.array(z.number().int()),
  /** 'done': trained and tested; 'pending': not (yet) — a cancelled cross-validation resumes there. */
  state: z.enum(['done', 'pending']),
  bestEpoch: z.number().int().nullable(),
});

/** One predicted protein (a row of the prediction table). */
export const SignalPeptideRow = z.object({
  /** Position in `predictions` (0-based): what signalPeptide.protein takes. */
  index: z.number().int(),
  id: z.string(),
  kingdom: SignalpKingdomName.nullable(),
  partition: z.number().int().nullable(),
  /** Index into `arrangements` of the model that predicted it (each protein is tested twice in a cross-validation). */
  arrangement: z.number().int(),
  trueType: SignalpTypeName.nullable(),
  trueCleavageSite: z.number().int().nullable(),
  predictedType: SignalpTypeName,
  /** The predicted type's probability (its share of the averaged marginals). */
  probability: z.number(),
  typeProbabilities: TypeProbabilities,
  /** From the Viterbi path: the last residue in a cleavage-site state; null when the path has none. */
  cleavageSite: z.number().int().nullable(),
  /** P(cleavage right after `cleavageSite`) from the marginals; null without a site. */
  cleavageProbability: z.number().nullable(),
  /** Residues of the protein; only the first `predictedLength` (≤ 70, PEFT-SP's input) were predicted. */
  length: z.number().int(),
  predictedLength: z.number().int(),
});
export type SignalPeptideRow = z.infer<typeof SignalPeptideRow>;

export const SignalPeptideResults = z.object({
  runId: Id,
  /** 'test': one training run's held-out partition(s); 'cross-validation': all arrangements; 'new-sequences': a prediction run. */
  source: z.enum(['test', 'cross-validation', 'new-sequences']),
  /** The training run whose model predicted (itself, except for 'new-sequences'). */
  modelRunId: Id,
  modelName: z.string(),
  /** Whether the model takes the kingdom as an input (PEFT-SP's does not): only then predict asks for it. */
  usesKingdom: z.boolean(),
  arrangements: z.array(SignalPeptideArrangement),
  /** Null when no protein has a known true type (new sequences) or no arrangement is done yet. */
  table: SignalPeptideTable.nullable(),
  predictions: z.array(SignalPeptideRow),
});
export type SignalPeptideResults = z.infer<typeof SignalPeptideResults>;

export const SignalPeptideSegment = z.object({ region: SignalPeptideRegionName, start: z.number().int(), end: z.number().int() });
export type SignalPeptideSegment = z.infer<typeof SignalPeptideSegment>;

/** One protein for the region view: SignalP's plot of per-residue probabilities and the Viterbi regions. */
export const SignalPeptideProtein = SignalPeptideRow.extend({
  runId: Id,
  /** The predicted residues (the first `predictedLength`). */
  sequence: z.string(),
  /** The true per-residue labels (S T L P I M O) when known, same length as `sequence`. */
  trueLabels: z.string().nullable(),
  /** Seven tracks, each `predictedLength` long, summing to 1 per residue. */
  tracks: z.array(z.object({ region: SignalPeptideTrackName, values: z.array(z.number()) })),
  /** Per residue i: P(the signal peptide ends at i, cleavage right after it), from the pairwise marginals. */
  cleavage: z.array(z.number()),
  /** The Viterbi path as contiguous regions, 1-based inclusive, covering 1..predictedLength. */
  segments: z.array(SignalPeptideSegment),
});
export type SignalPeptideProtein = z.infer<typeof SignalPeptideProtein>;

export const SignalPeptideExportFormat = z.enum(['summary', 'gff3', 'csv']);

/** The methods of api/contract that belong to signal peptides. */
export const SIGNAL_PEPTIDE_METHODS = {
  /** The form's defaults and one sentence per setting, the kingdoms, types, tracks and regions with their labels. */
  'signalPeptide.options': { input: z.object({}).strict(), output: SignalPeptideOptions },
  /** Queues a training run (a project run with live curves, resumable after cancel); returns its job. */
  'signalPeptide.train': { input: SignalPeptideTrainRequest, output: Job },
  /** Queues a cross-validation run (six arrangements, each resumable); returns its job. */
  'signalPeptide.crossValidate': { input: SignalPeptideCrossValidateRequest, output: Job },
  /** Queues predictions of new sequences with a finished run's model (a run of kind train.signalPeptidePredict); returns its job. */
  'signalPeptide.predict': { input: SignalPeptidePredictRequest, output: Job },
  /** A finished (or partly finished) signal-peptide run's table and predictions. */
  'signalPeptide.results': { input: z.object({ runId: Id }).strict(), output: SignalPeptideResults },
  /** One predicted protein: probability tracks, cleavage probabilities and Viterbi segments. */
  'signalPeptide.protein': { input: z.object({ runId: Id, index: z.number().int().min(0) }).strict(), output: SignalPeptideProtein },
  /**
   * Writes a run's predictions into the project's exports folder as SignalP 6.0 does: 'summary' (prediction_results.txt:
   * ID, prediction, the six probabilities, CS position), 'gff3' (the predicted regions), or 'csv'.
   */
  'signalPeptide.export': { input: z.object({ runId: Id, format: SignalPeptideExportFormat }).strict(), output: ExportFile },
} as const;
