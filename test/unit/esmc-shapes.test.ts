/**
 * The ESM C graph at the published models' head width (64, where the golden tiny model has 16):
 * random weights in the esm package's layout for a 3-block model of width 256 (4 heads of 64, FFN
 * 768, residual scale √(3/36)), converted and run as a padded batch, against an independent
 * float64 forward pass written here from the golden README's description. Hidden states, final
 * embeddings and logits agree within 1e-4 relative to their scale.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { writeSafetensorsFile, type WritableTensor } from '../../src-main/models/formats/safetensors-write';
import { convertCheckpoint, graphFile, readManifest } from '../../src-main/models/installed';
import { encodeBatch } from '../../src-main/models/esmc/tokenizer';
import { runGraph } from '../support/golden';

const D = 256;
const F = 768;
const LAYERS = 3;
const HEADS = 4;
const HEAD = D / HEADS;
const V = 64;

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

function randomWeights(seed: number): Weights {
  const rng = createRng(seed);
  const weights: Weights = new Map();
  const add = (name: string, shape: number[], scale: number, offset = 0): void => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + scale * (2 * rng.next() - 1));
    weights.set(name, { shape, data });
  };
  add('embed.weight', [V, D], 1);
  for (let n = 0; n < LAYERS; n++) {
    const p = `transformer.blocks.${n}`;
    add(`${p}.attn.layernorm_qkv.0.weight`, [D], 0.2, 1);
    add(`${p}.attn.layernorm_qkv.0.bias`, [D], 0.1);
    add(`${p}.attn.layernorm_qkv.1.weight`, [3 * D, D], 1 / Math.sqrt(D));
    add(`${p}.attn.q_ln.weight`, [D], 0.2, 1);
    add(`${p}.attn.k_ln.weight`, [D], 0.2, 1);
    add(`${p}.attn.out_proj.weight`, [D, D], 1 / Math.sqrt(D));
    add(`${p}.ffn.0.weight`, [D], 0.2, 1);
    add(`${p}.ffn.0.bias`, [D], 0.1);
    add(`${p}.ffn.1.weight`, [2 * F, D], 1 / Math.sqrt(D));
    add(`${p}.ffn.3.weight`, [D, F], 1 / Math.sqrt(F));
  }
  add('transformer.norm.weight', [D], 0.2, 1);
  add('sequence_head.0.weight', [D, D], 1 / Math.sqrt(D));
  add('sequence_head.0.bias', [D], 0.1);
  add('sequence_head.2.weight', [D], 0.2, 1);
  add('sequence_head.2.bias', [D], 0.1);
  add('sequence_head.3.weight', [V, D], 1 / Math.sqrt(D));
  add('sequence_head.3.bias', [V], 0.1);
  return weights;
}

// ---- float64 reference, rows of a [T, width] matrix as arrays ----
const w = (weights: Weights, name: string): Float32Array => weights.get(name)!.data;
const linear = (x: number[][], weight: Float32Array, out: number, bias?: Float32Array): number[][] =>
  x.map((row) => Array.from({ length: out }, (_, o) => row.reduce((sum, v, i) => sum + v * weight[o * row.length + i]!, bias ? bias[o]! : 0)));
const layerNorm = (x: number[][], weight: Float32Array, bias?: Float32Array): number[][] =>
  x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * weight[i]! + (bias ? bias[i]! : 0));
  });
const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
function erf(x: number): number {
  // Maclaurin series below 3 (converges to double precision there), asymptotic expansion above.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - Math.exp(-t * t) / (t * Math.sqrt(Math.PI)) * (1 - 1 / (2 * t * t) + 3 / (4 * t ** 4)));
}

function referenceForward(weights: Weights, tokens: number[]): { hidden: number[][][]; embeddings: number[][]; logits: number[][] } {
  const T = tokens.length;
  const s = Math.sqrt(LAYERS / 36);
  let x = tokens.map((t) => Array.from(w(weights, 'embed.weight').subarray(t * D, (t + 1) * D)));
  const hidden = [x];
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
  for (let n = 0; n < LAYERS; n++) {
    const p = `transformer.blocks.${n}`;
    const qkv = linear(layerNorm(x, w(weights, `${p}.attn.layernorm_qkv.0.weight`), w(weights, `${p}.attn.layernorm_qkv.0.bias`)), w(weights, `${p}.attn.layernorm_qkv.1.weight`), 3 * D);
    const q = layerNorm(qkv.map((r) => r.slice(0, D)), w(weights, `${p}.attn.q_ln.weight`)).map(rotate);
    const k = layerNorm(qkv.map((r) => r.slice(D, 2 * D)), w(weights, `${p}.attn.k_ln.weight`)).map(rotate);
    const v = qkv.map((r) => r.slice(2 * D));
    const context = Array.from({ length: T }, () => new Array<number>(D).fill(0));
    for (let h = 0; h < HEADS; h++) {
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: T }, (_, j) => q[i]!.slice(h * HEAD, (h + 1) * HEAD).reduce((a, b, c) => a + b * k[j]![h * HEAD + c]!, 0) / Math.sqrt(HEAD));
        const max = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < T; j++) for (let c = 0; c < HEAD; c++) context[i]![h * HEAD + c]! += (e[j]! / z) * v[j]![h * HEAD + c]!;
      }
    }
    const attention = linear(context, w(weights, `${p}.attn.out_proj.weight`), D);
    x = x.map((row, i) => row.map((val, c) => val + attention[i]![c]! / s));
    const up = linear(layerNorm(x, w(weights, `${p}.ffn.0.weight`), w(weights, `${p}.ffn.0.bias`)), w(weights, `${p}.ffn.1.weight`), 2 * F);
    const gated = up.map((r) => Array.from({ length: F }, (_, c) => (r[c]! / (1 + Math.exp(-r[c]!))) * r[F + c]!));
    const ffn = linear(gated, w(weights, `${p}.ffn.3.weight`), D);
    x = x.map((row, i) => row.map((val, c) => val + ffn[i]![c]! / s));
    hidden.push(x);
  }
  const embeddings = layerNorm(x, w(weights, 'transformer.norm.weight'));
  const dense = linear(embeddings, w(weights, 'sequence_head.0.weight'), D, w(weights, 'sequence_head.0.bias')).map((r) => r.map(gelu));
  const logits = linear(layerNorm(dense, w(weights, 'sequence_head.2.weight'), w(weights, 'sequence_head.2.bias')), w(weights, 'sequence_head.3.weight'), V, w(weights, 'sequence_head.3.bias'));
  return { hidden, embeddings, logits };
}

/** max |a − b| / max |b| over the first `rows` rows of a [batch, Tmax, width] output at `batch`. */
function relativeError(ours: Float32Array, batch: number, Tmax: number, reference: number[][]): number {
  const width = reference[0]!.length;
  let diff = 0;
  let scale = 0;
  reference.forEach((row, t) =>
    row.forEach((value, c) => {
      diff = Math.max(diff, Math.abs(ours[(batch * Tmax + t) * width + c]! - value));
      scale = Math.max(scale, Math.abs(value));
    }),
  );
  return diff / scale;
}

describe('ESM C graph with 64-wide heads', () => {
  it('matches an independent float64 forward pass, padded batch included', { timeout: 120_000 }, async () => {
    const weights = randomWeights(15);
    const dir = mkdtempSync(join(tmpdir(), 'esmc-shape-'));
    const tensors: WritableTensor[] = [...weights].map(([name, { shape, data }]) => ({ name, shape, data }));
    writeSafetensorsFile(join(dir, 'model.safetensors'), tensors);
    const manifest = await convertCheckpoint(join(dir, 'model.safetensors'), join(dir, 'model'), { appVersion: 'test' });
    expect(manifest.config).toMatchObject({ numLayers: LAYERS, hiddenSize: D, numHeads: HEADS, headDim: HEAD, intermediateSize: F, headsInferred: true });
    const sequences = ['MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVV', 'GSHMASMTGGQQMGRDLYDDDDK'];
    const batch = encodeBatch(sequences);
    const rows = Array.from({ length: batch.batch }, (_, b) => Array.from(batch.ids.subarray(b * batch.length, (b + 1) * batch.length), Number));
    const file = await graphFile(join(dir, 'model'), readManifest(join(dir, 'model')), { layers: [0, 1, 2, LAYERS], pool: ['per-token'], logits: true });
    const out = await runGraph(file, rows);
    const worst: Record<string, number> = {};
    const note = (key: string, value: number): void => void (worst[key] = Math.max(worst[key] ?? 0, value));
    sequences.forEach((_, b) => {
      const tokens = rows[b]!.slice(0, sequences[b]!.length + 2);
      const reference = referenceForward(weights, tokens);
      for (const k of [0, 1, 2]) note('hidden', relativeError(out[`hidden_${k}`]!.data as Float32Array, b, batch.length, reference.hidden[k]!));
      note('embeddings', relativeError(out[`hidden_${LAYERS}`]!.data as Float32Array, b, batch.length, reference.embeddings));
      note('logits', relativeError(out.logits!.data as Float32Array, b, batch.length, reference.logits));
    });
    console.log('ESM C d=256, head 64 vs float64 (relative):', worst);
    for (const [key, value] of Object.entries(worst)) expect(value, key).toBeLessThan(1e-4);
  });
});
