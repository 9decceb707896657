/**
 * autodiff/rules/reduce — ReduceSum, ReduceMean, ReduceMax/Min with axes as an input (opset 18+)
 * or attribute, keepdims either way and noop_with_empty_axes. The gradient is dy put back on the
 * reduced axes (Unsqueeze when keepdims=0) and broadcast: to every element for Sum, divided by
 * the count for Mean, and shared equally between the positions that hold the max/min.
 */
import { int } from '../../onnx';
import { allNumbers, attrInt, attrInts, type TensorInfo } from '../shapes';
import { when, type GradRule, type RuleContext } from './context';

/** The axes tensor of the node (input or legacy attribute), or null for "all axes". */
function axesOf(c: RuleContext): TensorInfo | null {
  const fromAttribute = attrInts(c.node, 'axes');
  return fromAttribute ? c.e.ints(fromAttribute) : c.maybe(1);
}

/** dy with the reduced axes back as size-1 axes, so that it broadcasts against x. */
function withReducedAxes(c: RuleContext, v: TensorInfo): TensorInfo {
  const axes = axesOf(c);
  // keepdims=0 without axes reduced everything to a scalar, which broadcasts as it is.
  if (attrInt(c.node, 'keepdims', 1) === 1 || !axes) return v;
  return c.e.op('Unsqueeze', [v, axes]);
}

const reduceSum: GradRule = (c) => [when(c, 0, () => c.e.expandLike(withReducedAxes(c, c.g), c.x(0)))];

/** The number of elements averaged into each output: size(x) / size(y). */
function count(c: RuleContext): TensorInfo {
  const { e } = c;
  const [x, y] = [c.x(0), c.y(0)];
  if (x.shape && y.shape && allNumbers(x.shape) && allNumbers(y.shape)) {
    const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
    return e.scalar(size(x.shape) / size(y.shape), x.dtype);
  }
  const size = (v: TensorInfo): TensorInfo => e.cast(e.op('Size', [v]), x.dtype);
  return e.div(size(x), size(y));
}

const reduceMean: GradRule = (c) => [when(c, 0, () => c.e.expandLike(withReducedAxes(c, c.e.div(c.g, count(c))), c.x(0)))];

/** Max/Min: dy goes to the positions equal to the result, split evenly between ties. */
const reduceExtreme: GradRule = (c) => {
  const { e } = c;
  const x = c.x(0);
  return [
    when(c, 0, () => {
      const hits = e.cast(e.op('Equal', [x, withReducedAxes(c, c.y(0))]), x.dtype);
      const axes = axesOf(c);
      const attributes = { keepdims: int(1), noop_with_empty_axes: int(attrInt(c.node, 'noop_with_empty_axes', 0)) };
      const ties = e.op('ReduceSum', axes ? [hits, axes] : [hits], attributes);
      return { ...e.mul(e.div(hits, ties), withReducedAxes(c, c.g)), shape: x.shape };
    }),
  ];
};

export const REDUCE_RULES: Record<string, GradRule> = {
  ReduceSum: reduceSum,
  ReduceMean: reduceMean,
  ReduceMax: reduceExtreme,
  ReduceMin: reduceExtreme,
};
