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
 *   node --import tsx bench/train.ts           8M and 35M, 12 steps each (a few minutes on 2 cores)
 *   node --import tsx bench/train.ts --quick   8M only, 4 steps
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { inScratchFolder, runChild } from './support/child';
import type { ConvertMeasurement } from './support/convert-one';
import { ESM2_SHAPES, writeRandomCheckpoint } from './support/random-checkpoint';
import { figure, markdownTable, megabytes } from './support/table';
import type { TrainMeasurement } from './support/train-one';

type ModelKey = '8M' | '35M';

const QUICK = process.argv.includes('--quick');
const MODELS: ModelKey[] = QUICK ? ['8M'] : ['8M', '35M'];
const STEPS = QUICK ? 4 : 12;
const WARMUP_STEPS = 2;

interface Row {
  model: ModelKey;
  result: TrainMeasurement;
}

/** Tokens in one optimizer step (padding included; there is none, all sequences are as long). */
const tokensPerStep = (result: TrainMeasurement): number => (result.batchSizes[0] ?? 0) * result.tokensPerSequence;

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Writes the random checkpoint and converts it (fp32); returns the model folder. */
function prepareModel(root: string, model: ModelKey): string {
  const checkpoint = join(root, model, 'checkpoint');
  const modelDir = join(root, model, 'fp32');
  const written = writeRandomCheckpoint(checkpoint, ESM2_SHAPES[model]);
  const converted = runChild<ConvertMeasurement>('convert-one.ts', [checkpoint, modelDir, 'fp32']);
  console.log(`${model}: random checkpoint ${megabytes(written)}, converted in ${converted.seconds.toFixed(1)} s`);
  rmSync(checkpoint, { recursive: true, force: true });
  return modelDir;
}

function benchModel(root: string, model: ModelKey): Row {
  const modelDir = prepareModel(root, model);
  console.error(`… ${model}: fine-tuning ${STEPS} steps`);
  const result = runChild<TrainMeasurement>('train-one.ts', [modelDir, join(root, model, 'run'), STEPS, WARMUP_STEPS]);
  return { model, result };
}

const ms = (value: number): string => value.toFixed(0);

function printTable(rows: readonly Row[]): void {
  const cells = rows.map(({ model, result }) => {
    const median = percentile(result.stepMs, 50);
    return [
      model,
      `${figure(result.trainableValues)} (${result.trainableTensors})`,
      String(result.stepMs.length),
      ms(median),
      ms(percentile(result.stepMs, 90)),
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
  console.log(markdownTable(['model', 'trained values (tensors)', 'steps counted', 'step median ms', 'step p90 ms', 'tokens/s', 'peak RSS MB', 'graph build ms', 'session open ms', 'CPU cores used'], cells));
  for (const { model, result } of rows) {
    console.log(`${model}: warm-up steps ${result.warmupMs.map(ms).join(', ')} ms (the first from the call: graphs and sessions again, then the first step); writing adapter, head and merged model ${ms(result.writeOutputsMs)} ms; batch sizes ${[...new Set(result.batchSizes)].join(',')}`);
  }
  const threads = first?.threads ?? 0;
  console.log(`Threads: setting ${threads}${threads === 0 ? " (onnxruntime's default: one per physical core)" : ''}; this machine has ${availableParallelism()} logical CPUs.`);
}

function main(): number {
  return inScratchFolder('esm-bench-train-', (root) => {
    printTable(MODELS.map((model) => benchModel(root, model)));
    return 0;
  });
}

process.exitCode = main();
