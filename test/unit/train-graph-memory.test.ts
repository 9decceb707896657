/**
 * What a training graph keeps from its forward pass for its backward pass (train/graph-recompute,
 * autodiff/recompute): attention scores and probabilities ([batch, heads, tokens, tokens]), GELU
 * inputs, LayerNorm outputs and Q, K, V are recomputed, not kept; gradients are the same as when they are
 * kept; the copies run after the gradient reaches them (not in the forward pass); and frozen
 * layers below the lowest adapted layer get no backward work at all, frozen weights no gradient.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FreshDims, inferGraph } from '../../src-main/autodiff/shapes';
import { convertCheckpoint, readManifest } from '../../src-main/models/installed';
import { esm2 } from '../../src-main/models/esm2';
import { encode } from '../../src-main/models/esm2/tokenizer';
import type { Graph, Node } from '../../src-main/onnx';
import { buildTrainingGraph, type BackboneGraphSpec } from '../../src-main/train/graph';
import { openTrainingSession, writeTrainingGraph, installedWeights, type InstalledGraphSpec } from '../../src-main/train/graph-files';
import type { RecomputePolicy } from '../../src-main/train/graph-recompute';
import { runStep } from '../../src-main/train/graph-feeds';
import { initHead } from '../../src-main/train/heads';
import { initLora, type LoraSpec } from '../../src-main/train/lora';
import { GOLDEN } from '../support/golden';

const KEEP_ALL: RecomputePolicy = { attention: false, projections: false, gelu: false, layerNorm: false };
const LORA_ALL: LoraSpec = { r: 2, alpha: 4, dropout: 0, targets: ['query', 'value'], layers: 'all' };
const SPEC: InstalledGraphSpec = { lora: LORA_ALL, head: { kind: 'linear', pool: 'mean' }, task: { kind: 'regression', outputs: 1 }, mode: 'train' };
const SEQUENCES = ['MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ', 'GAVLIPFWMKT', 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPP'];

let modelDir: string;

beforeAll(async () => {
  modelDir = join(mkdtempSync(join(tmpdir(), 'train-memory-')), 'model');
  await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), modelDir, { appVersion: 'test' });
});

function graphFor(spec: InstalledGraphSpec, recompute?: RecomputePolicy): Graph {
  const manifest = readManifest(modelDir);
  const full: BackboneGraphSpec = { ...spec, family: esm2, config: manifest.config, precision: manifest.precision };
  return buildTrainingGraph(full, installedWeights(modelDir, manifest), recompute ? { recompute } : {}).graph;
}

/** Backward nodes: the ones differentiate appended (scoped under "grad/"). */
const isBackward = (node: Node): boolean => node.name.startsWith('grad/');

/** Forward values that backward nodes read (kept alive from the forward pass to the backward). */
function keptValues(graph: Graph): Set<string> {
  const forward = new Set(graph.nodes.filter((n) => !isBackward(n)).flatMap((n) => n.outputs));
  return new Set(graph.nodes.filter(isBackward).flatMap((n) => n.inputs.filter((name) => forward.has(name))));
}

const countOf = (shape: readonly (number | string)[] | undefined, dim: string): number => (shape ?? []).filter((d) => d === dim).length;

describe('what the backward pass keeps from the forward pass', () => {
  it('keeps no attention-sized value, Q, K or V, GELU input or LayerNorm output (and keeps them when told to)', () => {
    const summary = (graph: Graph) => {
      const infos = inferGraph(graph, new FreshDims());
      const kept = keptValues(graph);
      const readBy = (op: string) => new Set(graph.nodes.filter((n) => !isBackward(n) && n.op === op).map((n) => n.inputs[0]!));
      const madeBy = (op: string) => new Set(graph.nodes.filter((n) => !isBackward(n) && n.op === op).map((n) => n.outputs[0]!));
      const geluInputs = readBy('Gelu');
      const normOutputs = madeBy('LayerNormalization');
      return {
        attention: [...kept].filter((name) => countOf(infos.get(name)?.shape, 'tokens') >= 2).length,
        /** Q, Kᵀ and V split into heads: [batch, heads, tokens, head dim] or [batch, heads, head dim, tokens]. */
        heads: [...kept].filter((name) => {
          const shape = infos.get(name)?.shape;
          return shape?.length === 4 && shape[1] !== 1 && countOf(shape, 'tokens') === 1; // not the key-padding bias [batch, 1, 1, tokens]
        }).length,
        gelu: [...kept].filter((name) => geluInputs.has(name)).length,
        layerNorm: [...kept].filter((name) => normOutputs.has(name)).length,
      };
    };
    // The tiny model has 2 layers; with everything kept, each keeps its probabilities, Q, Kᵀ and V (but layer 1 not Q:
    // its K has no gradient, nothing trainable lies below), its GELU input and its first LayerNorm output (the adapters' input).
    expect(summary(graphFor(SPEC, KEEP_ALL))).toEqual({ attention: 2, heads: 5, gelu: 2, layerNorm: 2 });
    expect(summary(graphFor(SPEC))).toEqual({ attention: 0, heads: 0, gelu: 0, layerNorm: 0 });
  });

  it('recomputes after the gradient reached the layer: every copied Softmax depends on the targets', () => {
    const graph = graphFor(SPEC);
    const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    // The gradient flowing back depends on the targets (the loss's); the forward pass does not.
    const dependsOnTargets = (name: string, seen = new Set<string>()): boolean => {
      if (name === 'targets') return true;
      if (seen.has(name)) return false;
      seen.add(name);
      return (producer.get(name)?.inputs ?? []).some((input) => input && dependsOnTargets(input, seen));
    };
    const copies = graph.nodes.filter((n) => isBackward(n) && n.op === 'Softmax');
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect(dependsOnTargets(copy.outputs[0]!)).toBe(true);
    // …which the forward Softmax must not (else the copy could run early, or be merged with it).
    for (const node of graph.nodes.filter((n) => !isBackward(n) && n.op === 'Softmax')) expect(dependsOnTargets(node.outputs[0]!)).toBe(false);
  });

  it('gives the same loss and gradients as a graph that keeps everything', async () => {
    const config = readManifest(modelDir).config;
    const params = new Map([...initLora(LORA_ALL, config, esm2, 3), ...initHead({ kind: 'linear', pool: 'mean' }, config.hiddenSize, 1, 4)]);
    for (const [name, data] of params) if (name.includes('lora_B')) data.forEach((_, i) => (data[i] = Math.sin(i + name.length) * 0.1));
    const batch = { tokens: SEQUENCES.map((s) => Array.from(encode(s))), targets: Float32Array.of(0.5, -1, 2) };
    const run = async (recompute?: RecomputePolicy) => {
      const written = await writeTrainingGraph(modelDir, SPEC, recompute ? { recompute } : {});
      const { session } = await openTrainingSession(written.file);
      try {
        return await runStep(session, written.training, batch, params);
      } finally {
        await session.release();
      }
    };
    const [kept, recomputed] = [await run(KEEP_ALL), await run()];
    expect(recomputed.loss).toBeCloseTo(kept.loss!, 6);
    for (const [name, expected] of kept.gradients) {
      const actual = recomputed.gradients.get(name)!;
      const scale = Math.max(...expected.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!))) / scale, name).toBeLessThan(1e-5);
    }
  });
});

describe('gradient work frozen weights do not need', () => {
  it('does nothing below the lowest adapted layer and computes no gradient of a frozen weight', () => {
    const graph = graphFor({ ...SPEC, lora: { ...LORA_ALL, layers: 1 } }); // adapters in layer 2 only
    const backward = graph.nodes.filter(isBackward);
    const forward = graph.nodes.filter((n) => !isBackward(n));
    // Layer 1's output is layer 2's input (its LayerNorm's backward reads it); nothing else below may be read.
    const layer2Inputs = new Set(forward.filter((n) => n.name.startsWith('layer2/')).flatMap((n) => n.inputs));
    const belowAdapted = new Set(forward.filter((n) => n.name.startsWith('layer1/') || n.name.startsWith('embeddings/')).flatMap((n) => n.outputs).filter((name) => !layer2Inputs.has(name)));
    expect(belowAdapted.size).toBeGreaterThan(0);
    expect(backward.flatMap((n) => n.inputs).filter((name) => belowAdapted.has(name))).toEqual([]);

    const infos = inferGraph(graph, new FreshDims());
    const frozenShapes = new Set(graph.initializers.filter((i) => i.dtype === 'float32' && i.dims.length > 0).map((i) => i.dims.join('×')));
    // A weight's gradient would be a product (or a sum, for a bias) of the frozen weight's shape.
    const gradientLike = backward.filter((n) => ['Gemm', 'MatMul', 'ReduceSum'].includes(n.op)).flatMap((n) => n.outputs).filter((name) => {
      const info = infos.get(name);
      return info?.dtype === 'float32' && info.shape?.length && frozenShapes.has(info.shape.join('×'));
    });
    expect(gradientLike).toEqual([]);
  });
});
