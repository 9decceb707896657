/**
 * autodiff/shapes — element type, shape and (for small int64 tensors) contents of every value
 * of a graph, inferred node by node. The builder records shapes only at the graph boundary, but
 * gradient rules need ranks (to transpose the last two axes of a MatMul operand) and like to
 * know shapes (to unbroadcast with one static ReduceSum instead of a run-time axes computation).
 *
 * Dimensions are numbers, symbols from the graph inputs ('batch', 'tokens') or fresh symbols
 * ('?7') for sizes known only at run time; two fresh symbols never compare equal. Contents are
 * propagated through shape arithmetic (Shape → Concat → Reshape), so `Reshape(x, [0, 0, 4, 8])`
 * or `Range(0, Shape(x)[1])` keep their symbolic sizes. A shape left undefined means the rank
 * is unknown; rules then fall back to run-time computations or say what is missing.
 */
import type { Attribute, Dim, DType, Graph, Initializer, InlineTensor, Node, Value } from '../onnx';

/** A graph value with what is known about it. */
export interface TensorInfo extends Value {
  /** The contents of a small int64 tensor (a shape vector, axes, a size), when known. */
  readonly data?: readonly Dim[];
}

/** What inference learns about one output, before it has a name. */
export type OutputInfo = Omit<TensorInfo, 'name'>;

/** The biggest int64 tensor whose contents are tracked: shape vectors and axes lists are short. */
const MAX_TRACKED = 64;
/** Slice ends at least this large mean "to the end" (INT64_MAX, or Python's big numbers). */
const TO_END = 2 ** 31 - 1;

const ONNX_DTYPES: Record<number, DType> = { 1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

export function dtypeOfCode(code: number): DType {
  const dtype = ONNX_DTYPES[code];
  if (!dtype) throw new Error(`autodiff: ONNX element type ${code} is not supported.`);
  return dtype;
}

/** Names of values whose sizes are unknown: fresh, never equal to another. */
export class FreshDims {
  private count = 0;
  next(): string {
    this.count += 1;
    return `?${this.count}`;
  }
}

// ---------- attribute helpers ----------
export function attrInt(node: Pick<Node, 'attributes'>, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'int' ? a.value : fallback;
}

export function attrFloat(node: Pick<Node, 'attributes'>, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'float' ? a.value : fallback;
}

export function attrInts(node: Pick<Node, 'attributes'>, name: string): readonly number[] | undefined {
  const a = node.attributes[name];
  return a?.kind === 'ints' ? a.value : undefined;
}

export function attrString(node: Pick<Node, 'attributes'>, name: string, fallback: string): string {
  const a = node.attributes[name];
  return a?.kind === 'string' ? a.value : fallback;
}

// ---------- small helpers on dims ----------
export const isNumber = (d: Dim | undefined): d is number => typeof d === 'number';
export const allNumbers = (dims: readonly Dim[]): dims is readonly number[] => dims.every(isNumber);

export function sameShape(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** numpy broadcasting of known shapes; a size that cannot be decided becomes a fresh symbol. */
export function broadcastShapes(shapes: readonly (readonly Dim[] | undefined)[], fresh: FreshDims): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const known = shapes as readonly (readonly Dim[])[];
  const rank = Math.max(0, ...known.map((s) => s.length));
  return Array.from({ length: rank }, (_, axis) => {
    const dims = known.map((s) => s[s.length - rank + axis] ?? 1).filter((d) => d !== 1);
    if (dims.length === 0) return 1;
    // A number other than 1 wins: the symbols beside it are that number or 1 at run time.
    const numbers = dims.filter(isNumber);
    if (numbers.length > 0) return numbers[0]!;
    return dims.every((d) => d === dims[0]) ? dims[0]! : fresh.next();
  });
}

function product(dims: readonly Dim[]): number | undefined {
  return allNumbers(dims) ? dims.reduce((a, b) => a * b, 1) : undefined;
}

/** The size a -1 stands for in a Reshape: input size / known output sizes, symbols cancelled. */
function inferredDim(input: readonly Dim[], others: readonly Dim[], fresh: FreshDims): Dim {
  const symbols = input.filter((d) => !isNumber(d)) as string[];
  let numerator = input.filter(isNumber).reduce((a, b) => a * b, 1);
  let denominator = 1;
  for (const d of others) {
    if (isNumber(d)) denominator *= d;
    else if (symbols.includes(d)) symbols.splice(symbols.indexOf(d), 1);
    else return fresh.next();
  }
  if (numerator % denominator !== 0) return fresh.next();
  numerator /= denominator;
  if (symbols.length === 0) return numerator;
  return symbols.length === 1 && numerator === 1 ? symbols[0]! : fresh.next();
}

// ---------- per-op inference ----------
type Inputs = readonly (TensorInfo | null)[];
type Infer = (node: Node, inputs: Inputs, fresh: FreshDims) => OutputInfo[];

const first = (inputs: Inputs): TensorInfo => {
  const x = inputs[0];
  if (!x) throw new Error('autodiff: a node lacks its first input.');
  return x;
};

const sameAsFirst: Infer = (_node, inputs) => {
  const { dtype, shape } = first(inputs);
  return [{ dtype, shape }];
};

const broadcasting =
  (dtype?: DType): Infer =>
  (_node, inputs, fresh) => {
    const present = inputs.filter((x): x is TensorInfo => !!x);
    return [{ dtype: dtype ?? first(inputs).dtype, shape: broadcastShapes(present.map((x) => x.shape), fresh), data: arithmetic(_node.op, present) }];
  };

/** Element-wise int64 arithmetic on known contents (shape vectors), numbers only. */
function arithmetic(op: string, inputs: readonly TensorInfo[]): Dim[] | undefined {
  const fn: Record<string, (a: number, b: number) => number> = {
    Add: (a, b) => a + b,
    Sub: (a, b) => a - b,
    Mul: (a, b) => a * b,
    Div: (a, b) => Math.trunc(a / b),
  };
  const [a, b] = inputs;
  if (!fn[op] || !a?.data || !b?.data || a.dtype !== 'int64' || !allNumbers(a.data) || !allNumbers(b.data)) return undefined;
  const n = Math.max(a.data.length, b.data.length);
  if ((a.data.length !== n && a.data.length !== 1) || (b.data.length !== n && b.data.length !== 1)) return undefined;
  return Array.from({ length: n }, (_, i) => fn[op]!(a.data![a.data!.length === 1 ? 0 : i] as number, b.data![b.data!.length === 1 ? 0 : i] as number));
}

/** The numbers of an axes-like input or attribute, when known. */
function knownInts(node: Node, inputs: Inputs, index: number, attribute: string): readonly number[] | undefined {
  const fromAttribute = attrInts(node, attribute);
  if (fromAttribute) return fromAttribute;
  const data = inputs[index]?.data;
  return data && allNumbers(data) ? data : undefined;
}

const inferMatMul: Infer = (_node, [a, b], fresh) => {
  const dtype = a!.dtype;
  if (!a?.shape || !b?.shape) return [{ dtype }];
  const left = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const right = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const batch = broadcastShapes([left.slice(0, -2), right.slice(0, -2)], fresh)!;
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [left[left.length - 2]!]), ...(b.shape.length === 1 ? [] : [right[right.length - 1]!])];
  return [{ dtype, shape }];
};

const inferGemm: Infer = (node, [a, b]) => {
  const dtype = a!.dtype;
  if (!a?.shape || !b?.shape) return [{ dtype }];
  const m = attrInt(node, 'transA', 0) ? a.shape[1]! : a.shape[0]!;
  const n = attrInt(node, 'transB', 0) ? b.shape[0]! : b.shape[1]!;
  return [{ dtype, shape: [m, n] }];
};

const inferReshape: Infer = (node, [x, target], fresh) => {
  const dtype = x!.dtype;
  const dims = target?.data;
  if (!dims) {
    const rank = target?.shape?.[0];
    return [{ dtype, shape: isNumber(rank) ? Array.from({ length: rank }, () => fresh.next()) : undefined }];
  }
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const copied = dims.map((d, i) => (d === 0 && !allowZero ? (x!.shape?.[i] ?? fresh.next()) : d));
  const minus = copied.indexOf(-1);
  if (minus >= 0) {
    const others = copied.filter((_, i) => i !== minus);
    copied[minus] = x!.shape ? inferredDim(x!.shape, others, fresh) : fresh.next();
  }
  return [{ dtype, shape: copied, data: x!.data && copied.length === 1 ? x!.data : undefined }];
};

const inferTranspose: Infer = (node, [x]) => {
  const { dtype, shape } = x!;
  if (!shape) return [{ dtype }];
  const perm = attrInts(node, 'perm') ?? shape.map((_, i) => shape.length - 1 - i);
  return [{ dtype, shape: perm.map((p) => shape[p]!) }];
};

const inferUnsqueeze: Infer = (node, inputs) => {
  const x = first(inputs);
  const axes = knownInts(node, inputs, 1, 'axes');
  if (!x.shape || !axes) return [{ dtype: x.dtype, data: x.data }];
  const rank = x.shape.length + axes.length;
  const at = new Set(axes.map((a) => normalizeAxis(a, rank)));
  const rest = [...x.shape];
  const shape = Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : rest.shift()!));
  return [{ dtype: x.dtype, shape, data: x.data }];
};

const inferSqueeze: Infer = (node, inputs) => {
  const x = first(inputs);
  const axes = knownInts(node, inputs, 1, 'axes');
  if (!x.shape) return [{ dtype: x.dtype, data: x.data }];
  if (!axes && !allNumbers(x.shape)) return [{ dtype: x.dtype, data: x.data }];
  const drop = new Set(axes ? axes.map((a) => normalizeAxis(a, x.shape!.length)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.has(i)), data: x.data }];
};

const inferFlatten: Infer = (node, [x]) => {
  const { dtype, shape } = x!;
  if (!shape) return [{ dtype, shape: undefined }];
  const axis = normalizeAxis(attrInt(node, 'axis', 1), shape.length);
  const collapse = (dims: readonly Dim[]): Dim => (dims.length === 1 ? dims[0]! : (product(dims) ?? `?(${dims.join('*')})`));
  return [{ dtype, shape: [collapse(shape.slice(0, axis)), collapse(shape.slice(axis))] }];
};

const inferConcat: Infer = (node, inputs, fresh) => {
  const present = inputs.filter((x): x is TensorInfo => !!x);
  const dtype = present[0]!.dtype;
  const data = present.every((x) => x.data) ? present.flatMap((x) => x.data!) : undefined;
  if (present.some((x) => !x.shape)) return [{ dtype, data }];
  const base = present[0]!.shape!;
  const axis = normalizeAxis(attrInt(node, 'axis', 0), base.length);
  const sizes: readonly Dim[] = present.map((x) => x.shape![axis]!);
  const total = allNumbers(sizes) ? sizes.reduce((a, b) => a + b, 0) : fresh.next();
  return [{ dtype, shape: base.map((d, i) => (i === axis ? total : d)), data }];
};

const inferSplit: Infer = (node, inputs, fresh) => {
  const x = first(inputs);
  const count = node.outputs.length;
  if (!x.shape) return Array.from({ length: count }, () => ({ dtype: x.dtype }));
  const axis = normalizeAxis(attrInt(node, 'axis', 0), x.shape.length);
  const dim = x.shape[axis]!;
  const given = knownInts(node, inputs, 1, 'split');
  return Array.from({ length: count }, (_, i) => {
    let size: Dim = fresh.next();
    if (given) size = given[i]!;
    else if (isNumber(dim)) {
      const chunk = Math.ceil(dim / count);
      size = i < count - 1 ? chunk : dim - chunk * (count - 1);
    }
    return { dtype: x.dtype, shape: x.shape!.map((d, k) => (k === axis ? size : d)) };
  });
};

/** One sliced axis: numbers computed exactly, symbols kept only for [0:end]. */
function slicedDim(dim: Dim, start: number, end: number, step: number, fresh: FreshDims): Dim {
  if (!isNumber(dim)) return start === 0 && end >= TO_END && step === 1 ? dim : fresh.next();
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = clamp(start < 0 ? start + dim : start, 0, dim);
    const e = clamp(end < 0 ? end + dim : end, 0, dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clamp(start < 0 ? start + dim : start, -1, dim - 1);
  const e = clamp(end < 0 ? end + dim : end, -1, dim - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

const inferSlice: Infer = (node, inputs, fresh) => {
  const x = first(inputs);
  const [starts, ends] = [knownInts(node, inputs, 1, 'starts'), knownInts(node, inputs, 2, 'ends')];
  if (!x.shape || !starts || !ends) {
    return [{ dtype: x.dtype, shape: x.shape?.map(() => fresh.next()) }];
  }
  const rank = x.shape.length;
  const axes = (knownInts(node, inputs, 3, 'axes') ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, rank));
  const steps = knownInts(node, inputs, 4, 'steps') ?? starts.map(() => 1);
  const shape = [...x.shape];
  axes.forEach((axis, i) => (shape[axis] = slicedDim(x.shape![axis]!, starts[i]!, ends[i]!, steps[i]!, fresh)));
  const data = x.data && rank === 1 && allNumbers(shape) && steps[0] === 1 ? sliceData(x.data, starts[0]!, ends[0]!) : undefined;
  return [{ dtype: x.dtype, shape, data }];
};

function sliceData(data: readonly Dim[], start: number, end: number): Dim[] {
  return data.slice(start < 0 ? start + data.length : start, end >= TO_END ? undefined : end);
}

const inferGather: Infer = (node, [data, indices]) => {
  const dtype = data!.dtype;
  if (!data?.shape || !indices?.shape) return [{ dtype }];
  const axis = normalizeAxis(attrInt(node, 'axis', 0), data.shape.length);
  const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
  let picked: Dim[] | undefined;
  if (data.data && indices.data && allNumbers(indices.data) && data.shape.length === 1) {
    picked = indices.data.map((i) => data.data![i < 0 ? i + data.data!.length : i]!);
  }
  return [{ dtype, shape, data: picked }];
};

const inferExpand: Infer = (_node, [x, shape], fresh) => {
  const dtype = x!.dtype;
  if (shape?.data) return [{ dtype, shape: broadcastShapes([x!.shape, shape.data], fresh) }];
  const length = shape?.shape?.[0];
  if (!x!.shape || !isNumber(length)) return [{ dtype }];
  return [{ dtype, shape: Array.from({ length: Math.max(length, x!.shape.length) }, () => fresh.next()) }];
};

const inferReduce =
  (dtype?: DType): Infer =>
  (node, inputs, fresh) => {
    const x = first(inputs);
    const outType = dtype ?? x.dtype;
    const keep = attrInt(node, 'keepdims', 1) === 1;
    if (!x.shape) return [{ dtype: outType }];
    const rank = x.shape.length;
    const axes = knownInts(node, inputs, 1, 'axes');
    // Axes known only at run time: with keepdims the rank stays, the sizes become unknown.
    if (inputs[1] && !axes) return [{ dtype: outType, shape: keep ? x.shape.map(() => fresh.next()) : undefined }];
    let reduced = new Set((axes ?? []).map((a) => normalizeAxis(a, rank)));
    if (reduced.size === 0) {
      if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [{ dtype: outType, shape: x.shape }];
      reduced = new Set(x.shape.map((_, i) => i));
    }
    const shape = keep ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : x.shape.filter((_, i) => !reduced.has(i));
    return [{ dtype: outType, shape }];
  };

const inferShape: Infer = (node, [x], fresh) => {
  if (!x?.shape) return [{ dtype: 'int64', shape: [fresh.next()] }];
  const rank = x.shape.length;
  const start = Math.min(Math.max(normalizeAxis(attrInt(node, 'start', 0), rank), 0), rank);
  const end = Math.min(Math.max(normalizeAxis(attrInt(node, 'end', rank), rank), 0), rank);
  const data = x.shape.slice(start, Math.max(start, end));
  return [{ dtype: 'int64', shape: [data.length], data }];
};

const inferSize: Infer = (_node, [x]) => {
  const n = x?.shape ? product(x.shape) : undefined;
  return [{ dtype: 'int64', shape: [], data: n === undefined ? undefined : [n] }];
};

const inferRange: Infer = (_node, [start, limit, delta], fresh) => {
  const [s, l, d] = [start?.data?.[0], limit?.data?.[0], delta?.data?.[0]];
  let length: Dim = fresh.next();
  if (isNumber(s) && isNumber(l) && isNumber(d)) length = Math.max(0, Math.ceil((l - s) / d));
  else if (s === 0 && d === 1 && l !== undefined) length = l;
  return [{ dtype: start!.dtype, shape: [length] }];
};

const inferCast: Infer = (node, [x]) => {
  const dtype = dtypeOfCode(attrInt(node, 'to', 1));
  const data = dtype === 'int64' && x!.data ? x!.data : undefined;
  return [{ dtype, shape: x!.shape, data }];
};

function tensorAttribute(node: Node, name: string): InlineTensor | undefined {
  const a: Attribute | undefined = node.attributes[name];
  return a?.kind === 'tensor' ? a.value : undefined;
}

const inferConstantOfShape: Infer = (node, [shape], fresh) => {
  const dtype = tensorAttribute(node, 'value')?.dtype ?? 'float32';
  if (shape?.data) return [{ dtype, shape: shape.data }];
  const length = shape?.shape?.[0];
  return [{ dtype, shape: isNumber(length) ? Array.from({ length }, () => fresh.next()) : undefined }];
};

const inferConstant: Infer = (node) => {
  const tensor = tensorAttribute(node, 'value');
  if (tensor) return [{ dtype: tensor.dtype, shape: tensor.dims, data: int64Contents(tensor.dtype, tensor.dims, tensor.bytes) }];
  const ints = attrInts(node, 'value_ints');
  if (ints) return [{ dtype: 'int64', shape: [ints.length], data: ints }];
  if (node.attributes.value_int) return [{ dtype: 'int64', shape: [], data: [attrInt(node, 'value_int', 0)] }];
  if (node.attributes.value_float) return [{ dtype: 'float32', shape: [] }];
  return [{ dtype: 'float32' }];
};

const inferLayerNorm: Infer = (node, [x]) => {
  const { dtype, shape } = x!;
  const stash = dtypeOfCode(attrInt(node, 'stash_type', 1));
  if (!shape) return [{ dtype }, { dtype: stash }, { dtype: stash }];
  const axis = normalizeAxis(attrInt(node, 'axis', -1), shape.length);
  const stats = shape.map((d, i) => (i < axis ? d : 1));
  return [{ dtype, shape }, { dtype: stash, shape: stats }, { dtype: stash, shape: stats }];
};

const inferDropout: Infer = (_node, [x]) => [
  { dtype: x!.dtype, shape: x!.shape },
  { dtype: 'bool', shape: x!.shape },
];

const inferNonZero: Infer = (_node, [x], fresh) => [{ dtype: 'int64', shape: x?.shape ? [x.shape.length, fresh.next()] : undefined }];

const inferOneHot: Infer = (node, [indices, depth, values], fresh) => {
  const dtype = values!.dtype;
  if (!indices?.shape) return [{ dtype }];
  const rank = indices.shape.length + 1;
  const axis = normalizeAxis(attrInt(node, 'axis', -1), rank);
  const size = depth?.data?.[0] ?? fresh.next();
  const shape = [...indices.shape.slice(0, axis), size, ...indices.shape.slice(axis)];
  return [{ dtype, shape }];
};

const inferSameRank: Infer = (_node, [x], fresh) => [{ dtype: x!.dtype, shape: x!.shape?.map(() => fresh.next()) }];

const inferArgReduce: Infer = (node, [x]) => {
  if (!x?.shape) return [{ dtype: 'int64' }];
  const axis = normalizeAxis(attrInt(node, 'axis', 0), x.shape.length);
  const keep = attrInt(node, 'keepdims', 1) === 1;
  return [{ dtype: 'int64', shape: keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis) }];
};

const UNARY = [
  'Identity', 'Neg', 'Abs', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Gelu', 'Softplus',
  'Erf', 'Cos', 'Sin', 'Floor', 'Ceil', 'Round', 'Sign', 'Softmax', 'LogSoftmax', 'CumSum', 'Clip', 'HardSigmoid',
  'ScatterND', 'ScatterElements', 'Trilu',
];
const BOOLEAN_OUT = ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor'];
const BROADCASTING = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'Sum', 'Mean'];
const REDUCTIONS = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare'];

const INFER: Record<string, Infer> = {
  ...Object.fromEntries(UNARY.map((op) => [op, sameAsFirst])),
  ...Object.fromEntries(BOOLEAN_OUT.map((op) => [op, broadcasting('bool')])),
  ...Object.fromEntries(BROADCASTING.map((op) => [op, broadcasting()])),
  ...Object.fromEntries(REDUCTIONS.map((op) => [op, inferReduce()])),
  Not: (_node, [x]) => [{ dtype: 'bool', shape: x!.shape }],
  IsNaN: (_node, [x]) => [{ dtype: 'bool', shape: x!.shape }],
  IsInf: (_node, [x]) => [{ dtype: 'bool', shape: x!.shape }],
  Where: (node, inputs, fresh) => [{ ...broadcasting(inputs[1]!.dtype)(node, inputs, fresh)[0]!, data: undefined }],
  MatMul: inferMatMul,
  Gemm: inferGemm,
  Einsum: (_node, [x]) => [{ dtype: x!.dtype }],
  Reshape: inferReshape,
  Transpose: inferTranspose,
  Unsqueeze: inferUnsqueeze,
  Squeeze: inferSqueeze,
  Flatten: inferFlatten,
  Concat: inferConcat,
  Split: inferSplit,
  Slice: inferSlice,
  Gather: inferGather,
  Expand: inferExpand,
  Shape: inferShape,
  Size: inferSize,
  Range: inferRange,
  Cast: inferCast,
  ConstantOfShape: inferConstantOfShape,
  Constant: inferConstant,
  LayerNormalization: inferLayerNorm,
  Dropout: inferDropout,
  NonZero: inferNonZero,
  OneHot: inferOneHot,
  Pad: inferSameRank,
  Tile: inferSameRank,
  ArgMax: inferArgReduce,
  ArgMin: inferArgReduce,
};

/** Infers a node's outputs; an op without a rule gets its first input's type and no shape. */
export function inferNode(node: Node, inputs: Inputs, fresh: FreshDims): OutputInfo[] {
  const infer = INFER[node.op];
  const fallback = (): OutputInfo[] => node.outputs.map(() => ({ dtype: inputs.find((x) => x)?.dtype ?? 'float32' }));
  const outputs = infer ? infer(node, inputs, fresh) : fallback();
  return node.outputs.map((_, i) => outputs[i] ?? { dtype: outputs[0]?.dtype ?? 'float32' });
}

function int64Contents(dtype: DType, dims: readonly number[], bytes: Uint8Array): number[] | undefined {
  const count = dims.reduce((a, b) => a * b, 1);
  if (dtype !== 'int64' || count > MAX_TRACKED || bytes.byteLength < count * 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

export function initializerInfo(init: Initializer): TensorInfo {
  const data = init.source.kind === 'inline' ? int64Contents(init.dtype, init.dims, init.source.bytes) : undefined;
  return { name: init.name, dtype: init.dtype, shape: init.dims, data };
}

/** What is known of every value of `graph`, by name. */
export function inferGraph(graph: Graph, fresh: FreshDims): Map<string, TensorInfo> {
  const infos = new Map<string, TensorInfo>();
  for (const init of graph.initializers) infos.set(init.name, initializerInfo(init));
  for (const input of graph.inputs) infos.set(input.name, { name: input.name, dtype: input.dtype, shape: input.shape });
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((name) => (name ? (infos.get(name) ?? null) : null));
    if (inputs.some((x, i) => !x && node.inputs[i])) {
      throw new Error(`autodiff: node ${node.name} (${node.op}) uses a value defined nowhere before it; nodes must be in topological order.`);
    }
    inferNode(node, inputs, fresh).forEach((info, i) => {
      const name = node.outputs[i]!;
      if (name) infos.set(name, { ...info, name });
    });
  }
  return infos;
}
