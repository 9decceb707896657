/**
 * bench/support/train-signal-peptide-one — one signal-peptide (PEFT-SP) training measurement in its
 * own process, so peak RSS is this run's alone:
 * `node --import tsx bench/support/train-signal-peptide-one.ts <modelDir> <outDir> <steps> <warmup>`.
 *
 * Runs the app's whole signal-peptide entry (train/signal-peptide's runSignalPeptideFinetune) on a
 * synthetic SignalP 6.0 file of 20 proteins of 70 residues (72 tokens with <cls> and <eos>): half
 * Sec/SPI signal peptides (22 `S` then `O`), half without (`I`), all in partition 0. One epoch is
 * then exactly one optimizer step of 20 × 72 tokens (PEFT-SP's batch), so `steps` epochs are
 * `steps` steps, and a step's time is the wall time between two epoch callbacks: forward, the CRF
 * in TypeScript, the seeded backward, clipping and Adamax, and the checkpoint a run saves after
 * every epoch (here after every step: an upper bound on a step inside a longer epoch). No validation partition, so no
 * validation pass is timed. PEFT-SP's defaults otherwise (LoRA r 8 on q/k/v/o of the top 4
 * layers, dropout 0.1, regulariser on). The first `warmup` steps are not counted (graph build,
 * session open, arena allocation).
 *
 * Prints one JSON line (SignalPeptideTrainMeasurement).
 */
import { createRng } from '../../src-main/core/rng';
import { AMINO_ACIDS } from '../../src-main/models/esm2/tokenizer';
import { runSignalPeptideFinetune, SIGNAL_PEPTIDE_DEFAULTS, type SignalPeptideSettings } from '../../src-main/train/signal-peptide';

export const PROTEINS_PER_STEP = 20;
const RESIDUES = 70;
export const TOKENS_PER_SEQUENCE = RESIDUES + 2;
const SIGNAL_LENGTH = 22;

export interface SignalPeptideTrainMeasurement {
  /** Wall time of each counted optimizer step, ms, in step order. */
  stepMs: number[];
  /** Wall time of each warm-up step, ms; the first includes the graph build and session open. */
  warmupMs: number[];
  peakRssMB: number;
  /** CPU seconds (user + system, all threads) over the counted steps. */
  cpuSeconds: number;
  /** CPU time / wall time over the counted steps. */
  cores: number;
  proteinsPerStep: number;
  tokensPerSequence: number;
  device: string;
}

/** 20 proteins in SignalP 6.0's 3-line format; the same file every run. */
export function syntheticSignalpFile(seed = 11): string {
  const rng = createRng(seed);
  const lines: string[] = [];
  for (let i = 0; i < PROTEINS_PER_STEP; i++) {
    const sequence = Array.from({ length: RESIDUES }, () => AMINO_ACIDS[rng.nextInt(20)]!).join('');
    const withSignal = i % 2 === 0;
    const labels = withSignal ? 'S'.repeat(SIGNAL_LENGTH) + 'O'.repeat(RESIDUES - SIGNAL_LENGTH) : 'I'.repeat(RESIDUES);
    lines.push(`>BENCH${i}|EUKARYA|${withSignal ? 'SP' : 'NO_SP'}|0`, sequence, labels);
  }
  return `${lines.join('\n')}\n`;
}

function parseArgs(argv: string[]): { modelDir: string; outDir: string; steps: number; warmup: number } {
  const [modelDir, outDir, steps, warmup] = argv;
  if (!modelDir || !outDir || !Number.isSafeInteger(Number(steps)) || !Number.isSafeInteger(Number(warmup)) || !(Number(warmup) >= 1 && Number(warmup) < Number(steps))) {
    throw new Error('usage: train-signal-peptide-one.ts <modelDir> <outDir> <steps> <warmup> (1 ≤ warmup < steps)');
  }
  return { modelDir, outDir, steps: Number(steps), warmup: Number(warmup) };
}

function settingsFor(steps: number): SignalPeptideSettings {
  const d = SIGNAL_PEPTIDE_DEFAULTS;
  return {
    lora: { r: d.loraR, alpha: d.loraAlpha, dropout: d.loraDropout, targets: [...d.loraTargets], layers: d.loraLayers },
    epochs: steps,
    batchSize: PROTEINS_PER_STEP,
    lr: d.lr,
    maxGradNorm: d.maxGradNorm,
    seed: 1,
    trainPartitions: [0],
    validationPartitions: [],
    device: (process.env.BENCH_DEVICE ?? 'cpu') as SignalPeptideSettings['device'],
  };
}

async function measure(modelDir: string, outDir: string, steps: number, warmup: number): Promise<SignalPeptideTrainMeasurement> {
  const started = performance.now();
  const ends: number[] = [];
  let cpuAtWarmup: NodeJS.CpuUsage | null = null;
  let cpuSeconds = 0;
  const summary = await runSignalPeptideFinetune({
    modelDir,
    outDir,
    fileName: 'bench-signalp.fasta',
    text: syntheticSignalpFile(),
    settings: settingsFor(steps),
    onEpoch: (_entry, step) => {
      if (step === 0) return;
      ends[step - 1] = performance.now();
      if (step === warmup) cpuAtWarmup = process.cpuUsage();
      if (step === steps && cpuAtWarmup) {
        const used = process.cpuUsage(cpuAtWarmup);
        cpuSeconds = (used.user + used.system) / 1e6;
      }
    },
  });
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  if (summary.steps !== steps) throw new Error(`Trained ${summary.steps} steps, expected ${steps} (one per epoch).`);
  const durations = ends.map((end, i) => end - (i === 0 ? started : ends[i - 1]!));
  const countedSeconds = (ends[steps - 1]! - ends[warmup - 1]!) / 1000;
  return {
    stepMs: durations.slice(warmup),
    warmupMs: durations.slice(0, warmup),
    peakRssMB,
    cpuSeconds,
    cores: cpuSeconds / countedSeconds,
    proteinsPerStep: PROTEINS_PER_STEP,
    tokensPerSequence: TOKENS_PER_SEQUENCE,
    device: summary.device,
  };
}

const args = parseArgs(process.argv.slice(2));
console.log(JSON.stringify(await measure(args.modelDir, args.outDir, args.steps, args.warmup)));
