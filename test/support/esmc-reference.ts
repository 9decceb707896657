/**
 * test/support/esmc-reference — an independent float64 ESM C forward pass (written from the golden
 * README's description, like test/unit/esmc-shapes.test.ts's), with an optional low-rank update on
 * any linear layer: y = x Wᵀ + scale · (x Aᵀ) Bᵀ, PEFT's LoRA. Weights are read by their `esm`
 * package names; sizes come from the weights themselves. For gradient checks by finite
 * differences, where float32 rounding would swamp small steps.
 */
type Rows = number[][];

/** A [out, in] matrix (row-major) by tensor name, float32 or float64. */
export type WeightLookup = (name: string) => ArrayLike<number>;
/** The adapter of a linear layer `base` (no `.weight`), or null: A [r, in], B [out, r]. */
export type LowRank = (base: string) => { a: ArrayLike<number>; b: ArrayLike<number>; r: number; scale: number } | null;

export interface EsmcShape {
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
}

function linear(x: Rows, weight: ArrayLike<number>, out: number, bias?: ArrayLike<number>): Rows {
  return x.map((row) => {
    const y = new Array<number>(out);
    for (let o = 0; o < out; o++) {
      let sum = bias ? bias[o]! : 0;
      for (let i = 0; i < row.length; i++) sum += row[i]! * weight[o * row.length + i]!;
      y[o] = sum;
    }
    return y;
  });
}

function adapted(x: Rows, w: WeightLookup, base: string, out: number, lowRank: LowRank | undefined): Rows {
  const y = linear(x, w(`${base}.weight`), out);
  const adapter = lowRank?.(base);
  if (!adapter) return y;
  const down = linear(x, adapter.a, adapter.r);
  const up = linear(down, adapter.b, out);
  return y.map((row, t) => row.map((v, o) => v + adapter.scale * up[t]![o]!));
}

function layerNorm(x: Rows, weight: ArrayLike<number>, bias?: ArrayLike<number>): Rows {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * weight[i]! + (bias ? bias[i]! : 0));
  });
}

/** The final embeddings [T, d] (after the last LayerNorm) of one unpadded token row. */
export function esmcEmbeddings64(w: WeightLookup, shape: EsmcShape, tokens: readonly number[], lowRank?: LowRank): Rows {
  const { numLayers: L, hiddenSize: D, numHeads: H, intermediateSize: F } = shape;
  const HEAD = D / H;
  const T = tokens.length;
  const s = Math.sqrt(L / 36);
  const embed = w('embed.weight');
  let x: Rows = tokens.map((t) => Array.from({ length: D }, (_, c) => embed[t * D + c]!));
  const inverse = Array.from({ length: HEAD / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / HEAD));
  const rotate = (row: number[], position: number): number[] =>
    row.map((_, c) => {
      const head = Math.floor(c / HEAD) * HEAD;
      const i = c - head;
      const half = HEAD / 2;
      const angle = position * inverse[i % half]!;
      const partner = i < half ? -row[head + i + half]! : row[head + i - half]!;
      return row[c]! * Math.cos(angle) + partner * Math.sin(angle);
    });
  for (let n = 0; n < L; n++) {
    const p = `transformer.blocks.${n}`;
    const normed = layerNorm(x, w(`${p}.attn.layernorm_qkv.0.weight`), w(`${p}.attn.layernorm_qkv.0.bias`));
    const qkv = adapted(normed, w, `${p}.attn.layernorm_qkv.1`, 3 * D, lowRank);
    const q = layerNorm(qkv.map((r) => r.slice(0, D)), w(`${p}.attn.q_ln.weight`)).map(rotate);
    const k = layerNorm(qkv.map((r) => r.slice(D, 2 * D)), w(`${p}.attn.k_ln.weight`)).map(rotate);
    const v = qkv.map((r) => r.slice(2 * D));
    const context: Rows = Array.from({ length: T }, () => new Array<number>(D).fill(0));
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: T }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < HEAD; c++) dot += q[i]![h * HEAD + c]! * k[j]![h * HEAD + c]!;
          return dot / Math.sqrt(HEAD);
        });
        const max = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < T; j++) for (let c = 0; c < HEAD; c++) context[i]![h * HEAD + c]! += (e[j]! / z) * v[j]![h * HEAD + c]!;
      }
    }
    const attention = adapted(context, w, `${p}.attn.out_proj`, D, lowRank);
    x = x.map((row, i) => row.map((val, c) => val + attention[i]![c]! / s));
    const up = adapted(layerNorm(x, w(`${p}.ffn.0.weight`), w(`${p}.ffn.0.bias`)), w, `${p}.ffn.1`, 2 * F, lowRank);
    const gated = up.map((r) => Array.from({ length: F }, (_, c) => (r[c]! / (1 + Math.exp(-r[c]!))) * r[F + c]!));
    const ffn = adapted(gated, w, `${p}.ffn.3`, D, lowRank);
    x = x.map((row, i) => row.map((val, c) => val + ffn[i]![c]! / s));
  }
  return layerNorm(x, w('transformer.norm.weight'));
}
