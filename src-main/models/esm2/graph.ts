/**
 * models/esm2/graph — the ESM-2 network as an ONNX graph, read top to bottom like `ESM2.forward` in the
 * original code: embed (with token-dropout scaling) → layers (pre-LayerNorm attention with
 * rotary positions, then the feed-forward block) → final LayerNorm → heads (language model,
 * contacts). Batch size and length are dynamic; padding is masked. Which tensors leave the
 * graph is chosen per graph, so pooled vectors can be computed inside it.
 *
 * Two ways to build the same layers: plain ONNX operators (every path; the only one that can
 * return attention maps, feed the contact head or be differentiated for training) and fused
 * kernels (models/esm2/fused: onnxruntime's SkipLayerNormalization, BiasGelu, RotaryEmbedding and
 * MultiHeadAttention), which never materialise the attention probabilities. int8 models store
 * linear weights as int8 with one scale per output channel (models/esm2/weights); their linear
 * layers quantise activations on the fly (DynamicQuantizeMatMul).
 */
import type { GraphBuilder, Value } from '../../onnx';
import { outputName, type AdaptLinear, type GraphOutputs, type Pooling } from '../family';
import type { EsmConfig } from './checkpoint/config';
import { layerNorm, project, type Context } from './context';
import { fusedLanguageModelHead, fusedLayers } from './fused';
import { TOKENS } from './tokenizer';
import { layerTensorNames, TOP_LEVEL, type Precision } from './weights';
import { checkPrompt, placePrompt, promptedTokens, withoutPrompt } from '../soft-prompt';
import type { SoftPrompt } from '../family';

// The output contract lives with the family interface; re-exported for this family's tests.
export { outputName, type AdaptLinear, type GraphOutputs, type Pooling };

/** ESM-2's token dropout: the fraction of tokens masked in training, undone at inference. */
const MASK_RATIO_TRAIN = 0.15 * 0.8;

function linear(ctx: Context, x: Value, base: string): Value {
  const y = ctx.g.add(project(ctx, x, base), ctx.param(`${base}.bias`));
  return ctx.adaptLinear ? ctx.adaptLinear(base, x, y) : y;
}

/** Token embeddings, masked tokens zeroed and all scaled by 0.88 / (1 − masked fraction). */
export function embed(ctx: Context): Value {
  const { g, tokens, notPad } = ctx;
  let x = g.gather(ctx.param(TOP_LEVEL.wordEmbeddings), tokens, 0);
  let scale: Value = notPad;
  if (ctx.config.tokenDropout) {
    const isMask = g.equal(tokens, g.scalar(ctx.config.maskTokenId, 'int64'));
    x = g.where(g.unsqueeze(isMask, [-1]), g.scalar(0, ctx.compute), x);
    const masked = g.reduceSum(g.cast(isMask, 'float32'), [1]);
    const nonPad = g.reduceSum(notPad, [1]);
    const observed = g.div(masked, nonPad);
    const factor = g.div(g.scalar(1 - MASK_RATIO_TRAIN), g.sub(g.scalar(1), observed));
    scale = g.mul(notPad, factor);
  }
  return g.mul(x, g.cast(g.unsqueeze(scale, [-1]), ctx.compute));
}

/** cos and sin of position × inverse frequency, [tokens, headDim], "two halves" layout. */
function rotaryTables(ctx: Context, layer: number): { cos: Value; sin: Value } {
  const { g } = ctx;
  const positions = g.cast(g.range(g.dim(ctx.tokens, 1)), 'float32');
  const freqs = g.mul(g.unsqueeze(positions, [1]), g.unsqueeze(ctx.param(layerTensorNames(layer).invFreq), [0]));
  const angles = g.concat([freqs, freqs], -1);
  return { cos: g.cast(g.cos(angles), ctx.compute), sin: g.cast(g.sin(angles), ctx.compute) };
}

/** x·cos + rotate_half(x)·sin, where rotate_half([x1, x2]) = [−x2, x1]. */
function applyRotary(ctx: Context, x: Value, tables: { cos: Value; sin: Value }): Value {
  const { g } = ctx;
  const [x1, x2] = g.split(x, -1, 2) as [Value, Value];
  const rotated = g.concat([g.neg(x2), x1], -1);
  return g.add(g.mul(x, tables.cos), g.mul(rotated, tables.sin));
}

/** [batch, tokens, hidden] → [batch, heads, tokens, headDim]. */
function splitHeads(ctx: Context, x: Value): Value {
  const { g, config } = ctx;
  return g.transpose(g.reshape(x, g.constant('int64', [0, 0, config.numHeads, config.headDim])), [0, 2, 1, 3]);
}

function mergeHeads(ctx: Context, x: Value): Value {
  const { g, config } = ctx;
  return g.reshape(g.transpose(x, [0, 2, 1, 3]), g.constant('int64', [0, 0, config.hiddenSize]));
}

/** Multi-head self-attention; returns the block output and the attention probabilities (float32). */
function selfAttention(ctx: Context, x: Value, layer: number, keyBias: Value): { out: Value; probs: Value } {
  const { g, config } = ctx;
  const n = layerTensorNames(layer);
  const tables = rotaryTables(ctx, layer);
  const scaling = g.scalar(config.headDim ** -0.5, ctx.compute);
  const q = applyRotary(ctx, splitHeads(ctx, g.mul(linear(ctx, x, n.query), scaling)), tables);
  const k = applyRotary(ctx, splitHeads(ctx, linear(ctx, x, n.key)), tables);
  const v = splitHeads(ctx, linear(ctx, x, n.value));
  const scores = g.add(g.cast(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), 'float32'), keyBias);
  const probs = g.softmax(scores, -1);
  const context = g.matmul(g.cast(probs, ctx.compute), v);
  return { out: linear(ctx, mergeHeads(ctx, context), n.attentionOut), probs };
}

function feedForward(ctx: Context, x: Value, layer: number): Value {
  const n = layerTensorNames(layer);
  return linear(ctx, ctx.g.gelu(linear(ctx, x, n.intermediate)), n.output);
}

/** One pre-LayerNorm transformer layer. */
function transformerLayer(ctx: Context, x: Value, layer: number, keyBias: Value): { x: Value; probs: Value } {
  const { g } = ctx;
  const n = layerTensorNames(layer);
  const attention = selfAttention(ctx, layerNorm(ctx, x, n.attentionNorm), layer, keyBias);
  const afterAttention = g.add(x, attention.out);
  const out = g.add(afterAttention, feedForward(ctx, layerNorm(ctx, afterAttention, n.outputNorm), layer));
  return { x: out, probs: attention.probs };
}

/** LM head: dense → GELU → LayerNorm → decoder (tied to the embeddings) + bias. */
function languageModelHead(ctx: Context, x: Value): Value {
  const { g } = ctx;
  const hidden = layerNorm(ctx, g.gelu(linear(ctx, x, TOP_LEVEL.lmDense)), TOP_LEVEL.lmNorm);
  return g.add(g.matmul(hidden, ctx.param(TOP_LEVEL.lmDecoder)), ctx.param(TOP_LEVEL.lmBias));
}

/** Whether this graph can use the fused kernels: fp32 activations, no attention maps, no training hook. */
function canFuse(options: EsmGraphOptions, compute: Context['compute']): boolean {
  const { outputs } = options;
  return !!options.fused && compute === 'float32' && !options.adaptLinear && !options.prompt && !outputs.contacts && !outputs.attentionLayers?.length;
}

/**
 * Contact head: every layer's attention, masked at padding and <eos>, without the <cls>/<eos>
 * rows and columns, symmetrised, APC-corrected, then a logistic regression over the channels.
 */
function contactHead(ctx: Context, probsPerLayer: Value[]): Value {
  const { g, tokens, notPad } = ctx;
  const attentions = g.concat(probsPerLayer, 1); // [batch, layers·heads, T, T]
  const notEos = g.cast(g.not(g.equal(tokens, g.scalar(TOKENS.EOS, 'int64'))), 'float32');
  const keep = g.mul(notPad, notEos);
  const pairMask = g.mul(g.unsqueeze(keep, [2]), g.unsqueeze(keep, [1]));
  let a = g.mul(attentions, g.unsqueeze(pairMask, [1]));
  a = g.slice(a, [1, 1], [-1, -1], [2, 3]);
  a = g.add(a, g.transpose(a, [0, 1, 3, 2]));
  const rowSums = g.reduceSum(a, [3]);
  const colSums = g.reduceSum(a, [2]);
  const total = g.reduceSum(a, [2, 3]);
  a = g.sub(a, g.div(g.mul(rowSums, colSums), total));
  const channelsLast = g.transpose(a, [0, 2, 3, 1]);
  const logits = g.add(g.matmul(channelsLast, ctx.param(`${TOP_LEVEL.contactRegression}.weight`)), ctx.param(`${TOP_LEVEL.contactRegression}.bias`));
  return g.sigmoid(g.squeeze(logits, [3]));
}

/** Per-sequence vectors over residues only (no <cls>, <eos> or padding), in float32. */
function pool(ctx: Context, hidden: Value, kind: Exclude<Pooling, 'per-token'>, residues: Value): Value {
  const { g } = ctx;
  const h = g.cast(hidden, 'float32');
  if (kind === 'bos') return g.squeeze(g.slice(h, [0], [1], [1]), [1]);
  const mask3 = g.unsqueeze(residues, [-1]);
  if (kind === 'mean') return g.div(g.reduceSum(g.mul(h, mask3), [1], false), g.reduceSum(mask3, [1], false));
  const isResidue = g.cast(mask3, 'bool');
  return g.reduceMax(g.where(isResidue, h, g.scalar(-Infinity)), [1], false);
}

/** 1 at residues, 0 at <cls>, <eos> and padding. */
function residueMask(ctx: Context): Value {
  const { g, tokens, notPad } = ctx;
  const isSpecial = (id: number): Value => g.equal(tokens, g.scalar(id, 'int64'));
  const notSpecial = g.not(g.op('Or', [isSpecial(TOKENS.CLS), isSpecial(TOKENS.EOS)], {}, { dtype: 'bool' }));
  return g.mul(notPad, g.cast(notSpecial, 'float32'));
}

export interface EsmGraphOptions {
  config: EsmConfig;
  precision: Precision;
  outputs: GraphOutputs;
  /** The graph value of a stored weight (see esm/weights). */
  param: (name: string) => Value;
  /** Optional hook on every linear layer; without it the graph is the plain ESM-2 forward. */
  adaptLinear?: AdaptLinear;
  /** Optional soft prompts before `<cls>` (models/family SoftPrompt). */
  prompt?: SoftPrompt;
  /**
   * Use onnxruntime's fused kernels (com.microsoft domain) where the outputs allow it: no
   * attention maps, no contacts, no adaptLinear, fp32 activations. Otherwise ignored.
   */
  fused?: boolean;
}

export function validateOutputs(config: EsmConfig, outputs: GraphOutputs): void {
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

/** Adds the ESM-2 forward pass to `g`: input `input_ids` [batch, tokens] int64. */
export function buildEsmGraph(g: GraphBuilder, options: EsmGraphOptions): void {
  const { config, outputs } = options;
  validateOutputs(config, outputs);
  checkPrompt(options.prompt);
  const tokens = g.input('input_ids', 'int64', ['batch', 'tokens']);
  const isPad = g.equal(tokens, g.scalar(TOKENS.PAD, 'int64'));
  const ctx: Context = {
    g,
    config,
    compute: options.precision === 'fp16' ? 'float16' : 'float32',
    int8: options.precision === 'int8',
    param: options.param,
    tokens,
    notPad: g.cast(g.not(isPad), 'float32'),
    ...(options.adaptLinear ? { adaptLinear: options.adaptLinear } : {}),
  };
  const needsEverything = outputs.logits || outputs.contacts;
  const lastLayer = needsEverything
    ? config.numLayers
    : Math.max(0, ...outputs.layers, ...(outputs.attentionLayers ?? []));
  const keyBias = g.unsqueeze(g.where(isPad, g.scalar(-Infinity), g.scalar(0)), [1, 2]);
  const residues = residueMask(ctx);

  const emitHidden = (layer: number, hidden: Value): void => {
    if (!outputs.layers.includes(layer)) return;
    for (const kind of outputs.pool) {
      const value = kind === 'per-token' ? g.cast(hidden, 'float32') : pool(ctx, hidden, kind, residues);
      g.output(value, outputName.pooled(kind, layer));
    }
  };

  let x = g.scope('embeddings', () => embed(ctx));
  emitHidden(0, x);
  if (canFuse(options, ctx.compute)) {
    const final = fusedLayers(ctx, x, Math.min(lastLayer, config.numLayers), emitHidden);
    if (!final) return;
    emitHidden(config.numLayers, final);
    if (outputs.logits) g.output(g.scope('lm_head', () => fusedLanguageModelHead(ctx, final)), outputName.logits);
    return;
  }
  const prompted = options.prompt ? promptedBlocks(ctx, options.prompt) : null;
  let present = false; // whether x has the prompt positions yet
  const strip = (value: Value, axes: number[]): Value => (present && prompted ? withoutPrompt(g, value, prompted.length, axes) : value);
  const probsPerLayer: Value[] = [];
  for (let layer = 0; layer < Math.min(lastLayer, config.numLayers); layer++) {
    const prompt = prompted?.prompt.before(layer) ?? null;
    if (prompt && prompted) [x, present] = [placePrompt(g, x, prompt, prompted.length, present), true];
    const blockCtx = present && prompted ? prompted.ctx : ctx;
    const result = g.scope(`layer${layer + 1}`, () => transformerLayer(blockCtx, x, layer, present && prompted ? prompted.keyBias : keyBias));
    x = result.x;
    const probs = strip(result.probs, [2, 3]);
    probsPerLayer.push(probs);
    if (outputs.attentionLayers?.includes(layer + 1)) g.output(probs, outputName.attention(layer + 1));
    if (layer + 1 < config.numLayers) emitHidden(layer + 1, strip(x, [1]));
  }
  if (lastLayer < config.numLayers) return;
  const residuesOnly = strip(x, [1]);
  const final = g.scope('final', () => layerNorm(ctx, residuesOnly, TOP_LEVEL.finalNorm));
  emitHidden(config.numLayers, final);
  if (outputs.logits) g.output(g.cast(g.scope('lm_head', () => languageModelHead(ctx, final)), 'float32'), outputName.logits);
  if (outputs.contacts) g.output(g.scope('contact_head', () => contactHead(ctx, probsPerLayer)), outputName.contacts);
}

/**
 * What blocks that see soft-prompt positions use: token ids with `<cls>` standing in at those
 * positions (real tokens for the padding mask and rotary positions), and the padding bias of those ids.
 */
function promptedBlocks(ctx: Context, prompt: SoftPrompt): { prompt: SoftPrompt; length: number; ctx: Context; keyBias: Value } {
  const { g } = ctx;
  const tokens = promptedTokens(g, ctx.tokens, prompt.length, TOKENS.CLS);
  const isPad = g.equal(tokens, g.scalar(TOKENS.PAD, 'int64'));
  const keyBias = g.unsqueeze(g.where(isPad, g.scalar(-Infinity), g.scalar(0)), [1, 2]);
  return { prompt, length: prompt.length, ctx: { ...ctx, tokens, notPad: g.cast(g.not(isPad), 'float32') }, keyBias };
}
