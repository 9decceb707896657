/**
 * bench/support/train-one — one LoRA fine-tuning measurement in its own process, so peak RSS is
 * this run's alone: `node --import tsx bench/support/train-one.ts <modelDir> <outDir> <steps> <warmup>`.
 *
 * Runs the app's whole fine-tuning entry (train/finetune's runFinetune) on a synthetic
 * regression table of `8 × steps` random sequences of 248 residues (250 tokens with <cls> and
 * <eos>), one epoch, batches of exactly 8 (a 2,000-token budget; checked before training), so
 * each optimizer step is one forward + backward of 8 × 250 tokens. A step's time is the wall time
 * between two consecutive step callbacks: what a user waits per step, optimizer update, metrics
 * log and the "last" checkpoint every 10 steps (the app's default) included. The first `warmup`
 * steps are not counted (the first includes building the graphs and opening the sessions, and
 * onnxruntime allocates its arena on the first runs).
 *
 * Before the run, the graph build and session open that runFinetune does first (through
 * OnnxTrainer.open) are done once on their own and timed, split into the two parts, which
 * runFinetune does not report: first in a fresh process, as when a user starts a run (the JIT is
 * cold; the run's own repeat is faster). The sessions are released before training, so peak RSS
 * (read right after the run) is the run's.
 *
 * Prints one JSON line (TrainMeasurement).
 */
import { FinetuneSettings } from '../../src-main/api/schemas';
import { AMINO_ACIDS, encode } from '../../src-main/models/esm2/tokenizer';
import { epochBatches } from '../../src-main/train/batches';
import { headSpecOf, loraSpecOf, runFinetune } from '../../src-main/train/finetune';
import type { FinetuneTable } from '../../src-main/train/finetune-data';
import { openTrainingSession, writeTrainingGraph, type InstalledGraphSpec } from '../../src-main/train/graph-files';

const BATCH_SEQUENCES = 8;
const TOKENS_PER_SEQUENCE = 250;
const RESIDUES = TOKENS_PER_SEQUENCE - 2;

export interface TrainMeasurement {
  /** Wall time of each counted optimizer step, ms, in step order. */
  stepMs: number[];
  /** Wall time of each warm-up step, ms; the first includes runFinetune's own graph build and session open. */
  warmupMs: number[];
  /** From calling runFinetune to the end of its first optimizer step, ms. */
  firstStepDoneMs: number;
  /** From the last step to runFinetune's return (adapter, head, merged model, metrics), ms. */
  writeOutputsMs: number;
  /** Building and writing the train and eval graphs, ms (fresh process). */
  graphBuildMs: number;
  /** Opening onnxruntime sessions on both graphs, ms (fresh process). */
  sessionOpenMs: number;
  peakRssMB: number;
  /** CPU time / wall time over the counted steps. */
  cores: number;
  /** CPU seconds (user + system, all threads) over the counted steps. */
  cpuSeconds: number;
  /** The run's `threads` setting (0: onnxruntime's default). */
  threads: number;
  /** Trained tensors (LoRA adapters + head) and their values. */
  trainableTensors: number;
  trainableValues: number;
  /** Sequences in each batch (all BATCH_SEQUENCES, checked) and tokens per sequence. */
  batchSizes: number[];
  tokensPerSequence: number;
  device: string;
}

function parseArgs(argv: string[]): { modelDir: string; outDir: string; steps: number; warmup: number } {
  const [modelDir, outDir, steps, warmup] = argv;
  if (!modelDir || !outDir || !Number.isSafeInteger(Number(steps)) || !Number.isSafeInteger(Number(warmup)) || !(Number(warmup) >= 1 && Number(warmup) < Number(steps))) {
    throw new Error('usage: train-one.ts <modelDir> <outDir> <steps> <warmup> (1 ≤ warmup < steps)');
  }
  return { modelDir, outDir, steps: Number(steps), warmup: Number(warmup) };
}

/** Seeded LCG: the same table every run, so runs compare. */
function syntheticTable(rows: number, seed = 7): FinetuneTable {
  let state = seed >>> 0 || 1;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const sequences = Array.from({ length: rows }, () => Array.from({ length: RESIDUES }, () => AMINO_ACIDS[Math.floor(next() * 20)]!).join(''));
  return {
    ids: sequences.map((_, i) => `seq${i + 1}`),
    sequences,
    columns: [{ name: 'target', values: sequences.map(() => next() * 2 - 1) }],
  };
}

function settingsFor(steps: number): FinetuneSettings {
  return FinetuneSettings.parse({
    task: 'regression',
    loraR: 8,
    loraAlpha: 16,
    loraDropout: 0,
    loraTargets: ['query', 'value'],
    loraLayers: 'all',
    batchTokens: BATCH_SEQUENCES * TOKENS_PER_SEQUENCE,
    valFraction: 0,
    shuffle: false,
    epochs: 1,
    maxSteps: steps,
    optimizer: 'adamw',
    // bench/gpu.sh runs the same step on each execution provider.
    device: process.env.BENCH_DEVICE ?? 'cpu',
  });
}

/** The batches the loop will make (same function, same inputs): all must be 8 × 250 tokens. */
function checkBatches(table: FinetuneTable, settings: FinetuneSettings): number[] {
  const lengths = table.sequences.map((s) => encode(s).length);
  const batches = epochBatches(lengths, lengths.map((_, i) => i), { tokenBudget: settings.batchTokens });
  const sizes = batches.map((b) => b.indices.length);
  if (batches.some((b) => b.indices.length !== BATCH_SEQUENCES || b.paddedLength !== TOKENS_PER_SEQUENCE)) {
    throw new Error(`Batches are not ${BATCH_SEQUENCES} × ${TOKENS_PER_SEQUENCE} tokens: sizes ${sizes.join(',')}`);
  }
  return sizes;
}

/** Step end times from the step callback, and the CPU time where counting starts and ends. */
class StepClock {
  readonly ends: number[] = [];
  private cpuAtStart: NodeJS.CpuUsage | null = null;
  cpuSeconds = 0;

  constructor(
    private readonly started: number,
    private readonly warmup: number,
    private readonly steps: number,
  ) {}

  onStep = (step: number): void => {
    this.ends[step - 1] = performance.now();
    if (step === this.warmup) this.cpuAtStart = process.cpuUsage();
    if (step === this.steps && this.cpuAtStart) {
      const used = process.cpuUsage(this.cpuAtStart);
      this.cpuSeconds = (used.user + used.system) / 1e6;
    }
  };

  /** Per-step wall times: end of a step to end of the next (the first from the call). */
  durations(): number[] {
    return this.ends.map((end, i) => end - (i === 0 ? this.started : this.ends[i - 1]!));
  }

  cores(): number {
    const counted = (this.ends[this.steps - 1]! - this.ends[this.warmup - 1]!) / 1000;
    return this.cpuSeconds / counted;
  }
}

/** Does what OnnxTrainer.open does for this run, timing the graph build apart from the session open. */
async function timeOpen(modelDir: string, settings: FinetuneSettings): Promise<{ graphBuildMs: number; sessionOpenMs: number; trainable: number[][] }> {
  const spec: Omit<InstalledGraphSpec, 'mode'> = { lora: loraSpecOf(settings), head: headSpecOf(settings), task: { kind: 'regression', outputs: 1 } };
  let started = performance.now();
  const train = await writeTrainingGraph(modelDir, { ...spec, mode: 'train' }, { seed: settings.seed });
  const evaluate = await writeTrainingGraph(modelDir, { ...spec, mode: 'eval' });
  const graphBuildMs = performance.now() - started;
  started = performance.now();
  const sessions = [await openTrainingSession(train.file, { threads: settings.threads }), await openTrainingSession(evaluate.file, { threads: settings.threads })];
  const sessionOpenMs = performance.now() - started;
  await Promise.all(sessions.map((s) => s.session.release()));
  return { graphBuildMs, sessionOpenMs, trainable: train.training.trainable.map((p) => p.shape) };
}

async function measure(modelDir: string, outDir: string, steps: number, warmup: number): Promise<TrainMeasurement> {
  const table = syntheticTable(BATCH_SEQUENCES * steps);
  const settings = settingsFor(steps);
  const batchSizes = checkBatches(table, settings);
  const open = await timeOpen(modelDir, settings);
  const started = performance.now();
  const clock = new StepClock(started, warmup, steps);
  const summary = await runFinetune({ modelDir, outDir, table, settings, onStep: clock.onStep });
  const finished = performance.now();
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  if (summary.steps !== steps) throw new Error(`Trained ${summary.steps} steps, expected ${steps}.`);
  const durations = clock.durations();
  return {
    stepMs: durations.slice(warmup),
    warmupMs: durations.slice(0, warmup),
    firstStepDoneMs: durations[0]!,
    writeOutputsMs: finished - clock.ends[steps - 1]!,
    graphBuildMs: open.graphBuildMs,
    sessionOpenMs: open.sessionOpenMs,
    peakRssMB,
    cores: clock.cores(),
    cpuSeconds: clock.cpuSeconds,
    threads: settings.threads,
    trainableTensors: open.trainable.length,
    trainableValues: open.trainable.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0),
    batchSizes,
    tokensPerSequence: TOKENS_PER_SEQUENCE,
    device: summary.device,
  };
}

const args = parseArgs(process.argv.slice(2));
console.log(JSON.stringify(await measure(args.modelDir, args.outDir, args.steps, args.warmup)));
