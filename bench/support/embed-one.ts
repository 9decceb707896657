/**
 * bench/support/embed-one — one embedding measurement in its own process, so peak RSS belongs to
 * this model alone: `node --import tsx bench/support/embed-one.ts <modelDir> <length> <count> <device> [fused|plain]`.
 * The last argument picks the graph kernels (models/installed's ESM_STUDIO_KERNELS; default fused).
 * Embeds one warm-up sequence (opens the session; not counted), then `count` random sequences of
 * `length` residues with the last layer mean-pooled and the default token budget, and prints one
 * JSON line: { tokensPerSecond, peakRssMB, device, notes, sequences, seconds, cpuSeconds, cores }. Tokens
 * include the <cls> and <eos> of each sequence (length + 2), as the engine's own progress counts
 * them. `cores` is CPU time / wall time of the timed part: well under the core count means other
 * processes were competing for the CPU and tokens/s is pessimistic.
 */
import { Embedder, type EmbedOptions } from '../../src-main/engine/embed';
import { DEVICES, type Device } from '../../src-main/core/devices';

const AMINO = 'ACDEFGHIKLMNPQRSTVWY';
/** BENCH_TOKEN_BUDGET_ONLY=1 batches by the token budget alone (the engine before memory-sized batches), for comparison. */
const OPTIONS: EmbedOptions = { layers: [-1], pool: ['mean'], ...(process.env.BENCH_TOKEN_BUDGET_ONLY ? { batchMemoryBytes: null } : {}) };

export interface EmbedMeasurement {
  tokensPerSecond: number;
  peakRssMB: number;
  device: Device;
  notes: string[];
  sequences: number;
  seconds: number;
  /** CPU time (user + system) of the timed part. */
  cpuSeconds: number;
  cores: number;
}

export function randomSequences(count: number, length: number, seed: number): string[] {
  let state = seed >>> 0 || 1;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () => Array.from({ length }, () => AMINO[Math.floor(next() * AMINO.length)]).join(''));
}

function parseArgs(argv: string[]): { modelDir: string; length: number; count: number; device: Device } {
  const [modelDir, length, count, device = 'cpu', kernels = 'fused'] = argv;
  if (!modelDir || !(Number(length) > 0) || !(Number(count) > 0) || !(DEVICES as readonly string[]).includes(device) || !['fused', 'plain'].includes(kernels)) {
    throw new Error('usage: embed-one.ts <modelDir> <length> <count> [cpu|cuda|dml|webgpu|coreml] [fused|plain]');
  }
  process.env.ESM_STUDIO_KERNELS = kernels;
  return { modelDir, length: Number(length), count: Number(count), device: device as Device };
}

async function measure(modelDir: string, length: number, count: number, device: Device): Promise<EmbedMeasurement> {
  const embedder = Embedder.open(modelDir, { device });
  try {
    await embedder.run(randomSequences(1, length, 999), OPTIONS, () => undefined);
    const sequences = randomSequences(count, length, 7);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await embedder.run(sequences, OPTIONS, () => undefined);
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    return {
      tokensPerSecond: (count * (length + 2)) / seconds,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      device: await embedder.actualDevice(),
      notes: [...embedder.notes],
      sequences: count,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      cores: (cpu.user + cpu.system) / 1e6 / seconds,
    };
  } finally {
    await embedder.close();
  }
}

if (process.argv[1] === import.meta.filename) {
  const args = parseArgs(process.argv.slice(2));
  const result = await measure(args.modelDir, args.length, args.count, args.device);
  console.log(JSON.stringify(result));
}
