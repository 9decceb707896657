/**
 * cli/finetune — `esm-studio finetune`: LoRA fine-tuning of a model on a CSV/TSV in this process
 * (like `embed`), writing the adapter (PEFT layout), the head, a merged model, metrics.csv and
 * training.json into --out. Settings go through the API's FinetuneSettings schema, so the CLI
 * and the app share defaults and limits. Running the same command again on the same --out
 * continues from the last checkpoint (after Ctrl-C or a crash).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Command } from 'commander';
import { FinetuneSettings } from '../api/schemas';
import { readManifest } from '../esm/model';
import { adapterLoraSpecFor } from '../train/finetune-adapter';
import type { EsmConfig } from '../esm/checkpoint';
import { runFinetune } from '../train/finetune';
import type { FinetuneTable } from '../train/finetune-data';
import { predictFinetuned, predictionsCsv } from '../train/predict';
import { writeBytesAtomically } from '../store/atomic';
import { endProgress, interruptible, modelFolder, parseList, progressLine, readFasta } from './engine-commands';
import { DEVICES } from '../engine/session';
import { CliExit } from './exit';

export interface FinetuneFlags {
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

/** Reads the CSV/TSV into IDs, sequences and the target column(s) (comma-separated for multilabel). */
export function readTable(flags: Pick<FinetuneFlags, 'data' | 'idCol' | 'seqCol' | 'target'>): FinetuneTable {
  const path = resolve(flags.data);
  const delimiter = /\.(tsv|tab)$/i.test(path) ? '\t' : ',';
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(path, 'utf8'), { delimiter, columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw new CliExit(`Cannot read ${path}: ${(error as Error).message}`);
  }
  const header = rows[0] ? Object.keys(rows[0]) : [];
  const targets = flags.target.split(',').map((t) => t.trim()).filter(Boolean);
  for (const column of [flags.seqCol, ...targets]) {
    if (!header.includes(column)) throw new CliExit(`${path}: there is no column "${column}". Columns found: ${header.join(', ') || 'none'}.`, 2);
  }
  const hasIds = header.includes(flags.idCol);
  return {
    ids: rows.map((row, i) => (hasIds ? row[flags.idCol]! : String(i + 1))),
    sequences: rows.map((row) => row[flags.seqCol]!.replace(/\s+/g, '')),
    columns: targets.map((name) => ({ name, values: rows.map((row) => row[name] ?? null) })),
  };
}

const numberOrNull = (text: string | undefined): number | null => (text === undefined || text === '' ? null : Number(text));

/** Flags → validated settings; LoRA shape flags left at their defaults follow --init-adapter's config. */
export function settingsFromFlags(flags: FinetuneFlags, given: (flag: keyof FinetuneFlags) => boolean, config: EsmConfig): FinetuneSettings {
  const layers = flags.loraLayers === 'all' ? 'all' : Number(flags.loraLayers);
  const raw: Record<string, unknown> = {
    task: flags.task,
    headOnly: flags.headOnly ?? false,
    loraR: Number(flags.loraR),
    loraAlpha: Number(flags.loraAlpha),
    loraDropout: Number(flags.loraDropout),
    loraTargets: flags.loraTargets.split(',').map((t) => t.trim()).flatMap((t) => (t === 'dense' ? ['attention-output', 'intermediate', 'output'] : [t])),
    loraLayers: layers,
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
  if (flags.initAdapter) {
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

export async function finetuneCommand(flags: FinetuneFlags, command: Command): Promise<void> {
  const modelDir = await modelFolder(flags.model);
  const manifest = readManifest(modelDir);
  const given = (flag: keyof FinetuneFlags): boolean => command.getOptionValueSource(flag) === 'cli';
  const settings = settingsFromFlags(flags, given, manifest.config);
  const table = readTable(flags);
  const outDir = resolve(flags.out);
  const interrupt = interruptible();
  try {
    const summary = await runFinetune({
      modelDir,
      outDir,
      table,
      settings,
      initAdapterDir: flags.initAdapter ? resolve(flags.initAdapter) : null,
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
    if (summary.resumedFromStep !== null) console.log(`Continued from the checkpoint at step ${summary.resumedFromStep}.`);
    if (summary.skipped > 0) console.log(`${summary.skipped} row(s) without a usable "${flags.target}" were left out.`);
    if (summary.truncated > 0) console.log(`${summary.truncated} sequence(s) longer than 1,022 residues were cut to their first 1,022.`);
    const outputs = summary.mode === 'head-only' ? 'head (head.safetensors, head.onnx)' : 'adapter, head and merged model';
    console.log(`Trained ${summary.steps} steps (${summary.trainExamples} training, ${summary.validationExamples} validation sequences) on ${summary.device}; ${outputs} in ${outDir}.`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit(`Stopped. Run the same command again to continue from the last checkpoint (${resolve(flags.out, 'checkpoints')}).`, 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
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
}

/** `esm-studio predict`: a fine-tuned run's merged model on a FASTA or a CSV/TSV, one CSV row per sequence. */
export async function predictCommand(flags: PredictFlags): Promise<void> {
  if (!flags.fasta === !flags.data) throw new CliExit('Give the sequences with --fasta <file> or --data <csv> (one of them).', 2);
  const device = parseList(flags.device, DEVICES, 'device')[0] ?? 'cpu';
  const batchTokens = Number(flags.batchTokens);
  if (!Number.isInteger(batchTokens) || batchTokens < 1) throw new CliExit('--batch-tokens must be a positive whole number.', 2);
  const input = flags.fasta ? readFasta(resolve(flags.fasta)) : readTable({ data: flags.data!, idCol: flags.idCol, seqCol: flags.seqCol, target: '' });
  const baseModelDir = flags.model ? await modelFolder(flags.model) : undefined;
  const interrupt = interruptible();
  try {
    const predictions = await predictFinetuned(resolve(flags.finetuned), input.sequences, {
      ...(baseModelDir ? { baseModelDir } : {}),
      device,
      batchTokens,
      signal: interrupt.signal,
      onProgress: (done, total) => progressLine(done / total, `${done} of ${total} sequences`),
    });
    endProgress();
    if (predictions.fallbackReason) console.error(predictions.fallbackReason);
    if (predictions.truncated > 0) console.log(`${predictions.truncated} sequence(s) longer than 1,022 residues were cut to their first 1,022.`);
    writeBytesAtomically(resolve(flags.out), new TextEncoder().encode(predictionsCsv(input.ids, predictions)));
    console.log(`Wrote ${input.ids.length} predictions (${predictions.columns.join(', ')}) to ${resolve(flags.out)}.`);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Stopped; nothing was written.', 130);
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}
