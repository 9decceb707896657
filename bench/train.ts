/**
 * bench/train — LoRA fine-tuning speed and memory on the CPU: optimizer-step time (median and
 * p90), tokens/s and peak RSS of the app's whole fine-tuning run (train/finetune's runFinetune)
 * for random 8M- and 35M-shaped ESM-2 models, fp32, at batches of 8 sequences × 250 tokens.
 * Settings: regression, LoRA r 8, alpha 16, dropout 0 on query and value of every layer, linear
 * head, AdamW, 2,000-token batches, no validation split, no shuffling. Models have random
 * weights (same cost as real ones) and are converted with the app's converter; each run is its
 * own child process (bench/support/train-one.ts), so peak RSS is that run's alone. The first 2
 * steps are warm-up and not counted. Graph build and session open are timed on their own first
 * in the fresh process (runFinetune then does both again before its first step). "CPU cores used" is CPU time / wall time over
 * the counted steps: below the core count, other processes took CPU time and steps read slow.
 *
 * PyTorch beside it (bench/torch-train.py): the same model shape and weights, the same LoRA (r 8,
 * alpha 16 on query and value of every layer), head, loss and AdamW, batches of 8 × 250 tokens,
 * `torch.set_num_threads(2)`, in Debian's python3-torch (a minimal ESM-2 written out in torch:
 * fair-esm and transformers are not installed). Skipped, with a line saying so, when
 * /usr/bin/python3 (or $BENCH_PYTHON) or its torch module is missing. Our runs and torch's
 * alternate per model, so both see the same machine load.
 *
 * Signal peptides (bench/support/train-signal-peptide-one.ts): the app's PEFT-SP run on the same
 * converted models, one optimizer step = 20 proteins × 72 tokens (PEFT-SP's batch; LoRA r 8 on
 * q/k/v/o of the top 4 layers, a 37-state emission head, the CRF and its regulariser in TypeScript,
 * Adamax). Its own child process, so its peak RSS is its own.
 *
 *   node --import tsx bench/train.ts           8M and 35M, 12 steps each (a few minutes on 2 cores)
 *   node --import tsx bench/train.ts --quick   8M only, 4 steps
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { inScratchFolder, runChild } from './support/child';
import type { ConvertMeasurement } from './support/convert-one';
import { ESM2_SHAPES, writeRandomCheckpoint } from './support/random-checkpoint';
import { figure, markdownTable, megabytes } from './support/table';
import type { TrainMeasurement } from './support/train-one';
import type { SignalPeptideTrainMeasurement } from './support/train-signal-peptide-one';

type ModelKey = '8M' | '35M';

const QUICK = process.argv.includes('--quick');
const MODELS: ModelKey[] = QUICK ? ['8M'] : ['8M', '35M'];
const STEPS = QUICK ? 4 : 12;
const WARMUP_STEPS = 2;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const TORCH_THREADS = 2;
/** Issue 14's goal: a step at least this many times faster than the same step in PyTorch. */
const SPEED_GOAL = 2;
const TEN_MINUTES_MS = 10 * 60 * 1000;

/** What bench/torch-train.py prints. */
interface TorchMeasurement {
  stepMs: number[];
  cpuSeconds: number;
  peakRssMB: number;
  threads: number;
  torch: string;
  trainableValues: number;
}

interface Row {
  model: ModelKey;
  result: TrainMeasurement;
  /** null: PyTorch was not run (see the skip line). */
  torch: TorchMeasurement | null;
  signalPeptide: SignalPeptideTrainMeasurement;
}

/** PyTorch's version, or why the comparison is skipped. */
function probeTorch(): { version: string } | { skipped: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.error) return { skipped: `PyTorch comparison skipped: ${PYTHON} cannot be run (${probe.error.message}); set BENCH_PYTHON to a Python with torch.` };
  if (probe.status !== 0) return { skipped: `PyTorch comparison skipped: ${PYTHON} has no torch module (install python3-torch, or set BENCH_PYTHON).` };
  return { version: probe.stdout.trim() };
}

function runTorch(checkpoint: string): TorchMeasurement {
  const script = join(import.meta.dirname, 'torch-train.py');
  const result = spawnSync(PYTHON, [script, checkpoint, String(STEPS), String(WARMUP_STEPS), String(TORCH_THREADS)], { encoding: 'utf8', timeout: TEN_MINUTES_MS });
  const lastLine = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !lastLine.startsWith('{')) throw new Error(`torch-train.py failed (${result.error?.message ?? result.signal ?? `exit code ${result.status}`}):\n${(result.stderr ?? '').slice(-2000)}`);
  return JSON.parse(lastLine) as TorchMeasurement;
}

/** Tokens in one optimizer step (padding included; there is none, all sequences are as long). */
const tokensPerStep = (result: TrainMeasurement): number => (result.batchSizes[0] ?? 0) * result.tokensPerSequence;

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Writes the random checkpoint and converts it (fp32); returns the checkpoint and model folders. */
function prepareModel(root: string, model: ModelKey): { checkpoint: string; modelDir: string } {
  const checkpoint = join(root, model, 'checkpoint');
  const modelDir = join(root, model, 'fp32');
  const written = writeRandomCheckpoint(checkpoint, ESM2_SHAPES[model]);
  const converted = runChild<ConvertMeasurement>('convert-one.ts', [checkpoint, modelDir, 'fp32']);
  console.log(`${model}: random checkpoint ${megabytes(written)}, converted in ${converted.seconds.toFixed(1)} s`);
  return { checkpoint, modelDir };
}

function benchModel(root: string, model: ModelKey, withTorch: boolean): Row {
  const { checkpoint, modelDir } = prepareModel(root, model);
  console.error(`… ${model}: fine-tuning ${STEPS} steps`);
  const result = runChild<TrainMeasurement>('train-one.ts', [modelDir, join(root, model, 'run'), STEPS, WARMUP_STEPS]);
  if (withTorch) console.error(`… ${model}: the same in PyTorch`);
  const torch = withTorch ? runTorch(checkpoint) : null;
  rmSync(checkpoint, { recursive: true, force: true });
  console.error(`… ${model}: signal peptides, ${STEPS} steps`);
  const signalPeptide = runChild<SignalPeptideTrainMeasurement>('train-signal-peptide-one.ts', [modelDir, join(root, model, 'signal-peptide'), STEPS, WARMUP_STEPS]);
  return { model, result, torch, signalPeptide };
}

const ms = (value: number): string => value.toFixed(0);
/** Mean CPU seconds (all threads) per counted step. */
const cpuPerStep = (cpuSeconds: number, steps: number): string => (cpuSeconds / steps).toFixed(2);

function printTable(rows: readonly Row[]): void {
  const cells = rows.map(({ model, result }) => {
    const median = percentile(result.stepMs, 50);
    return [
      model,
      `${figure(result.trainableValues)} (${result.trainableTensors})`,
      String(result.stepMs.length),
      ms(median),
      ms(percentile(result.stepMs, 90)),
      cpuPerStep(result.cpuSeconds, result.stepMs.length),
      figure(tokensPerStep(result) / (median / 1000)),
      result.peakRssMB.toFixed(0),
      ms(result.graphBuildMs),
      ms(result.sessionOpenMs),
      result.cores.toFixed(1),
    ];
  });
  const first = rows[0]?.result;
  const batch = first ? `${first.batchSizes[0]} × ${first.tokensPerSequence} tokens` : '—';
  console.log(`LoRA fine-tuning, fp32, ${first?.device ?? 'cpu'}, batches of ${batch}, ${STEPS} steps (first ${WARMUP_STEPS} not counted):`);
  console.log(markdownTable(['model', 'trained values (tensors)', 'steps counted', 'step median ms', 'step p90 ms', 'CPU s/step', 'tokens/s', 'peak RSS MB', 'graph build ms', 'session open ms', 'CPU cores used'], cells));
  for (const { model, result } of rows) {
    console.log(`${model}: warm-up steps ${result.warmupMs.map(ms).join(', ')} ms (the first from the call: graphs and sessions again, then the first step); writing adapter, head and merged model ${ms(result.writeOutputsMs)} ms; batch sizes ${[...new Set(result.batchSizes)].join(',')}`);
  }
  const threads = first?.threads ?? 0;
  console.log(`Threads: setting ${threads}${threads === 0 ? " (onnxruntime's default: one per physical core)" : ''}; this machine has ${availableParallelism()} logical CPUs.`);
}

/** Ours next to PyTorch's: per step wall (median) and CPU seconds, peak RSS, and how many times faster we are. */
function printComparison(rows: readonly Row[], probe: ReturnType<typeof probeTorch>): void {
  if ('skipped' in probe) {
    console.log(probe.skipped);
    return;
  }
  const cells = rows.flatMap(({ model, result, torch }) => {
    if (!torch) return [];
    const [ours, theirs] = [percentile(result.stepMs, 50), percentile(torch.stepMs, 50)];
    const [oursCpu, theirsCpu] = [result.cpuSeconds / result.stepMs.length, torch.cpuSeconds / torch.stepMs.length];
    return [
      [
        model,
        ms(ours),
        cpuPerStep(result.cpuSeconds, result.stepMs.length),
        result.peakRssMB.toFixed(0),
        ms(theirs),
        cpuPerStep(torch.cpuSeconds, torch.stepMs.length),
        torch.peakRssMB.toFixed(0),
        `${(theirs / ours).toFixed(2)}×`,
        `${(theirsCpu / oursCpu).toFixed(2)}×`,
        `${(torch.peakRssMB / result.peakRssMB).toFixed(2)}×`,
      ],
    ];
  });
  console.log(`PyTorch ${probe.version} (${PYTHON}, ${TORCH_THREADS} threads), same shapes, weights, LoRA, head, loss and AdamW; "faster" = PyTorch's figure / ours:`);
  console.log(markdownTable(['model', 'ours step ms', 'ours CPU s/step', 'ours peak RSS MB', 'PyTorch step ms', 'PyTorch CPU s/step', 'PyTorch peak RSS MB', 'faster (wall)', 'faster (CPU)', 'less memory'], cells));
  const verdicts = rows.flatMap(({ model, result, torch }) => {
    if (!torch) return [];
    const faster = percentile(torch.stepMs, 50) / percentile(result.stepMs, 50);
    return [`${model} ${faster.toFixed(1)}× (${faster >= SPEED_GOAL ? 'met' : 'not met'})`];
  });
  console.log(`Goal: steps at least ${SPEED_GOAL}× faster than PyTorch's (wall, medians): ${verdicts.join(', ')}.`);
  for (const { model, result, torch } of rows) {
    if (torch && torch.trainableValues !== result.trainableValues) console.log(`${model}: PyTorch trains ${torch.trainableValues} values, we train ${result.trainableValues}: the setups differ.`);
  }
}

function printSignalPeptideTable(rows: readonly Row[]): void {
  const cells = rows.map(({ model, signalPeptide: sp }) => {
    const median = percentile(sp.stepMs, 50);
    return [
      model,
      String(sp.stepMs.length),
      ms(median),
      ms(percentile(sp.stepMs, 90)),
      cpuPerStep(sp.cpuSeconds, sp.stepMs.length),
      figure((sp.proteinsPerStep * sp.tokensPerSequence) / (median / 1000)),
      sp.peakRssMB.toFixed(0),
      sp.cores.toFixed(1),
    ];
  });
  const first = rows[0]?.signalPeptide;
  console.log(`Signal peptides (PEFT-SP: LoRA on q/k/v/o of the top 4 layers, 37-state emissions, CRF + regulariser, Adamax), fp32, ${first?.device ?? 'cpu'}, batches of ${first?.proteinsPerStep ?? 20} × ${first?.tokensPerSequence ?? 72} tokens, ${STEPS} steps (first ${WARMUP_STEPS} not counted):`);
  console.log(markdownTable(['model', 'steps counted', 'step median ms', 'step p90 ms', 'CPU s/step', 'tokens/s', 'peak RSS MB', 'CPU cores used'], cells));
}

function main(): number {
  const probe = probeTorch();
  return inScratchFolder('esm-bench-train-', (root) => {
    const rows = MODELS.map((model) => benchModel(root, model, !('skipped' in probe)));
    printTable(rows);
    printComparison(rows, probe);
    printSignalPeptideTable(rows);
    return 0;
  });
}

process.exitCode = main();
