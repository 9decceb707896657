/**
 * test/support/peft-esmc — the tiny golden ESM C converted once per test file, and the float64
 * reference loss of a regression fine-tune on it (mean over residues → linear head → MSE, as
 * train/graph builds it) with soft prompts and/or bottleneck adapters, for gradient checks by
 * finite differences against the ONNX training graph.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint, readManifest } from '../../src-main/models/installed';
import { encode } from '../../src-main/models/esmc/tokenizer';
import type { ModelConfig, ModelFamily } from '../../src-main/models/family';
import { bottleneckAdapters, type BottleneckSpec } from '../../src-main/train/bottleneck';
import { promptBlocks, PROMPT_EMBEDDINGS, type PromptSpec } from '../../src-main/train/prompt';
import { esmcEmbeddings64, type ReferenceExtras } from './esmc-reference';
import { GOLDEN } from './golden';

export const ESMC_CHECKPOINT = join(GOLDEN, 'esmc-tiny', 'checkpoint', 'esm', 'model.safetensors');
export const SEQUENCES = ['MKTAYIAKQRQISFVKSHF', 'GAVLIPFW', 'MQIFVKTLTGKTITLEVEPS'];

export interface TinyEsmc {
  root: string;
  modelDir: string;
  config: ModelConfig;
  tokens: number[][];
  base: Map<string, Float32Array>;
}

export async function convertTinyEsmc(prefix: string): Promise<TinyEsmc> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const modelDir = join(root, 'model');
  await convertCheckpoint(ESMC_CHECKPOINT, modelDir, { appVersion: 'test' });
  return {
    root,
    modelDir,
    config: readManifest(modelDir).config,
    tokens: SEQUENCES.map((s) => Array.from(encode(s))),
    base: new Map([...openSafetensors(ESMC_CHECKPOINT)].map(([name, info]) => [name, readFloat32(info)])),
  };
}

export interface PeftShape {
  prompt?: PromptSpec;
  adapter?: BottleneckSpec;
}

/** The reference's extras for these parameters (by their train/prompt and train/bottleneck names). */
export function referenceExtras(model: TinyEsmc, family: ModelFamily, params: ReadonlyMap<string, ArrayLike<number>>, shape: PeftShape): ReferenceExtras {
  const D = model.config.hiddenSize;
  const extras: ReferenceExtras = {};
  if (shape.prompt) {
    const { length } = shape.prompt;
    const blocks = promptBlocks(shape.prompt, model.config.numLayers);
    const rows = params.get(PROMPT_EMBEDDINGS)!;
    extras.prompt = (block) => {
      const index = blocks.indexOf(block);
      if (index < 0) return null;
      return Array.from({ length }, (_, r) => Array.from({ length: D }, (_, c) => rows[(index * length + r) * D + c]!));
    };
  }
  if (shape.adapter) {
    const size = shape.adapter.size;
    const byBase = new Map(bottleneckAdapters(shape.adapter, model.config, family).map((a) => [a.base, a]));
    extras.adapter = (base) => {
      const a = byBase.get(base);
      return a ? { down: params.get(a.downWeight)!, downBias: params.get(a.downBias)!, up: params.get(a.upWeight)!, upBias: params.get(a.upBias)!, size } : null;
    };
  }
  return extras;
}

/** Mean over residues → linear head → mean squared error, in float64. */
export function referenceLoss(model: TinyEsmc, family: ModelFamily, params: ReadonlyMap<string, ArrayLike<number>>, shape: PeftShape, targets: readonly number[], outputs: number): number {
  const { config } = model;
  const dims = { numLayers: config.numLayers, hiddenSize: config.hiddenSize, numHeads: config.numHeads, intermediateSize: config.intermediateSize };
  const weight = (name: string): ArrayLike<number> => model.base.get(name)!;
  const extras = referenceExtras(model, family, params, shape);
  const D = config.hiddenSize;
  let loss = 0;
  model.tokens.forEach((row, b) => {
    const hidden = esmcEmbeddings64(weight, dims, row, undefined, extras);
    const pooled = Array.from({ length: D }, (_, c) => hidden.slice(1, -1).reduce((sum, h) => sum + h[c]!, 0) / (row.length - 2));
    for (let o = 0; o < outputs; o++) {
      let y = params.get('head.bias')![o]!;
      for (let c = 0; c < D; c++) y += params.get('head.weight')![o * D + c]! * pooled[c]!;
      loss += (y - targets[b * outputs + o]!) ** 2;
    }
  });
  return loss / (model.tokens.length * outputs);
}

/**
 * Central differences of `loss` in float64 at the largest gradient element and a spread of others,
 * each error relative to that tensor's largest gradient element; returns the worst error per tensor.
 */
export function finiteDifferenceErrors(
  gradients: ReadonlyMap<string, Float32Array>,
  params: ReadonlyMap<string, Float32Array>,
  loss: (params64: ReadonlyMap<string, Float64Array>) => number,
  step = 1e-5,
): Map<string, number> {
  const params64 = new Map([...params].map(([name, data]) => [name, Float64Array.from(data)]));
  const worst = new Map<string, number>();
  for (const [name, grad] of gradients) {
    const largest = grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    if (!(largest > 0)) throw new Error(`${name}: a gradient of zeros proves nothing.`);
    const argmax = grad.findIndex((g) => Math.abs(g) === largest);
    const samples = [argmax, 0, Math.floor(grad.length / 3), Math.floor((2 * grad.length) / 3), grad.length - 1];
    let error = 0;
    for (const i of samples) {
      const values = params64.get(name)!;
      const saved = values[i]!;
      values[i] = saved + step;
      const up = loss(params64);
      values[i] = saved - step;
      const down = loss(params64);
      values[i] = saved;
      error = Math.max(error, Math.abs(grad[i]! - (up - down) / (2 * step)) / largest);
    }
    worst.set(name, error);
  }
  return worst;
}
