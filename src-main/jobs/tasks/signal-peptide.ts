/**
 * jobs/tasks/signal-peptide — `train.signalPeptide`: a PEFT-SP run (train/signal-peptide: LoRA,
 * a 37-state emission head and the CRF) on a SignalP 6.0 3-line FASTA, into the run's folder,
 * streaming per-epoch training loss and validation (loss, detection and CS MCC) as metrics; a
 * resumed attempt continues from the folder's last epoch checkpoint. `train.signalPeptideCv`: the
 * six partition arrangements (train/signal-peptide-cv). `train.signalPeptidePredict`: a trained
 * run's predictions for new proteins (train/signal-peptide-model).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Metric } from '../../api/schemas';
import type { TaskParams } from '../../api/tasks';
import { SIGNALP_KINGDOMS, SIGNALP_TYPES } from '../../datasets/signalp';
import { SIGNALP_MAX_RESIDUES } from '../../train/crf';
import { runSignalPeptideFinetune, type SignalPeptideEpoch } from '../../train/signal-peptide';
import { runSignalPeptideCrossValidation } from '../../train/signal-peptide-cv';
import { openTrainedSignalPeptide, predictSignalPeptideInputs } from '../../train/signal-peptide-model';
import { writePredictions } from '../../train/signal-peptide-predictions';
import { contract, defineTask } from '../task';

export type SignalPeptideParams = TaskParams<'train.signalPeptide'>;

/** The SignalP file as read by the caller (its name names it in messages). */
export const SignalPeptideInput = z.object({ fileName: z.string(), text: z.string() });

/** One epoch's line of the training curves (undefined values left out). */
function epochMetrics(entry: SignalPeptideEpoch, step: number): Metric[] {
  return Object.entries({ epoch: entry.epoch, epoch_train_loss: entry.trainLoss, val_loss: entry.valLoss, val_detection_mcc: entry.detectionMcc, val_cs_mcc: entry.csMcc })
    .filter((pair): pair is [string, number] => pair[1] !== null)
    .map(([name, value]) => ({ step, name, value }));
}

export const signalPeptideTask = defineTask({
  ...contract('train.signalPeptide'),
  input: SignalPeptideInput,
  checkpoint: z.null(),
  async run(context) {
    const { params, input } = context;
    const outDir = resolve(context.workDir, params.runDir);
    const summary = await runSignalPeptideFinetune({
      modelDir: params.modelDir,
      outDir,
      fileName: input.fileName,
      text: input.text,
      settings: params.settings,
      signal: context.signal,
      onProgress: (fraction, message) => context.progress(fraction, message),
      onEpoch: (entry, step) => context.metrics(epochMetrics(entry, step)),
    });
    return { ...summary, runDir: params.runDir };
  },
});

/** PEFT-SP's cross-validation: the six arrangements, each its own resumable run, then their averaged table. */
export const signalPeptideCvTask = defineTask({
  ...contract('train.signalPeptideCv'),
  input: SignalPeptideInput,
  checkpoint: z.null(),
  async run(context) {
    const { params, input } = context;
    const summary = await runSignalPeptideCrossValidation({
      modelDir: params.modelDir,
      outDir: resolve(context.workDir, params.runDir),
      fileName: input.fileName,
      text: input.text,
      partitions: params.partitions,
      settings: params.settings,
      signal: context.signal,
      onProgress: (fraction, message) => context.progress(fraction, message),
      onEpoch: (entry, step, arrangement) => context.metrics([{ step, name: 'arrangement', value: arrangement + 1 }, ...epochMetrics(entry, step)]),
    });
    return { ...summary, runDir: params.runDir };
  },
});

/** The proteins to predict, prepared by the main side (a dataset's rows or a FASTA file, checked). */
export const SignalPeptidePredictInput = z.object({
  proteins: z.array(
    z.object({
      id: z.string(),
      sequence: z.string().min(1),
      kingdom: z.enum(SIGNALP_KINGDOMS).nullable(),
      partition: z.number().int().nullable(),
      type: z.enum(SIGNALP_TYPES).nullable(),
      labels: z.string().nullable(),
    }),
  ),
});

/** Predictions of new sequences with a trained run's model, into this run's folder (signal-peptides.json). */
export const signalPeptidePredictTask = defineTask({
  ...contract('train.signalPeptidePredict'),
  input: SignalPeptidePredictInput,
  checkpoint: z.null(),
  async run(context) {
    const { params, input } = context;
    const outDir = resolve(context.workDir, params.runDir);
    mkdirSync(outDir, { recursive: true });
    const model = await openTrainedSignalPeptide(resolve(context.workDir, params.modelRunDir), { device: params.device, ...(params.baseModelDir ? { baseModelDir: params.baseModelDir } : {}) });
    try {
      const set = await predictSignalPeptideInputs(model, input.proteins, {
        signal: context.signal,
        onProgress: (done, total) => context.progress(done / total, `${done} of ${total} proteins`),
      });
      writePredictions(outDir, set, [{ train: [], validation: [], test: [], state: 'done', bestEpoch: null }]);
      const truncated = input.proteins.filter((p) => p.sequence.length > SIGNALP_MAX_RESIDUES).length;
      return { runDir: params.runDir, sequences: input.proteins.length, truncated, device: model.device };
    } finally {
      await model.close();
    }
  },
});
