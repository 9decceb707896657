/**
 * models/esmc/graph — the ESM C network as an ONNX graph, read top to bottom like `ESMC.forward` in
 * the `esm` package: embed (a plain lookup: no scaling, no token dropout) → blocks → final
 * LayerNorm → sequence head. Each block is pre-LayerNorm attention then a SwiGLU feed-forward, no
 * biases in the trunk, each residual update divided by √(layers / 36):
 *
 *   h = LN(x); [q, k, v] = h·Wqkvᵀ; q = LN_q(q), k = LN_k(k) over the whole width (weight only);
 *   rotary (halves, fp32 frequencies) on q and k per head; softmax(q·kᵀ/√head_dim)·v;
 *   x += (·Woᵀ)/s;  h = LN(x); [a, b] = h·W1ᵀ; x += ((silu(a) ⊙ b)·W2ᵀ)/s.
 *
 * Attention is masked by sequence id, as the original does: token i sees j iff both are real or both
 * are padding, so real tokens never see padding and a padded batch equals single runs.
 *
 * Hidden-state layers: 0 = the embedding output, k = the residual stream after block k (before the
 * final norm) for k < numLayers, numLayers = after the final LayerNorm (the `embeddings` of the
 * original, what users mean by "the last layer"). Block numLayers' raw output is not offered: it is
 * the final norm's input, and the `esm` package does not hand it out as a representation either.
 */
import type { GraphBuilder, Value } from '../../onnx';
import { outputName, type AdaptLinear, type FamilyGraphOptions, type GraphOutputs, type Pooling } from '../family';
import type { EsmcConfig } from './config';
import { blockNames, TOP } from './names';
import { TOKENS } from './tokenizer';
import { quantScaleName } from '../stored-weights';
import { checkPrompt, placePrompt, promptedTokens, withoutPrompt } from '../soft-prompt';
import type { SoftPrompt } from '../family';

interface Context {
  g: GraphBuilder;
  config: EsmcConfig;
  compute: 'float32' | 'float16';
  param: (name: string) => Value;
  tokens: Value;
  /** 1 for real tokens, 0 for padding; [batch, tokens] float32. */
  notPad: Value;
  /** s = √(numLayers / 36), as float32 (the original divides by the Python float). */
  residualScale: Value;
  /** The zero bias of ESM C's weight-only LayerNorms. */
  zeroBias: Value;
  adaptLinear?: AdaptLinear;
}

/** LayerNorm in float32 whatever the compute type; `bias` false for ESM C's weight-only norms. */
function layerNorm(ctx: Context, x: Value, base: string, bias: boolean): Value {
  const { g, config } = ctx;
  const b = bias ? ctx.param(`${base}.bias`) : ctx.zeroBias;
  return g.cast(g.layerNorm(g.cast(x, 'float32'), ctx.param(`${base}.weight`), b, config.layerNormEps), ctx.compute);
}

/**
 * x·Wᵀ (+ b) of the linear layer `base`. int8 weights: activations quantised per call
 * (DynamicQuantizeMatMul); a graph that will be differentiated dequantises the weights instead.
 */
function linear(ctx: Context, x: Value, base: string, bias = false): Value {
  const { g } = ctx;
  const weight = ctx.param(`${base}.weight`);
  let y: Value;
  if (weight.dtype !== 'int8') y = g.matmul(x, weight);
  else if (ctx.adaptLinear) y = g.matmul(x, g.mul(g.cast(weight, 'float32'), ctx.param(quantScaleName(base))));
  else y = g.contrib('DynamicQuantizeMatMul', [x, weight, ctx.param(quantScaleName(base))], ['float32'])[0]!;
  if (bias) y = g.add(y, ctx.param(`${base}.bias`));
  return ctx.adaptLinear ? ctx.adaptLinear(base, x, y) : y;
}

/**
 * The original's fp32 rotary frequencies: 1 / base^(arange(0, dim, 2) / dim), each step rounded to
 * float32 as torch computes it (exponent, power, reciprocal).
 */
export function rotaryInverseFrequencies(headDim: number, base: number): number[] {
  return Array.from({ length: headDim / 2 }, (_, i) => Math.fround(1 / Math.fround(base ** Math.fround((2 * i) / headDim))));
}

/** cos and sin of position × inverse frequency, [tokens, headDim], halves layout; angles in float32. */
function rotaryTables(ctx: Context): { cos: Value; sin: Value } {
  const { g, config } = ctx;
  const positions = g.cast(g.range(g.dim(ctx.tokens, 1)), 'float32');
  const inverse = g.constant('float32', rotaryInverseFrequencies(config.headDim, config.ropeBase), [1, config.headDim / 2]);
  const freqs = g.mul(g.unsqueeze(positions, [1]), inverse);
  const angles = g.concat([freqs, freqs], -1);
  return { cos: g.cast(g.cos(angles), ctx.compute), sin: g.cast(g.sin(angles), ctx.compute) };
}

/** x·cos + rotate_half(x)·sin, rotate_half([x1, x2]) = [−x2, x1] (GPT-NeoX halves). */
function applyRotary(ctx: Context, x: Value, tables: { cos: Value; sin: Value }): Value {
  const { g } = ctx;
  const [x1, x2] = g.split(x, -1, 2) as [Value, Value];
  return g.add(g.mul(x, tables.cos), g.mul(g.concat([g.neg(x2), x1], -1), tables.sin));
}

/** [batch, tokens, d] → [batch, heads, tokens, headDim]. */
function splitHeads(ctx: Context, x: Value): Value {
  const { g, config } = ctx;
  return g.transpose(g.reshape(x, g.constant('int64', [0, 0, config.numHeads, config.headDim])), [0, 2, 1, 3]);
}

function mergeHeads(ctx: Context, x: Value): Value {
  const { g, config } = ctx;
  return g.reshape(g.transpose(x, [0, 2, 1, 3]), g.constant('int64', [0, 0, config.hiddenSize]));
}

/** Attention with packed QKV and QK LayerNorm; returns the update (before /s) and the probabilities. */
function selfAttention(ctx: Context, x: Value, layer: number, bias: Value, tables: { cos: Value; sin: Value }): { out: Value; probs: Value } {
  const { g, config } = ctx;
  const b = blockNames(layer);
  const qkv = linear(ctx, layerNorm(ctx, x, b.attentionNorm, true), b.qkv);
  const [query, key, value] = g.split(qkv, -1, 3) as [Value, Value, Value];
  const q = applyRotary(ctx, splitHeads(ctx, layerNorm(ctx, query, b.queryNorm, false)), tables);
  const k = applyRotary(ctx, splitHeads(ctx, layerNorm(ctx, key, b.keyNorm, false)), tables);
  const v = splitHeads(ctx, value);
  const scaled = g.mul(q, g.scalar(config.headDim ** -0.5, ctx.compute));
  const scores = g.add(g.cast(g.matmul(scaled, g.transpose(k, [0, 1, 3, 2])), 'float32'), bias);
  const probs = g.softmax(scores, -1);
  const context = g.matmul(g.cast(probs, ctx.compute), v);
  return { out: linear(ctx, mergeHeads(ctx, context), b.attentionOut), probs };
}

/** SwiGLU: the first half of the projection through SiLU, times the second half. */
function feedForward(ctx: Context, x: Value, layer: number): Value {
  const { g } = ctx;
  const b = blockNames(layer);
  const [gate, up] = g.split(linear(ctx, layerNorm(ctx, x, b.ffnNorm, true), b.ffnIn), -1, 2) as [Value, Value];
  return linear(ctx, g.mul(g.mul(gate, g.sigmoid(gate)), up), b.ffnOut);
}

function block(ctx: Context, x: Value, layer: number, bias: Value, tables: { cos: Value; sin: Value }): { x: Value; probs: Value } {
  const { g } = ctx;
  const scale = g.cast(ctx.residualScale, ctx.compute);
  const attention = selfAttention(ctx, x, layer, bias, tables);
  const afterAttention = g.add(x, g.div(attention.out, scale));
  return { x: g.add(afterAttention, g.div(feedForward(ctx, afterAttention, layer), scale)), probs: attention.probs };
}

/** Sequence head: Linear → GELU (erf) → LayerNorm → Linear to 64 logits. */
function sequenceHead(ctx: Context, x: Value): Value {
  const { g } = ctx;
  const hidden = layerNorm(ctx, g.gelu(linear(ctx, x, TOP.headDense, true)), TOP.headNorm, true);
  return linear(ctx, hidden, TOP.headOut, true);
}

/** [batch, 1, T, T] additive mask: 0 where both tokens are real or both padding, −∞ elsewhere. */
function sequenceIdBias(ctx: Context, isPad: Value): Value {
  const { g } = ctx;
  const same = g.equal(g.unsqueeze(isPad, [2]), g.unsqueeze(isPad, [1]));
  return g.unsqueeze(g.where(same, g.scalar(0), g.scalar(-Infinity)), [1]);
}

/** 1 at residues (and `<mask>`), 0 at `<cls>`, `<eos>` and padding. */
function residueMask(ctx: Context): Value {
  const { g, tokens, notPad } = ctx;
  const isSpecial = (id: number): Value => g.equal(tokens, g.scalar(id, 'int64'));
  const notSpecial = g.not(g.op('Or', [isSpecial(TOKENS.CLS), isSpecial(TOKENS.EOS)], {}, { dtype: 'bool' }));
  return g.mul(notPad, g.cast(notSpecial, 'float32'));
}

/** Per-sequence vectors over residues only, in float32. */
function pool(ctx: Context, hidden: Value, kind: Exclude<Pooling, 'per-token'>, residues: Value): Value {
  const { g } = ctx;
  const h = g.cast(hidden, 'float32');
  if (kind === 'bos') return g.squeeze(g.slice(h, [0], [1], [1]), [1]);
  const mask3 = g.unsqueeze(residues, [-1]);
  if (kind === 'mean') return g.div(g.reduceSum(g.mul(h, mask3), [1], false), g.reduceSum(mask3, [1], false));
  return g.reduceMax(g.where(g.cast(mask3, 'bool'), h, g.scalar(-Infinity)), [1], false);
}

export function validateOutputs(config: EsmcConfig, outputs: GraphOutputs): void {
  if (outputs.contacts) throw new RangeError('ESM C has no contact head, so it cannot predict contacts; leave contacts off.');
  for (const layer of outputs.layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer > config.numLayers) {
      throw new RangeError(`Layer ${layer} does not exist: this model has layers 0 to ${config.numLayers}.`);
    }
  }
  for (const layer of outputs.attentionLayers ?? []) {
    if (!Number.isInteger(layer) || layer < 1 || layer > config.numLayers) {
      throw new RangeError(`Attention layer ${layer} does not exist: this model has layers 1 to ${config.numLayers}.`);
    }
  }
}

/** Adds the ESM C forward pass to `g`: input `input_ids` [batch, tokens] int64 (the graph contract of models/family). */
export function buildEsmcGraph(g: GraphBuilder, options: FamilyGraphOptions & { config: EsmcConfig }): void {
  const { config, outputs } = options;
  validateOutputs(config, outputs);
  checkPrompt(options.prompt);
  const tokens = g.input('input_ids', 'int64', ['batch', 'tokens']);
  const isPad = g.equal(tokens, g.scalar(TOKENS.PAD, 'int64'));
  const ctx: Context = {
    g,
    config,
    compute: options.precision === 'fp16' ? 'float16' : 'float32',
    param: options.param,
    tokens,
    notPad: g.cast(g.not(isPad), 'float32'),
    residualScale: g.scalar(Math.sqrt(config.numLayers / 36)),
    zeroBias: g.constant('float32', new Array<number>(config.hiddenSize).fill(0)),
    ...(options.adaptLinear ? { adaptLinear: options.adaptLinear } : {}),
  };
  const lastBlock = outputs.logits ? config.numLayers : Math.max(0, ...outputs.layers, ...(outputs.attentionLayers ?? []));
  const residues = residueMask(ctx);
  const emitHidden = (layer: number, hidden: Value): void => {
    if (!outputs.layers.includes(layer)) return;
    for (const kind of outputs.pool) {
      g.output(kind === 'per-token' ? g.cast(hidden, 'float32') : pool(ctx, hidden, kind, residues), outputName.pooled(kind, layer));
    }
  };

  let x = g.scope('embeddings', () => g.gather(ctx.param(TOP.embed), tokens, 0));
  emitHidden(0, x);
  const bias = sequenceIdBias(ctx, isPad);
  const tables = rotaryTables(ctx);
  const prompted = options.prompt ? promptedBlocks(ctx, options.prompt) : null;
  let present = false; // whether x has the prompt positions yet
  const strip = (value: Value, axes: number[]): Value => (present && prompted ? withoutPrompt(g, value, prompted.length, axes) : value);
  for (let layer = 0; layer < lastBlock; layer++) {
    const prompt = prompted?.prompt.before(layer) ?? null;
    if (prompt && prompted) [x, present] = [placePrompt(g, x, prompt, prompted.length, present), true];
    const masks = present && prompted ? prompted : { bias, tables };
    const result = g.scope(`block${layer + 1}`, () => block(ctx, x, layer, masks.bias, masks.tables));
    x = result.x;
    if (outputs.attentionLayers?.includes(layer + 1)) g.output(strip(result.probs, [2, 3]), outputName.attention(layer + 1));
    if (layer + 1 < config.numLayers) emitHidden(layer + 1, strip(x, [1]));
  }
  if (lastBlock < config.numLayers) return;
  const residuesOnly = strip(x, [1]);
  const final = g.scope('final', () => layerNorm(ctx, residuesOnly, TOP.finalNorm, false));
  emitHidden(config.numLayers, final);
  if (outputs.logits) g.output(g.cast(g.scope('sequence_head', () => sequenceHead(ctx, final)), 'float32'), outputName.logits);
}

/**
 * The masks of blocks that see soft-prompt positions: `<cls>` stands in at those positions, so the
 * sequence-id mask counts them as real tokens and rotary positions run over them.
 */
function promptedBlocks(ctx: Context, prompt: SoftPrompt): { prompt: SoftPrompt; length: number; bias: Value; tables: { cos: Value; sin: Value } } {
  const { g } = ctx;
  const tokens = promptedTokens(g, ctx.tokens, prompt.length, TOKENS.CLS);
  const withPrompt: Context = { ...ctx, tokens };
  return { prompt, length: prompt.length, bias: sequenceIdBias(withPrompt, g.equal(tokens, g.scalar(TOKENS.PAD, 'int64'))), tables: rotaryTables(withPrompt) };
}
