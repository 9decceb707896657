/**
 * test/support/esmc-reference — an independent float64 ESM C forward pass (written from the golden
 * README's description, like test/unit/esmc-shapes.test.ts's), with an optional low-rank update on
 * any linear layer: y = x Wᵀ + scale · (x Aᵀ) Bᵀ, PEFT's LoRA. Weights are read by their `esm`
 * package names; sizes come from the weights themselves. For gradient checks by finite
 * differences, where float32 rounding would swamp small steps. Optional extras: bottleneck adapters
 * on any linear layer's output (y + up(gelu(down(y))), exact erf GELU) and soft prompts (rows put
 * before `<cls>`, or in place of the prompt rows, before a block; dropped before the final norm).
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

/** Bottleneck adapter of a linear layer `base`, or null: down [size, out] + bias, up [out, size] + bias. */
export type Bottleneck = (base: string) => { down: ArrayLike<number>; downBias: ArrayLike<number>; up: ArrayLike<number>; upBias: ArrayLike<number>; size: number } | null;

export interface ReferenceExtras {
  adapter?: Bottleneck;
  /** The prompt rows [length][D] before 0-based block n, or null. */
  prompt?: (block: number) => number[][] | null;
}

/** erf in float64: its Taylor series for |x| ≤ 3, Lentz's continued fraction of erfc beyond (both ~1e-13). */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a <= 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail.
  let fraction = a;
  for (let k = 80; k >= 1; k--) fraction = a + k / 2 / fraction;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction);
}

const gelu64 = (v: number): number => 0.5 * v * (1 + erf64(v / Math.SQRT2));

function bottleneck(y: Rows, out: number, adapter: NonNullable<ReturnType<Bottleneck>>): Rows {
  const down = linear(y, adapter.down, adapter.size, adapter.downBias).map((row) => row.map(gelu64));
  const up = linear(down, adapter.up, out, adapter.upBias);
  return y.map((row, t) => row.map((v, o) => v + up[t]![o]!));
}

function layerNorm(x: Rows, weight: ArrayLike<number>, bias?: ArrayLike<number>): Rows {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * weight[i]! + (bias ? bias[i]! : 0));
  });
}

/** The final embeddings [T, d] (after the last LayerNorm) of one unpadded token row. */
export function esmcEmbeddings64(w: WeightLookup, shape: EsmcShape, tokens: readonly number[], lowRank?: LowRank, extras: ReferenceExtras = {}): Rows {
  const { numLayers: L, hiddenSize: D, numHeads: H, intermediateSize: F } = shape;
  const HEAD = D / H;
  let T = tokens.length;
  let promptRows = 0;
  const project = (x: Rows, base: string, out: number): Rows => {
    const y = adapted(x, w, base, out, lowRank);
    const adapter = extras.adapter?.(base);
    return adapter ? bottleneck(y, out, adapter) : y;
  };
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
    const prompt = extras.prompt?.(n);
    if (prompt) {
      x = [...prompt.map((row) => [...row]), ...x.slice(promptRows)];
      promptRows = prompt.length;
      T = x.length;
    }
    const normed = layerNorm(x, w(`${p}.attn.layernorm_qkv.0.weight`), w(`${p}.attn.layernorm_qkv.0.bias`));
    const qkv = project(normed, `${p}.attn.layernorm_qkv.1`, 3 * D);
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
    const attention = project(context, `${p}.attn.out_proj`, D);
    x = x.map((row, i) => row.map((val, c) => val + attention[i]![c]! / s));
    const up = project(layerNorm(x, w(`${p}.ffn.0.weight`), w(`${p}.ffn.0.bias`)), `${p}.ffn.1`, 2 * F);
    const gated = up.map((r) => Array.from({ length: F }, (_, c) => (r[c]! / (1 + Math.exp(-r[c]!))) * r[F + c]!));
    const ffn = project(gated, `${p}.ffn.3`, D);
    x = x.map((row, i) => row.map((val, c) => val + ffn[i]![c]! / s));
  }
  return layerNorm(x.slice(promptRows), w('transformer.norm.weight'));
}
