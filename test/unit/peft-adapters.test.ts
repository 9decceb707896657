/**
 * Bottleneck adapters (train/bottleneck): h + up(gelu(down(h))) on each adapted block's attention
 * output and feed-forward output, before the residual add.
 * - ESM C (tiny golden): with trained-looking adapters (up ≠ 0) the training graph's loss equals an
 *   independent float64 forward (test/support/esmc-reference) and every adapter and head gradient
 *   matches float64 central differences within 1e-4 of that tensor's largest element.
 * - Freshly initialised adapters (up = 0) leave both families' predictions as without them (1e-6);
 *   trained ones change them.
 * - Names, shapes and layers; sizes refused where they do not fit.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, readManifest } from '../../src-main/models/installed';
import { esm2 } from '../../src-main/models/esm2';
import { esmc } from '../../src-main/models/esmc';
import { bottleneckAdapters, bottleneckParameters, initBottleneck, type BottleneckSpec } from '../../src-main/train/bottleneck';
import { openTrainingSession, writeTrainingGraph } from '../../src-main/train/graph-files';
import { runStep } from '../../src-main/train/graph-feeds';
import type { TaskSpec } from '../../src-main/train/graph';
import { initHead } from '../../src-main/train/heads';
import { convertTinyEsmc, finiteDifferenceErrors, referenceLoss, type TinyEsmc } from '../support/peft-esmc';
import { GOLDEN, maxAbsDiff } from '../support/golden';
import { createRng } from '../../src-main/core/rng';
import { uniformValues } from '../support/random-proteins';

const REGRESSION: TaskSpec = { kind: 'regression', outputs: 2 };
const HEAD = { kind: 'linear' as const, pool: 'mean' as const };
const TARGETS = [0.5, -1, 1.5, 0.2, -0.3, 0.8];

/** Adapters as after some training: up and the biases non-zero. */
function trainedAdapters(spec: BottleneckSpec, model: TinyEsmc, seed: number): Map<string, Float32Array> {
  const adapters = initBottleneck(spec, model.config, esmc, seed);
  const rng = createRng(seed + 100);
  for (const [name, data] of adapters) if (!name.endsWith('down.weight')) data.set(uniformValues(rng, data.length, -0.3, 0.3));
  return adapters;
}

async function predict(modelDir: string, spec: BottleneckSpec | null, params: Map<string, Float32Array>, tokens: number[][]): Promise<Float32Array> {
  const { file, training } = await writeTrainingGraph(modelDir, { lora: null, adapter: spec, head: HEAD, task: REGRESSION, mode: 'predict' });
  const session = (await openTrainingSession(file)).session;
  const out = await runStep(session, training, { tokens }, params);
  await session.release();
  return out.prediction;
}

describe('bottleneck adapters on ESM C', () => {
  let model: TinyEsmc;
  beforeAll(async () => {
    model = await convertTinyEsmc('peft-adapter-esmc-');
  });

  it('sit on the attention output and the feed-forward output of the top K blocks, with their own names', () => {
    const adapters = bottleneckAdapters({ size: 4, layers: 1 }, model.config, esmc);
    expect(adapters.map((a) => [a.layer, a.role, a.base])).toEqual([
      [1, 'attention-output', 'transformer.blocks.1.attn.out_proj'],
      [1, 'output', 'transformer.blocks.1.ffn.3'],
    ]);
    const D = model.config.hiddenSize;
    expect(bottleneckParameters({ size: 4, layers: 1 }, model.config, esmc).map((p) => [p.name, p.shape])).toEqual([
      ['transformer.blocks.1.attn.out_proj.adapter.down.weight', [4, D]],
      ['transformer.blocks.1.attn.out_proj.adapter.down.bias', [4]],
      ['transformer.blocks.1.attn.out_proj.adapter.up.weight', [D, 4]],
      ['transformer.blocks.1.attn.out_proj.adapter.up.bias', [D]],
      ['transformer.blocks.1.ffn.3.adapter.down.weight', [4, D]],
      ['transformer.blocks.1.ffn.3.adapter.down.bias', [4]],
      ['transformer.blocks.1.ffn.3.adapter.up.weight', [D, 4]],
      ['transformer.blocks.1.ffn.3.adapter.up.bias', [D]],
    ]);
    expect(() => bottleneckParameters({ size: 0, layers: 'all' }, model.config, esmc)).toThrow(/adapter size must be a whole number from 1 to 4096/);
    expect(() => bottleneckParameters({ size: 8, layers: 3 }, model.config, esmc)).toThrow(/'all' or 1 to 2 top layers/);
  });

  it('gradients of every adapter and head tensor match float64 finite differences within 1e-4', { timeout: 120_000 }, async () => {
    const spec: BottleneckSpec = { size: 5, layers: 'all' };
    const params = new Map([...trainedAdapters(spec, model, 11), ...initHead(HEAD, model.config.hiddenSize, 2, 12)]);
    const { file, training } = await writeTrainingGraph(model.modelDir, { lora: null, adapter: spec, head: HEAD, task: REGRESSION, mode: 'train' });
    const session = (await openTrainingSession(file)).session;
    const step = await runStep(session, training, { tokens: model.tokens, targets: Float32Array.from(TARGETS) }, params);
    await session.release();
    expect([...step.gradients.keys()].sort()).toEqual([...params.keys()].sort());
    expect(step.gradients.size).toBe(model.config.numLayers * 2 * 4 + 2);
    const shape = { adapter: spec };
    expect(Math.abs(step.loss! - referenceLoss(model, esmc, params, shape, TARGETS, 2))).toBeLessThan(1e-5);
    const errors = finiteDifferenceErrors(step.gradients, params, (p) => referenceLoss(model, esmc, p, shape, TARGETS, 2));
    console.log('ESM C bottleneck adapters: worst relative errors', Object.fromEntries(errors));
    for (const [name, error] of errors) expect(error, name).toBeLessThan(1e-4);
  });

  it('start as the identity: fresh adapters predict what the model without them predicts', { timeout: 60_000 }, async () => {
    const spec: BottleneckSpec = { size: 8, layers: 'all' };
    const head = initHead(HEAD, model.config.hiddenSize, 2, 3);
    const without = await predict(model.modelDir, null, head, model.tokens);
    const fresh = await predict(model.modelDir, spec, new Map([...initBottleneck(spec, model.config, esmc, 4), ...head]), model.tokens);
    // Not bit-identical: onnxruntime orders the float32 sums of the two graphs differently.
    expect(maxAbsDiff(fresh, without)).toBeLessThan(1e-6);
    const trained = await predict(model.modelDir, spec, new Map([...trainedAdapters(spec, model, 4), ...head]), model.tokens);
    expect(maxAbsDiff(trained, without)).toBeGreaterThan(1e-3);
  });
});

describe('bottleneck adapters on ESM-2', () => {
  it('start as the identity and sit on attention.output.dense and output.dense', { timeout: 60_000 }, async () => {
    const modelDir = join(mkdtempSync(join(tmpdir(), 'peft-adapter-esm2-')), 'model');
    await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), modelDir, { appVersion: 'test' });
    const { config } = readManifest(modelDir);
    const spec: BottleneckSpec = { size: 6, layers: 1 };
    expect(bottleneckAdapters(spec, config, esm2).map((a) => a.base)).toEqual(['esm.encoder.layer.1.attention.output.dense', 'esm.encoder.layer.1.output.dense']);
    const tokens = ['MKTAYIAKQRQISFVKSHF', 'GAVL'].map((s) => Array.from(esm2.tokenizer.encode(s)));
    const head = initHead(HEAD, config.hiddenSize, 2, 3);
    const without = await predict(modelDir, null, head, tokens);
    const adapters = initBottleneck(spec, config, esm2, 5);
    expect(maxAbsDiff(await predict(modelDir, spec, new Map([...adapters, ...head]), tokens), without)).toBeLessThan(1e-6);
    const rng = createRng(6);
    for (const [name, data] of adapters) if (name.endsWith('up.weight')) data.set(uniformValues(rng, data.length, -0.3, 0.3));
    expect(maxAbsDiff(await predict(modelDir, spec, new Map([...adapters, ...head]), tokens), without)).toBeGreaterThan(1e-3);
  });
});
