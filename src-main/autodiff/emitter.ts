/**
 * autodiff/emitter — adds backward nodes to a GraphBuilder and infers what each produces (type,
 * shape, small contents) with the same inference as the forward graph, so rules can ask for the
 * shape of what they just built. Owns the helpers every rule shares: constants, shape-or-Shape,
 * zeros, and unbroadcasting a gradient back to an operand's shape (the reverse of numpy
 * broadcasting), statically when the shapes say enough, at run time otherwise.
 */
import { BYTES_PER_ELEMENT, int, isFloat, ONNX_TYPE_CODE, type Attribute, type DType, type GraphBuilder, type Node } from '../onnx';
import { allNumbers, inferNode, isNumber, sameShape, type FreshDims, type TensorInfo } from './shapes';

type FloatDType = 'float32' | 'float16' | 'float64';

/** Where a named (symbolic) size can be read at run time: axis `axis` of graph input `input`. */
export interface SizeSource {
  input: TensorInfo;
  axis: number;
}

export class Emitter {
  private readonly sizes = new Map<string, TensorInfo>();

  /**
   * `sources`: the graph inputs' named sizes ('batch', 'tokens'). Shapes made of numbers and
   * such names are read from the inputs (always alive, small) rather than with Shape(x): a
   * backward node that reads a forward activation only for its shape would keep the whole
   * activation in memory until the backward pass reaches it.
   */
  constructor(
    private readonly g: GraphBuilder,
    private readonly fresh: FreshDims,
    private readonly sources: ReadonlyMap<string, SizeSource> = new Map(),
  ) {}

  // ---------- nodes ----------
  opN(op: string, inputs: readonly (TensorInfo | null)[], count: number, attributes: Record<string, Attribute> = {}): TensorInfo[] {
    const probe: Node = { op, name: op, inputs: inputs.map((x) => x?.name ?? ''), outputs: Array.from({ length: count }, (_, i) => `out${i}`), attributes };
    const infos = inferNode(probe, inputs, this.fresh);
    const values = this.g.opN(op, inputs, count, attributes, infos.map((info) => info.dtype));
    return values.map((value, i) => ({ ...infos[i]!, name: value.name }));
  }

  op(op: string, inputs: readonly (TensorInfo | null)[], attributes: Record<string, Attribute> = {}): TensorInfo {
    return this.opN(op, inputs, 1, attributes)[0]!;
  }

  add = (a: TensorInfo, b: TensorInfo): TensorInfo => this.op('Add', [a, b]);
  sub = (a: TensorInfo, b: TensorInfo): TensorInfo => this.op('Sub', [a, b]);
  mul = (a: TensorInfo, b: TensorInfo): TensorInfo => this.op('Mul', [a, b]);
  div = (a: TensorInfo, b: TensorInfo): TensorInfo => this.op('Div', [a, b]);
  neg = (a: TensorInfo): TensorInfo => this.op('Neg', [a]);

  // ---------- constants ----------
  /** A 1-D int64 constant (axes, shapes, sizes). */
  ints(values: readonly number[]): TensorInfo {
    const value = this.g.constant('int64', values);
    return { ...value, data: values };
  }

  intScalar(value: number): TensorInfo {
    return { ...this.g.scalar(value, 'int64'), data: [value] };
  }

  /** A float scalar in the element type of the tensor it will meet (float16, float32 or float64). */
  scalar(value: number, dtype: DType): TensorInfo {
    if (!isFloat(dtype)) throw new Error(`autodiff: no float constant of type ${dtype}.`);
    return this.g.scalar(value, dtype as FloatDType);
  }

  // ---------- shapes ----------
  /** The shape of `x` as an int64 vector: a constant when every size is known, else Shape(x). */
  shapeOf(x: TensorInfo): TensorInfo {
    if (x.shape && allNumbers(x.shape)) return this.ints(x.shape);
    return (x.shape && this.fromSources(x.shape)) ?? this.op('Shape', [x]);
  }

  /** A shape vector built from constants and the graph inputs' named sizes; null when a size has no source. */
  private fromSources(dims: readonly (number | string)[]): TensorInfo | null {
    if (dims.length === 0 || !dims.every((d) => isNumber(d) || this.sources.has(d))) return null;
    const parts: TensorInfo[] = [];
    let numbers: number[] = [];
    for (const d of dims) {
      if (isNumber(d)) {
        numbers.push(d);
        continue;
      }
      if (numbers.length > 0) parts.push(this.ints(numbers));
      numbers = [];
      parts.push(this.size(d));
    }
    if (numbers.length > 0) parts.push(this.ints(numbers));
    const shape = parts.length === 1 ? parts[0]! : this.op('Concat', parts, { axis: int(0) });
    return { ...shape, data: dims };
  }

  /** The named size `name` as a 1-element int64 vector, read once from its graph input. */
  private size(name: string): TensorInfo {
    const known = this.sizes.get(name);
    if (known) return known;
    const { input, axis } = this.sources.get(name)!;
    const value = { ...this.op('Shape', [input], { start: int(axis), end: int(axis + 1) }), data: [name] };
    this.sizes.set(name, value);
    return value;
  }

  /** Sizes of dims [start, end) of `x` (end omitted: to the last). */
  dimsOf(x: TensorInfo, start: number, end?: number): TensorInfo {
    const rank = x.shape?.length;
    if (x.shape && rank !== undefined) {
      const dims = x.shape.slice(start < 0 ? start + rank : start, end === undefined ? undefined : end < 0 ? end + rank : end);
      if (allNumbers(dims)) return this.ints(dims);
      const built = this.fromSources(dims);
      if (built) return built;
    }
    const attributes: Record<string, Attribute> = { start: int(start) };
    if (end !== undefined) attributes.end = int(end);
    return this.op('Shape', [x], attributes);
  }

  /** `x` reshaped to the shape of `like` (nothing emitted when the shapes are already equal). */
  reshapeLike(x: TensorInfo, like: TensorInfo): TensorInfo {
    if (sameShape(x.shape, like.shape)) return x;
    return { ...this.op('Reshape', [x, this.shapeOf(like)]), shape: like.shape };
  }

  expandLike(x: TensorInfo, like: TensorInfo): TensorInfo {
    if (sameShape(x.shape, like.shape)) return x;
    return { ...this.op('Expand', [x, this.shapeOf(like)]), shape: like.shape };
  }

  /** Zeros of the type and shape of `like`. */
  zerosLike(like: TensorInfo): TensorInfo {
    return { ...this.zeros(this.shapeOf(like), like.dtype), shape: like.shape };
  }

  /** Zeros of type `dtype` and the shape held by the int64 vector `shape`. */
  zeros(shape: TensorInfo, dtype: DType): TensorInfo {
    const value: Attribute = { kind: 'tensor', value: { dtype, dims: [1], bytes: new Uint8Array(BYTES_PER_ELEMENT[dtype]) } };
    return this.op('ConstantOfShape', [shape], { value });
  }

  /** ReduceSum over known axes; an empty list means "nothing to reduce", not "everything". */
  reduceSum(x: TensorInfo, axes: readonly number[], keepdims: boolean): TensorInfo {
    if (axes.length === 0) return x;
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: int(keepdims ? 1 : 0) });
  }

  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm: { kind: 'ints', value: perm } });
  }

  cast(x: TensorInfo, to: DType): TensorInfo {
    if (x.dtype === to) return x;
    return this.op('Cast', [x], { to: int(ONNX_TYPE_CODE[to]) });
  }

  // ---------- unbroadcast ----------
  /**
   * Sums `grad` (the gradient of a broadcast result) down to the shape of `target` (the operand
   * that was broadcast): over the leading axes `target` lacks and the axes where it has size 1.
   */
  unbroadcast(grad: TensorInfo, target: TensorInfo): TensorInfo {
    if (sameShape(grad.shape, target.shape)) return grad;
    const plan = grad.shape && target.shape ? staticPlan(grad.shape, target.shape) : undefined;
    if (!plan) return this.unbroadcastAtRunTime(grad, target);
    const { lead, axes } = plan;
    const leading = Array.from({ length: lead }, (_, i) => i);
    let out = axes.length === 0 ? this.reduceSum(grad, leading, false) : this.reduceSum(grad, [...leading, ...axes], true);
    if (axes.length > 0 && lead > 0) out = this.op('Squeeze', [out, this.ints(leading)]);
    return { ...out, shape: target.shape };
  }

  /**
   * The same with shapes known only at run time: pad Shape(target) with leading 1s to the rank
   * of the gradient, reduce (keepdims) over the axes where it is 1, reshape to Shape(target).
   * noop_with_empty_axes=1 matters: an empty axes tensor must reduce nothing, not everything.
   */
  private unbroadcastAtRunTime(grad: TensorInfo, target: TensorInfo): TensorInfo {
    const gradShape = this.op('Shape', [grad]);
    const targetShape = this.op('Shape', [target]);
    const missing = this.sub(this.op('Shape', [gradShape]), this.op('Shape', [targetShape]));
    const pads = this.op('Concat', [missing, this.ints([0])], { axis: int(0) });
    const padded = this.op('Pad', [targetShape, pads, this.intScalar(1)]);
    const ones = this.op('NonZero', [this.op('Equal', [padded, this.ints([1])])]);
    const axes = this.op('Reshape', [ones, this.ints([-1])]);
    const summed = this.op('ReduceSum', [grad, axes], { keepdims: int(1), noop_with_empty_axes: int(1) });
    return { ...this.op('Reshape', [summed, targetShape]), shape: target.shape };
  }
}

/**
 * Which axes to sum when both shapes are known well enough: the `lead` leading axes and, after
 * them, `axes` where the target has size 1. Undefined when a symbolic size of the target meets
 * a different size in the gradient (it may be 1 or not: only run time can tell).
 */
export function staticPlan(grad: readonly (number | string)[], target: readonly (number | string)[]): { lead: number; axes: number[] } | undefined {
  const lead = grad.length - target.length;
  if (lead < 0) return undefined;
  const axes: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const [g, t] = [grad[lead + i], target[i]];
    if (g === t) continue;
    if (t === 1) axes.push(lead + i);
    else if (!isNumber(t)) return undefined;
  }
  return { lead, axes };
}
