/**
 * autodiff over the real ESM-2 graph: a small random model (2 layers, hidden 32, 4 heads, token
 * dropout on), a padded batch with a <mask> token, dynamic [batch, tokens] shapes. Chosen weights
 * become graph inputs, the graph is differentiated, and sampled gradient elements are compared
 * with finite differences of the forward graph. Everything runs in float32 (the graph casts to
 * float32 and onnxruntime has no double Gelu), so the check uses a five-point stencil with step
 * 2e-2 (float32 noise in the loss, divided by the step, dominates smaller steps) and errors
 * relative to the largest gradient element of each weight (bound 2e-3; worst seen about 5e-4).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { differentiate } from '../../src-main/autodiff';
import { checkGradient } from '../../src-main/autodiff/check';
import type { EsmConfig } from '../../src-main/models/esm2/checkpoint/config';
import { buildEsmGraph, outputName, type GraphOutputs } from '../../src-main/models/esm2/graph';
import { layerTensorNames, storedTensors, TOP_LEVEL } from '../../src-main/models/esm2/weights';
import { byteView, encodeModel, GraphBuilder, int, type Graph, type Value } from '../../src-main/onnx';

const CONFIG: EsmConfig = {
  numLayers: 2,
  hiddenSize: 32,
  numHeads: 4,
  headDim: 8,
  intermediateSize: 64,
  vocabSize: 33,
  maxPositions: 1026,
  layerNormEps: 1e-5,
  tokenDropout: true,
  maskTokenId: 32,
  padTokenId: 1,
  sourceName: 'random-esm2-tiny',
  torchDtype: 'float32',
};

/** <cls> residues <eos> <pad>…; the first sequence has a <mask> (token dropout rescales it). */
const TOKENS = [
  [0, 5, 6, 32, 8, 9, 2],
  [0, 10, 11, 12, 2, 1, 1],
];

const BOUND = 2e-3;
const SAMPLES = 40;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random weights with sensible scales: LayerNorm scales near 1, rotary frequencies as ESM-2's. */
function randomWeights(next: () => number): Map<string, { dims: number[]; values: Float32Array }> {
  const weights = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const t of storedTensors(CONFIG, 'fp32')) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (t.name.endsWith('inv_freq')) values = Float32Array.from({ length: n }, (_, i) => 1 / 10000 ** ((2 * i) / CONFIG.headDim));
    else if (/LayerNorm\.weight$|layer_norm\.weight$|emb_layer_norm_after\.weight$/.test(t.name)) values = Float32Array.from({ length: n }, () => 1 + 0.2 * (next() - 0.5));
    else values = Float32Array.from({ length: n }, () => (next() - 0.5) * (t.name.endsWith('bias') ? 0.2 : 0.6));
    weights.set(t.name, { dims: t.dims, values });
  }
  return weights;
}

interface Setup {
  forward: Graph;
  full: Graph;
  feeds: () => Record<string, ort.Tensor>;
  values: Map<string, Float32Array>;
}

/**
 * The ESM-2 graph with `trainable` weights as inputs and loss = Σ w ⊙ y, y = `lossOf(graph)`
 * (whose shape must give the size of its last axis), w random over that last axis.
 */
function setup(trainable: readonly string[], outputs: GraphOutputs, lossOf: (g: GraphBuilder) => Value): Setup {
  const next = rng(20240611);
  const weights = randomWeights(next);
  const g = new GraphBuilder('esm2-train');
  const inputs = new Map<string, Value>();
  const param = (name: string): Value => {
    const w = weights.get(name)!;
    if (!trainable.includes(name)) return g.initializer(name, 'float32', w.dims, { kind: 'inline', bytes: byteView(w.values) });
    if (!inputs.has(name)) inputs.set(name, g.input(name, 'float32', w.dims));
    return inputs.get(name)!;
  };
  buildEsmGraph(g, { config: CONFIG, precision: 'fp32', outputs, param });
  const y = lossOf(g);
  // Weights over the last axis only, broadcast over batch and tokens (whose sizes are dynamic).
  const size = Number(y.shape!.at(-1));
  const w = g.constant('float32', Array.from({ length: size }, () => next() * 2 - 1), [size]);
  g.output(g.op('ReduceSum', [g.mul(y, w)], { keepdims: int(0) }), 'loss');
  const forward = g.build();
  const full = differentiate(forward, { loss: 'loss', wrt: trainable });
  const values = new Map(trainable.map((name) => [name, weights.get(name)!.values]));
  const ids = BigInt64Array.from(TOKENS.flat().map(BigInt));
  const feeds = (): Record<string, ort.Tensor> => ({
    input_ids: new ort.Tensor('int64', ids, [TOKENS.length, TOKENS[0]!.length]),
    ...Object.fromEntries(trainable.map((name) => [name, new ort.Tensor('float32', values.get(name)!, weights.get(name)!.dims)])),
  });
  return { forward, full, feeds, values };
}

const modelBytes = (graph: Graph): Uint8Array => encodeModel(graph, { external: new Map(), inline: new Map() }, '', {});

/** Indices to probe: all of a small tensor, an even sample of a large one. */
function sample(n: number): number[] {
  if (n <= SAMPLES) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: SAMPLES }, (_, i) => Math.floor(((i + 0.5) * n) / SAMPLES));
}

async function compare(s: Setup, trainable: readonly string[]): Promise<Record<string, number>> {
  const gradSession = await ort.InferenceSession.create(modelBytes(s.full));
  const lossSession = await ort.InferenceSession.create(modelBytes(s.forward));
  const grads = await gradSession.run(s.feeds());
  const evaluate = async (): Promise<number> => Number((await lossSession.run(s.feeds())).loss!.data[0]);
  const worst: Record<string, number> = {};
  for (const name of trainable) {
    const analytic = grads[`grad.${name}`]!.data as Float32Array;
    const scale = analytic.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale, `${name}: a gradient of zeros would prove nothing`).toBeGreaterThan(1e-4);
    const values = s.values.get(name)!;
    const result = await checkGradient({ values, analytic, evaluate, step: 2e-2, points: 4, indices: sample(values.length), floor: scale });
    worst[name] = result.worst;
    expect(result.worst, `${name}[${result.at.index}]: analytic ${result.at.analytic}, numeric ${result.at.numeric}`).toBeLessThan(BOUND);
  }
  console.log('ESM-2 gradients, worst error relative to the largest element:', worst);
  return worst;
}

describe('autodiff over the ESM-2 graph', () => {
  it('gives the finite-difference gradients of Σ w ⊙ mean-pooled final hidden states', async () => {
    const layer0 = layerTensorNames(0);
    const layer1 = layerTensorNames(1);
    const trainable = [`${layer0.query}.weight`, `${layer1.outputNorm}.weight`, `${layer0.intermediate}.bias`, TOP_LEVEL.wordEmbeddings, `${TOP_LEVEL.finalNorm}.bias`];
    const s = setup(trainable, { layers: [CONFIG.numLayers], pool: ['mean'] }, () => ({ name: outputName.pooled('mean', CONFIG.numLayers), dtype: 'float32', shape: ['batch', CONFIG.hiddenSize] }));
    await compare(s, trainable);
    // Shapes were inferred well enough that every unbroadcast is one static ReduceSum (the
    // run-time fallback uses NonZero), and the embedding gradient is one scatter, no one-hot.
    const backwardOps = s.full.nodes.slice(s.forward.nodes.length).map((n) => n.op);
    expect(backwardOps).not.toContain('NonZero');
    expect(backwardOps).not.toContain('OneHot');
    expect(backwardOps.filter((op) => op === 'ScatterND')).toHaveLength(1);
  });

  it('gives the finite-difference gradients of Σ w ⊙ log-softmax(logits) through the LM head', async () => {
    const layer1 = layerTensorNames(1);
    const trainable = [`${TOP_LEVEL.lmDense}.weight`, `${layer1.value}.weight`, `${layer1.query}.bias`, TOP_LEVEL.lmDecoder];
    const s = setup(trainable, { layers: [], pool: [], logits: true }, (g) => {
      const logits: Value = { name: outputName.logits, dtype: 'float32' };
      return { ...g.logSoftmax(logits, -1), shape: ['batch', 'tokens', CONFIG.vocabSize] };
    });
    await compare(s, trainable);
  });
});
