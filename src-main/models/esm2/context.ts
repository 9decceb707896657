/**
 * models/esm2/context — what every part of the ESM-2 graph builders shares: the build context
 * (builder, config, precision, weights, padding mask) and the two building blocks whose form
 * depends on the precision: LayerNorm (always float32) and the weight product of a linear layer
 * (float MatMul, or int8 weights with activations quantised on the fly).
 */
import type { GraphBuilder, Value } from '../../onnx';
import type { AdaptLinear } from '../family';
import type { EsmConfig } from './checkpoint/config';
import { quantScaleName } from '../stored-weights';

export interface Context {
  g: GraphBuilder;
  config: EsmConfig;
  /** Element type of activations and big weights. */
  compute: 'float32' | 'float16';
  /** Linear weights stored as int8 with per-output-channel scales. */
  int8: boolean;
  param: (name: string) => Value;
  tokens: Value;
  /** 1 for real tokens, 0 for padding; [batch, tokens] float32. */
  notPad: Value;
  adaptLinear?: AdaptLinear;
}

/** Runs LayerNorm in float32 whatever the compute type (fp16 LayerNorm loses too much). */
export function layerNorm(ctx: Context, x: Value, base: string): Value {
  const { g } = ctx;
  const y = g.layerNorm(g.cast(x, 'float32'), ctx.param(`${base}.weight`), ctx.param(`${base}.bias`), ctx.config.layerNormEps);
  return g.cast(y, ctx.compute);
}

/** A linear layer's weight [in, out] as stored, and its per-output-channel scales in int8 models. */
export interface LinearWeights {
  weight: Value;
  scale: Value | null;
}

export function weightsOf(ctx: Context, base: string): LinearWeights {
  return { weight: ctx.param(`${base}.weight`), scale: ctx.int8 ? ctx.param(quantScaleName(base)) : null };
}

/**
 * x W without the bias. int8 weights: activations quantised per call (DynamicQuantizeMatMul:
 * uint8 activations with a per-call scale, exact integer products, one float scale per output
 * channel); a graph that will be differentiated (adaptLinear set) dequantises the weights instead,
 * which onnxruntime folds into constants when the session opens.
 */
export function multiply(ctx: Context, x: Value, { weight, scale }: LinearWeights): Value {
  const { g } = ctx;
  if (!scale) return g.matmul(x, weight);
  if (ctx.adaptLinear) return g.matmul(x, g.mul(g.cast(weight, 'float32'), scale));
  return g.contrib('DynamicQuantizeMatMul', [x, weight, scale], ['float32'])[0]!;
}

/** x Wᵀ of the linear layer `base` (its bias not added). */
export const project = (ctx: Context, x: Value, base: string): Value => multiply(ctx, x, weightsOf(ctx, base));
