/**
 * bench/large-model — the esm2_t33_650M shape end to end, to show that conversion and embedding
 * stream their weights: writes a random 650M checkpoint (2.6 GB fp32), converts it in a child
 * process (seconds, peak RSS), embeds 4 sequences of 300 residues and 16 of 1,000 in other
 * children (tokens/s, peak RSS), and checks peak RSS < 2 × the weights file for all, and, for the
 * long proteins, peak RSS ≤ weights + 1 GB (batches sized by the memory their attention needs).
 * `--compare` also embeds 8 proteins of 1,000 residues with batches sized by the token budget
 * alone (the engine before memory-sized batches: 8 such proteins share one batch) to show the
 * difference; `--long-count N` changes the 16. Also checks that the model
 * keeps its weights in external data (weights.data) with a small model.onnx. Takes several
 * minutes and about 6 GB of free disk in the temp folder, which is removed at the end.
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inScratchFolder, runChild } from './support/child';
import type { ConvertMeasurement } from './support/convert-one';
import type { EmbedMeasurement } from './support/embed-one';
import { ESM2_SHAPES, writeRandomCheckpoint } from './support/random-checkpoint';
import { figure, megabytes } from './support/table';

const SHAPE = ESM2_SHAPES['650M'];
/** A short job, and a long one: several full batches of long sequences, where memory peaks. */
const LONG_COUNT = Number(process.argv[process.argv.indexOf('--long-count') + 1]) || 16;
const EMBED_CASES: [sequences: number, length: number][] = [
  [4, 300],
  [LONG_COUNT, 1000],
];
/** The long-protein goal: the weights plus at most this much. */
const LONG_EXTRA_BYTES = 2 ** 30;
/** model.onnx holds only the graph; anything near this means weights went inline. */
const SMALL_GRAPH_BYTES = 10 * 2 ** 20;
const MINUTES = 60 * 1000;

const sizeOf = (file: string): number => statSync(file, { throwIfNoEntry: false })?.size ?? -1;

/** Prints and returns the PASS/FAIL of `peak RSS < 2 × weights size`. */
function checkMemory(step: string, peakRssMB: number, weightsBytes: number): boolean {
  const limitMB = (2 * weightsBytes) / 2 ** 20;
  const pass = peakRssMB < limitMB;
  const ratio = peakRssMB / (weightsBytes / 2 ** 20);
  console.log(`${pass ? 'PASS' : 'FAIL'} ${step}: peak RSS ${peakRssMB.toFixed(0)} MB < 2 × weights = ${limitMB.toFixed(0)} MB (${ratio.toFixed(2)} × weights)`);
  return pass;
}

function writeCheckpoint(dir: string): void {
  const started = performance.now();
  const bytes = writeRandomCheckpoint(dir, SHAPE);
  const seconds = (performance.now() - started) / 1000;
  console.log(`checkpoint ${SHAPE.name} (fp32, random weights): ${megabytes(bytes)} written in ${seconds.toFixed(1)} s (parent peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`);
}

/** Converts in a child; returns the weights.data size, or -1 when it is missing. */
function convert(checkpoint: string, modelDir: string): { weightsBytes: number; passed: boolean } {
  const result = runChild<ConvertMeasurement>('convert-one.ts', [checkpoint, modelDir, 'fp32'], 30 * MINUTES);
  const weightsBytes = sizeOf(join(modelDir, 'weights.data'));
  const graphBytes = sizeOf(join(modelDir, 'model.onnx'));
  console.log(`convert fp32: ${result.seconds.toFixed(1)} s, peak RSS ${result.peakRssMB.toFixed(0)} MB`);
  const external = weightsBytes > 0 && graphBytes > 0 && graphBytes < SMALL_GRAPH_BYTES;
  console.log(`${external ? 'PASS' : 'FAIL'} external data: weights.data ${megabytes(weightsBytes)}, model.onnx ${megabytes(graphBytes)}`);
  return { weightsBytes, passed: external && checkMemory('conversion', result.peakRssMB, weightsBytes) };
}

function embed(modelDir: string, weightsBytes: number, sequences: number, length: number, tokenBudgetOnly = false): EmbedMeasurement {
  if (tokenBudgetOnly) process.env.BENCH_TOKEN_BUDGET_ONLY = '1';
  try {
    const result = runChild<EmbedMeasurement>('embed-one.ts', [modelDir, length, sequences, 'cpu'], 60 * MINUTES);
    console.log(
      `embed ${result.sequences} × ${length} residues on ${result.device}${tokenBudgetOnly ? ' (token budget alone)' : ''}: ${figure(result.tokensPerSecond)} tokens/s ` +
        `(${result.seconds.toFixed(1)} s wall, ${result.cores.toFixed(1)} CPU cores used), peak RSS ${result.peakRssMB.toFixed(0)} MB ` +
        `= weights + ${(result.peakRssMB - weightsBytes / 2 ** 20).toFixed(0)} MB`,
    );
    return result;
  } finally {
    delete process.env.BENCH_TOKEN_BUDGET_ONLY;
  }
}

function checkLong(peakRssMB: number, weightsBytes: number): boolean {
  const limitMB = (weightsBytes + LONG_EXTRA_BYTES) / 2 ** 20;
  const pass = peakRssMB <= limitMB;
  console.log(`${pass ? 'PASS' : 'FAIL'} long proteins: peak RSS ${peakRssMB.toFixed(0)} MB ≤ weights + 1 GB = ${limitMB.toFixed(0)} MB`);
  return pass;
}

function main(): number {
  return inScratchFolder('esm-bench-large-', (root) => {
    const checkpoint = join(root, 'checkpoint');
    const modelDir = join(root, 'model-fp32');
    writeCheckpoint(checkpoint);
    const converted = convert(checkpoint, modelDir);
    rmSync(checkpoint, { recursive: true, force: true });
    const checks = EMBED_CASES.map(([sequences, length]) => {
      const result = embed(modelDir, converted.weightsBytes, sequences, length);
      const underTwice = checkMemory(`embedding ${sequences} × ${length}`, result.peakRssMB, converted.weightsBytes);
      return length >= 1000 ? underTwice && checkLong(result.peakRssMB, converted.weightsBytes) : underTwice;
    });
    if (process.argv.includes('--compare')) embed(modelDir, converted.weightsBytes, 8, 1000, true);
    return converted.passed && checks.every(Boolean) ? 0 : 1;
  });
}

process.exitCode = main();
