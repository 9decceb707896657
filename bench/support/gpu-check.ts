/**
 * bench/support/gpu-check — embedding on each execution provider against the CPU, for
 * bench/gpu.sh: `node --import tsx bench/support/gpu-check.ts <device>…` writes a random
 * 35M-shaped ESM-2 checkpoint, converts it to fp32 and fp16 (the app's converter), embeds the same
 * 64 random proteins of 248 residues (250 tokens) on the CPU in fp32 (the reference) and then on
 * each given device in fp32 and fp16, and prints per device and precision: the device actually
 * used (a device that cannot start falls back to the CPU, and says why), tokens per second after
 * a warm-up batch, and the smallest cosine similarity between its mean embeddings and the CPU
 * fp32 ones (the bar: ≥ 0.999). Exits 1 when a device that did start misses the bar.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICES, type Device } from '../../src-main/core/devices';
import { Embedder, type EmbedOptions } from '../../src-main/engine/embed';
import { convertCheckpoint } from '../../src-main/models/installed';
import { AMINO_ACIDS } from '../../src-main/models/esm2/tokenizer';
import { ESM2_SHAPES, writeRandomCheckpoint } from './random-checkpoint';
import { figure, markdownTable } from './table';
import { createRng } from '../../src-main/core/rng';
import { cosineSimilarity } from '../../src-main/core/stats';

const PROTEINS = 64;
const RESIDUES = 248;
const OPTIONS: EmbedOptions = { layers: [-1], pool: ['mean'] };
const MIN_COSINE = 0.999;

interface Embedded {
  vectors: Float32Array[];
  tokensPerSecond: number;
  device: Device;
  notes: string[];
}

function proteins(): string[] {
  const rng = createRng(5);
  return Array.from({ length: PROTEINS }, () => Array.from({ length: RESIDUES }, () => AMINO_ACIDS[Math.floor(rng.next() * 20)]!).join(''));
}

async function embed(modelDir: string, device: Device, sequences: string[]): Promise<Embedded> {
  const embedder = Embedder.open(modelDir, { device });
  try {
    await embedder.run(sequences.slice(0, 8), OPTIONS, () => undefined); // warm-up: session, arena, kernels
    const vectors: Float32Array[] = new Array(sequences.length);
    const started = performance.now();
    await embedder.run(sequences, OPTIONS, (result) => void (vectors[result.index] = result.pooled.get(`mean_${ESM2_SHAPES['35M'].layers}`)!));
    const seconds = (performance.now() - started) / 1000;
    return { vectors, tokensPerSecond: (sequences.length * (RESIDUES + 2)) / seconds, device: await embedder.actualDevice(), notes: [...embedder.notes] };
  } finally {
    await embedder.close();
  }
}

async function main(devices: Device[]): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'esm-gpu-check-'));
  try {
    writeRandomCheckpoint(join(work, 'hf'), ESM2_SHAPES['35M']);
    const models = { fp32: join(work, 'fp32'), fp16: join(work, 'fp16') } as const;
    for (const [precision, dir] of Object.entries(models)) await convertCheckpoint(join(work, 'hf'), dir, { appVersion: 'bench', precision: precision as 'fp32' | 'fp16' });
    const sequences = proteins();
    const reference = await embed(models.fp32, 'cpu', sequences);
    const rows = [['cpu', 'fp32', 'cpu', figure(reference.tokensPerSecond), '1 (reference)', '']];
    let failed = false;
    for (const device of devices) {
      for (const precision of ['fp32', 'fp16'] as const) {
        const result = await embed(models[precision], device, sequences);
        const worst = Math.min(...result.vectors.map((v, i) => cosineSimilarity(v, reference.vectors[i]!)));
        const started = result.device === device;
        if (started && worst < MIN_COSINE) failed = true;
        rows.push([device, precision, result.device, figure(result.tokensPerSecond), worst.toFixed(6), started ? (worst >= MIN_COSINE ? 'PASS' : 'FAIL') : `did not start: ${result.notes.join(' ')}`]);
      }
    }
    console.log(`Embedding ${PROTEINS} proteins × ${RESIDUES + 2} tokens, 35M shape (random weights), last layer mean-pooled:`);
    console.log(markdownTable(['device asked', 'precision', 'device used', 'tokens/s', `min cosine vs CPU fp32 (≥ ${MIN_COSINE})`, 'result'], rows));
    return failed ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const asked = process.argv.slice(2);
const unknown = asked.filter((d) => !(DEVICES as readonly string[]).includes(d));
if (unknown.length > 0) throw new Error(`unknown device(s) ${unknown.join(', ')}; choose from ${DEVICES.join(', ')}`);
process.exitCode = await main(asked as Device[]);
