/**
 * cli/finetune-signal-peptide — `esm-studio finetune --task signal-peptide`: a PEFT-SP run (LoRA
 * on the top layers, a 37-state emission head and SignalP 6.0's CRF, Adamax, clipping 0.25) on a
 * SignalP 6.0 3-line FASTA (`>id|KINGDOM|TYPE|PARTITION`, sequence, labels), through the app's
 * `train.signalPeptide` task. Flags left at the general fine-tuning defaults take PEFT-SP's;
 * `--train-partitions` / `--val-partitions` pick the cross-validation arrangement.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { familyOfManifest, readManifest } from '../models/installed';
import { loraTargetsOffered, type LoraTarget } from '../train/lora';
import { SIGNAL_PEPTIDE_DEFAULTS } from '../train/signal-peptide';
import type { TaskParamsInput } from '../api/tasks';
import { runTaskHere } from '../jobs/run-here';
import { endProgress, interruptible, modelFolder, progressLine } from './engine-commands';
import { CliExit } from './exit';
import type { FinetuneFlags } from './finetune';

export interface SignalPeptideFlags {
  trainPartitions?: string;
  valPartitions?: string;
}

type Settings = TaskParamsInput<'train.signalPeptide'>['settings'];

function partitions(text: string, flag: string): number[] {
  const values = text.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 0)) throw new CliExit(`${flag}: give partition numbers separated by commas (the last field of each header, e.g. 0,1), got "${text}".`, 2);
  return values;
}

function numberFlag(text: string, flag: string, check: (value: number) => boolean): number {
  const value = Number(text);
  if (!Number.isFinite(value) || !check(value)) throw new CliExit(`${flag}: "${text}" is not a valid value.`, 2);
  return value;
}

/** Flags → settings: a flag the user gave wins, otherwise PEFT-SP's default. */
export function signalPeptideSettings(flags: FinetuneFlags & SignalPeptideFlags, given: (flag: keyof FinetuneFlags) => boolean, offered: readonly LoraTarget[]): Settings {
  const d = SIGNAL_PEPTIDE_DEFAULTS;
  const pick = <T>(flag: keyof FinetuneFlags, parse: () => T, fallback: T): T => (given(flag) ? parse() : fallback);
  const positive = (v: number): boolean => v > 0;
  const usualTargets = offered.filter((t) => (['query', 'key', 'value', 'qkv', 'attention-output'] as string[]).includes(t));
  if (given('optimizer') && flags.optimizer !== 'adamax') console.error('Signal-peptide training uses Adamax (PEFT-SP); --optimizer is ignored.');
  return {
    lora: {
      r: pick('loraR', () => numberFlag(flags.loraR, '--lora-r', (v) => Number.isInteger(v) && v > 0), d.loraR),
      alpha: pick('loraAlpha', () => numberFlag(flags.loraAlpha, '--lora-alpha', positive), d.loraAlpha),
      dropout: pick('loraDropout', () => numberFlag(flags.loraDropout, '--lora-dropout', (v) => v >= 0 && v <= 0.9), d.loraDropout),
      targets: pick('loraTargets', () => flags.loraTargets.split(',').map((t) => t.trim()) as LoraTarget[], usualTargets),
      layers: pick('loraLayers', () => (flags.loraLayers === 'all' ? ('all' as const) : numberFlag(flags.loraLayers, '--lora-layers', (v) => Number.isInteger(v) && v > 0)), d.loraLayers),
    },
    epochs: pick('epochs', () => numberFlag(flags.epochs, '--epochs', (v) => Number.isInteger(v) && v > 0), d.epochs),
    // PEFT-SP batches 20 proteins of 72 tokens; --batch-tokens is read as proteins × 72.
    batchSize: pick('batchTokens', () => Math.max(1, Math.floor(numberFlag(flags.batchTokens, '--batch-tokens', positive) / 72)), d.batchSize),
    lr: pick('lr', () => numberFlag(flags.lr, '--lr', positive), d.lr),
    maxGradNorm: flags.maxGradNorm ? numberFlag(flags.maxGradNorm, '--max-grad-norm', positive) : d.maxGradNorm,
    seed: numberFlag(flags.seed, '--seed', Number.isInteger),
    trainPartitions: partitions(flags.trainPartitions ?? '0', '--train-partitions'),
    validationPartitions: partitions(flags.valPartitions ?? '1', '--val-partitions'),
    device: flags.device as Settings['device'],
    threads: Number(flags.threads ?? 0),
  };
}

export async function signalPeptideCommand(flags: FinetuneFlags & SignalPeptideFlags, command: Command): Promise<void> {
  const path = resolve(flags.data);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliExit(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
  }
  const modelDir = await modelFolder(flags.model);
  const manifest = readManifest(modelDir);
  const given = (flag: keyof FinetuneFlags): boolean => command.getOptionValueSource(flag) === 'cli';
  const settings = signalPeptideSettings(flags, given, loraTargetsOffered(familyOfManifest(manifest), manifest.config));
  const outDir = resolve(flags.out);
  const interrupt = interruptible();
  try {
    const params = { modelDir, modelName: manifest.name, runDir: outDir, settings };
    const summary = await runTaskHere('train.signalPeptide', params, { fileName: basename(path), text }, process.cwd(), {
      signal: interrupt.signal,
      onProgress: progressLine,
      onMetrics: (metrics) => {
        const epoch = metrics.find((m) => m.name === 'epoch');
        if (!epoch) return;
        endProgress();
        const value = (name: string): string => metrics.find((m) => m.name === name)?.value.toPrecision(4) ?? '–';
        console.log(`epoch ${epoch.value}  step ${epoch.step}  train loss ${value('epoch_train_loss')}  val loss ${value('val_loss')}  detection MCC ${value('val_detection_mcc')}  CS MCC ${value('val_cs_mcc')}`);
      },
    });
    endProgress();
    const best = summary.bestEpoch === null ? '' : `; the adapter, head and CRF are those of epoch ${summary.bestEpoch}`;
    console.log(`Trained ${summary.steps} steps (${summary.trainProteins} training, ${summary.validationProteins} validation proteins) on ${summary.device}${best}; files in ${outDir}.`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Stopped; nothing was written.', 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}
