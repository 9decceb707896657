/**
 * cli/finetune — `esm-studio finetune`: LoRA fine-tuning of a model on a CSV/TSV in this process
 * (like `embed`; the app's train.finetune task, and `predict` its train.predict task), writing the adapter (PEFT layout), the head, a merged model, metrics.csv and
 * training.json into --out. Settings go through the API's FinetuneSettings schema, so the CLI
 * and the app share defaults and limits. Running the same command again on the same --out
 * continues from the last checkpoint (after Ctrl-C or a crash). `--data` is read and checked by
 * the same code as `import` (datasets/): a letter that is not an amino acid, an infinite target or
 * a malformed row refuses the file, naming it, the row and the position; missing target values
 * (empty, NA, NaN…) leave their rows out, counted.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Command } from 'commander';
import { ApiError } from '../api/errors';
import { FinetuneSettings } from '../api/schemas';
import { parseSequenceFile, readNumberCell, requireValidFile, type ParsedFile } from '../datasets';
import { familyOfManifest, readManifest } from '../models/installed';
import { adapterLoraSpecFor } from '../train/finetune-adapter';
import { peftMethodOfFolder, readPromptOrAdapter } from '../train/peft-methods';
import { peftChoiceFromFlags, type PeftFlags } from './peft-flags';
import type { ModelConfig, ModelFamily } from '../models/family';
import { defaultLoraTargets, loraTargetsOffered } from '../train/lora';
import { SettingsChangedError, type SettingDifference } from '../train/loop';
import type { FinetuneTable } from '../train/finetune-data';
import { runTaskHere } from '../jobs/run-here';
import { endProgress, interruptible, modelFolder, parseList, progressLine, readFasta } from './engine-commands';
import { DEVICES } from '../core/devices';
import { CliExit } from './exit';
import { isSignalPeptideRun, signalPeptideCommand, signalPeptidePredictCommand, type SignalPeptideFlags } from './finetune-signal-peptide';

export interface FinetuneFlags extends PeftFlags {
  model: string;
  data: string;
  idCol: string;
  seqCol: string;
  target: string;
  task: string;
  loraR: string;
  loraAlpha: string;
  loraDropout: string;
  loraTargets: string;
  loraLayers: string;
  head: string;
  pool: string;
  epochs: string;
  lr: string;
  optimizer: string;
  momentum: string;
  weightDecay: string;
  schedule: string;
  warmupRatio: string;
  maxGradNorm?: string;
  batchTokens: string;
  valFraction: string;
  seed: string;
  patience?: string;
  metric: string;
  initAdapter?: string;
  maxSteps?: string;
  device: string;
  threads?: string;
  shuffle: boolean;
  headOnly?: boolean;
  classWeight: string;
  out: string;
}

type TableFlags = Pick<FinetuneFlags, 'data' | 'idCol' | 'seqCol' | 'target'> & { task?: string };

/**
 * Reads the CSV/TSV into IDs, sequences and the target column(s) (comma-separated for multilabel)
 * with the import's reader and checks: any row with an error refuses the file. Class names and
 * per-residue label strings stay text ("01" is a class, not the number 1); a regression target
 * must be a numeric column, with missing values as the import defines them.
 */
export function readTable(flags: TableFlags): FinetuneTable {
  const path = resolve(flags.data);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliExit(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
  }
  const format = /\.(tsv|tab)$/i.test(path) ? 'tsv' : 'csv';
  const header = headerOf(text, format === 'tsv' ? '\t' : ',');
  const targets = flags.target.split(',').map((t) => t.trim()).filter(Boolean);
  for (const column of targets) {
    if (!header.includes(column)) throw new CliExit(`${path}: there is no column "${column}". Columns found: ${header.join(', ') || 'none'}.`, 2);
  }
  const has = (name: string): boolean => header.some((column) => column.toLowerCase() === name.toLowerCase());
  // The default column names ("id", "sequence") fall back to the import's detection (name, seq, …) when absent.
  const options = {
    format,
    sequenceColumn: has(flags.seqCol) || flags.seqCol !== 'sequence' ? flags.seqCol : undefined,
    idColumn: has(flags.idCol) ? flags.idCol : undefined,
  } as const;
  let parsed: ParsedFile;
  try {
    parsed = requireValidFile(path, parseSequenceFile(path, text, options, { categories: flags.task === 'regression' ? [] : targets }));
  } catch (error) {
    if (error instanceof ApiError) throw new CliExit(error.message, isColumnChoice(error) ? 2 : 1);
    throw error;
  }
  const { records, report } = parsed;
  for (const name of targets) {
    if (!report.labelColumns.some((c) => c.name === name)) {
      throw new CliExit(`${path}: "${name}" is the ${name === report.sequenceColumn ? 'sequence' : 'ID'} column; choose a label column as --target.`, 2);
    }
  }
  if (flags.task === 'regression') for (const name of targets) requireNumbers(path, parsed, name);
  return {
    ids: records.map((r) => r.seqId),
    sequences: records.map((r) => r.sequence),
    columns: targets.map((name) => ({ name, values: records.map((r) => r.labels[name] ?? null) })),
  };
}

/** The header row's column names (trimmed), read alone. */
function headerOf(text: string, delimiter: string): string[] {
  try {
    const [first] = parse(text, { delimiter, to_line: 1, bom: true, relax_column_count: true, relax_quotes: true }) as string[][];
    return (first ?? []).map((name) => name.trim());
  } catch {
    return [];
  }
}

/** A column named on the command line that the table does not have (a usage error, exit code 2). */
const isColumnChoice = (error: ApiError): boolean => typeof error.details === 'object' && error.details !== null && 'column' in error.details;

/** A regression target holding text is refused at its first non-number, rather than silently dropping rows. */
function requireNumbers(path: string, parsed: ParsedFile, name: string): void {
  const column = parsed.report.labelColumns.find((c) => c.name === name);
  if (column?.type === 'number') return;
  const bad = parsed.records.find((r) => typeof r.labels[name] === 'string' && readNumberCell(r.labels[name] as string).kind === 'text');
  const where = bad ? ` (row ${bad.record}, id ${bad.seqId}: "${String(bad.labels[name])}")` : '';
  throw new CliExit(
    `${path}: column "${name}" holds text${where}, not numbers; a regression target needs numbers. ` +
      'Missing values may be empty, NA, N/A, NaN, null, None or "-". For classes, use --task classification.',
  );
}

const numberOrNull = (text: string | undefined): number | null => (text === undefined || text === '' ? null : Number(text));

/** An --init-adapter folder read for its settings; a problem exits naming the flag. */
function readFolder<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new CliExit(`--init-adapter: ${(error as Error).message}`, 2);
  }
}

const peftMethodOf = (dir: string): string => readFolder(() => peftMethodOfFolder(dir));

/** Flags → validated settings; LoRA shape flags left at their defaults follow --init-adapter's config. */
export function settingsFromFlags(flags: FinetuneFlags, given: (flag: keyof FinetuneFlags) => boolean, config: ModelConfig, family: ModelFamily): FinetuneSettings {
  const layers = flags.loraLayers === 'all' ? 'all' : Number(flags.loraLayers);
  const raw: Record<string, unknown> = {
    task: flags.task,
    headOnly: flags.headOnly ?? false,
    loraR: Number(flags.loraR),
    loraAlpha: Number(flags.loraAlpha),
    loraDropout: Number(flags.loraDropout),
    loraTargets: flags.loraTargets.split(',').map((t) => t.trim()).flatMap((t) => (t === 'dense' ? ['attention-output', 'intermediate', 'output'] : [t])),
    loraLayers: layers,
    peft: peftChoiceFromFlags(flags),
    head: flags.head,
    pool: flags.pool,
    classWeight: flags.classWeight,
    epochs: Number(flags.epochs),
    lr: Number(flags.lr),
    optimizer: flags.optimizer,
    momentum: Number(flags.momentum),
    weightDecay: Number(flags.weightDecay),
    schedule: flags.schedule,
    warmupRatio: Number(flags.warmupRatio),
    maxGradNorm: numberOrNull(flags.maxGradNorm),
    batchTokens: Number(flags.batchTokens),
    valFraction: Number(flags.valFraction),
    seed: Number(flags.seed),
    patience: numberOrNull(flags.patience),
    metric: flags.metric,
    maxSteps: numberOrNull(flags.maxSteps),
    shuffle: flags.shuffle,
    device: flags.device,
    threads: Number(flags.threads ?? 0),
  };
  // Without --lora-targets, the model's usual ones (ESM C packs query, key and value into one projection).
  if (!given('loraTargets')) raw.loraTargets = defaultLoraTargets(loraTargetsOffered(family, config));
  if (flags.initAdapter && !given('peft') && peftMethodOf(resolve(flags.initAdapter)) !== 'lora') {
    // A prompt or bottleneck-adapter folder: its method and sizes (finetune checks the rest when it reads it).
    const { parts } = readFolder(() => readPromptOrAdapter(resolve(flags.initAdapter!), config, family));
    raw.peft = { ...(raw.peft as object), method: parts.prompt ? 'prompt' : 'adapter', ...(parts.prompt ? { prompt: parts.prompt } : { adapter: parts.adapter }) };
  } else if (flags.initAdapter && (raw.peft as { method: string }).method === 'lora') {
    let adapter: ReturnType<typeof adapterLoraSpecFor>;
    try {
      adapter = adapterLoraSpecFor(resolve(flags.initAdapter), config);
    } catch (error) {
      throw new CliExit(`--init-adapter: ${(error as Error).message}`, 2);
    }
    if (!given('loraR')) raw.loraR = adapter.r;
    if (!given('loraAlpha')) raw.loraAlpha = adapter.alpha;
    if (!given('loraTargets')) raw.loraTargets = adapter.targets;
    if (!given('loraLayers')) raw.loraLayers = adapter.layers;
  }
  const parsed = FinetuneSettings.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`);
    throw new CliExit(`Invalid settings:\n  ${problems.join('\n  ')}`, 2);
  }
  return parsed.data;
}

export async function finetuneCommand(flags: FinetuneFlags & SignalPeptideFlags, command: Command): Promise<void> {
  if (flags.task === 'signal-peptide') return signalPeptideCommand(flags, command);
  if (!flags.target) throw new CliExit("error: required option '--target <column>' not specified", 2);
  // The data first: a bad file is refused before a checkpoint is converted.
  const table = readTable(flags);
  const modelDir = await modelFolder(flags.model);
  const manifest = readManifest(modelDir);
  const given = (flag: keyof FinetuneFlags): boolean => command.getOptionValueSource(flag) === 'cli';
  const settings = settingsFromFlags(flags, given, manifest.config, familyOfManifest(manifest));
  const outDir = resolve(flags.out);
  const interrupt = interruptible();
  try {
    // The app's fine-tuning task, run here on the file's rows, into --out (the run's folder).
    const params = { modelDir, modelName: manifest.name, runDir: outDir, settings, initAdapterDir: flags.initAdapter ? resolve(flags.initAdapter) : null };
    const summary = await runTaskHere('train.finetune', params, table, process.cwd(), {
      signal: interrupt.signal,
      onProgress: progressLine,
      onMetrics: (metrics) => {
        const epoch = metrics.find((m) => m.name === 'epoch');
        if (!epoch) return;
        endProgress();
        const value = (name: string): string => {
          const m = metrics.find((x) => x.name === name);
          return m ? m.value.toPrecision(4) : '–';
        };
        console.log(`epoch ${epoch.value}  step ${epoch.step}  train loss ${value('epoch_train_loss')}  val loss ${value('val_loss')}`);
      },
    });
    endProgress();
    if (summary.fallbackReason) console.error(summary.fallbackReason);
    if (summary.resumedFromStep !== null) console.log(`Continued from the checkpoint at step ${summary.resumedFromStep}${changedNote(summary.changedOnResume)}.`);
    if (lengthChanged(summary.changedOnResume) && settings.schedule !== 'constant') {
      console.log(`The ${settings.schedule} learning-rate schedule now spans the new length from step ${summary.resumedFromStep} on, so the result differs from a run given this length from the start.`);
    }
    if (summary.skipped > 0) console.log(`${summary.skipped} row(s) without a usable "${flags.target}" were left out.`);
    if (summary.truncated > 0) console.log(`${summary.truncated} sequence(s) longer than 1,022 residues were cut to their first 1,022.`);
    const outputs = summary.mode === 'head-only' ? 'head (head.safetensors, head.onnx)' : 'adapter, head and merged model';
    console.log(`Trained ${summary.steps} steps (${summary.trainExamples} training, ${summary.validationExamples} validation sequences) on ${summary.device}; ${outputs} in ${outDir}.`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit(`Stopped. Run the same command again to continue from the last checkpoint (${resolve(flags.out, 'checkpoints')}).`, 130);
    if (error instanceof SettingsChangedError) throw new CliExit(settingsChangedMessage(outDir, error.differences), 2);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}

/** Settings whose flag is not their name in kebab case (the last ones: names the training loop checks on its own). */
const FLAGS: Record<string, string> = {
  data: '--data / --target',
  shuffle: '--no-shuffle',
  accumulation: 'gradient accumulation (set in the app)',
  headDropout: 'head dropout (set in the app)',
  trainMembers: 'the training sequences (--data, --val-fraction)',
  validationMembers: 'the validation sequences (--data, --val-fraction)',
  batching: '--batch-tokens',
  params: 'the trained tensors (--lora-r, --lora-targets, --lora-layers, --head)',
  earlyStopping: '--patience',
  schedule: '--schedule / --lr / --warmup-ratio',
  optimizer: '--optimizer / --weight-decay / --momentum',
};

/** A setting as the flag that sets it: `maxSteps` → `--max-steps`. */
function flagOf(setting: string): string {
  return FLAGS[setting] ?? `--${setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function valueOf(setting: string, value: unknown): string {
  if (value === null || value === undefined) return 'not set';
  if (setting === 'shuffle') return value ? 'not given' : 'given';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function settingsChangedMessage(outDir: string, differences: readonly SettingDifference[]): string {
  const lines = differences.map((d) => `  ${flagOf(d.setting)}: ${valueOf(d.setting, d.before)} before, ${valueOf(d.setting, d.after)} now`);
  return [
    `${outDir} holds a run started with other settings; it cannot be continued with these:`,
    ...lines,
    'Give the same values to continue it, or another --out to start a new run. (--max-steps, more --epochs, --device and --threads may change.)',
  ].join('\n');
}

const lengthChanged = (changed: readonly SettingDifference[]): boolean => changed.some((d) => d.setting === 'epochs' || d.setting === 'maxSteps');

/** ", with --max-steps 20 (was 10)" for the settings a resumed run changed. */
function changedNote(changed: readonly SettingDifference[]): string {
  if (changed.length === 0) return '';
  return `, with ${changed.map((d) => `${flagOf(d.setting)} ${valueOf(d.setting, d.after)} (was ${valueOf(d.setting, d.before)})`).join(', ')}`;
}

export interface PredictFlags {
  finetuned: string;
  model?: string;
  fasta?: string;
  data?: string;
  idCol: string;
  seqCol: string;
  device: string;
  batchTokens: string;
  out: string;
  /** Signal-peptide runs only: recorded with every protein (PEFT-SP's model does not read it). */
  kingdom?: string;
}

/** `esm-studio predict`: a fine-tuned run's merged model on a FASTA or a CSV/TSV, one CSV row per sequence. */
export async function predictCommand(flags: PredictFlags): Promise<void> {
  if (!flags.fasta === !flags.data) throw new CliExit('Give the sequences with --fasta <file> or --data <csv> (one of them).', 2);
  const device = parseList(flags.device, DEVICES, 'device')[0] ?? 'cpu';
  const batchTokens = Number(flags.batchTokens);
  if (!Number.isInteger(batchTokens) || batchTokens < 1) throw new CliExit('--batch-tokens must be a positive whole number.', 2);
  if (isSignalPeptideRun(resolve(flags.finetuned))) return signalPeptidePredictCommand(flags, flags.model ? await modelFolder(flags.model) : undefined);
  const input = flags.fasta ? readFasta(resolve(flags.fasta)) : readTable({ data: flags.data!, idCol: flags.idCol, seqCol: flags.seqCol, target: '' });
  const baseModelDir = flags.model ? await modelFolder(flags.model) : undefined;
  const interrupt = interruptible();
  try {
    // The app's prediction task, run here: the same CSV for the same run and sequences.
    const params = { runDir: resolve(flags.finetuned), device, outPath: resolve(flags.out), batchTokens, ...(baseModelDir ? { baseModelDir } : {}) };
    const predictions = await runTaskHere('train.predict', params, { ids: input.ids, sequences: input.sequences }, process.cwd(), {
      signal: interrupt.signal,
      onProgress: progressLine,
    });
    endProgress();
    if (predictions.fallbackReason) console.error(predictions.fallbackReason);
    if (predictions.truncated > 0) console.log(`${predictions.truncated} sequence(s) longer than 1,022 residues were cut to their first 1,022.`);
    console.log(`Wrote ${input.ids.length} predictions (${predictions.columns.join(', ')}) to ${predictions.outPath}.`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Stopped; nothing was written.', 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}
