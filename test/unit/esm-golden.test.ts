/**
 * The ESM-2 graph against the original implementation's outputs (test/fixtures/golden): every
 * hidden layer, mean/BOS embeddings, logits, log-probs, masked-input logits, contacts and the
 * last layer's attention within 1e-4; a padded batch equals single runs within 1e-5. This file runs
 * the plain graph; esm-golden-kernels.test.ts runs the same comparisons on the fused one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, graphFile, readManifest } from '../../src-main/models/installed';
import { block, loadGolden, logSoftmaxRows, maxAbsDiff, runGraph, seqKey, type Golden } from '../support/golden';

const TOLERANCE = 1e-4;

// The plain graph (the fused one has its own file, esm-golden-kernels.test.ts).
beforeAll(() => {
  process.env.ESM_STUDIO_KERNELS = 'plain';
});
afterAll(() => {
  delete process.env.ESM_STUDIO_KERNELS;
});

for (const name of ['tiny', 'esm2-8M-random'] as const) {
  describe(`golden ${name}`, () => {
    let golden: Golden;
    let modelDir: string;
    let layers: number;
    let hidden: number;

    beforeAll(async () => {
      golden = loadGolden(name);
      modelDir = join(mkdtempSync(join(tmpdir(), 'esm-golden-')), 'model');
      const manifest = await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
      layers = manifest.config.numLayers;
      hidden = manifest.config.hiddenSize;
    });

    const everything = () => ({
      layers: Array.from({ length: layers + 1 }, (_, k) => k),
      pool: ['per-token', 'mean', 'bos'] as ('per-token' | 'mean' | 'bos')[],
      logits: true,
      contacts: true,
      attentionLayers: [layers],
    });

    it('matches every reference array of every sequence, one sequence at a time', async () => {
      const file = await graphFile(modelDir, readManifest(modelDir), everything());
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
        note('log_probs', maxAbsDiff(logSoftmaxRows(logits, 33), golden.array(seqKey(seq.index, 'log_probs')).data));
        note('contacts', maxAbsDiff(out.contacts!.data as Float32Array, golden.array(seqKey(seq.index, 'contacts')).data));
        note('attn_last', maxAbsDiff(out[`attention_${layers}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'attn_last')).data));
      }
      console.log(`${name} max |Δ|:`, worst);
      for (const [key, diff] of Object.entries(worst)) expect(diff, key).toBeLessThanOrEqual(TOLERANCE);
    });

    it('matches the masked-input references (token-dropout rescaling)', async () => {
      const file = await graphFile(modelDir, readManifest(modelDir), { layers: [0, layers], pool: ['per-token'], logits: true });
      let worst = 0;
      for (const seq of golden.sequences) {
        if (!golden.has(seqKey(seq.index, 'masked_tokens'))) continue;
        const tokens = Array.from(golden.array(seqKey(seq.index, 'masked_tokens')).data);
        const out = await runGraph(file, [tokens]);
        worst = Math.max(
          worst,
          maxAbsDiff(out.logits!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_logits')).data),
          maxAbsDiff(out[`hidden_${layers}`]!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_last_hidden')).data),
          maxAbsDiff(out.hidden_0!.data as Float32Array, golden.array(seqKey(seq.index, 'masked_embeddings')).data),
        );
      }
      expect(worst).toBeLessThanOrEqual(TOLERANCE);
    });

    it('gives a padded batch the same values as single runs and as the batch reference', async () => {
      const file = await graphFile(modelDir, readManifest(modelDir), { layers: [layers], pool: ['per-token', 'mean'], logits: true, contacts: true });
      const batch = golden.array('batch.tokens');
      const [B, Tmax] = batch.shape as [number, number];
      const rows = Array.from({ length: B }, (_, b) => Array.from(batch.data.subarray(b * Tmax, (b + 1) * Tmax)));
      const out = await runGraph(file, rows);
      const refLogits = golden.array('batch.logits').data;
      const refHidden = golden.array('batch.last_hidden').data;
      const refContacts = golden.array('batch.contacts').data;
      let vsSingle = 0;
      let vsReference = 0;
      for (let b = 0; b < B; b++) {
        const seq = golden.sequences[b]!;
        const T = seq.length + 2;
        const L = seq.length;
        const single = await runGraph(file, [rows[b]!.slice(0, T)]);
        const logits = block(out.logits!.data as Float32Array, 33, b * Tmax, b * Tmax + T, 0, 33);
        const last = block(out[`hidden_${layers}`]!.data as Float32Array, hidden, b * Tmax, b * Tmax + T, 0, hidden);
        const contactsB = (out.contacts!.data as Float32Array).subarray(b * (Tmax - 2) ** 2, (b + 1) * (Tmax - 2) ** 2);
        const contacts = block(contactsB, Tmax - 2, 0, L, 0, L);
        const mean = (out[`mean_${layers}`]!.data as Float32Array).subarray(b * hidden, (b + 1) * hidden);
        vsSingle = Math.max(
          vsSingle,
          maxAbsDiff(logits, single.logits!.data as Float32Array),
          maxAbsDiff(last, single[`hidden_${layers}`]!.data as Float32Array),
          maxAbsDiff(contacts, single.contacts!.data as Float32Array),
          maxAbsDiff(mean, single[`mean_${layers}`]!.data as Float32Array),
        );
        vsReference = Math.max(
          vsReference,
          maxAbsDiff(logits, block(refLogits, 33, b * Tmax, b * Tmax + T, 0, 33)),
          maxAbsDiff(last, block(refHidden, hidden, b * Tmax, b * Tmax + T, 0, hidden)),
          maxAbsDiff(contacts, block(refContacts.subarray(b * (Tmax - 2) ** 2, (b + 1) * (Tmax - 2) ** 2), Tmax - 2, 0, L, 0, L)),
        );
      }
      console.log(`${name} batch: vs single ${vsSingle.toExponential(2)}, vs reference ${vsReference.toExponential(2)}`);
      expect(vsSingle).toBeLessThanOrEqual(1e-5);
      expect(vsReference).toBeLessThanOrEqual(TOLERANCE);
    });
  });
}
