/**
 * The fused-kernel graph (models/esm2/fused: SkipLayerNormalization, BiasGelu, RotaryEmbedding,
 * MultiHeadAttention) and int8 models against the original implementation's outputs
 * (test/fixtures/golden). Fused: every reference array a graph without attention maps can give
 * (hidden states of every layer, mean/BOS embeddings, logits, log-probs, masked-input references,
 * a padded batch) within the same 1e-4 as the plain graph (esm-golden.test.ts). int8: weights a
 * quarter of fp32's on disk, mean embeddings at cosine ≥ 0.999 and zero-shot (wild-type marginal)
 * scores at Spearman ρ ≥ 0.99 against the fp32 references, on the fused and the plain graph.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cosineSimilarity, spearman } from '../../src-main/core/stats';
import { convertCheckpoint, graphFile, readManifest, WEIGHTS_FILE } from '../../src-main/models/installed';
import type { GraphOutputs } from '../../src-main/models/family';
import { block, loadGolden, logSoftmaxRows, maxAbsDiff, runGraph, seqKey, type Golden } from '../support/golden';

const TOLERANCE = 1e-4;
const VOCAB = 33;
/** Token ids of the 20 standard amino acids (L A G V S E R T I D P K Q N F Y M H W C). */
const AMINO_IDS = Array.from({ length: 20 }, (_, i) => 4 + i);

/** The operators a graph file uses (their names appear as strings in the protobuf). */
const uses = (file: string, op: string): boolean => readFileSync(file).includes(Buffer.from(op));


/** Wild-type marginal scores log p(aa) − log p(wt) at every residue, from log-probs [L + 2, 33]. */
function wtMarginalScores(logProbs: ArrayLike<number>, tokens: ArrayLike<number>): number[] {
  const scores: number[] = [];
  for (let t = 1; t < tokens.length - 1; t++) {
    const wt = logProbs[t * VOCAB + tokens[t]!]!;
    for (const aa of AMINO_IDS) scores.push(logProbs[t * VOCAB + aa]! - wt);
  }
  return scores;
}

afterEach(() => {
  delete process.env.ESM_STUDIO_KERNELS;
});

for (const name of ['tiny', 'esm2-8M-random'] as const) {
  describe(`fused kernels, golden ${name}`, () => {
    let golden: Golden;
    let modelDir: string;
    let layers: number;
    let hidden: number;

    beforeAll(async () => {
      golden = loadGolden(name);
      modelDir = join(mkdtempSync(join(tmpdir(), 'esm-fused-')), 'model');
      const manifest = await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
      layers = manifest.config.numLayers;
      hidden = manifest.config.hiddenSize;
    });

    const allButAttention = (): GraphOutputs => ({
      layers: Array.from({ length: layers + 1 }, (_, k) => k),
      pool: ['per-token', 'mean', 'bos'],
      logits: true,
    });

    it('uses the fused kernels where no attention map is asked for, and the plain graph where one is or when turned off', async () => {
      const manifest = readManifest(modelDir);
      const fused = await graphFile(modelDir, manifest, allButAttention());
      for (const op of ['MultiHeadAttention', 'RotaryEmbedding', 'SkipLayerNormalization', 'BiasGelu', 'com.microsoft']) expect(uses(fused, op), op).toBe(true);
      expect(uses(fused, 'Softmax')).toBe(false);
      const withContacts = await graphFile(modelDir, manifest, { ...allButAttention(), contacts: true });
      expect(uses(withContacts, 'MultiHeadAttention')).toBe(false);
      process.env.ESM_STUDIO_KERNELS = 'plain';
      const plain = await graphFile(modelDir, manifest, allButAttention());
      expect(plain).not.toBe(fused);
      expect(uses(plain, 'MultiHeadAttention')).toBe(false);
      expect(uses(plain, 'Softmax')).toBe(true);
    });

    it('matches every hidden layer, embedding and logit reference, one sequence at a time', async () => {
      const file = await graphFile(modelDir, readManifest(modelDir), allButAttention());
      const worst: Record<string, number> = {};
      const note = (key: string, diff: number): void => void (worst[key] = Math.max(worst[key] ?? 0, diff));
      for (const seq of golden.sequences) {
        const tokens = Array.from(golden.array(seqKey(seq.index, 'tokens')).data);
        const out = await runGraph(file, [tokens]);
        const states = golden.array(seqKey(seq.index, 'hidden_states')).data;
        const T = tokens.length;
        for (let k = 0; k <= layers; k++) {
          note('hidden_states', maxAbsDiff(out[`hidden_${k}`]!.data as Float32Array, states.subarray(k * T * hidden, (k + 1) * T * hidden)));
          note('mean_embedding', maxAbsDiff(out[`mean_${k}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'mean_embedding')).data.subarray(k * hidden, (k + 1) * hidden)));
          note('bos_embedding', maxAbsDiff(out[`bos_${k}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'bos_embedding')).data.subarray(k * hidden, (k + 1) * hidden)));
        }
        const logits = out.logits!.data as Float32Array;
        note('logits', maxAbsDiff(logits, golden.array(seqKey(seq.index, 'logits')).data));
        note('log_probs', maxAbsDiff(logSoftmaxRows(logits, VOCAB), golden.array(seqKey(seq.index, 'log_probs')).data));
      }
      console.log(`${name} fused max |Δ|:`, worst);
      expect(Object.keys(worst)).toHaveLength(5);
      for (const [key, diff] of Object.entries(worst)) expect(diff, key).toBeLessThanOrEqual(TOLERANCE);
    });

    it('matches the masked-input references and a padded batch', async () => {
      const file = await graphFile(modelDir, readManifest(modelDir), { layers: [0, layers], pool: ['per-token', 'mean'], logits: true });
      expect(uses(file, 'MultiHeadAttention')).toBe(true);
      let masked = 0;
      for (const seq of golden.sequences) {
        if (!golden.has(seqKey(seq.index, 'masked_tokens'))) continue;
        const out = await runGraph(file, [Array.from(golden.array(seqKey(seq.index, 'masked_tokens')).data)]);
        masked = Math.max(
          masked,
          maxAbsDiff(out.logits!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_logits')).data),
          maxAbsDiff(out[`hidden_${layers}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_last_hidden')).data),
          maxAbsDiff(out.hidden_0!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_embeddings')).data),
        );
      }
      expect(masked).toBeLessThanOrEqual(TOLERANCE);

      const batch = golden.array('batch.tokens');
      const [B, Tmax] = batch.shape as [number, number];
      const rows = Array.from({ length: B }, (_, b) => Array.from(batch.data.subarray(b * Tmax, (b + 1) * Tmax)));
      const out = await runGraph(file, rows);
      let vsSingle = 0;
      let vsReference = 0;
      for (let b = 0; b < B; b++) {
        const T = golden.sequences[b]!.length + 2;
        const single = await runGraph(file, [rows[b]!.slice(0, T)]);
        const logits = block(out.logits!.data as Float32Array, VOCAB, b * Tmax, b * Tmax + T, 0, VOCAB);
        const last = block(out[`hidden_${layers}`]!.data as Float32Array, hidden, b * Tmax, b * Tmax + T, 0, hidden);
        const mean = (out[`mean_${layers}`]!.data as Float32Array).subarray(b * hidden, (b + 1) * hidden);
        vsSingle = Math.max(vsSingle, maxAbsDiff(logits, single.logits!.data as Float32Array), maxAbsDiff(last, single[`hidden_${layers}`]!.data as Float32Array), maxAbsDiff(mean, single[`mean_${layers}`]!.data as Float32Array));
        vsReference = Math.max(
          vsReference,
          maxAbsDiff(logits, block(golden.array('batch.logits').data, VOCAB, b * Tmax, b * Tmax + T, 0, VOCAB)),
          maxAbsDiff(last, block(golden.array('batch.last_hidden').data, hidden, b * Tmax, b * Tmax + T, 0, hidden)),
        );
      }
      console.log(`${name} fused: masked ${masked.toExponential(2)}, batch vs single ${vsSingle.toExponential(2)}, vs reference ${vsReference.toExponential(2)}`);
      expect(vsSingle).toBeLessThanOrEqual(1e-5);
      expect(vsReference).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  describe(`int8, golden ${name}`, () => {
    let golden: Golden;
    let fp32Dir: string;
    let int8Dir: string;
    let layers: number;
    let hidden: number;

    beforeAll(async () => {
      golden = loadGolden(name);
      const root = mkdtempSync(join(tmpdir(), 'esm-int8-'));
      [fp32Dir, int8Dir] = [join(root, 'fp32'), join(root, 'int8')];
      await convertCheckpoint(golden.checkpoint, fp32Dir, { appVersion: 'test' });
      const manifest = await convertCheckpoint(golden.checkpoint, int8Dir, { appVersion: 'test', precision: 'int8' });
      layers = manifest.config.numLayers;
      hidden = manifest.config.hiddenSize;
    });

    it('stores the linear weights in a quarter of the space and records the precision', () => {
      const manifest = readManifest(int8Dir);
      expect(manifest.precision).toBe('int8');
      expect(manifest.weights.filter((w) => w.dtype === 'int8').length).toBe(6 * layers + 1);
      const ratio = statSync(join(int8Dir, WEIGHTS_FILE)).size / statSync(join(fp32Dir, WEIGHTS_FILE)).size;
      console.log(`${name} int8 / fp32 size: ${ratio.toFixed(3)}`);
      // Word embeddings, biases, LayerNorms and the decoder stay float32: a bit over a quarter.
      expect(ratio).toBeLessThan(name === 'tiny' ? 0.45 : 0.32);
    });

    for (const kernels of ['fused', 'plain'] as const) {
      it(`gives embeddings at cosine ≥ 0.999 and zero-shot scores at ρ ≥ 0.99 against fp32 (${kernels} graph)`, async () => {
        if (kernels === 'plain') process.env.ESM_STUDIO_KERNELS = 'plain';
        const file = await graphFile(int8Dir, readManifest(int8Dir), { layers: [layers], pool: ['mean'], logits: true });
        expect(uses(file, 'DynamicQuantizeMatMul')).toBe(true);
        expect(uses(file, 'MultiHeadAttention')).toBe(kernels === 'fused');
        let worstCosine = 1;
        let worstRho = 1;
        for (const seq of golden.sequences) {
          const tokens = golden.array(seqKey(seq.index, 'tokens')).data;
          const out = await runGraph(file, [Array.from(tokens)]);
          const reference = golden.array(seqKey(seq.index, 'mean_embedding')).data.subarray(layers * hidden, (layers + 1) * hidden);
          worstCosine = Math.min(worstCosine, cosineSimilarity(out[`mean_${layers}`]!.data as Float32Array, reference));
          const scores = wtMarginalScores(logSoftmaxRows(out.logits!.data as Float32Array, VOCAB), tokens);
          worstRho = Math.min(worstRho, spearman(scores, wtMarginalScores(golden.array(seqKey(seq.index, 'log_probs')).data, tokens)));
        }
        console.log(`${name} int8 ${kernels}: worst cosine ${worstCosine.toFixed(5)}, worst ρ ${worstRho.toFixed(4)}`);
        expect(worstCosine).toBeGreaterThanOrEqual(0.999);
        expect(worstRho).toBeGreaterThanOrEqual(0.99);
      });
    }
  });
}
