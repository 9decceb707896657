/**
 * jobs/tasks/signal-peptide — `train.signalPeptide`: a PEFT-SP run (train/signal-peptide: LoRA,
 * a 37-state emission head and the CRF) on a SignalP 6.0 3-line FASTA, into the run's folder,
 * streaming per-step losses and per-epoch validation (loss, detection and CS MCC) as metrics.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { runSignalPeptideFinetune } from '../../train/signal-peptide';
import { contract, defineTask } from '../task';

export type SignalPeptideParams = TaskParams<'train.signalPeptide'>;

/** The SignalP file as read by the caller (its name names it in messages). */
export const SignalPeptideInput = z.object({ fileName: z.string(), text: z.string() });

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
      onEpoch: (entry, step) =>
        context.metrics(
          Object.entries({ epoch: entry.epoch, epoch_train_loss: entry.trainLoss, val_loss: entry.valLoss, val_detection_mcc: entry.detectionMcc, val_cs_mcc: entry.csMcc })
            .filter((pair): pair is [string, number] => pair[1] !== null)
            .map(([name, value]) => ({ step, name, value })),
        ),
    });
    return { ...summary, runDir: params.runDir };
  },
});

/** PEFT-SP's cross-validation: all six arrangements (built next). */
export const signalPeptideCvTask = defineTask({
  ...contract('train.signalPeptideCv'),
  input: SignalPeptideInput,
  checkpoint: z.null(),
  run() {
    return Promise.reject(new Error('Signal-peptide cross-validation is not built yet.'));
  },
});

/** Predictions of new sequences with a trained run (built next). */
export const signalPeptidePredictTask = defineTask({
  ...contract('train.signalPeptidePredict'),
  input: SignalPeptideInput,
  checkpoint: z.null(),
  run() {
    return Promise.reject(new Error('Signal-peptide prediction is not built yet.'));
  },
});
