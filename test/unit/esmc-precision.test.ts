/**
 * ESM C converted at fp16 and int8 (the Biohub checkpoint of esmc-tiny) against the original's
 * fp32 outputs: fp16 logits within 0.05 and mean embeddings at cosine ≥ 0.99999; int8 stores the
 * trunk's linear layers and the head's dense layer as int8 (the 64-logit layer stays float32),
 * takes well under half of fp32's disk, and keeps mean embeddings at cosine ≥ 0.999 and wild-type
 * log-probabilities at Spearman ρ ≥ 0.99. The tiny model multiplies each residual update by 4.24
 * (√(36 / 2)), so it is harsher on rounding than the published ones.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spearman } from '../../src-main/core/stats';
import { convertCheckpoint, graphFile, readManifest, WEIGHTS_FILE } from '../../src-main/models/installed';
import { loadGolden, logSoftmaxRows, maxAbsDiff, runGraph, seqKey } from '../support/golden';

const golden = loadGolden('esmc-tiny');
const SOURCE = join(golden.checkpoint, 'hf');
const V = 64;

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Worst logits |Δ| and cosine of mean embeddings over all sequences, and wild-type log-probs of all residues. */
async function compare(modelDir: string) {
  const layers = readManifest(modelDir).config.numLayers;
  const file = await graphFile(modelDir, readManifest(modelDir), { layers: [layers], pool: ['mean'], logits: true });
  let logits = 0;
  let minCosine = 1;
  const ours: number[] = [];
  const reference: number[] = [];
  for (const seq of golden.sequences) {
    const tokens = Array.from(golden.array(seqKey(seq.index, 'tokens')).data);
    const out = await runGraph(file, [tokens]);
    const data = out.logits!.data as Float32Array;
    logits = Math.max(logits, maxAbsDiff(data, golden.array(seqKey(seq.index, 'logits')).data));
    minCosine = Math.min(minCosine, cosine(out[`mean_${layers}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'mean_embedding')).data));
    const logProbs = logSoftmaxRows(data, V);
    for (let i = 0; i < seq.length; i++) ours.push(logProbs[(i + 1) * V + tokens[i + 1]!]!);
    reference.push(...golden.array(seqKey(seq.index, 'wt_log_probs')).data);
  }
  return { logits, minCosine, rho: spearman(ours, reference) };
}

describe('ESM C at reduced precision', () => {
  it('fp16 stays close to the fp32 reference', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'esmc-fp16-')), 'model');
    await convertCheckpoint(SOURCE, dir, { appVersion: 'test', precision: 'fp16' });
    const result = await compare(dir);
    console.log('ESM C fp16:', result);
    expect(result.logits).toBeLessThan(0.05);
    expect(result.minCosine).toBeGreaterThanOrEqual(0.99999);
  });

  it('int8 quantises the linear layers, shrinks the weights and keeps embeddings and zero-shot ranks', async () => {
    const root = mkdtempSync(join(tmpdir(), 'esmc-int8-'));
    await convertCheckpoint(SOURCE, join(root, 'fp32'), { appVersion: 'test' });
    const manifest = await convertCheckpoint(SOURCE, join(root, 'int8'), { appVersion: 'test', precision: 'int8' });
    expect(manifest.weights.filter((w) => w.dtype === 'int8').map((w) => w.name)).toHaveLength(4 * manifest.config.numLayers + 1);
    expect(manifest.weights.find((w) => w.name === 'sequence_head.3.weight')?.dtype).toBe('float32');
    const ratio = statSync(join(root, 'int8', WEIGHTS_FILE)).size / statSync(join(root, 'fp32', WEIGHTS_FILE)).size;
    const result = await compare(join(root, 'int8'));
    console.log('ESM C int8:', { ...result, sizeRatio: ratio });
    expect(ratio).toBeLessThan(0.45);
    expect(result.minCosine).toBeGreaterThanOrEqual(0.999);
    expect(result.rho).toBeGreaterThanOrEqual(0.99);
  });
});
