/**
 * train/prompt — prompt tuning (Lester et al. 2021; deep prompts as in P-tuning v2 and PEFT-SP):
 * `length` trainable virtual tokens placed before `<cls>`, the model frozen.
 *
 *   'input'  shallow: one prompt [length, D] enters with the embeddings (PEFT's PROMPT_TUNING);
 *   'all'    deep: before every block the prompt positions are overwritten by that block's prompt;
 *   K        deep on the top K blocks only: the prompt positions appear before block L − K.
 *
 * Owns the spec, the one trainable tensor `prompt_embeddings` [blocks·length, D] (block by block,
 * PEFT's name and layout for the shallow case), its init (rows of the token embeddings of amino
 * acids drawn with the seeded generator, scaled as the model scales its input embeddings) and the
 * `SoftPrompt` a family graph places (models/family). Every output leaves the prompt positions out,
 * so heads, per-residue tasks and CRF emissions see the positions they see without prompts.
 */
import { createRng } from '../core/rng';
import type { GraphBuilder, Value } from '../onnx';
import type { ModelConfig, ModelFamily, SoftPrompt } from '../models/family';
import type { ParamSpec } from './lora';

export interface PromptSpec {
  /** Virtual tokens per prompt. */
  length: number;
  /** 'input' (shallow), 'all' blocks (deep) or the top K blocks (deep). */
  layers: 'input' | 'all' | number;
}

/** PEFT's tensor name for prompt-tuning weights. */
export const PROMPT_EMBEDDINGS = 'prompt_embeddings';

export function validatePromptSpec(spec: PromptSpec, config: ModelConfig): void {
  if (!Number.isInteger(spec.length) || spec.length < 1 || spec.length > 512) throw new RangeError(`The prompt length must be a whole number from 1 to 512 virtual tokens, got ${spec.length}.`);
  const { layers } = spec;
  if (layers !== 'input' && layers !== 'all' && !(Number.isInteger(layers) && layers >= 1 && layers <= config.numLayers)) {
    throw new RangeError(`Prompt layers must be 'input', 'all' or 1 to ${config.numLayers} top layers, got ${String(layers)}.`);
  }
}

/** 0-based blocks that get a prompt before them, ascending. */
export function promptBlocks(spec: PromptSpec, numLayers: number): number[] {
  if (spec.layers === 'input') return [0];
  const count = spec.layers === 'all' ? numLayers : spec.layers;
  return Array.from({ length: count }, (_, i) => numLayers - count + i);
}

export function promptParameters(spec: PromptSpec, config: ModelConfig): ParamSpec[] {
  validatePromptSpec(spec, config);
  return [{ name: PROMPT_EMBEDDINGS, shape: [promptBlocks(spec, config.numLayers).length * spec.length, config.hiddenSize] }];
}

/**
 * Each virtual token starts as the input embedding of an amino acid drawn at random (seeded), so
 * prompts start where the model's inputs live. `embeddings` is the family's token-embedding
 * table [vocab, D] (models/family `inputEmbedding`), before the graph's input scaling.
 */
export function initPrompt(spec: PromptSpec, config: ModelConfig, family: ModelFamily, seed: number, embeddings: Float32Array): Map<string, Float32Array> {
  const [{ shape }] = promptParameters(spec, config) as [ParamSpec];
  const D = config.hiddenSize;
  const { scale } = family.inputEmbedding(config);
  const residues = family.tokenizer.aminoAcids.map((aa) => family.tokenizer.residueToken(aa));
  const rng = createRng(seed);
  const out = new Float32Array(shape[0]! * D);
  for (let row = 0; row < shape[0]!; row++) {
    const token = residues[rng.nextInt(residues.length)]!;
    if ((token + 1) * D > embeddings.length) throw new RangeError(`The token-embedding table has no row ${token}.`);
    for (let j = 0; j < D; j++) out[row * D + j] = embeddings[token * D + j]! * scale;
  }
  return new Map([[PROMPT_EMBEDDINGS, out]]);
}

/** The prompts as a family graph places them: block b's rows sliced from `prompt_embeddings`. */
export function softPrompt(g: GraphBuilder, spec: PromptSpec, config: ModelConfig, param: (name: string) => Value): SoftPrompt {
  const blocks = promptBlocks(spec, config.numLayers);
  const made = new Map<number, Value>();
  return {
    length: spec.length,
    before(layer: number): Value | null {
      const index = blocks.indexOf(layer);
      if (index < 0) return null;
      if (!made.has(layer)) made.set(layer, g.slice(param(PROMPT_EMBEDDINGS), [index * spec.length], [(index + 1) * spec.length], [0]));
      return made.get(layer)!;
    },
  };
}
