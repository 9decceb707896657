/**
 * autodiff/rules/elementwise — element-wise ops: arithmetic with numpy broadcasting (whose
 * gradients are summed back to each operand's shape), and unary functions, each dx = dy · f'(x)
 * written with the forward output where that is cheaper (sigmoid, tanh, exp, sqrt).
 */
import { isFloat } from '../../onnx';
import type { TensorInfo } from '../shapes';
import { reduced, when, type GradRule, type RuleContext } from './context';

/** A float constant in the type of `like`. */
const k = (c: RuleContext, value: number, like: TensorInfo): TensorInfo => c.e.scalar(value, like.dtype);

const add: GradRule = (c) => [reduced(c, 0, () => c.g), reduced(c, 1, () => c.g)];

const sub: GradRule = (c) => [reduced(c, 0, () => c.g), when(c, 1, () => c.e.neg(c.e.unbroadcast(c.g, c.x(1))))];

const mul: GradRule = (c) => [reduced(c, 0, () => c.e.mul(c.g, c.x(1))), reduced(c, 1, () => c.e.mul(c.g, c.x(0)))];

/** y = a / b: da = dy / b, db = −dy · a / b² = −dy · y / b. */
const div: GradRule = (c) => {
  const { e, g } = c;
  return [reduced(c, 0, () => e.div(g, c.x(1))), when(c, 1, () => e.neg(e.unbroadcast(e.div(e.mul(g, c.y(0)), c.x(1)), c.x(1))))];
};

/** y = x^p: dx = dy · p · x^(p−1); dp = dy · y · ln x (only where p depends on a parameter). */
const pow: GradRule = (c) => {
  const { e, g } = c;
  const [x, p] = [c.x(0), c.x(1)];
  // The exponent may have another type (Pow allows int exponents): compute in x's type.
  const exponent = e.cast(p, x.dtype);
  return [
    reduced(c, 0, () => e.mul(g, e.mul(exponent, e.op('Pow', [x, e.sub(exponent, k(c, 1, exponent))])))),
    reduced(c, 1, () => e.cast(e.mul(g, e.mul(c.y(0), e.op('Log', [x]))), p.dtype)),
  ];
};

/** Sum(x₀, x₁, …): every operand gets dy, summed to its shape. */
const sum: GradRule = (c) => c.node.inputs.map((_, i) => reduced(c, i, () => c.g));

/**
 * Element-wise Max/Min of several operands: dy goes to the operand that holds the result,
 * split evenly where several do (as PyTorch's maximum), then summed to each operand's shape.
 */
const extreme: GradRule = (c) => {
  const { e, g } = c;
  const y = c.y(0);
  const hits = c.node.inputs.map((_, i) => e.cast(e.op('Equal', [y, c.x(i)]), y.dtype));
  const ties = hits.length === 1 ? hits[0]! : e.op('Sum', hits);
  return hits.map((hit, i) => reduced(c, i, () => e.mul(g, e.div(hit, ties))));
};

/** A unary op whose gradient is dy · f'(x), f' built by `derivative`. */
const unary =
  (derivative: (c: RuleContext) => TensorInfo): GradRule =>
  (c) => [when(c, 0, () => c.e.mul(c.g, derivative(c)))];

const neg: GradRule = (c) => [when(c, 0, () => c.e.neg(c.g))];
const identity: GradRule = (c) => [when(c, 0, () => c.g)];

/** float → float casts pass the gradient back in the input's type; other casts cut the path. */
const cast: GradRule = (c) => [isFloat(c.x(0).dtype) ? when(c, 0, () => c.e.cast(c.g, c.x(0).dtype)) : null];

const sigmoid = unary((c) => c.e.mul(c.y(0), c.e.sub(k(c, 1, c.y(0)), c.y(0))));
const tanh = unary((c) => c.e.sub(k(c, 1, c.y(0)), c.e.mul(c.y(0), c.y(0))));
const exp = unary((c) => c.y(0));
const log = unary((c) => c.e.op('Reciprocal', [c.x(0)]));
const sqrt = unary((c) => c.e.div(k(c, 0.5, c.y(0)), c.y(0)));
const reciprocal = unary((c) => c.e.neg(c.e.mul(c.y(0), c.y(0))));
const softplus = unary((c) => c.e.op('Sigmoid', [c.x(0)]));
const sin = unary((c) => c.e.op('Cos', [c.x(0)]));
const cos = unary((c) => c.e.neg(c.e.op('Sin', [c.x(0)])));
const abs = unary((c) => c.e.op('Sign', [c.x(0)]));

/** erf'(x) = 2/√π · exp(−x²). */
const erf = unary((c) => {
  const { e } = c;
  const x = c.x(0);
  return e.mul(k(c, 2 / Math.sqrt(Math.PI), x), e.op('Exp', [e.neg(e.mul(x, x))]));
});

/** Relu passes dy where x > 0 (the subgradient 0 at x = 0, as PyTorch). */
const relu: GradRule = (c) => {
  const { e } = c;
  const x = c.x(0);
  return [when(c, 0, () => e.op('Where', [e.op('Greater', [x, k(c, 0, x)]), c.g, k(c, 0, x)]))];
};

/**
 * Exact GELU, x·Φ(x): d/dx = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = exp(−x²/2)/√(2π).
 * The tanh approximation, ½x(1 + tanh u) with u = √(2/π)(x + 0.044715x³):
 * d/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh u.
 */
const gelu = unary((c) => {
  const { e } = c;
  const x = c.x(0);
  const approximate = c.node.attributes.approximate;
  if (approximate?.kind === 'string' && approximate.value === 'tanh') return geluTanhDerivative(c, x);
  const cdf = e.mul(k(c, 0.5, x), e.add(k(c, 1, x), e.op('Erf', [e.mul(x, k(c, Math.SQRT1_2, x))])));
  const pdf = e.mul(k(c, 1 / Math.sqrt(2 * Math.PI), x), e.op('Exp', [e.mul(e.mul(x, x), k(c, -0.5, x))]));
  return e.add(cdf, e.mul(x, pdf));
});

function geluTanhDerivative(c: RuleContext, x: TensorInfo): TensorInfo {
  const { e } = c;
  const a = Math.sqrt(2 / Math.PI);
  const x2 = e.mul(x, x);
  const u = e.mul(k(c, a, x), e.add(x, e.mul(k(c, 0.044715, x), e.mul(x2, x))));
  const t = e.op('Tanh', [u]);
  const du = e.mul(k(c, a, x), e.add(k(c, 1, x), e.mul(k(c, 3 * 0.044715, x), x2)));
  const half = k(c, 0.5, x);
  return e.add(e.mul(half, e.add(k(c, 1, x), t)), e.mul(e.mul(half, x), e.mul(e.sub(k(c, 1, x), e.mul(t, t)), du)));
}

/** Where(cond, a, b): dy flows to a where cond holds, to b elsewhere; cond is not differentiable. */
const where: GradRule = (c) => {
  const { e, g } = c;
  const zero = k(c, 0, g);
  return [null, reduced(c, 1, () => e.op('Where', [c.x(0), g, zero])), reduced(c, 2, () => e.op('Where', [c.x(0), zero, g]))];
};

/** Piecewise-constant functions: their gradient is zero, so nothing flows back. */
const constant: GradRule = () => [];

export const ELEMENTWISE_RULES: Record<string, GradRule> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Sum: sum,
  Max: extreme,
  Min: extreme,
  Neg: neg,
  Identity: identity,
  Cast: cast,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Relu: relu,
  Exp: exp,
  Log: log,
  Sqrt: sqrt,
  Reciprocal: reciprocal,
  Softplus: softplus,
  Sin: sin,
  Cos: cos,
  Abs: abs,
  Erf: erf,
  Gelu: gelu,
  Where: where,
  Floor: constant,
  Ceil: constant,
  Round: constant,
  Sign: constant,
};

