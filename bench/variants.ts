/**
 * bench/variants — masked-marginal throughput: masked positions scored per second (one forward
 * pass each, masked copies batched by the token and memory budgets) for random 8M- and 35M-shaped
 * ESM-2 models on a 300-residue protein, fp32 on the CPU, plus the wild-type-marginal time (one
 * pass) for scale. Models have random weights (same cost as real ones) and are converted with the
 * app's converter. The first batch is a warm-up and is not counted.
 *
 * Beside ours, the same masked-marginal pass in PyTorch (bench/torch-variants.py: a minimal ESM-2
 * on the same checkpoint, the same copies per batch, torch.inference_mode, 2 threads) when
 * `/usr/bin/python3 -c 'import torch'` works (override with $BENCH_PYTHON); skipped with a line
 * saying so otherwise. Both sides' log-probabilities are compared (largest difference), so the
 * comparison is of the same computation. CPU seconds are given with wall seconds: on a shared
 * machine wall time is pessimistic, CPU time is what the work cost.
 *
 *   node --import tsx bench/variants.ts           all 300 positions per model
 *   node --import tsx bench/variants.ts --quick   60 positions per model
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchMemoryOf, copiesPerBatch } from '../src-main/engine/batching';
import { createRng } from '../src-main/core/rng';
import { convertCheckpoint, readManifest } from '../src-main/models/installed';
import { AMINO_ACIDS } from '../src-main/models/esm2/tokenizer';
import { ZeroShotModel } from '../src-main/variants/model';
import { ESM2_SHAPES, writeRandomCheckpoint } from './support/random-checkpoint';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const LENGTH = 300;
const POSITIONS = QUICK ? 60 : LENGTH;
const BATCH_TOKENS = 8192;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const THREADS = 2;

interface TorchResult {
  seconds: number;
  cpuSeconds: number;
  positionsPerSecond: number;
  peakRssMB: number;
  torch: string;
  aminoAcids: string;
  logProbs: number[][];
}

function randomProtein(length: number, seed: number): string {
  const rng = createRng(seed);
  return Array.from({ length }, () => AMINO_ACIDS[Math.floor(rng.next() * 20)]!).join('');
}

/** The torch version, or why the PyTorch column is skipped. */
function torchAvailable(): { version: string } | { missing: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status === 0) return { version: probe.stdout.trim() };
  return { missing: probe.error ? `${PYTHON} not found` : `${PYTHON} has no torch (Debian: apt-get install python3-torch)` };
}

function runTorch(checkpoint: string, protein: string, copies: number): TorchResult {
  const script = join(import.meta.dirname, 'torch-variants.py');
  const child = spawnSync(PYTHON, [script, checkpoint, protein, String(POSITIONS), String(copies), String(THREADS)], { encoding: 'utf8', maxBuffer: 2 ** 26 });
  if (child.status !== 0) throw new Error(`torch-variants.py failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as TorchResult;
}

/** Largest |ours − torch| over the 20 amino acids' log-probabilities at every masked position. */
function largestDifference(model: ZeroShotModel, ours: Map<number, Float64Array>, torch: TorchResult): number {
  let worst = 0;
  torch.logProbs.forEach((row, position) => {
    const mine = ours.get(position)!;
    [...torch.aminoAcids].forEach((aa, k) => (worst = Math.max(worst, Math.abs(mine[model.tokenizer.residueToken(aa)]! - row[k]!))));
  });
  return worst;
}

async function measure(key: '8M' | '35M', work: string, torch: ReturnType<typeof torchAvailable>): Promise<string[]> {
  const checkpoint = join(work, `${key}-hf`);
  const modelDir = join(work, `${key}-onnx`);
  writeRandomCheckpoint(checkpoint, ESM2_SHAPES[key]);
  await convertCheckpoint(checkpoint, modelDir, { appVersion: 'bench' });
  const copies = copiesPerBatch(LENGTH + 2, BATCH_TOKENS, batchMemoryOf(readManifest(modelDir).config));
  const model = await ZeroShotModel.open(modelDir, { batchTokens: BATCH_TOKENS, threads: THREADS });
  const protein = randomProtein(LENGTH, 7);
  try {
    await model.maskedLogProbs(protein, Array.from({ length: copies }, (_, i) => i)); // warm-up
    let started = performance.now();
    await model.unmaskedLogProbs(protein);
    const wtSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const cpuBefore = process.cpuUsage();
    const ours = await model.maskedLogProbs(protein, Array.from({ length: POSITIONS }, (_, i) => i));
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const rate = POSITIONS / seconds;
    const row = [key, String(copies), `${seconds.toFixed(2)} s`, `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`, figure(rate), `${(LENGTH / rate).toFixed(1)} s`, `${(wtSeconds * 1000).toFixed(0)} ms`];
    if (!('version' in torch)) return [...row, '–', '–', '–', '–'];
    const theirs = runTorch(checkpoint, protein, copies);
    return [
      ...row,
      `${theirs.seconds.toFixed(2)} s / ${theirs.cpuSeconds.toFixed(2)} s`,
      figure(theirs.positionsPerSecond),
      `${(rate / theirs.positionsPerSecond).toFixed(2)}×`,
      largestDifference(model, ours, theirs).toExponential(1),
    ];
  } finally {
    await model.close();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'esm-bench-variants-'));
  const torch = torchAvailable();
  try {
    const rows = [];
    for (const key of ['8M', '35M'] as const) rows.push(await measure(key, work, torch));
    console.log(`Masked marginals on a ${LENGTH}-residue protein, fp32, CPU (${cpus().length} cores, ${THREADS} threads each side), ${BATCH_TOKENS}-token batches capped by memory:`);
    console.log(
      markdownTable(
        ['model', 'copies/batch', 'ours wall', 'ours CPU', 'ours positions/s', 'saturation map (300 passes)', 'wt-marginal pass', 'PyTorch wall / CPU', 'PyTorch positions/s', 'ours ÷ PyTorch', 'max |Δ log p|'],
        rows,
      ),
    );
    if ('missing' in torch) console.log(`PyTorch columns skipped: ${torch.missing}.`);
    else console.log(`PyTorch ${torch.version} (${PYTHON}), a minimal ESM-2 in bench/torch-variants.py on the same checkpoint.`);
    console.log(`Load average at the end (1 min): ${loadavg()[0]!.toFixed(2)} (above ${cpus().length} means other work shared the cores).`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
