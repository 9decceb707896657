/**
 * models/esm2/fused — the ESM-2 layers with onnxruntime's fused kernels (the `com.microsoft`
 * contrib domain, which the CPU, CUDA, DirectML and WebGPU providers implement), for graphs that
 * return no attention maps: the same arithmetic as graph.ts's plain layers to ~1e-6, in fewer,
 * larger kernels, and without ever storing [batch, heads, tokens, tokens] probabilities.
 *
 *  - q, k and v come from one matrix product (their weights concatenated; onnxruntime folds the
 *    Concat into one constant when the session opens);
 *  - RotaryEmbedding, non-interleaved: its halves convention ([x1, x2] → [x1·cos − x2·sin,
 *    x2·cos + x1·sin]) is ESM-2's rotate_half; cos/sin caches are [tokens, headDim/2];
 *  - MultiHeadAttention scales by headDim^-0.5 (ESM-2 scales q before the rotation; the same
 *    product) and masks padded keys from a [batch, tokens] 0/1 mask;
 *  - SkipLayerNormalization adds the residual, the layer's output bias and normalises with the
 *    next LayerNorm in one pass, and also returns the sum (the raw residual stream);
 *  - BiasGelu is the exact erf GELU of (x + bias) (FastGelu's tanh approximation is not ESM-2's).
 */
import { float, int, type Value } from '../../onnx';
import { layerNorm, multiply, project, weightsOf, type Context, type LinearWeights } from './context';
import { layerTensorNames, TOP_LEVEL } from './weights';

/** Norm whose weights the next SkipLayerNormalization applies, or none after the last layer built. */
type NextNorm = string | null;

/** cos and sin caches [tokens, headDim / 2] of position × inverse frequency. */
function rotaryCaches(ctx: Context, layer: number): { cos: Value; sin: Value } {
  const { g } = ctx;
  const positions = g.cast(g.range(g.dim(ctx.tokens, 1)), 'float32');
  const angles = g.mul(g.unsqueeze(positions, [1]), g.unsqueeze(ctx.param(layerTensorNames(layer).invFreq), [0]));
  return { cos: g.cos(angles), sin: g.sin(angles) };
}

function rotate(ctx: Context, x: Value, caches: { cos: Value; sin: Value }): Value {
  const { g, config } = ctx;
  const firstPosition = g.constant('int64', [0]);
  return g.contrib('RotaryEmbedding', [x, firstPosition, caches.cos, caches.sin], ['float32'], {
    interleaved: int(0),
    num_heads: int(config.numHeads),
  })[0]!;
}

/** q, k and v weights side by side: [hidden, 3·hidden] (int8 scales too), and their biases. */
function packedQkv(ctx: Context, layer: number): { weights: LinearWeights; bias: Value } {
  const { g } = ctx;
  const n = layerTensorNames(layer);
  const parts = [n.query, n.key, n.value].map((base) => ({ ...weightsOf(ctx, base), bias: ctx.param(`${base}.bias`) }));
  const scales = parts.map((part) => part.scale).filter((scale) => scale !== null);
  return {
    weights: { weight: g.concat(parts.map((part) => part.weight), -1), scale: scales.length ? g.concat(scales, -1) : null },
    bias: g.concat(parts.map((part) => part.bias), -1),
  };
}

/** Self-attention of the normalised input; the output projection without its bias. */
function attention(ctx: Context, normed: Value, layer: number, keyMask: Value): Value {
  const { g, config } = ctx;
  const qkvWeights = packedQkv(ctx, layer);
  const qkv = g.add(multiply(ctx, normed, qkvWeights.weights), qkvWeights.bias);
  const [q, k, v] = g.split(qkv, -1, 3) as [Value, Value, Value];
  const caches = rotaryCaches(ctx, layer);
  const context = g.contrib('MultiHeadAttention', [rotate(ctx, q, caches), rotate(ctx, k, caches), v, null, keyMask], ['float32'], {
    num_heads: int(config.numHeads),
  })[0]!;
  return project(ctx, context, layerTensorNames(layer).attentionOut);
}

/**
 * residual + skip + bias, normalised with `norm`'s weights: [normalised, sum]. Without a norm
 * (the last layer built is not the model's last) only the sum.
 */
function skipNorm(ctx: Context, residual: Value, skip: Value, bias: string, norm: NextNorm): { normed: Value | null; sum: Value } {
  const { g } = ctx;
  if (!norm) return { normed: null, sum: g.add(residual, g.add(skip, ctx.param(bias))) };
  const [normed, , , sum] = g.contrib(
    'SkipLayerNormalization',
    [residual, skip, ctx.param(`${norm}.weight`), ctx.param(`${norm}.bias`), ctx.param(bias)],
    ['float32', null, null, 'float32'],
    { epsilon: float(ctx.config.layerNormEps) },
  );
  return { normed: normed!, sum: sum! };
}

function biasGelu(ctx: Context, x: Value, bias: string): Value {
  return ctx.g.contrib('BiasGelu', [x, ctx.param(bias)], ['float32'])[0]!;
}

/** One layer from its input `x` and that input already normalised by the layer's first LayerNorm. */
function fusedLayer(ctx: Context, x: Value, normed: Value, layer: number, keyMask: Value, next: NextNorm): { x: Value; normed: Value | null } {
  const n = layerTensorNames(layer);
  const attended = skipNorm(ctx, x, attention(ctx, normed, layer, keyMask), `${n.attentionOut}.bias`, n.outputNorm);
  const hidden = biasGelu(ctx, project(ctx, attended.normed!, n.intermediate), `${n.intermediate}.bias`);
  const out = skipNorm(ctx, attended.sum, project(ctx, hidden, n.output), `${n.output}.bias`, next);
  return { x: out.sum, normed: out.normed };
}

/**
 * Layers 1..`count` from the embeddings `x`; hands each raw layer output to `emit`. Returns the
 * output of the final LayerNorm when all the model's layers were built, else null.
 */
export function fusedLayers(ctx: Context, x: Value, count: number, emit: (layer: number, hidden: Value) => void): Value | null {
  const { g, config, notPad } = ctx;
  if (count === 0) return null;
  const keyMask = g.cast(notPad, 'int32');
  let normed: Value | null = g.scope('layer1', () => layerNorm(ctx, x, layerTensorNames(0).attentionNorm));
  for (let layer = 0; layer < count; layer++) {
    const last = layer + 1 === config.numLayers;
    const next: NextNorm = last ? TOP_LEVEL.finalNorm : layer + 1 < count ? layerTensorNames(layer + 1).attentionNorm : null;
    const input: Value = normed!;
    const result: { x: Value; normed: Value | null } = g.scope(`layer${layer + 1}`, () => fusedLayer(ctx, x, input, layer, keyMask, next));
    x = result.x;
    normed = result.normed;
    if (!last) emit(layer + 1, x);
  }
  return count === config.numLayers ? normed : null;
}

/** LM head: dense → GELU (fused with the dense bias) → LayerNorm → decoder + bias. */
export function fusedLanguageModelHead(ctx: Context, x: Value): Value {
  const { g } = ctx;
  const hidden = layerNorm(ctx, biasGelu(ctx, project(ctx, x, TOP_LEVEL.lmDense), `${TOP_LEVEL.lmDense}.bias`), TOP_LEVEL.lmNorm);
  return g.add(g.matmul(hidden, ctx.param(TOP_LEVEL.lmDecoder)), ctx.param(TOP_LEVEL.lmBias));
}
