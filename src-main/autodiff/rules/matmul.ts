/**
 * autodiff/rules/matmul — MatMul (numpy semantics: 1-D operands, batched operands with
 * broadcast leading dims) and Gemm. Gradients are themselves matrix products with the last two
 * axes swapped: dA = dY·Bᵀ, dB = Aᵀ·dY, summed over broadcast batch dims. The common training
 * case, activations [batch, tokens, in] times a weight [in, out], gets dW as one GEMM over the
 * flattened rows instead of a per-batch product followed by a sum.
 */
import { float, int } from '../../onnx';
import type { Emitter } from '../emitter';
import { attrFloat, attrInt, type TensorInfo } from '../shapes';
import { reduced, when, type GradRule, type RuleContext } from './context';

function rank(x: TensorInfo, node: string): number {
  if (!x.shape) throw new Error(`autodiff: the gradient of ${node} needs the rank of ${x.name}, which is unknown; give the graph input a shape.`);
  return x.shape.length;
}

/** x with its last two axes swapped. */
function swapLast(e: Emitter, x: TensorInfo, r: number): TensorInfo {
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return e.transpose(x, perm);
}

/** Both operands at least 2-D. */
function matrices(c: RuleContext, ra: number, rb: number): ReturnType<GradRule> {
  const { e, g } = c;
  const [a, b] = [c.x(0), c.x(1)];
  const gradA = (): TensorInfo => {
    if (ra === 2 && rb === 2) return e.op('Gemm', [g, b], { transB: int(1) });
    return e.unbroadcast(e.op('MatMul', [g, swapLast(e, b, rb)]), a);
  };
  const gradB = (): TensorInfo => {
    if (ra === 2 && rb === 2) return e.op('Gemm', [a, g], { transA: int(1) });
    // A shared 2-D weight: one GEMM over all rows, Aᵀ[in, rows] · dY[rows, out].
    if (rb === 2) return e.op('Gemm', [e.op('Flatten', [a], { axis: int(-1) }), e.op('Flatten', [g], { axis: int(-1) })], { transA: int(1) });
    return e.unbroadcast(e.op('MatMul', [swapLast(e, a, ra), g]), b);
  };
  return [when(c, 0, gradA), when(c, 1, gradB)];
}

/** a [K] · b [..., K, N] = y [..., N]. */
function vectorLeft(c: RuleContext): ReturnType<GradRule> {
  const { e, g } = c;
  const [a, b] = [c.x(0), c.x(1)];
  return [
    reduced(c, 0, () => e.op('Squeeze', [e.op('MatMul', [b, e.op('Unsqueeze', [g, e.ints([-1])])]), e.ints([-1])])),
    reduced(c, 1, () => e.mul(e.op('Unsqueeze', [a, e.ints([1])]), e.op('Unsqueeze', [g, e.ints([-2])]))),
  ];
}

/** a [..., M, K] · b [K] = y [..., M]. */
function vectorRight(c: RuleContext): ReturnType<GradRule> {
  const { e, g } = c;
  const [a, b] = [c.x(0), c.x(1)];
  return [
    reduced(c, 0, () => e.mul(e.op('Unsqueeze', [g, e.ints([-1])]), b)),
    reduced(c, 1, () => e.op('Squeeze', [e.op('MatMul', [e.op('Unsqueeze', [g, e.ints([-2])]), a]), e.ints([-2])])),
  ];
}

const matmul: GradRule = (c) => {
  const [ra, rb] = [rank(c.x(0), c.node.name), rank(c.x(1), c.node.name)];
  if (ra === 1 && rb === 1) return [when(c, 0, () => c.e.mul(c.g, c.x(1))), when(c, 1, () => c.e.mul(c.g, c.x(0)))];
  if (ra === 1) return vectorLeft(c);
  if (rb === 1) return vectorRight(c);
  return matrices(c, ra, rb);
};

/**
 * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise. dA' = α·dY·B'ᵀ and dB' = α·A'ᵀ·dY,
 * each written as one Gemm whose trans flags absorb every transpose.
 */
const gemm: GradRule = (c) => {
  const { e, g, node } = c;
  const [a, b] = [c.x(0), c.x(1)];
  const [transA, transB] = [attrInt(node, 'transA', 0), attrInt(node, 'transB', 0)];
  const [alpha, beta] = [attrFloat(node, 'alpha', 1), attrFloat(node, 'beta', 1)];
  const product = (x: TensorInfo, y: TensorInfo, tx: number, ty: number): TensorInfo =>
    e.op('Gemm', [x, y], { transA: int(tx), transB: int(ty), alpha: float(alpha) });
  const gradA = (): TensorInfo => (transA ? product(b, g, transB, 1) : product(g, b, 0, 1 - transB));
  const gradB = (): TensorInfo => (transB ? product(g, a, 1, transA) : product(a, g, 1 - transA, 0));
  // ONNX stores alpha and beta as float32: scale by the value the forward Gemm used.
  const gradC = (): TensorInfo => (beta === 1 ? g : e.mul(g, e.scalar(Math.fround(beta), g.dtype)));
  return [when(c, 0, gradA), when(c, 1, gradB), reduced(c, 2, gradC)];
};

export const MATMUL_RULES: Record<string, GradRule> = { MatMul: matmul, Gemm: gemm };
