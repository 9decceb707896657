/**
 * train/graph-dropout — inverted dropout for training graphs whose masks are a pure function of
 * a seed fed each step (graph input `dropout_seed`), so a run resumed from a checkpoint redraws
 * exactly the masks it would have drawn (the training loop hands every micro-batch its seed).
 * onnxruntime's own random ops (Dropout, RandomUniformLike) only take a seed as an attribute
 * and advance per session, which a resumed run cannot reproduce.
 *
 * The mask: each element's flat index, offset by the hashed seed and a per-site salt, goes
 * through an integer hash (three rounds of x ← rotate₁₆((x² + A·x + C) mod 2³¹), all in int64
 * below 2⁶³, so nothing overflows, and only ops autodiff's shape inference knows: Add, Mul, Div,
 * Mod); the element is kept when the hash < (1 − p)·2³¹, and kept values are scaled by
 * 1 / (1 − p). The square gives the nonlinearity, the rotation feeds high bits back into low
 * ones (kept fraction, neighbour and cross-seed correlations checked against independence).
 * The mask is built from the token ids' shape (never from the activations), so no gradient flows
 * into it: the backward pass sees a Mul by a constant-like tensor.
 */
import { int, type GraphBuilder, type Value } from '../onnx';

export const DROPOUT_SEED_INPUT = 'dropout_seed';

const MOD = 2 ** 31;
const MULTIPLIER = 0x45d9f3b;
const INCREMENT = 0x3c6ef372;
const HALF = 2 ** 16;
const ROUNDS = 3;

/** The same integer hash in TypeScript (per-site salts, and tests). Input and output in [0, 2³¹). */
export function dropoutHash(value: number): number {
  const mod = BigInt(MOD);
  let x = BigInt(value) % mod;
  for (let round = 0; round < ROUNDS; round++) {
    const mixed = (x * x + x * BigInt(MULTIPLIER) + BigInt(INCREMENT)) % mod;
    x = (mixed % BigInt(HALF)) * (mod / BigInt(HALF)) + mixed / BigInt(HALF); // rotate 31 bits by 16
  }
  return Number(x);
}

/** The value fed as `dropout_seed` for a step's seed (any integer). */
export const dropoutSeedValue = (seed: number): bigint => BigInt(((Math.trunc(seed) % MOD) + MOD) % MOD);

const mod31 = (g: GraphBuilder, x: Value): Value => g.op('Mod', [x, g.scalar(MOD, 'int64')], { fmod: int(0) });

function hashNodes(g: GraphBuilder, x: Value): Value {
  let h = x;
  for (let round = 0; round < ROUNDS; round++) {
    const mixed = mod31(g, g.add(g.add(g.mul(h, h), g.mul(h, g.scalar(MULTIPLIER, 'int64'))), g.scalar(INCREMENT, 'int64')));
    const low = g.op('Mod', [mixed, g.scalar(HALF, 'int64')], { fmod: int(0) });
    h = g.add(g.mul(low, g.scalar(MOD / HALF, 'int64')), g.div(mixed, g.scalar(HALF, 'int64')));
  }
  return h;
}

export interface DropoutSite {
  /** The graph's `dropout_seed` input (int64 scalar). */
  seed: Value;
  /** A value whose leading dimensions are those of x (the token ids [batch, tokens], the embeddings [batch, D]). */
  shapeSource: Value;
  /** How many leading dimensions of x come from `shapeSource` (x has one more: the features). */
  leadingDims: 1 | 2;
  /** Distinguishes the sites of one graph (each gets its own mask). */
  salt: number;
}

/** Flat element index of a [lead…, features] tensor as int64, by broadcasting Ranges. */
function flatIndex(g: GraphBuilder, site: DropoutSite, features: number): Value {
  const featureIds = g.constant('int64', Array.from({ length: features }, (_, i) => i), [...Array<number>(site.leadingDims).fill(1), features]);
  let index: Value | null = null;
  for (let axis = 0; axis < site.leadingDims; axis++) {
    const size = g.dim(site.shapeSource, axis);
    const axes = Array.from({ length: site.leadingDims + 1 }, (_, a) => a).filter((a) => a !== axis);
    const ids = g.unsqueeze(g.range(size), axes);
    index = index ? g.add(g.mul(index, size), ids) : ids;
  }
  return g.add(g.mul(index!, g.scalar(features, 'int64')), featureIds);
}

/**
 * Applies dropout with probability `p` to `x` ([lead…, features], float32, features its last
 * dimension); p = 0 returns x unchanged (no nodes).
 */
export function dropout(g: GraphBuilder, x: Value, p: number, features: number, site: DropoutSite): Value {
  if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout must be in [0, 1), got ${p}.`);
  if (p === 0) return x;
  const siteSeed = mod31(g, g.add(hashNodes(g, site.seed), g.scalar(dropoutHash(site.salt + 1), 'int64')));
  const hashed = hashNodes(g, mod31(g, g.add(flatIndex(g, site, features), siteSeed)));
  const keep = g.op('Less', [hashed, g.scalar(Math.round((1 - p) * MOD), 'int64')], {}, { dtype: 'bool' });
  const mask = g.mul(g.cast(keep, 'float32'), g.scalar(1 / (1 - p)));
  return g.mul(x, mask);
}
