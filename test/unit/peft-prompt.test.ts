/**
 * Prompt tuning (train/prompt, models/soft-prompt): virtual tokens before `<cls>`, shallow (input
 * only), deep (every block) and deep on the top K blocks.
 * - ESM C (tiny golden): the training graph's loss equals an independent float64 forward with the
 *   prompt rows (test/support/esmc-reference), and the gradients of the prompt and the head match
 *   float64 central differences of it within 1e-4 of each tensor's largest element.
 * - ESM-2 (tiny golden): a shallow prompt whose rows are 0.88·E[t] (the input embeddings of tokens t)
 *   gives, at the sequence's positions, exactly what the plain model gives for the sequence with t
 *   written before `<cls>` (rotary attention is relative, so the shift does not matter); a deep prompt
 *   whose block-k rows are that plain run's hidden states at those positions does too. The outputs
 *   have the positions they have without prompts.
 * - init: rows of amino-acid embeddings drawn with the seeded generator; sizes refused where they do not fit.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, writeModel, type Value } from '../../src-main/onnx';
import { convertCheckpoint, readManifest } from '../../src-main/models/installed';
import { esm2 } from '../../src-main/models/esm2';
import { esmc } from '../../src-main/models/esmc';
import { outputName, type ModelConfig, type SoftPrompt } from '../../src-main/models/family';
import { installedWeights, openTrainingSession, writeTrainingGraph } from '../../src-main/train/graph-files';
import { runStep, tokenTensor } from '../../src-main/train/graph-feeds';
import type { TaskSpec } from '../../src-main/train/graph';
import { initHead } from '../../src-main/train/heads';
import { initPrompt, promptBlocks, promptParameters, PROMPT_EMBEDDINGS, type PromptSpec } from '../../src-main/train/prompt';
import { convertTinyEsmc, finiteDifferenceErrors, referenceLoss, type TinyEsmc } from '../support/peft-esmc';
import { GOLDEN, maxAbsDiff } from '../support/golden';
import { createRng } from '../../src-main/core/rng';
import { uniformValues } from '../support/random-proteins';
import { openSafetensors, readFloat32 } from '../../src-main/models/formats/safetensors';

const REGRESSION: TaskSpec = { kind: 'regression', outputs: 2 };
const HEAD = { kind: 'linear' as const, pool: 'mean' as const };
const TARGETS = [0.5, -1, 1.5, 0.2, -0.3, 0.8];

describe('prompt tuning on ESM C: gradients against float64 finite differences', () => {
  let model: TinyEsmc;
  beforeAll(async () => {
    model = await convertTinyEsmc('peft-prompt-esmc-');
  });

  const cases: [string, PromptSpec][] = [
    ['shallow (input only)', { length: 3, layers: 'input' }],
    ['deep (every block)', { length: 2, layers: 'all' }],
    ['deep on the top block', { length: 2, layers: 1 }],
  ];
  for (const [label, prompt] of cases) {
    it(`${label}: loss equals the float64 reference, gradients match within 1e-4`, { timeout: 120_000 }, async () => {
      const params = new Map([...initPrompt(prompt, model.config, esmc, 7, model.base.get('embed.weight')!), ...initHead(HEAD, model.config.hiddenSize, 2, 8)]);
      const { file, training } = await writeTrainingGraph(model.modelDir, { lora: null, prompt, head: HEAD, task: REGRESSION, mode: 'train' });
      const session = (await openTrainingSession(file)).session;
      const step = await runStep(session, training, { tokens: model.tokens, targets: Float32Array.from(TARGETS) }, params);
      await session.release();
      expect([...step.gradients.keys()].sort()).toEqual(['head.bias', 'head.weight', PROMPT_EMBEDDINGS]);
      const blocks = promptBlocks(prompt, model.config.numLayers).length;
      expect(step.gradients.get(PROMPT_EMBEDDINGS)!.length).toBe(blocks * prompt.length * model.config.hiddenSize);
      const shape = { prompt };
      expect(Math.abs(step.loss! - referenceLoss(model, esmc, params, shape, TARGETS, 2))).toBeLessThan(1e-5);
      const errors = finiteDifferenceErrors(step.gradients, params, (p) => referenceLoss(model, esmc, p, shape, TARGETS, 2));
      console.log(`ESM C prompt tuning, ${label}: worst relative errors`, Object.fromEntries(errors));
      for (const [name, error] of errors) expect(error, name).toBeLessThan(1e-4);
    });
  }

  it('starts each virtual token as the embedding of an amino acid drawn with the seed', () => {
    const spec: PromptSpec = { length: 4, layers: 'all' };
    const table = model.base.get('embed.weight')!;
    const D = model.config.hiddenSize;
    const init = initPrompt(spec, model.config, esmc, 3, table).get(PROMPT_EMBEDDINGS)!;
    expect(init.length).toBe(4 * model.config.numLayers * D);
    const aminoAcidRows = esmc.tokenizer.aminoAcids.map((aa) => esmc.tokenizer.residueToken(aa));
    for (let row = 0; row < init.length / D; row++) {
      const values = init.subarray(row * D, (row + 1) * D);
      const match = aminoAcidRows.find((t) => maxAbsDiff(values, table.subarray(t * D, (t + 1) * D)) === 0);
      expect(match, `row ${row}`).toBeDefined();
    }
    expect(initPrompt(spec, model.config, esmc, 3, table).get(PROMPT_EMBEDDINGS)).toEqual(init);
    expect(maxAbsDiff(initPrompt(spec, model.config, esmc, 4, table).get(PROMPT_EMBEDDINGS)!, init)).toBeGreaterThan(0);
  });

  it('refuses prompt sizes that do not fit the model', () => {
    expect(() => promptParameters({ length: 0, layers: 'input' }, model.config)).toThrow(/prompt length must be a whole number from 1 to 512/);
    expect(() => promptParameters({ length: 4, layers: model.config.numLayers + 1 }, model.config)).toThrow(/'input', 'all' or 1 to 2 top layers/);
  });
});

describe('prompt tuning on ESM-2: a prompt of token embeddings is those tokens written before <cls>', () => {
  let modelDir: string;
  let config: ModelConfig;
  let embeddings: Float32Array;
  const SEQUENCE = 'MKTAYIAKQRQISFVKSHF';
  const PREFIX = 'WLC'; // the tokens the prompt stands for

  beforeAll(async () => {
    const checkpoint = join(GOLDEN, 'tiny', 'checkpoint');
    modelDir = join(mkdtempSync(join(tmpdir(), 'peft-prompt-esm2-')), 'model');
    await convertCheckpoint(checkpoint, modelDir, { appVersion: 'test' });
    config = readManifest(modelDir).config;
    embeddings = readFloat32(openSafetensors(join(checkpoint, 'model.safetensors')).get('esm.embeddings.word_embeddings.weight')!);
  });

  /** Per-token hidden states of `layers` for token rows, with an optional prompt made from constants. */
  async function hiddenStates(rows: number[][], layers: number[], prompt?: (g: GraphBuilder) => SoftPrompt): Promise<Map<number, { data: Float32Array; dims: readonly number[] }>> {
    const g = new GraphBuilder('probe');
    const manifest = readManifest(modelDir);
    esm2.buildGraph(g, { config, precision: 'fp32', outputs: { layers, pool: ['per-token'] }, param: installedWeights(modelDir, manifest)(g), ...(prompt ? { prompt: prompt(g) } : {}) });
    const file = join(modelDir, `probe-${prompt ? 'prompted' : 'plain'}.onnx`);
    await writeModel(g.build(), file, {});
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ input_ids: tokenTensor(rows, esm2.tokenizer.tokens.PAD) });
    await session.release();
    return new Map(layers.map((layer) => [layer, { data: out[outputName.pooled('per-token', layer)]!.data as Float32Array, dims: out[outputName.pooled('per-token', layer)]!.dims }]));
  }

  /** Rows [from, from + count) of a [1, T, D] hidden state. */
  const rowsOf = (h: { data: Float32Array }, from: number, count: number): Float32Array => h.data.slice(from * config.hiddenSize, (from + count) * config.hiddenSize);

  it('shallow and deep prompts reproduce the plain run at the sequence positions', { timeout: 60_000 }, async () => {
    const D = config.hiddenSize;
    const N = PREFIX.length;
    const prefixIds = [...PREFIX].map((aa) => esm2.tokenizer.residueToken(aa));
    const plainIds = [prefixIds, Array.from(esm2.tokenizer.encode(SEQUENCE))].flat();
    const seqIds = Array.from(esm2.tokenizer.encode(SEQUENCE));
    const all = Array.from({ length: config.numLayers + 1 }, (_, i) => i);
    const plain = await hiddenStates([plainIds], all);
    const inputRows = Float32Array.from(prefixIds.flatMap((t) => Array.from(embeddings.subarray(t * D, (t + 1) * D), (v) => v * 0.88)));
    // The plain run's layer-0 rows are the scaled embeddings: the prompt's init matches what the model sees.
    expect(maxAbsDiff(rowsOf(plain.get(0)!, 0, N), inputRows)).toBeLessThan(1e-6);

    const constant = (g: GraphBuilder, rows: Float32Array): Value => g.constant('float32', Array.from(rows), [N, D]);
    const shallow = await hiddenStates([seqIds], all, (g) => ({ length: N, before: (layer) => (layer === 0 ? constant(g, inputRows) : null) }));
    const deep = await hiddenStates([seqIds], all, (g) => ({
      length: N,
      before: (layer) => constant(g, layer === 0 ? inputRows : rowsOf(plain.get(layer)!, 0, N)),
    }));
    for (const layer of all.slice(1)) {
      const expected = rowsOf(plain.get(layer)!, N, seqIds.length);
      expect(shallow.get(layer)!.dims).toEqual([1, seqIds.length, D]);
      const [s, d] = [maxAbsDiff(shallow.get(layer)!.data, expected), maxAbsDiff(deep.get(layer)!.data, expected)];
      expect(s, `shallow, layer ${layer}`).toBeLessThan(1e-4);
      expect(d, `deep, layer ${layer}`).toBeLessThan(1e-4);
    }
    // Layer 0 (the embeddings) has no prompt positions either.
    expect(shallow.get(0)!.dims).toEqual([1, seqIds.length, D]);
    // A different prompt changes the outputs: the comparison above could fail.
    const other = await hiddenStates([seqIds], [config.numLayers], (g) => ({ length: N, before: (layer) => (layer === 0 ? constant(g, uniformValues(createRng(1), N * D, -1, 1)) : null) }));
    expect(maxAbsDiff(other.get(config.numLayers)!.data, rowsOf(plain.get(config.numLayers)!, N, seqIds.length))).toBeGreaterThan(1e-2);
  });

  it('a padded batch with prompts equals each sequence alone', { timeout: 60_000 }, async () => {
    const D = config.hiddenSize;
    const rows = ['MKTAYIAKQRQISFVKSHF', 'GAVL'].map((s) => Array.from(esm2.tokenizer.encode(s)));
    const promptRows = uniformValues(createRng(2), 2 * 2 * D, -0.5, 0.5);
    const prompt = (g: GraphBuilder): SoftPrompt => ({ length: 2, before: (layer) => g.slice(g.constant('float32', Array.from(promptRows), [4, D]), [layer * 2], [layer * 2 + 2], [0]) });
    const L = config.numLayers;
    const batch = (await hiddenStates(rows, [L], prompt)).get(L)!;
    const T = rows[0]!.length;
    for (const [b, row] of rows.entries()) {
      const alone = (await hiddenStates([row], [L], prompt)).get(L)!;
      expect(maxAbsDiff(batch.data.slice(b * T * D, (b * T + row.length) * D), alone.data)).toBeLessThan(1e-5);
    }
  });
});
