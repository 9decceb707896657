/**
 * onnx/builder — writes graphs the way a model reads: `g.matmul(x, w)`, `g.layerNorm(x, γ, β)`.
 * Each method adds one ONNX node and returns its output value with its element type; names are
 * generated unless given, so graph code stays about the model, not the plumbing.
 */
import { float32ToFloat16, type DType } from './dtypes';
import {
  byteView,
  float,
  int,
  ints,
  str,
  type Attribute,
  type Dim,
  type Graph,
  type Initializer,
  type InitializerSource,
  type Node,
  type Value,
} from './ir';

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers = new Map<string, Initializer>();
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly constants = new Map<string, Value>();
  private counter = 0;
  /** Prefix for generated names, e.g. "layer3/attention" while building that block. */
  private scopePrefix = '';

  constructor(readonly name: string) {}

  // ---------- graph boundary ----------
  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    const value = { name, dtype, shape };
    this.inputs.push(value);
    return value;
  }

  /** Marks `value` as a graph output under `name` (an Identity node renames it when needed). */
  output(value: Value, name: string, shape?: readonly Dim[]): Value {
    const named = value.name === name ? value : this.op('Identity', [value], {}, { name, dtype: value.dtype });
    const out = { name, dtype: named.dtype, shape: shape ?? named.shape };
    this.outputs.push(out);
    return out;
  }

  initializer(name: string, dtype: DType, dims: readonly number[], source: InitializerSource): Value {
    if (!this.initializers.has(name)) this.initializers.set(name, { name, dtype, dims, source });
    return { name, dtype, shape: dims };
  }

  /** A small constant tensor stored inline; identical constants are shared. */
  constant(dtype: ConstantDType, values: readonly number[], dims: readonly number[] = [values.length]): Value {
    const key = `${dtype}:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const bytes = constantBytes(dtype, values);
    const value = this.initializer(this.fresh('const'), dtype, dims, { kind: 'inline', bytes });
    this.constants.set(key, value);
    return value;
  }

  scalar(value: number, dtype: Exclude<ConstantDType, 'bool'> = 'float32'): Value {
    return this.constant(dtype, [value], []);
  }

  /** Builds the nodes of `body` with names prefixed by `scope`. */
  scope<T>(scope: string, body: () => T): T {
    const previous = this.scopePrefix;
    this.scopePrefix = previous ? `${previous}/${scope}` : scope;
    try {
      return body();
    } finally {
      this.scopePrefix = previous;
    }
  }

  build(): Graph {
    return {
      name: this.name,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      nodes: [...this.nodes],
      initializers: [...this.initializers.values()],
    };
  }

  // ---------- generic nodes ----------
  /** Adds a node with one output, whose element type is the first input's unless given. */
  op(
    op: string,
    inputs: readonly (Value | null)[],
    attributes: Record<string, Attribute> = {},
    out: { name?: string; dtype?: DType; shape?: readonly Dim[] } = {},
  ): Value {
    const [value] = this.opN(op, inputs, 1, attributes, out.dtype ? [out.dtype] : undefined, out.name ? [out.name] : undefined);
    return out.shape ? { ...value!, shape: out.shape } : value!;
  }

  /** Adds a node with `count` outputs. A null input is an omitted optional input. */
  opN(
    op: string,
    inputs: readonly (Value | null)[],
    count: number,
    attributes: Record<string, Attribute> = {},
    dtypes?: readonly DType[],
    names?: readonly string[],
  ): Value[] {
    const nodeName = this.fresh(op);
    const outputs = Array.from({ length: count }, (_, i) => ({
      name: names?.[i] ?? `${nodeName}:${i}`,
      dtype: dtypes?.[i] ?? inputs.find((input) => input)?.dtype ?? 'float32',
    }));
    this.nodes.push({
      op,
      name: nodeName,
      inputs: inputs.map((input) => input?.name ?? ''),
      outputs: outputs.map((o) => o.name),
      attributes,
    });
    return outputs;
  }

  /**
   * A node of onnxruntime's `com.microsoft` contrib domain (fused kernels). `outputs` gives each
   * output's element type, or null to leave that optional output out; returns null there.
   */
  contrib(op: string, inputs: readonly (Value | null)[], outputs: readonly (DType | null)[], attributes: Record<string, Attribute> = {}): (Value | null)[] {
    const nodeName = this.fresh(op);
    const values = outputs.map((dtype, i) => (dtype ? { name: `${nodeName}:${i}`, dtype } : null));
    this.nodes.push({
      op,
      name: nodeName,
      domain: CONTRIB_DOMAIN,
      inputs: inputs.map((input) => input?.name ?? ''),
      outputs: values.map((value) => value?.name ?? ''),
      attributes,
    });
    return values;
  }

  private fresh(base: string): string {
    this.counter += 1;
    return `${this.scopePrefix ? `${this.scopePrefix}/` : ''}${base}_${this.counter}`;
  }

  // ---------- arithmetic ----------
  add = (a: Value, b: Value): Value => this.op('Add', [a, b]);
  sub = (a: Value, b: Value): Value => this.op('Sub', [a, b]);
  mul = (a: Value, b: Value): Value => this.op('Mul', [a, b]);
  div = (a: Value, b: Value): Value => this.op('Div', [a, b]);
  neg = (a: Value): Value => this.op('Neg', [a]);
  matmul = (a: Value, b: Value): Value => this.op('MatMul', [a, b]);
  sigmoid = (a: Value): Value => this.op('Sigmoid', [a]);
  cos = (a: Value): Value => this.op('Cos', [a]);
  sin = (a: Value): Value => this.op('Sin', [a]);
  /** Exact (erf) GELU, as ESM-2 uses. */
  gelu = (a: Value): Value => this.op('Gelu', [a], { approximate: str('none') });
  softmax = (a: Value, axis = -1): Value => this.op('Softmax', [a], { axis: int(axis) });
  logSoftmax = (a: Value, axis = -1): Value => this.op('LogSoftmax', [a], { axis: int(axis) });

  /** y = x Wᵀ + b for a PyTorch-layout weight W [out, in]. */
  linear(x: Value, weightTransposed: Value, bias: Value | null): Value {
    const y = this.matmul(x, weightTransposed);
    return bias ? this.add(y, bias) : y;
  }

  layerNorm(x: Value, scale: Value, bias: Value, epsilon: number): Value {
    return this.op('LayerNormalization', [x, scale, bias], { axis: int(-1), epsilon: float(epsilon) });
  }

  // ---------- comparisons and selection ----------
  equal = (a: Value, b: Value): Value => this.op('Equal', [a, b], {}, { dtype: 'bool' });
  not = (a: Value): Value => this.op('Not', [a], {}, { dtype: 'bool' });
  and = (a: Value, b: Value): Value => this.op('And', [a, b], {}, { dtype: 'bool' });
  where = (condition: Value, a: Value, b: Value): Value => this.op('Where', [condition, a, b], {}, { dtype: a.dtype });

  // ---------- types and shapes ----------
  cast(a: Value, to: DType): Value {
    if (a.dtype === to) return a;
    return this.op('Cast', [a], { to: int(ONNX_CAST_CODES[to]) }, { dtype: to });
  }

  shape = (a: Value): Value => this.op('Shape', [a], {}, { dtype: 'int64' });

  /** The size of dimension `axis` of `a`, as a 1-element int64 tensor. */
  dim(a: Value, axis: number): Value {
    return this.op('Shape', [a], { start: int(axis), end: int(axis + 1) }, { dtype: 'int64' });
  }

  reshape = (a: Value, shape: Value): Value => this.op('Reshape', [a, shape]);
  transpose = (a: Value, perm: readonly number[]): Value => this.op('Transpose', [a], { perm: ints(perm) });
  unsqueeze = (a: Value, axes: readonly number[]): Value => this.op('Unsqueeze', [a, this.constant('int64', axes)]);
  squeeze = (a: Value, axes: readonly number[]): Value => this.op('Squeeze', [a, this.constant('int64', axes)]);
  concat = (values: readonly Value[], axis: number): Value => this.op('Concat', values, { axis: int(axis) });
  gather = (data: Value, indices: Value, axis = 0): Value => this.op('Gather', [data, indices], { axis: int(axis) });
  expand = (a: Value, shape: Value): Value => this.op('Expand', [a, shape]);

  /** a[starts:ends] along `axes` (ends may be negative, as in Python). */
  slice(a: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Value {
    return this.op('Slice', [a, this.constant('int64', starts), this.constant('int64', ends), this.constant('int64', axes)]);
  }

  /** Slice with run-time bounds (1-element int64 tensors). */
  sliceDynamic(a: Value, start: Value, end: Value, axis: number): Value {
    return this.op('Slice', [a, start, end, this.constant('int64', [axis])]);
  }

  split(a: Value, axis: number, parts: number): Value[] {
    return this.opN('Split', [a], parts, { axis: int(axis), num_outputs: int(parts) });
  }

  /** 0, 1, …, n−1 as int64, where n is a 1-element int64 tensor. */
  range(n: Value): Value {
    const scalarN = this.squeeze(n, [0]);
    return this.op('Range', [this.scalar(0, 'int64'), scalarN, this.scalar(1, 'int64')], {}, { dtype: 'int64' });
  }

  // ---------- reductions ----------
  reduceSum = (a: Value, axes: readonly number[], keepdims = true): Value =>
    this.op('ReduceSum', [a, this.constant('int64', axes)], { keepdims: int(keepdims ? 1 : 0) });
  reduceMax = (a: Value, axes: readonly number[], keepdims = true): Value =>
    this.op('ReduceMax', [a, this.constant('int64', axes)], { keepdims: int(keepdims ? 1 : 0) });
}

/** onnxruntime's domain of fused kernels (SkipLayerNormalization, MultiHeadAttention, …). */
export const CONTRIB_DOMAIN = 'com.microsoft';

const ONNX_CAST_CODES: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

/** Element types `constant` can store (float64 for gradient checks in double precision). */
export type ConstantDType = 'float32' | 'float16' | 'float64' | 'int64' | 'bool';

function constantBytes(dtype: ConstantDType, values: readonly number[]): Uint8Array {
  switch (dtype) {
    case 'float32':
      return byteView(Float32Array.from(values));
    case 'float64':
      return byteView(Float64Array.from(values));
    case 'float16':
      return byteView(float32ToFloat16(Float32Array.from(values)));
    case 'int64':
      return byteView(BigInt64Array.from(values.map((v) => BigInt(v))));
    case 'bool':
      return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
  }
}
