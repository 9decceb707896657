/**
 * cli/finetune-signal-peptide — `esm-studio finetune --task signal-peptide`: a PEFT-SP run (LoRA
 * on the top layers, a 37-state emission head and SignalP 6.0's CRF, Adamax, clipping 0.25) on a
 * SignalP 6.0 3-line FASTA (`>id|KINGDOM|TYPE|PARTITION`, sequence, labels), through the app's
 * `train.signalPeptide` task. Flags left at the general fine-tuning defaults take PEFT-SP's;
 * `--train-partitions` / `--val-partitions` / `--test-partitions` pick the arrangement, and
 * `--cross-validate` runs all six (`train.signalPeptideCv`). The test proteins' predictions are
 * written as SignalP 6.0 does (prediction_results.txt, region_output.gff3) and as predictions.csv.
 * `esm-studio predict` on such a run folder (signalPeptidePredictCommand) writes the same files for
 * new sequences.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeTextAtomically } from '../core/atomic';
import { signalpGff3Text, signalpSummaryText, signalpTimestamp, signalPeptideCsvText } from '../exports/signal-peptide';
import { CRF_FILE } from '../train/signal-peptide-model';
import { hasPredictions, predictionInputsFromText, readPredictions } from '../train/signal-peptide-predictions';
import { SIGNALP_KINGDOMS, type SignalpKingdom } from '../datasets/signalp';
import { DEVICES } from '../core/devices';
import type { Command } from 'commander';
import { familyOfManifest, readManifest } from '../models/installed';
import { loraTargetsOffered, type LoraTarget } from '../train/lora';
import { SIGNAL_PEPTIDE_DEFAULTS } from '../train/signal-peptide';
import type { TaskParamsInput } from '../api/tasks';
import { runTaskHere } from '../jobs/run-here';
import { endProgress, interruptible, modelFolder, parseList, progressLine } from './engine-commands';
import { CliExit } from './exit';
import type { FinetuneFlags } from './finetune';
import { peftChoiceFromFlags } from './peft-flags';

export interface SignalPeptideFlags {
  trainPartitions?: string;
  valPartitions?: string;
  /** Not given: those of 0, 1, 2 used neither to train nor to validate (PEFT-SP's third partition). */
  testPartitions?: string;
  crossValidate?: boolean;
}

/** SignalP 6.0's file names for its summary and regions, and the CSV beside them. */
export const SIGNALP_EXPORT_FILES = { summary: 'prediction_results.txt', gff3: 'region_output.gff3', csv: 'predictions.csv' } as const;

/** Writes a folder's predictions (signal-peptides.json) as SignalP 6.0's files and a CSV; returns how many proteins. */
export function writeSignalPeptideExports(dir: string): number {
  const { proteins } = readPredictions(dir);
  writeTextAtomically(join(dir, SIGNALP_EXPORT_FILES.summary), signalpSummaryText(proteins, { timestamp: signalpTimestamp(new Date()) }));
  writeTextAtomically(join(dir, SIGNALP_EXPORT_FILES.gff3), signalpGff3Text(proteins));
  writeTextAtomically(join(dir, SIGNALP_EXPORT_FILES.csv), signalPeptideCsvText(proteins));
  return proteins.length;
}

/** Whether a folder is a signal-peptide run (its CRF is there). */
export function isSignalPeptideRun(dir: string): boolean {
  return existsSync(join(dir, CRF_FILE));
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

const PEFT_FLAGS: readonly (keyof FinetuneFlags)[] = ['peft', 'promptLength', 'promptLayers', 'adapterSize', 'adapterLayers'];

/** Flags → settings: a flag the user gave wins, otherwise PEFT-SP's default (LoRA; --peft prompt|adapter instead). */
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
    // Only when asked for: a run's resume key holds its settings, and runs from before the choice have none.
    ...(PEFT_FLAGS.some((flag) => given(flag)) ? { peft: peftChoiceFromFlags(flags) } : {}),
    epochs: pick('epochs', () => numberFlag(flags.epochs, '--epochs', (v) => Number.isInteger(v) && v > 0), d.epochs),
    // PEFT-SP batches 20 proteins of 72 tokens; --batch-tokens is read as proteins × 72.
    batchSize: pick('batchTokens', () => Math.max(1, Math.floor(numberFlag(flags.batchTokens, '--batch-tokens', positive) / 72)), d.batchSize),
    lr: pick('lr', () => numberFlag(flags.lr, '--lr', positive), d.lr),
    maxGradNorm: flags.maxGradNorm ? numberFlag(flags.maxGradNorm, '--max-grad-norm', positive) : d.maxGradNorm,
    seed: numberFlag(flags.seed, '--seed', Number.isInteger),
    trainPartitions: partitions(flags.trainPartitions ?? '0', '--train-partitions'),
    validationPartitions: partitions(flags.valPartitions ?? '1', '--val-partitions'),
    testPartitions: testPartitions(flags),
    device: flags.device as Settings['device'],
    threads: Number(flags.threads ?? 0),
  };
}

function testPartitions(flags: SignalPeptideFlags): number[] {
  if (flags.testPartitions !== undefined) return flags.testPartitions.trim() === '' ? [] : partitions(flags.testPartitions, '--test-partitions');
  const used = new Set([...partitions(flags.trainPartitions ?? '0', '--train-partitions'), ...partitions(flags.valPartitions ?? '1', '--val-partitions')]);
  return [0, 1, 2].filter((p) => !used.has(p));
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
  if (flags.crossValidate) return crossValidateCommand({ modelDir, modelName: manifest.name, outDir, settings, fileName: basename(path), text });
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
    if (hasPredictions(outDir)) {
      const count = writeSignalPeptideExports(outDir);
      console.log(`Predicted the ${count} test proteins (partition ${settings.testPartitions?.join(', ')}): ${Object.values(SIGNALP_EXPORT_FILES).join(', ')}.`);
    }
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Stopped; the last finished epoch is kept: run the same command again to continue.', 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}

/** `finetune --task signal-peptide --cross-validate`: the six arrangements, then the averaged table. */
async function crossValidateCommand(run: { modelDir: string; modelName: string; outDir: string; settings: Settings; fileName: string; text: string }): Promise<void> {
  const { trainPartitions: _train, validationPartitions: _validation, testPartitions: _test, ...settings } = run.settings;
  const interrupt = interruptible();
  try {
    const params = { modelDir: run.modelDir, modelName: run.modelName, runDir: run.outDir, partitions: [0, 1, 2], settings };
    const summary = await runTaskHere('train.signalPeptideCv', params, { fileName: run.fileName, text: run.text }, process.cwd(), { signal: interrupt.signal, onProgress: progressLine });
    endProgress();
    const count = writeSignalPeptideExports(run.outDir);
    const mean = summary.meanMcc2 === null ? 'undefined' : summary.meanMcc2.toFixed(3);
    console.log(`Cross-validated ${summary.arrangements} arrangements on ${summary.device}: mean MCC2 over the 16 cells ${mean}; ${count} test predictions in ${Object.values(SIGNALP_EXPORT_FILES).join(', ')} (${run.outDir}).`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Stopped; finished arrangements and epochs are kept: run the same command again to continue.', 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}

/**
 * `esm-studio predict --finetuned <signal-peptide run> --fasta <file> --out <folder>`: the run's
 * model on plain FASTA (or SignalP's 3-line format, whose labels then count as the truth), written
 * as SignalP 6.0 does. The kingdom is only recorded (PEFT-SP's model does not read it).
 */
export async function signalPeptidePredictCommand(flags: { finetuned: string; model?: string; fasta?: string; device: string; out: string; kingdom?: string }, baseModelDir: string | undefined): Promise<void> {
  if (!flags.fasta) throw new CliExit('A signal-peptide run predicts a FASTA file: give it with --fasta <file>.', 2);
  const file = resolve(flags.fasta);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliExit(`Cannot read ${file}.`);
  }
  const kingdom = flags.kingdom ? flags.kingdom.toUpperCase() : null;
  if (kingdom !== null && !(SIGNALP_KINGDOMS as readonly string[]).includes(kingdom)) throw new CliExit(`--kingdom: one of ${SIGNALP_KINGDOMS.join(', ')}, got "${flags.kingdom}".`, 2);
  const device = parseList(flags.device, DEVICES, 'device')[0] ?? 'cpu';
  let proteins;
  try {
    proteins = predictionInputsFromText(basename(file), text, kingdom as SignalpKingdom | null);
  } catch (error) {
    throw new CliExit((error as Error).message);
  }
  const outDir = resolve(flags.out);
  mkdirSync(outDir, { recursive: true });
  const interrupt = interruptible();
  try {
    const params = { modelRunDir: resolve(flags.finetuned), runDir: outDir, device, kingdom: kingdom as SignalpKingdom | null, ...(baseModelDir ? { baseModelDir } : {}) };
    const summary = await runTaskHere('train.signalPeptidePredict', params, { proteins }, process.cwd(), { signal: interrupt.signal, onProgress: progressLine });
    endProgress();
    writeSignalPeptideExports(outDir);
    if (summary.truncated > 0) console.log(`${summary.truncated} protein(s) longer than 70 residues were predicted on their first 70 (PEFT-SP's input).`);
    console.log(`Predicted signal peptides of ${summary.sequences} proteins: ${Object.values(SIGNALP_EXPORT_FILES).join(', ')} in ${outDir}.`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Stopped; nothing was written.', 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}
