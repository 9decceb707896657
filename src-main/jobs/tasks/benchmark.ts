/**
 * jobs/tasks/benchmark — "Benchmark this computer": times dense matrix products (the core of
 * every model layer) in the compute process and records GFLOP/s per step as run metrics. It is
 * a real, resumable job that exercises the whole job path on any machine.
 */
import { z } from 'zod';
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import { contract, defineTask } from '../task';

const BenchmarkCheckpoint = z.object({ step: z.number().int(), elapsedSeconds: z.number(), totalGflop: z.number() });

/** Fills a matrix with a fixed pseudo-random pattern so every run does identical work. */
function patternMatrix(size: number, seed: number): Float32Array {
  const matrix = new Float32Array(size * size);
  let state = seed;
  for (let i = 0; i < matrix.length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    matrix[i] = state / 2 ** 32 - 0.5;
  }
  return matrix;
}

/** out = a · b for square row-major matrices, i-k-j order for cache-friendly inner loops. */
export function multiply(a: Float32Array, b: Float32Array, out: Float32Array, size: number): void {
  out.fill(0);
  for (let i = 0; i < size; i++) {
    const row = i * size;
    for (let k = 0; k < size; k++) {
      const aik = a[row + k]!;
      const bRow = k * size;
      for (let j = 0; j < size; j++) out[row + j]! += aik * b[bRow + j]!;
    }
  }
}

const STEP_SECONDS = 0.25;

export const benchmark = defineTask({
  ...contract('system.benchmark'),
  input: z.null(),
  checkpoint: BenchmarkCheckpoint,
  async run(ctx) {
    const { seconds, size } = ctx.params;
    const a = patternMatrix(size, 1);
    const b = patternMatrix(size, 2);
    const out = new Float32Array(size * size);
    const gflopPerProduct = (2 * size ** 3) / 1e9;
    let { step, elapsedSeconds, totalGflop } = ctx.resumeFrom ?? { step: 0, elapsedSeconds: 0, totalGflop: 0 };

    while (elapsedSeconds < seconds) {
      throwIfCancelled(ctx.signal);
      const started = performance.now();
      let products = 0;
      while ((performance.now() - started) / 1000 < STEP_SECONDS) {
        multiply(a, b, out, size);
        products++;
      }
      const stepSeconds = (performance.now() - started) / 1000;
      const gflops = (products * gflopPerProduct) / stepSeconds;
      step++;
      elapsedSeconds += stepSeconds;
      totalGflop += products * gflopPerProduct;
      ctx.metrics([{ step, name: 'gflops', value: gflops }]);
      ctx.checkpoint({ step, elapsedSeconds, totalGflop });
      ctx.progress(Math.min(1, elapsedSeconds / seconds), `Step ${step}: ${gflops.toFixed(2)} GFLOP/s`);
      await yieldToEvents();
    }
    return { steps: step, meanGflops: Number((totalGflop / elapsedSeconds).toFixed(3)), size };
  },
});
