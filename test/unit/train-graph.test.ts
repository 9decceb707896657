/**
 * Training-graph pieces on their own: the losses against values worked out by hand (PyTorch's
 * weighted mean, pos_weight, numerically stable BCE, ignored targets), the heads against a
 * direct computation, the PEFT/PyTorch initialisations, and the seeded dropout masks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, writeModel, type Graph, type Value } from '../../src-main/onnx';
import type { EsmConfig } from '../../src-main/models/esm2/checkpoint';
import { esm2 } from '../../src-main/models/esm2';
import { buildHeadGraph, IO } from '../../src-main/train/graph';
import { dropout, dropoutHash, dropoutSeedValue } from '../../src-main/train/graph-dropout';
import { runStep } from '../../src-main/train/graph-feeds';
import { HEAD_NAMES, initHead } from '../../src-main/train/heads';
import { adaptedLinears, initLora, loraParameters } from '../../src-main/train/lora';
import { bceWithLogitsLoss, crossEntropyLoss, mseLoss } from '../../src-main/train/losses';

const dir = mkdtempSync(join(tmpdir(), 'train-graph-'));
let fileCount = 0;

async function session(graph: Graph): Promise<ort.InferenceSession> {
  const file = join(dir, `g${++fileCount}.onnx`);
  await writeModel(graph, file);
  return ort.InferenceSession.create(file);
}

const f32 = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);
const i64 = (data: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(data.map(BigInt)), dims);

/** Runs a one-loss graph built by `body` on the given feeds and returns the scalar. */
async function lossOf(body: (g: GraphBuilder) => Value, feeds: Record<string, ort.Tensor>): Promise<number> {
  const g = new GraphBuilder('loss');
  g.output(body(g), 'loss');
  const s = await session(g.build());
  const out = await s.run(feeds);
  await s.release();
  expect(out.loss!.dims).toEqual([]);
  return (out.loss!.data as Float32Array)[0]!;
}

describe('losses', () => {
  it('MSE is the mean over every element', async () => {
    const loss = await lossOf(
      (g) => mseLoss(g, g.input('p', 'float32', [3, 1]), g.input('t', 'float32', [3, 1]), 2),
      { p: f32([1, 2, 4], [3, 1]), t: f32([0, 2, 1], [3, 1]) },
    );
    expect(loss).toBeCloseTo(10 / 3, 6); // (1 + 0 + 9) / 3
  });

  it('cross-entropy with class weights is Σ w_y·nll / Σ w_y', async () => {
    // Both rows have p = (1/4, 3/4, 0⁺); labels 0 and 1, weights 2 and 1:
    // (2·ln 4 + 1·ln(4/3)) / (2 + 1).
    const logits = f32([0, Math.log(3), -100, 0, Math.log(3), -100], [2, 3]);
    const loss = await lossOf(
      (g) => crossEntropyLoss(g, g.input('x', 'float32', [2, 3]), g.input('y', 'int64', [2]), 2, { classes: 3, classWeights: [2, 1, 5] }),
      { x: logits, y: i64([0, 1], [2]) },
    );
    expect(loss).toBeCloseTo((2 * Math.log(4) + Math.log(4 / 3)) / 3, 5);
    const unweighted = await lossOf(
      (g) => crossEntropyLoss(g, g.input('x', 'float32', [2, 3]), g.input('y', 'int64', [2]), 2, { classes: 3 }),
      { x: logits, y: i64([0, 1], [2]) },
    );
    expect(unweighted).toBeCloseTo((Math.log(4) + Math.log(4 / 3)) / 2, 5);
  });

  it('token cross-entropy counts only kept positions with a valid label', async () => {
    // Positions: kept (label 1, p = 3/4), dropped by the mask (would cost 100), label −100 (ignored),
    // kept (label 0, p = 1/2).
    const x = f32([0, Math.log(3), 100, 0, 0, 0, 0, 0], [1, 4, 2]);
    const loss = await lossOf(
      (g) =>
        crossEntropyLoss(g, g.input('x', 'float32', [1, 4, 2]), g.input('y', 'int64', [1, 4]), 3, {
          classes: 2,
          keep: g.input('keep', 'float32', [1, 4]),
        }),
      { x, y: i64([1, 1, -100, 0], [1, 4]), keep: f32([1, 0, 1, 1], [1, 4]) },
    );
    expect(loss).toBeCloseTo((Math.log(4 / 3) + Math.log(2)) / 2, 5);
  });

  it('BCE with logits applies pos_weight to positives and stays finite for large logits', async () => {
    // (x=0, y=1, pw=3) → 3 ln 2; (x=0, y=0) → ln 2; (x=100, y=0) → 100; (x=−100, y=1, pw=2) → 200.
    const loss = await lossOf(
      (g) => bceWithLogitsLoss(g, g.input('x', 'float32', [2, 2]), g.input('t', 'float32', [2, 2]), { labels: 2, posWeight: [3, 2] }),
      { x: f32([0, 0, 100, -100], [2, 2]), t: f32([1, 0, 0, 1], [2, 2]) },
    );
    expect(loss).toBeCloseTo((4 * Math.log(2) + 300) / 4, 4);
    const soft = await lossOf(
      (g) => bceWithLogitsLoss(g, g.input('x', 'float32', [1, 1]), g.input('t', 'float32', [1, 1]), { labels: 1 }),
      { x: f32([Math.log(3)], [1, 1]), t: f32([0.5], [1, 1]) },
    );
    // σ = 3/4: −(½ ln ¾ + ½ ln ¼)
    expect(soft).toBeCloseTo(-(0.5 * Math.log(0.75) + 0.5 * Math.log(0.25)), 5);
  });
});

describe('heads (head-only graphs on stored embeddings)', () => {
  const D = 3;
  const embeddings = Float32Array.from([1, 2, 3, -1, 0, 2]);

  it('a linear regression head is x Wᵀ + b, and MSE is its loss', async () => {
    const training = buildHeadGraph({ inDim: D, head: { kind: 'linear', pool: 'mean' }, task: { kind: 'regression', outputs: 1 }, mode: 'eval' });
    expect(training.inputs.map((i) => i.name)).toEqual([IO.embeddings, IO.targets]);
    const params = new Map([
      [HEAD_NAMES.weight, Float32Array.from([0.5, -1, 2])],
      [HEAD_NAMES.bias, Float32Array.from([0.25])],
    ]);
    const s = await session(training.graph);
    const step = await runStep(s, training, { embeddings: { data: embeddings, rows: 2, cols: D }, targets: Float32Array.from([5, 0]) }, params);
    await s.release();
    // 0.5 − 2 + 6 + 0.25 = 4.75; −0.5 + 0 + 4 + 0.25 = 3.75
    expect(Array.from(step.prediction)).toEqual([4.75, 3.75]);
    expect(step.loss).toBeCloseTo((0.25 ** 2 + 3.75 ** 2) / 2, 5);
  });

  it('the SWAT head is Linear → LayerNorm → Linear (dropout off outside training)', async () => {
    const head = { kind: 'swat' as const, pool: 'mean' as const, hiddenDim: 2, dropout: 0.3 };
    const training = buildHeadGraph({ inDim: D, head, task: { kind: 'classification', classes: 2 }, mode: 'predict' });
    const params = initHead(head, D, 2, 5);
    params.set(HEAD_NAMES.normWeight, Float32Array.from([2, 1]));
    params.set(HEAD_NAMES.normBias, Float32Array.from([0, 1]));
    const s = await session(training.graph);
    const step = await runStep(s, training, { embeddings: { data: embeddings, rows: 2, cols: D } }, params);
    await s.release();
    const p = (name: string) => params.get(name)!;
    for (let b = 0; b < 2; b++) {
      const x = embeddings.subarray(b * D, (b + 1) * D);
      const h = [0, 1].map((j) => p(HEAD_NAMES.denseBias)[j]! + [0, 1, 2].reduce((s2, i) => s2 + x[i]! * p(HEAD_NAMES.denseWeight)[j * D + i]!, 0));
      const mean = (h[0]! + h[1]!) / 2;
      const sd = Math.sqrt(((h[0]! - mean) ** 2 + (h[1]! - mean) ** 2) / 2 + 1e-5);
      const n = h.map((v, j) => ((v - mean) / sd) * p(HEAD_NAMES.normWeight)[j]! + p(HEAD_NAMES.normBias)[j]!);
      const logits = [0, 1].map((c) => p(HEAD_NAMES.outBias)[c]! + n[0]! * p(HEAD_NAMES.outWeight)[c * 2]! + n[1]! * p(HEAD_NAMES.outWeight)[c * 2 + 1]!);
      const z = Math.exp(logits[0]!) + Math.exp(logits[1]!);
      expect(step.prediction[b * 2]).toBeCloseTo(Math.exp(logits[0]!) / z, 5);
    }
    expect(step.loss).toBeNull();
  });
});

describe('initialisation', () => {
  const config = { numLayers: 4, hiddenSize: 64, intermediateSize: 256 } as EsmConfig;

  it('adapts the chosen projections of the top K layers, with PEFT names', () => {
    const modules = adaptedLinears({ r: 8, alpha: 16, dropout: 0, targets: ['value', 'intermediate', 'output'], layers: 2 }, config, esm2);
    expect(modules.map((m) => m.base)).toEqual([
      'esm.encoder.layer.2.attention.self.value',
      'esm.encoder.layer.2.intermediate.dense',
      'esm.encoder.layer.2.output.dense',
      'esm.encoder.layer.3.attention.self.value',
      'esm.encoder.layer.3.intermediate.dense',
      'esm.encoder.layer.3.output.dense',
    ]);
    expect(modules[2]!.a).toBe('esm.encoder.layer.2.output.dense.lora_A.weight');
    const params = loraParameters({ r: 8, alpha: 16, dropout: 0, targets: ['output'], layers: 'all' }, config, esm2);
    expect(params).toHaveLength(8);
    expect(params[0]).toEqual({ name: 'esm.encoder.layer.0.output.dense.lora_A.weight', shape: [8, 256] });
    expect(params[1]).toEqual({ name: 'esm.encoder.layer.0.output.dense.lora_B.weight', shape: [64, 8] });
  });

  it('draws A uniformly within ±1/√in (kaiming_uniform_, a=√5) and sets B to 0, reproducibly', () => {
    const spec = { r: 16, alpha: 16, dropout: 0.1, targets: ['query' as const], layers: 'all' as const };
    const init = initLora(spec, config, esm2, 42);
    const a = init.get('esm.encoder.layer.0.attention.self.query.lora_A.weight')!;
    const bound = 1 / Math.sqrt(64);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    const variance = a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(Math.sqrt(variance)).toBeCloseTo(bound / Math.sqrt(3), 2); // sd of U(−b, b)
    expect(init.get('esm.encoder.layer.0.attention.self.query.lora_B.weight')!.every((v) => v === 0)).toBe(true);
    expect(initLora(spec, config, esm2, 42).get('esm.encoder.layer.3.attention.self.query.lora_A.weight')).toEqual(
      init.get('esm.encoder.layer.3.attention.self.query.lora_A.weight'),
    );
  });

  it('refuses impossible specs', () => {
    expect(() => adaptedLinears({ r: 0, alpha: 1, dropout: 0, targets: ['query'], layers: 'all' }, config, esm2)).toThrow(/rank/);
    expect(() => adaptedLinears({ r: 4, alpha: 1, dropout: 0, targets: ['query'], layers: 5 }, config, esm2)).toThrow(/layers/);
  });
});

describe('dropout masks', () => {
  async function masks(p: number, seed: number, salt: number, dims: [number, number, number]): Promise<Float32Array> {
    const g = new GraphBuilder('dropout');
    const tokens = g.input('tokens', 'int64', ['batch', 'tokens']);
    const x = g.input('x', 'float32', ['batch', 'tokens', dims[2]]);
    const seedInput = g.input('dropout_seed', 'int64', []);
    g.output(dropout(g, x, p, dims[2], { seed: seedInput, shapeSource: tokens, leadingDims: 2, salt }), 'y');
    const s = await session(g.build());
    const size = dims[0] * dims[1] * dims[2];
    const out = await s.run({
      tokens: i64(new Array<number>(dims[0] * dims[1]).fill(5), [dims[0], dims[1]]),
      x: f32(new Array<number>(size).fill(1), dims),
      dropout_seed: new ort.Tensor('int64', BigInt64Array.of(dropoutSeedValue(seed)), []),
    });
    await s.release();
    return out.y!.data as Float32Array;
  }

  it('keeps element i exactly when hash(i + site seed) < (1 − p)·2³¹, scaling kept values by 1/(1 − p)', async () => {
    const y = await masks(0.25, 12345, 7, [2, 3, 4]);
    const siteSeed = (dropoutHash(12345) + dropoutHash(8)) % 2 ** 31;
    const expected = Array.from({ length: 24 }, (_, i) => (dropoutHash((i + siteSeed) % 2 ** 31) < Math.round(0.75 * 2 ** 31) ? 1 / 0.75 : 0));
    expect(Array.from(y)).toEqual(expected.map((v) => Math.fround(v)));
  });

  it('drops about p of the elements, and the same seed gives the same mask', async () => {
    const a = await masks(0.3, 1, 0, [4, 50, 64]);
    const dropped = a.filter((v) => v === 0).length / a.length;
    expect(dropped).toBeGreaterThan(0.28);
    expect(dropped).toBeLessThan(0.32);
    expect(await masks(0.3, 1, 0, [4, 50, 64])).toEqual(a);
    expect(await masks(0.3, 2, 0, [4, 50, 64])).not.toEqual(a);
    expect(await masks(0.3, 1, 1, [4, 50, 64])).not.toEqual(a);
  });
});
