/**
 * autodiff/rules/shape — ops that move elements without changing them: the gradient moves
 * back the same way. Reshape-like ops reshape it back, Transpose applies the inverse
 * permutation, Slice pads it with zeros, Concat splits it, Split concatenates (zeros for unused
 * parts), Expand sums over the broadcast axes, and Gather scatter-adds it into zeros
 * (ScatterND with reduction=add, so repeated tokens accumulate and no one-hot matrix is built).
 */
import { int, str } from '../../onnx';
import type { Emitter } from '../emitter';
import { allNumbers, attrInt, attrInts, isNumber, normalizeAxis, type TensorInfo } from '../shapes';
import { reduced, when, type GradRule, type RuleContext } from './context';

/** Slice ends at least this large mean "to the end" (INT64_MAX, or Python's big numbers). */
const TO_END = 2 ** 31 - 1;

const range = (n: number, from = 0): number[] => Array.from({ length: Math.max(0, n - from) }, (_, i) => from + i);

const reshapeBack: GradRule = (c) => [when(c, 0, () => c.e.reshapeLike(c.g, c.x(0)))];

const expand: GradRule = (c) => [reduced(c, 0, () => c.g)];

const transpose: GradRule = (c) => {
  const perm = attrInts(c.node, 'perm');
  // Without perm, Transpose reverses the axes, which is its own inverse.
  if (!perm) return [when(c, 0, () => c.e.op('Transpose', [c.g]))];
  const inverse = [...perm];
  perm.forEach((p, i) => (inverse[p] = i));
  return [when(c, 0, () => ({ ...c.e.transpose(c.g, inverse), shape: c.x(0).shape }))];
};

// ---------- Slice ----------
/** Pads (before…, after…) that undo a step-1 slice, when the sizes involved are known. */
function staticPads(x: TensorInfo, starts: readonly number[], ends: readonly number[], axes: readonly number[]): number[] | undefined {
  if (!x.shape) return undefined;
  const before: number[] = [];
  const after: number[] = [];
  for (const [i, axis] of axes.entries()) {
    const d = x.shape[normalizeAxis(axis, x.shape.length)];
    const [s, end] = [starts[i]!, ends[i]!];
    if (isNumber(d)) {
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      before.push(clamp(s));
      after.push(d - Math.max(clamp(end), clamp(s)));
    } else if (s >= 0 && (end < 0 || end >= TO_END)) {
      // A run-time size with bounds relative to the ends (x[1:-1]): the pads do not depend on it.
      before.push(s);
      after.push(end < 0 ? -end : 0);
    } else return undefined;
  }
  return [...before, ...after];
}

/** The same pads computed at run time: bounds made non-negative and clamped to each size. */
function runtimePads(e: Emitter, x: TensorInfo, starts: TensorInfo, ends: TensorInfo, axes: TensorInfo): TensorInfo {
  const dims = e.op('Gather', [e.op('Shape', [x]), axes], { axis: int(0) });
  const zero = e.ints([0]);
  const bound = (v: TensorInfo): TensorInfo => {
    const positive = e.op('Where', [e.op('Less', [v, zero]), e.add(v, dims), v]);
    return e.op('Min', [e.op('Max', [positive, zero]), dims]);
  };
  const [s, end] = [bound(starts), bound(ends)];
  return e.op('Concat', [s, e.sub(dims, e.op('Max', [end, s]))], { axis: int(0) });
}

function sliceGradient(c: RuleContext): TensorInfo {
  const { e, g } = c;
  const [x, starts, ends] = [c.x(0), c.x(1), c.x(2)];
  const steps = c.maybe(4);
  if (steps && !(steps.data && steps.data.every((s) => s === 1))) {
    throw new Error(`autodiff: the gradient of Slice ${c.node.name} needs constant steps of 1.`);
  }
  const count = starts.data?.length ?? starts.shape?.[0];
  if (!isNumber(count)) throw new Error(`autodiff: the gradient of Slice ${c.node.name} needs the number of sliced axes.`);
  const axes = c.maybe(3) ?? e.ints(range(count));
  const known = starts.data && ends.data && axes.data && allNumbers(starts.data) && allNumbers(ends.data) && allNumbers(axes.data);
  const fixed = known ? staticPads(x, starts.data as number[], ends.data as number[], axes.data as number[]) : undefined;
  const pads = fixed ? e.ints(fixed) : runtimePads(e, x, starts, ends, axes);
  return { ...e.op('Pad', [g, pads, null, axes]), shape: x.shape };
}

const slice: GradRule = (c) => [when(c, 0, () => sliceGradient(c))];

// ---------- Concat and Split ----------
/** Size of `axis` of each input, as one int64 vector. */
function sizesAlong(e: Emitter, inputs: readonly TensorInfo[], axis: number): TensorInfo {
  const sizes = inputs.map((x) => x.shape?.[normalizeAxis(axis, x.shape.length)]);
  if (sizes.every(isNumber)) return e.ints(sizes);
  const one = (x: TensorInfo): TensorInfo => {
    const a = x.shape ? normalizeAxis(axis, x.shape.length) : axis;
    return a === -1 ? e.dimsOf(x, -1) : e.dimsOf(x, a, a + 1);
  };
  return e.op('Concat', inputs.map(one), { axis: int(0) });
}

const concat: GradRule = (c) => {
  const axis = attrInt(c.node, 'axis', 0);
  const inputs = c.node.inputs.map((_, i) => c.x(i));
  const parts = c.e.opN('Split', [c.g, sizesAlong(c.e, inputs, axis)], inputs.length, { axis: int(axis) });
  return parts.map((part, i) => (c.wants(i) ? { ...part, shape: inputs[i]!.shape } : null));
};

const split: GradRule = (c) => {
  const parts = c.node.outputs.map((_, i) => c.dy(i) ?? c.e.zerosLike(c.y(i)));
  return [when(c, 0, () => ({ ...c.e.op('Concat', parts, { axis: int(attrInt(c.node, 'axis', 0)) }), shape: c.x(0).shape }))];
};

// ---------- Gather ----------
/** dY scatter-added into zeros of the data's shape (repeated indices add up). */
function gatherAxis0(e: Emitter, g: TensorInfo, data: TensorInfo, indices: TensorInfo): TensorInfo {
  const index = e.op('Unsqueeze', [indices, e.ints([-1])]);
  return { ...e.op('ScatterND', [e.zerosLike(data), index, g], { reduction: str('add') }), shape: data.shape };
}

/**
 * Gather along axis k > 0: dY [pre…, idx…, post…] is transposed to [idx…, pre…, post…], scattered
 * into zeros [d_k, pre…, post…] as for axis 0, then transposed back to the data's layout.
 */
function gatherOtherAxis(c: RuleContext, axis: number): TensorInfo {
  const { e, g } = c;
  const [data, indices] = [c.x(0), c.x(1)];
  if (!data.shape || !indices.shape) throw new Error(`autodiff: the gradient of Gather ${c.node.name} needs the ranks of its inputs.`);
  const [r, q] = [data.shape.length, indices.shape.length];
  const gradPerm = [...range(axis + q, axis), ...range(axis), ...range(r - 1 + q, axis + q)];
  const dataPerm = [axis, ...range(axis), ...range(r, axis + 1)];
  const moved = e.transpose(g, gradPerm);
  const movedDims = dataPerm.map((p) => data.shape![p]!);
  const shape = allNumbers(movedDims) ? e.ints(movedDims) : e.op('Gather', [e.op('Shape', [data]), e.ints(dataPerm)], { axis: int(0) });
  const index = e.op('Unsqueeze', [indices, e.ints([-1])]);
  const scattered = e.op('ScatterND', [e.zeros(shape, data.dtype), index, moved], { reduction: str('add') });
  const back = [...dataPerm];
  dataPerm.forEach((p, i) => (back[p] = i));
  return { ...e.transpose(scattered, back), shape: data.shape };
}

const gather: GradRule = (c) => {
  const data = c.x(0);
  const axis = attrInt(c.node, 'axis', 0);
  if (axis < 0 && !data.shape) throw new Error(`autodiff: the gradient of Gather ${c.node.name} needs the rank of its data.`);
  const k = data.shape ? normalizeAxis(axis, data.shape.length) : axis;
  return [when(c, 0, () => (k === 0 ? gatherAxis0(c.e, c.g, data, c.x(1)) : gatherOtherAxis(c, k))), null];
};

export const SHAPE_RULES: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Flatten: reshapeBack,
  Expand: expand,
  Transpose: transpose,
  Slice: slice,
  Concat: concat,
  Split: split,
  Gather: gather,
};
