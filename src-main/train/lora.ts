/**
 * train/lora — low-rank adapters on a model family's linear layers, with Hugging Face PEFT's semantics,
 * names and initialisation, so adapters move between ESM Studio and PEFT unchanged:
 *
 *   y = x Wᵀ + b + (alpha / r) · (dropout(x) Aᵀ) Bᵀ,   A = lora_A [r, in], B = lora_B [out, r]
 *
 * Owns: the spec (rank, alpha, dropout, which projections, which layers), the list of adapted
 * linears and their tensor names, PEFT's init (A Kaiming-uniform, B = 0) from a seeded PRNG, and
 * the `adaptLinear` hook that the family's graph builder calls to add the low-rank path. The frozen weights stay
 * as they are; A and B are graph inputs, fed from TypeScript each step.
 */
import { createRng } from '../core/rng';
import type { GraphBuilder, Value } from '../onnx';
import { ADAPTER_ROLES, type AdaptLinear, type AdapterRole, type ModelConfig, type ModelFamily } from '../models/family';
import { dropout } from './graph-dropout';

/** The projections an adapter can sit on (PEFT's `target_modules`, by role; each family names its own). */
export const LORA_TARGETS = ADAPTER_ROLES;
export type LoraTarget = AdapterRole;

export interface LoraSpec {
  /** Rank r of A [r, in] and B [out, r]. */
  r: number;
  /** The low-rank path is scaled by alpha / r (PEFT's `lora_alpha`). */
  alpha: number;
  /** Dropout on the adapter's input while training (PEFT's `lora_dropout`); 0 for none. */
  dropout: number;
  targets: readonly LoraTarget[];
  /** 'all' layers, or the top K layers (those nearest the output, as fine-tuning recipes use). */
  layers: 'all' | number;
}

/** One adapted linear layer. */
export interface AdaptedLinear {
  /** Tensor name without `.weight`, e.g. `esm.encoder.layer.5.attention.self.query`. */
  base: string;
  layer: number;
  target: LoraTarget;
  inDim: number;
  outDim: number;
  /** PEFT names of the adapter tensors. */
  a: string;
  b: string;
}

/** A trainable tensor: its name and shape (row-major float32). */
export interface ParamSpec {
  name: string;
  shape: number[];
}

export const loraScale = (spec: LoraSpec): number => spec.alpha / spec.r;

export function validateLoraSpec(spec: LoraSpec, config: ModelConfig): void {
  if (!Number.isInteger(spec.r) || spec.r < 1) throw new RangeError(`LoRA rank must be a positive whole number, got ${spec.r}.`);
  if (!(spec.alpha > 0)) throw new RangeError(`LoRA alpha must be positive, got ${spec.alpha}.`);
  if (!(spec.dropout >= 0 && spec.dropout < 1)) throw new RangeError(`LoRA dropout must be in [0, 1), got ${spec.dropout}.`);
  if (spec.targets.length === 0) throw new RangeError('LoRA needs at least one target projection.');
  for (const t of spec.targets) if (!LORA_TARGETS.includes(t)) throw new RangeError(`Unknown LoRA target "${t}".`);
  if (spec.layers !== 'all' && !(Number.isInteger(spec.layers) && spec.layers >= 1 && spec.layers <= config.numLayers)) {
    throw new RangeError(`LoRA layers must be 'all' or 1 to ${config.numLayers} top layers, got ${spec.layers}.`);
  }
}

/** 0-based indices of the adapted layers, ascending. */
export function loraLayers(spec: LoraSpec, numLayers: number): number[] {
  const count = spec.layers === 'all' ? numLayers : spec.layers;
  return Array.from({ length: count }, (_, i) => numLayers - count + i);
}

/** The LoRA targets a family's models have (ESM-2: query, key, value, …; ESM C: its packed qkv, …). */
export function loraTargetsOffered(family: ModelFamily, config: ModelConfig): LoraTarget[] {
  return LORA_TARGETS.filter((t) => family.adaptableLinear(config, 0, t) !== null);
}

/**
 * The usual LoRA targets among those offered: query and value (the LoRA paper's and PEFT-SP's
 * choice); for a family whose queries, keys and values are one packed projection, that projection.
 */
export function defaultLoraTargets(offered: readonly LoraTarget[]): LoraTarget[] {
  if (offered.includes('query') && offered.includes('value')) return ['query', 'value'];
  if (offered.includes('qkv')) return ['qkv'];
  return offered.slice(0, 1);
}

/** The family's linear layer for `target` in `layer`; refused when the family has no such projection. */
function targetLinear(family: ModelFamily, config: ModelConfig, target: LoraTarget, layer: number) {
  const linear = family.adaptableLinear(config, layer, target);
  if (!linear) {
    const offered = loraTargetsOffered(family, config);
    throw new RangeError(`${family.label} models have no "${target}" projection for LoRA; choose from ${offered.join(', ')}.`);
  }
  return linear;
}

/** Every adapted linear, layer by layer in the order of LORA_TARGETS. */
export function adaptedLinears(spec: LoraSpec, config: ModelConfig, family: ModelFamily): AdaptedLinear[] {
  validateLoraSpec(spec, config);
  const targets = LORA_TARGETS.filter((t) => spec.targets.includes(t));
  return loraLayers(spec, config.numLayers).flatMap((layer) =>
    targets.map((target) => {
      const { base, inDim, outDim } = targetLinear(family, config, target, layer);
      return { base, layer, target, inDim, outDim, a: `${base}.lora_A.weight`, b: `${base}.lora_B.weight` };
    }),
  );
}

/** The adapters' trainable tensors (A then B for each adapted linear). */
export function loraParameters(spec: LoraSpec, config: ModelConfig, family: ModelFamily): ParamSpec[] {
  return adaptedLinears(spec, config, family).flatMap((m) => [
    { name: m.a, shape: [spec.r, m.inDim] },
    { name: m.b, shape: [m.outDim, spec.r] },
  ]);
}

/**
 * PEFT's init: A ~ U(−1/√in, 1/√in) (`kaiming_uniform_(A, a=√5)`: gain √(2/(1+5)), bound
 * gain·√3/√fan_in = 1/√in), B = 0, so the adapted model starts equal to the frozen one.
 */
export function initLora(spec: LoraSpec, config: ModelConfig, family: ModelFamily, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const out = new Map<string, Float32Array>();
  for (const m of adaptedLinears(spec, config, family)) {
    const bound = 1 / Math.sqrt(m.inDim);
    out.set(m.a, Float32Array.from({ length: spec.r * m.inDim }, () => (2 * rng.next() - 1) * bound));
    out.set(m.b, new Float32Array(m.outDim * spec.r));
  }
  return out;
}

export interface LoraHookOptions {
  /** Graph values of A and B by name (graph inputs while training, constants otherwise). */
  param: (name: string) => Value;
  /**
   * Training graphs: the step's dropout seed (made on first use), the token ids [batch, tokens]
   * and a run salt; adapter i's masks use salt + i.
   */
  dropout: { seed: () => Value; tokens: Value; salt: number } | null;
}

/**
 * The hook for a family graph's `adaptLinear`: adds the scaled low-rank path to each adapted layer and
 * leaves every other linear alone. The path runs in float32 even in fp16 models, where the
 * small adapter updates would otherwise round away.
 */
export function loraHook(g: GraphBuilder, spec: LoraSpec, config: ModelConfig, family: ModelFamily, options: LoraHookOptions): AdaptLinear {
  const modules = new Map(adaptedLinears(spec, config, family).map((m, i) => [m.base, { m, index: i }]));
  return (base, x, y) => {
    const entry = modules.get(base);
    if (!entry) return y;
    const { m, index } = entry;
    let input = g.cast(x, 'float32');
    if (options.dropout && spec.dropout > 0) {
      const site = { seed: options.dropout.seed(), shapeSource: options.dropout.tokens, leadingDims: 2 as const, salt: options.dropout.salt + index };
      input = dropout(g, input, spec.dropout, m.inDim, site);
    }
    const down = g.matmul(input, g.transpose(options.param(m.a), [1, 0]));
    const up = g.matmul(down, g.transpose(options.param(m.b), [1, 0]));
    const delta = g.mul(up, g.scalar(loraScale(spec)));
    return g.add(y, g.cast(delta, y.dtype));
  };
}
