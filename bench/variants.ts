/**
 * bench/variants — masked-marginal throughput: masked positions scored per second (one forward
 * pass each, batched by the default token budget) for random 8M- and 35M-shaped ESM-2 models on a
 * 300-residue protein, fp32 on the CPU, plus the wild-type-marginal time (one pass) for scale.
 * Models have random weights (same cost as real ones) and are converted with the app's converter.
 * The first batch is a warm-up and is not counted.
 *
 *   node --import tsx bench/variants.ts           all 300 positions per model
 *   node --import tsx bench/variants.ts --quick   60 positions per model
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '../src-main/models/installed';
import { AMINO_ACIDS } from '../src-main/models/esm2/tokenizer';
import { ZeroShotModel } from '../src-main/variants/model';
import { ESM2_SHAPES, writeRandomCheckpoint } from './support/random-checkpoint';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const LENGTH = 300;
const POSITIONS = QUICK ? 60 : LENGTH;
const BATCH_TOKENS = 8192;

function randomProtein(length: number, seed: number): string {
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) >>> 0);
  return Array.from({ length }, () => AMINO_ACIDS[next() % 20]!).join('');
}

async function measure(key: '8M' | '35M', work: string): Promise<string[]> {
  const checkpoint = join(work, `${key}-hf`);
  const modelDir = join(work, `${key}-onnx`);
  writeRandomCheckpoint(checkpoint, ESM2_SHAPES[key]);
  await convertCheckpoint(checkpoint, modelDir, { appVersion: 'bench' });
  const model = await ZeroShotModel.open(modelDir, { batchTokens: BATCH_TOKENS });
  const protein = randomProtein(LENGTH, 7);
  const perBatch = Math.floor(BATCH_TOKENS / (LENGTH + 2));
  try {
    await model.maskedLogProbs(protein, Array.from({ length: perBatch }, (_, i) => i)); // warm-up
    let started = performance.now();
    await model.unmaskedLogProbs(protein);
    const wtSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await model.maskedLogProbs(protein, Array.from({ length: POSITIONS }, (_, i) => i));
    const seconds = (performance.now() - started) / 1000;
    const rate = POSITIONS / seconds;
    return [key, String(POSITIONS), `${seconds.toFixed(2)} s`, figure(rate), `${(LENGTH / rate).toFixed(1)} s`, `${(wtSeconds * 1000).toFixed(0)} ms`];
  } finally {
    await model.close();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'esm-bench-variants-'));
  try {
    const rows = [];
    for (const key of ['8M', '35M'] as const) rows.push(await measure(key, work));
    console.log(`Masked marginals on a ${LENGTH}-residue protein, fp32, CPU, ${BATCH_TOKENS}-token batches (${Math.floor(BATCH_TOKENS / (LENGTH + 2))} masked copies per batch):`);
    console.log(markdownTable(['model', 'positions', 'time', 'positions/s', 'saturation map (300 passes)', 'wt-marginal pass'], rows));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
