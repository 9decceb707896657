/**
 * LoRA on ESM C (the tiny golden model, converted from its `esm` package safetensors): the packed
 * QKV projection, the attention output and both SwiGLU linears are adaptable ('qkv',
 * 'attention-output', 'intermediate', 'output'; query/key/value are refused, as 'qkv' is for
 * ESM-2); every gradient of the training graph (adapters and head) matches central finite
 * differences of an independent float64 forward pass (test/support/esmc-reference) within 1e-4 of
 * that tensor's largest gradient; a merged model (W + (alpha/r)·B A folded into the stored weights)
 * predicts what the adapter graph predicts, and differs from the base model.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors, readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint, graphFile, readManifest } from '../../src-main/models/installed';
import { esm2 } from '../../src-main/models/esm2';
import { esmc } from '../../src-main/models/esmc';
import { encode, TOKENS } from '../../src-main/models/esmc/tokenizer';
import type { ModelConfig } from '../../src-main/models/family';
import { openTrainingSession, writeTrainingGraph } from '../../src-main/train/graph-files';
import { runStep, tokenTensor } from '../../src-main/train/graph-feeds';
import type { TaskSpec } from '../../src-main/train/graph';
import { initHead } from '../../src-main/train/heads';
import { adaptedLinears, defaultLoraTargets, initLora, loraScale, loraTargetsOffered, type LoraSpec } from '../../src-main/train/lora';
import { PREDICTION_GRAPH_FILE, writeMergedModel } from '../../src-main/train/merge';
import { esmcEmbeddings64 } from '../support/esmc-reference';
import { GOLDEN, maxAbsDiff } from '../support/golden';
import { createRng } from '../../src-main/core/rng';
import { uniformValues } from '../support/random-proteins';

const CHECKPOINT = join(GOLDEN, 'esmc-tiny', 'checkpoint', 'esm', 'model.safetensors');
const SEQUENCES = ['MKTAYIAKQRQISFVKSHF', 'GAVLIPFW', 'MQIFVKTLTGKTITLEVEPS'];
const ALL: LoraSpec = { r: 2, alpha: 6, dropout: 0, targets: ['qkv', 'attention-output', 'intermediate', 'output'], layers: 'all' };

let root: string;
let modelDir: string;
let config: ModelConfig;
let tokens: number[][];
let base: Map<string, Float32Array>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'esmc-lora-'));
  modelDir = join(root, 'model');
  await convertCheckpoint(CHECKPOINT, modelDir, { appVersion: 'test' });
  config = readManifest(modelDir).config;
  tokens = SEQUENCES.map((s) => Array.from(encode(s)));
  base = new Map([...openSafetensors(CHECKPOINT)].map(([name, info]) => [name, readFloat32(info)]));
});

/** Adapters with B ≠ 0 (as after some training), so every A has a gradient and merging has something to fold in. */
function trainedAdapters(spec: LoraSpec, seed: number): Map<string, Float32Array> {
  const adapters = initLora(spec, config, esmc, seed);
  const rng = createRng(seed);
  for (const [name, data] of adapters) {
    if (name.includes('lora_B')) data.set(uniformValues(rng, data.length, -0.2, 0.2));
  }
  return adapters;
}

describe('ESM C adapter targets', () => {
  it('adapts the packed QKV, the output projection and the SwiGLU linears under esm-package names', () => {
    const modules = adaptedLinears({ ...ALL, layers: 1 }, config, esmc);
    const d = config.hiddenSize;
    const F = config.intermediateSize;
    expect(modules.map((m) => [m.base, m.inDim, m.outDim])).toEqual([
      ['transformer.blocks.1.attn.layernorm_qkv.1', d, 3 * d],
      ['transformer.blocks.1.attn.out_proj', d, d],
      ['transformer.blocks.1.ffn.1', d, 2 * F],
      ['transformer.blocks.1.ffn.3', F, d],
    ]);
    expect(modules[0]!.a).toBe('transformer.blocks.1.attn.layernorm_qkv.1.lora_A.weight');
  });

  it('offers each family its own targets, and its usual ones (query and value; ESM C: the packed qkv)', () => {
    const esm2Config = { ...config, intermediateSize: 4 * config.hiddenSize };
    expect(loraTargetsOffered(esmc, config)).toEqual(['qkv', 'attention-output', 'intermediate', 'output']);
    expect(loraTargetsOffered(esm2, esm2Config)).toEqual(['query', 'key', 'value', 'attention-output', 'intermediate', 'output']);
    expect(defaultLoraTargets(loraTargetsOffered(esmc, config))).toEqual(['qkv']);
    expect(defaultLoraTargets(loraTargetsOffered(esm2, esm2Config))).toEqual(['query', 'value']);
  });

  it('refuses separate query/key/value on ESM C and the packed qkv on ESM-2', () => {
    expect(() => adaptedLinears({ ...ALL, targets: ['query'] }, config, esmc)).toThrow(/ESM C models have no "query" projection for LoRA; choose from qkv, attention-output, intermediate, output\./);
    const esm2Config = { ...config, intermediateSize: 4 * config.hiddenSize };
    expect(() => adaptedLinears({ ...ALL, targets: ['qkv'] }, esm2Config, esm2)).toThrow(/ESM-2 models have no "qkv" projection for LoRA; choose from query, key, value, attention-output, intermediate, output\./);
  });
});

/** Mean over residues → linear head → mean squared error, all in float64 (train/graph's regression loss). */
function referenceLoss(params: ReadonlyMap<string, ArrayLike<number>>, spec: LoraSpec, targets: readonly number[], outputs: number): number {
  const shape = { numLayers: config.numLayers, hiddenSize: config.hiddenSize, numHeads: config.numHeads, intermediateSize: config.intermediateSize };
  const lowRank = (linear: string) => {
    const a = params.get(`${linear}.lora_A.weight`);
    return a ? { a, b: params.get(`${linear}.lora_B.weight`)!, r: spec.r, scale: loraScale(spec) } : null;
  };
  const weight = (name: string): ArrayLike<number> => base.get(name)!;
  const D = config.hiddenSize;
  let loss = 0;
  tokens.forEach((row, b) => {
    const hidden = esmcEmbeddings64(weight, shape, row, lowRank);
    const pooled = Array.from({ length: D }, (_, c) => hidden.slice(1, -1).reduce((sum, h) => sum + h[c]!, 0) / (row.length - 2));
    for (let o = 0; o < outputs; o++) {
      let y = params.get('head.bias')![o]!;
      for (let c = 0; c < D; c++) y += params.get('head.weight')![o * D + c]! * pooled[c]!;
      loss += (y - targets[b * outputs + o]!) ** 2;
    }
  });
  return loss / (tokens.length * outputs);
}

describe('LoRA gradients on ESM C', () => {
  it('match float64 finite differences for every adapter and head tensor (relative 1e-4)', { timeout: 120_000 }, async () => {
    const task: TaskSpec = { kind: 'regression', outputs: 2 };
    const head = { kind: 'linear' as const, pool: 'mean' as const };
    const params = new Map([...trainedAdapters(ALL, 5), ...initHead(head, config.hiddenSize, 2, 6)]);
    const targets = [0.5, -1, 1.5, 0.2, -0.3, 0.8];
    const { file, training } = await writeTrainingGraph(modelDir, { lora: ALL, head, task, mode: 'train' });
    const session = (await openTrainingSession(file)).session;
    const step = await runStep(session, training, { tokens, targets: Float32Array.from(targets) }, params);
    await session.release();
    expect([...step.gradients.keys()].sort()).toEqual([...params.keys()].sort());
    expect(step.gradients.size).toBe(config.numLayers * 4 * 2 + 2);
    expect(Math.abs(step.loss! - referenceLoss(params, ALL, targets, 2))).toBeLessThan(1e-5);

    const params64 = new Map([...params].map(([name, data]) => [name, Float64Array.from(data)]));
    const H = 1e-5;
    let worst = 0;
    for (const [name, grad] of step.gradients) {
      const largest = grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      expect(largest, name).toBeGreaterThan(0);
      // The largest element and a spread of others.
      const argmax = grad.findIndex((g) => Math.abs(g) === largest);
      const samples = [argmax, 0, Math.floor(grad.length / 3), Math.floor((2 * grad.length) / 3), grad.length - 1];
      for (const i of samples) {
        const values = params64.get(name)!;
        const saved = values[i]!;
        values[i] = saved + H;
        const up = referenceLoss(params64, ALL, targets, 2);
        values[i] = saved - H;
        const down = referenceLoss(params64, ALL, targets, 2);
        values[i] = saved;
        const relative = Math.abs(grad[i]! - (up - down) / (2 * H)) / largest;
        worst = Math.max(worst, relative);
        expect(relative, `${name}[${i}]`).toBeLessThan(1e-4);
      }
    }
    console.log(`ESM C LoRA gradients vs float64 finite differences: worst relative error ${worst.toExponential(2)}`);
  });
});

describe('merging ESM C adapters', () => {
  it('gives the same predictions and pooled vectors as the adapter graph, and not the base model', { timeout: 60_000 }, async () => {
    const task: TaskSpec = { kind: 'regression', outputs: 2 };
    const head = { kind: 'linear' as const, pool: 'mean' as const };
    const params = new Map([...trainedAdapters(ALL, 3), ...initHead(head, config.hiddenSize, 2, 4)]);
    const { file, training } = await writeTrainingGraph(modelDir, { lora: ALL, head, task, mode: 'predict' });
    const session = (await openTrainingSession(file)).session;
    const unmerged = await runStep(session, training, { tokens }, params);
    await session.release();

    const mergedDir = join(root, 'merged');
    const headWeights = new Map([...params].filter(([name]) => name.startsWith('head.')));
    await writeMergedModel(modelDir, mergedDir, { lora: ALL, adapters: params, head: { spec: head, task, weights: headWeights } });
    const prediction = (await openTrainingSession(join(mergedDir, PREDICTION_GRAPH_FILE))).session;
    const out = await prediction.run({ input_ids: tokenTensor(tokens, TOKENS.PAD) });
    await prediction.release();
    const predDiff = maxAbsDiff(out.prediction!.data as Float32Array, unmerged.prediction);
    const pooledDiff = maxAbsDiff(out.pooled!.data as Float32Array, unmerged.pooled!);

    const embed = async (dir: string): Promise<Float32Array> => {
      const engine = await ort.InferenceSession.create(await graphFile(dir, readManifest(dir), { layers: [config.numLayers], pool: ['mean'] }));
      const result = await engine.run({ input_ids: tokenTensor(tokens, TOKENS.PAD) });
      await engine.release();
      return result[`mean_${config.numLayers}`]!.data as Float32Array;
    };
    const engineDiff = maxAbsDiff(await embed(mergedDir), unmerged.pooled!);
    console.log(`ESM C merged vs adapter graph: prediction ${predDiff.toExponential(2)}, pooled ${pooledDiff.toExponential(2)}, engine ${engineDiff.toExponential(2)}`);
    expect(predDiff).toBeLessThanOrEqual(1e-5);
    expect(pooledDiff).toBeLessThanOrEqual(1e-5);
    expect(engineDiff).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(await embed(modelDir), unmerged.pooled!)).toBeGreaterThan(1e-3);
  });
});
