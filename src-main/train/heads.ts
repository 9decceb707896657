/**
 * train/heads — the small networks put on top of ESM-2's final representation:
 *   - `linear`: pooled vector → Linear (head.weight [out, D], head.bias [out]);
 *   - `swat`:   pooled vector → Linear → Dropout → LayerNorm → Linear (SWAT's head);
 *   - token heads: the same Linear applied to every position's vector.
 * Pooling is over residues only (mean, like the golden `pooled`) or the <cls> (BOS) vector.
 * Weights use PyTorch's [out, in] layout (like PEFT checkpoints and the golden refs), so the
 * graph transposes them. Owns head specs, parameter names and shapes, init and graph code.
 */
import { createRng } from '../core/rng';
import type { GraphBuilder, Value } from '../onnx';
import { dropout } from './graph-dropout';
import type { ParamSpec } from './lora';

export type HeadPool = 'mean' | 'bos';

export interface HeadSpec {
  kind: 'linear' | 'swat';
  /** How a sequence becomes one vector (ignored by token heads, which see every position). */
  pool: HeadPool;
  /** SWAT head: width of the hidden layer (default: the model's hidden size). */
  hiddenDim?: number;
  /** SWAT head: dropout between the first Linear and the LayerNorm, while training. */
  dropout?: number;
}

/** LayerNorm eps of the SWAT head (PyTorch's default). */
const HEAD_LAYER_NORM_EPS = 1e-5;

export const HEAD_NAMES = {
  weight: 'head.weight',
  bias: 'head.bias',
  denseWeight: 'head.dense.weight',
  denseBias: 'head.dense.bias',
  normWeight: 'head.norm.weight',
  normBias: 'head.norm.bias',
  outWeight: 'head.out.weight',
  outBias: 'head.out.bias',
} as const;

const swatHidden = (spec: HeadSpec, inDim: number): number => spec.hiddenDim ?? inDim;

/** Trainable tensors of a head reading `inDim`-wide vectors and giving `outDim` numbers. */
export function headParameters(spec: HeadSpec, inDim: number, outDim: number): ParamSpec[] {
  if (spec.kind === 'linear') {
    return [
      { name: HEAD_NAMES.weight, shape: [outDim, inDim] },
      { name: HEAD_NAMES.bias, shape: [outDim] },
    ];
  }
  const hidden = swatHidden(spec, inDim);
  return [
    { name: HEAD_NAMES.denseWeight, shape: [hidden, inDim] },
    { name: HEAD_NAMES.denseBias, shape: [hidden] },
    { name: HEAD_NAMES.normWeight, shape: [hidden] },
    { name: HEAD_NAMES.normBias, shape: [hidden] },
    { name: HEAD_NAMES.outWeight, shape: [outDim, hidden] },
    { name: HEAD_NAMES.outBias, shape: [outDim] },
  ];
}

/**
 * PyTorch's defaults: nn.Linear weight and bias ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a=√5,
 * and the bias rule), LayerNorm weight 1 and bias 0.
 */
export function initHead(spec: HeadSpec, inDim: number, outDim: number, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const out = new Map<string, Float32Array>();
  for (const p of headParameters(spec, inDim, outDim)) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (p.name === HEAD_NAMES.normWeight) out.set(p.name, new Float32Array(size).fill(1));
    else if (p.name === HEAD_NAMES.normBias) out.set(p.name, new Float32Array(size));
    else {
      const fanIn = p.name === HEAD_NAMES.outWeight || p.name === HEAD_NAMES.outBias ? swatHidden(spec, inDim) : inDim;
      const bound = 1 / Math.sqrt(fanIn);
      out.set(p.name, Float32Array.from({ length: size }, () => (2 * rng.next() - 1) * bound));
    }
  }
  return out;
}

/** y = x Wᵀ + b with W in PyTorch layout [out, in]. */
function linearOut(g: GraphBuilder, x: Value, weight: Value, bias: Value): Value {
  return g.add(g.matmul(x, g.transpose(weight, [1, 0])), bias);
}

export interface HeadGraphOptions {
  /** Graph values of the head tensors by name (inputs while training, constants in a saved model). */
  param: (name: string) => Value;
  /** Training graphs: the step's dropout seed (made on first use), a value [batch, …] without gradient, and this site's salt. */
  dropout: { seed: () => Value; batchSource: Value; salt: number } | null;
}

/** Head on pooled vectors [batch, inDim] → [batch, outDim] (float32). */
export function sequenceHead(g: GraphBuilder, spec: HeadSpec, pooled: Value, inDim: number, options: HeadGraphOptions): Value {
  const p = options.param;
  if (spec.kind === 'linear') return linearOut(g, pooled, p(HEAD_NAMES.weight), p(HEAD_NAMES.bias));
  let h = linearOut(g, pooled, p(HEAD_NAMES.denseWeight), p(HEAD_NAMES.denseBias));
  if (options.dropout && (spec.dropout ?? 0) > 0) {
    const { seed, batchSource, salt } = options.dropout;
    h = dropout(g, h, spec.dropout!, swatHidden(spec, inDim), { seed: seed(), shapeSource: batchSource, leadingDims: 1, salt });
  }
  h = g.layerNorm(h, p(HEAD_NAMES.normWeight), p(HEAD_NAMES.normBias), HEAD_LAYER_NORM_EPS);
  return linearOut(g, h, p(HEAD_NAMES.outWeight), p(HEAD_NAMES.outBias));
}

/** Token head: one Linear on every position, [batch, tokens, D] → [batch, tokens, outDim]. */
export function tokenHead(g: GraphBuilder, hidden: Value, param: (name: string) => Value): Value {
  return linearOut(g, hidden, param(HEAD_NAMES.weight), param(HEAD_NAMES.bias));
}
