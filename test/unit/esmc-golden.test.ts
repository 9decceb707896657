/**
 * ESM C against the original `esm` package's outputs (test/fixtures/golden/esmc-tiny), from every
 * checkpoint layout, through the real path: convertCheckpoint (install) → graphs, Embedder (embed,
 * padded token-budget batches) and ZeroShotModel (wild-type marginals, masked marginals, PLL).
 * Hidden states, final embeddings, mean/BOS, logits, masked logits, PLL terms and last-block
 * attention within 1e-4; a padded batch within 1e-4 of single runs and of the batch reference.
 *
 * Hidden-state layers (models/esmc/graph): 0 = embedding output, k < numLayers = after block k
 * (the reference's `hidden_states[k]`), numLayers = after the final norm (the reference's `embeddings`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedder, type SequenceResult } from '../../src-main/engine/embed';
import { convertCheckpoint, graphFile, readManifest } from '../../src-main/models/installed';
import { ZeroShotModel } from '../../src-main/variants/model';
import { block, loadGolden, logSoftmaxRows, maxAbsDiff, runGraph, seqKey, type Golden } from '../support/golden';

const TOLERANCE = 1e-4;
const V = 64;
const CHECKPOINT = join('esmc-tiny', 'checkpoint');
const LAYOUTS = {
  'esm .pth': join(CHECKPOINT, 'esm', 'data', 'weights', 'esmc_tiny_2024_12_v0.pth'),
  'esm safetensors': join(CHECKPOINT, 'esm', 'model.safetensors'),
  'hf (Biohub TransformerEngine)': join(CHECKPOINT, 'hf'),
  'module-order .pth': join(CHECKPOINT, 'variants', 'state_dict_module_order.pth'),
} as const;

/** Worst |Δ| per output over every layout, printed at the end (the report's numbers). */
const worstOverall: Record<string, Record<string, number>> = {};
afterAll(() => console.log('ESM C golden max |Δ|:', JSON.stringify(worstOverall, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toExponential(2)) : v), 1)));

const golden: Golden = loadGolden('esmc-tiny');
const rowOf = (data: Float32Array, row: number, width: number): Float32Array => data.subarray(row * width, (row + 1) * width);

for (const [layout, relative] of Object.entries(LAYOUTS)) {
  describe(`ESM C golden from ${layout}`, () => {
    let modelDir: string;
    let L: number;
    let D: number;
    const worst: Record<string, number> = {};
    worstOverall[layout] = worst;
    const note = (key: string, diff: number): void => void (worst[key] = Math.max(worst[key] ?? 0, diff));
    const expectAllWithin = (keys: string[]): void => {
      for (const key of keys) expect(worst[key], `${layout} ${key}`).toBeLessThanOrEqual(TOLERANCE);
    };

    beforeAll(async () => {
      modelDir = join(mkdtempSync(join(tmpdir(), 'esmc-golden-')), 'model');
      const manifest = await convertCheckpoint(join(golden.dir, '..', relative), modelDir, { appVersion: 'test' });
      expect(manifest.family).toBe('esmc');
      L = manifest.config.numLayers;
      D = manifest.config.hiddenSize;
    });

    it('graph: hidden states, embeddings, mean/BOS, logits, masked logits and last-block attention of every sequence', async () => {
      const layers = Array.from({ length: L + 1 }, (_, k) => k);
      const file = await graphFile(modelDir, readManifest(modelDir), { layers, pool: ['per-token', 'mean', 'bos'], logits: true, attentionLayers: [L] });
      for (const seq of golden.sequences) {
        const tokens = Array.from(golden.array(seqKey(seq.index, 'tokens')).data);
        const T = tokens.length;
        const out = await runGraph(file, [tokens]);
        const states = golden.array(seqKey(seq.index, 'hidden_states')).data;
        for (let k = 0; k < L; k++) {
          note('hidden_states', maxAbsDiff(out[`hidden_${k}`]!.data as Float32Array, rowOf(states, k, T * D)));
          note('mean_hidden', maxAbsDiff(out[`mean_${k}`]!.data as Float32Array, rowOf(golden.array(seqKey(seq.index, 'mean_hidden')).data, k, D)));
          note('bos_hidden', maxAbsDiff(out[`bos_${k}`]!.data as Float32Array, rowOf(golden.array(seqKey(seq.index, 'bos_hidden')).data, k, D)));
        }
        note('embeddings', maxAbsDiff(out[`hidden_${L}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'embeddings')).data));
        note('mean_embedding', maxAbsDiff(out[`mean_${L}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'mean_embedding')).data));
        note('bos_embedding', maxAbsDiff(out[`bos_${L}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'bos_embedding')).data));
        note('logits', maxAbsDiff(out.logits!.data as Float32Array, golden.array(seqKey(seq.index, 'logits')).data));
        if (golden.has(seqKey(seq.index, 'attn_last'))) note('attn_last', maxAbsDiff(out[`attention_${L}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'attn_last')).data));
        const masked = await runGraph(file, [Array.from(golden.array(seqKey(seq.index, 'masked_tokens')).data)]);
        note('masked_logits', maxAbsDiff(masked.logits!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_logits')).data));
      }
      expect(Object.keys(worst)).toEqual(expect.arrayContaining(['hidden_states', 'embeddings', 'logits', 'attn_last', 'masked_logits']));
      expectAllWithin(['hidden_states', 'mean_hidden', 'bos_hidden', 'embeddings', 'mean_embedding', 'bos_embedding', 'logits', 'attn_last', 'masked_logits']);
    });

    it('embed: the Embedder (padded batches) gives the same per-residue states, poolings, logits and attention', async () => {
      const embedder = Embedder.open(modelDir);
      const results: SequenceResult[] = [];
      try {
        const options = { layers: [0, 1, -1], pool: ['per-token', 'mean', 'bos'] as const, logits: true, attentionLayers: [L] };
        await embedder.run(golden.sequences.map((seq) => seq.sequence), { ...options, pool: [...options.pool] }, (result) => void results.push(result));
      } finally {
        await embedder.close();
      }
      expect(results).toHaveLength(golden.sequences.length);
      for (const result of results) {
        const seq = golden.sequences[result.index]!;
        const T = seq.length + 2;
        const states = golden.array(seqKey(seq.index, 'hidden_states')).data;
        for (const k of [0, 1]) note('embed: per-residue hidden', maxAbsDiff(result.perToken.get(k)!, block(rowOf(states, k, T * D), D, 1, T - 1, 0, D)));
        note('embed: per-residue embeddings', maxAbsDiff(result.perToken.get(L)!, block(golden.array(seqKey(seq.index, 'embeddings')).data, D, 1, T - 1, 0, D)));
        note('embed: mean', maxAbsDiff(result.pooled.get(`mean_${L}`)!, golden.array(seqKey(seq.index, 'mean_embedding')).data));
        note('embed: mean', maxAbsDiff(result.pooled.get('mean_1')!, rowOf(golden.array(seqKey(seq.index, 'mean_hidden')).data, 1, D)));
        note('embed: bos', maxAbsDiff(result.pooled.get(`bos_${L}`)!, golden.array(seqKey(seq.index, 'bos_embedding')).data));
        note('embed: logits', maxAbsDiff(result.logits!, golden.array(seqKey(seq.index, 'logits')).data));
        if (golden.has(seqKey(seq.index, 'attn_last'))) note('embed: attention', maxAbsDiff(result.attention.get(L)!, golden.array(seqKey(seq.index, 'attn_last')).data));
      }
      expectAllWithin(['embed: per-residue hidden', 'embed: per-residue embeddings', 'embed: mean', 'embed: bos', 'embed: logits', 'embed: attention']);
    });

    it('zero-shot: wild-type log-probabilities, and masked marginals equal to the PLL terms', async () => {
      const model = await ZeroShotModel.open(modelDir);
      try {
        for (const seq of golden.sequences) {
          const unmasked = await model.unmaskedLogProbs(seq.sequence);
          const reference = logSoftmaxRows(golden.array(seqKey(seq.index, 'logits')).data, V);
          note('zero-shot: log-probs', maxAbsDiff(unmasked, reference.subarray(V, (seq.length + 1) * V)));
          const tokens = model.tokenizer.encode(seq.sequence);
          const wild = Float64Array.from({ length: seq.length }, (_, i) => unmasked[i * V + tokens[i + 1]!]!);
          note('zero-shot: wt_log_probs', maxAbsDiff(wild, golden.array(seqKey(seq.index, 'wt_log_probs')).data));
          if (!seq.has_pll) continue;
          const positions = Array.from({ length: seq.length }, (_, i) => i);
          const masked = await model.maskedLogProbs(seq.sequence, positions);
          const pll = golden.array(seqKey(seq.index, 'pll_log_probs')).data;
          const pllWild = golden.array(seqKey(seq.index, 'pll_wt_log_probs')).data;
          for (const p of positions) {
            note('zero-shot: pll_log_probs', maxAbsDiff(masked.get(p)!, rowOf(pll, p, V)));
            note('zero-shot: pll_wt_log_probs', Math.abs(masked.get(p)![tokens[p + 1]!]! - pllWild[p]!));
          }
        }
      } finally {
        await model.close();
      }
      expect(worst['zero-shot: pll_log_probs']).toBeDefined();
      expectAllWithin(['zero-shot: log-probs', 'zero-shot: wt_log_probs', 'zero-shot: pll_log_probs', 'zero-shot: pll_wt_log_probs']);
    });

    it('gives a right-padded batch the values of single runs and of the batch reference', async () => {
      const file = await graphFile(modelDir, readManifest(modelDir), { layers: [L], pool: ['per-token', 'mean'], logits: true });
      const batch = golden.array('batch.tokens');
      const indices = Array.from(golden.array('batch.index').data);
      const [B, Tmax] = batch.shape as [number, number];
      const rows = Array.from({ length: B }, (_, b) => Array.from(batch.data.subarray(b * Tmax, (b + 1) * Tmax)));
      const out = await runGraph(file, rows);
      const refLogits = golden.array('batch.logits').data;
      for (let b = 0; b < B; b++) {
        const T = golden.sequences[indices[b]!]!.length + 2;
        const single = await runGraph(file, [rows[b]!.slice(0, T)]);
        const logits = block(out.logits!.data as Float32Array, V, b * Tmax, b * Tmax + T, 0, V);
        note('batch vs single', Math.max(
          maxAbsDiff(logits, single.logits!.data as Float32Array),
          maxAbsDiff(block(out[`hidden_${L}`]!.data as Float32Array, D, b * Tmax, b * Tmax + T, 0, D), single[`hidden_${L}`]!.data as Float32Array),
          maxAbsDiff(rowOf(out[`mean_${L}`]!.data as Float32Array, b, D), single[`mean_${L}`]!.data as Float32Array),
        ));
        note('batch vs reference', maxAbsDiff(logits, block(refLogits, V, b * Tmax, b * Tmax + T, 0, V)));
      }
      expectAllWithin(['batch vs single', 'batch vs reference']);
    });
  });
}
