/**
 * autodiff rules, each checked numerically: a tiny graph per case, loss = Σ w ⊙ output with
 * fixed random weights w, differentiated, run in onnxruntime, and every gradient element
 * compared with finite differences of the forward graph (five-point stencil). Cases run in
 * float64 (error bound 1e-6, relative, absolute near zero) except where onnxruntime's CPU
 * provider has no double kernel (Gelu, Erf, Softplus): those run in float32, bound 1e-3, and say
 * so in their names. Case names state the shapes, so broadcasting and batching are visible.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { differentiate } from '../../src-main/autodiff';
import { checkGradient } from '../../src-main/autodiff/check';
import { encodeModel, float, GraphBuilder, int, str, type Dim, type Graph, type Value } from '../../src-main/onnx';

type Float = 'float32' | 'float64';
type Kind = 'signed' | 'positive' | 'away' | 'distinct';

interface Param {
  name: string;
  dims: number[];
  /** signed: (−1, 1); positive: (0.5, 1.5); away: |x| ≥ 0.2 (kinks at 0); distinct: no near-ties. */
  kind?: Kind;
  dtype?: Float;
}

interface Case {
  name: string;
  params: Param[];
  build: (g: GraphBuilder, p: Value[]) => Value;
  /** The type of the parameters unless a parameter says otherwise. */
  dtype?: Float;
  /** Declare input sizes as symbols, so the backward graph must use run-time shapes. */
  symbolic?: boolean;
  /** A new session per forward run (Dropout's generator restarts from its seed). */
  freshSessions?: boolean;
}

const TOLERANCE: Record<Float, number> = { float64: 1e-6, float32: 1e-3 };
const STEP: Record<Float, number> = { float64: 1e-3, float32: 1e-2 };

// ---------- random numbers and tensors ----------
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function seedOf(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

function randomValues(n: number, kind: Kind, next: () => number): number[] {
  switch (kind) {
    case 'signed':
      return Array.from({ length: n }, () => next() * 2 - 1);
    case 'positive':
      return Array.from({ length: n }, () => 0.5 + next());
    case 'away':
      return Array.from({ length: n }, () => (next() < 0.5 ? -1 : 1) * (0.2 + 0.8 * next()));
    case 'distinct': {
      // Evenly spaced values, shuffled: ties are at least 0.1 apart, far beyond the step.
      const values = Array.from({ length: n }, (_, i) => -1 + (2 * i) / Math.max(1, n - 1) + 0.01 * next());
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [values[i], values[j]] = [values[j]!, values[i]!];
      }
      return values;
    }
  }
}

const typed = (dtype: Float, values: ArrayLike<number>): Float32Array | Float64Array =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);

// ---------- graphs and sessions ----------
const modelBytes = (graph: Graph): Uint8Array => encodeModel(graph, { external: new Map(), inline: new Map() }, '', {});
const session = (graph: Graph): Promise<ort.InferenceSession> => ort.InferenceSession.create(modelBytes(graph));

function paramDtype(c: Case, p: Param): Float {
  return p.dtype ?? c.dtype ?? 'float64';
}

/** The case's graph: output `y`, or, given weights, `loss` = Σ w ⊙ y. */
function caseGraph(c: Case, weights?: { dtype: Float; dims: readonly number[]; values: number[] }): Graph {
  const g = new GraphBuilder(c.name);
  const inputs = c.params.map((p) => {
    const dims: Dim[] = c.symbolic ? p.dims.map((_, i) => `${p.name}_${i}`) : p.dims;
    return g.input(p.name, paramDtype(c, p), dims);
  });
  const y = c.build(g, inputs);
  if (!weights) {
    g.output(y, 'y');
    return g.build();
  }
  const w = g.constant(weights.dtype, weights.values, weights.dims);
  g.output(g.op('ReduceSum', [g.mul(y, w)], { keepdims: int(0) }), 'loss');
  return g.build();
}

interface Outcome {
  worst: number;
  where: string;
}

async function gradCheck(c: Case): Promise<Outcome> {
  const next = rng(seedOf(c.name));
  const values = c.params.map((p) => typed(paramDtype(c, p), randomValues(p.dims.reduce((a, b) => a * b, 1), p.kind ?? 'signed', next)));
  const feeds = (): Record<string, ort.Tensor> =>
    Object.fromEntries(c.params.map((p, i) => [p.name, new ort.Tensor(paramDtype(c, p), values[i]!, p.dims)]));

  const probe = (await (await session(caseGraph(c))).run(feeds())).y!;
  const outType = probe.type as Float;
  const weights = { dtype: outType, dims: probe.dims, values: randomValues(probe.data.length, 'signed', next) };
  const forward = caseGraph(c, weights);
  const full = differentiate(forward, { loss: 'loss', wrt: c.params.map((p) => p.name) });
  const grads = await (await session(full)).run(feeds());

  const lossSession = c.freshSessions ? null : await session(forward);
  const evaluate = async (): Promise<number> => {
    const s = lossSession ?? (await session(forward));
    return Number((await s.run(feeds())).loss!.data[0]);
  };
  let outcome: Outcome = { worst: 0, where: '' };
  for (const [i, p] of c.params.entries()) {
    const grad = grads[`grad.${p.name}`]!;
    expect(grad.type, `grad.${p.name} type`).toBe(paramDtype(c, p));
    expect(grad.dims, `grad.${p.name} dims`).toEqual(p.dims);
    const dtype = paramDtype(c, p) === 'float32' || outType === 'float32' ? 'float32' : 'float64';
    const result = await checkGradient({ values: values[i]!, analytic: grad.data as Float64Array, evaluate, step: STEP[dtype], points: 4 });
    if (result.worst >= outcome.worst) {
      const { index, analytic, numeric } = result.at;
      outcome = { worst: result.worst, where: `${p.name}[${index}]: analytic ${analytic}, numeric ${numeric}` };
    }
  }
  return outcome;
}

// ---------- the cases ----------
const p = (name: string, dims: number[], kind?: Kind, dtype?: Float): Param => ({ name, dims, ...(kind ? { kind } : {}), ...(dtype ? { dtype } : {}) });
const axes = (g: GraphBuilder, values: number[]): Value => g.constant('int64', values);

const ARITHMETIC: Case[] = [
  { name: 'Add [2,3,4] + [4]', params: [p('a', [2, 3, 4]), p('b', [4])], build: (g, [a, b]) => g.add(a!, b!) },
  { name: 'Add [2,1,4] + [3,1]', params: [p('a', [2, 1, 4]), p('b', [3, 1])], build: (g, [a, b]) => g.add(a!, b!) },
  { name: 'Add [2,3,4] + [4], run-time shapes', symbolic: true, params: [p('a', [2, 3, 4]), p('b', [4])], build: (g, [a, b]) => g.add(a!, b!) },
  { name: 'Sub [3,1] − [2,1,4]', params: [p('a', [3, 1]), p('b', [2, 1, 4])], build: (g, [a, b]) => g.sub(a!, b!) },
  { name: 'Mul [2,1,4] * [3,1]', params: [p('a', [2, 1, 4]), p('b', [3, 1])], build: (g, [a, b]) => g.mul(a!, b!) },
  { name: 'Mul [2,1,4] * [3,1], run-time shapes', symbolic: true, params: [p('a', [2, 1, 4]), p('b', [3, 1])], build: (g, [a, b]) => g.mul(a!, b!) },
  { name: 'Div [2,3,4] / [4]', params: [p('a', [2, 3, 4]), p('b', [4], 'positive')], build: (g, [a, b]) => g.div(a!, b!) },
  { name: 'Div [4] / [2,3,1]', params: [p('a', [4]), p('b', [2, 3, 1], 'positive')], build: (g, [a, b]) => g.div(a!, b!) },
  { name: 'Neg [2,3]', params: [p('x', [2, 3])], build: (g, [x]) => g.neg(x!) },
  { name: 'Pow [2,3] ^ 3 (constant exponent)', params: [p('x', [2, 3], 'positive')], build: (g, [x]) => g.op('Pow', [x!, g.scalar(3, 'float64')]) },
  { name: 'Pow [2,3] ^ [3] (exponent a parameter)', params: [p('x', [2, 3], 'positive'), p('e', [3])], build: (g, [x, e]) => g.op('Pow', [x!, e!]) },
  { name: 'Max [2,3] and [3] (element-wise)', params: [p('a', [2, 3], 'distinct'), p('b', [3], 'distinct')], build: (g, [a, b]) => g.op('Max', [a!, b!]) },
  { name: 'Min [2,3] and a constant', params: [p('a', [2, 3], 'distinct')], build: (g, [a]) => g.op('Min', [a!, g.scalar(0.1, 'float64')]) },
  { name: 'Sum [2,3] + [3] + [1,3]', params: [p('a', [2, 3]), p('b', [3]), p('c', [1, 3])], build: (g, [a, b, c]) => g.op('Sum', [a!, b!, c!]) },
];

const unaryCase = (op: string, kind: Kind = 'signed', dtype: Float = 'float64', attributes = {}): Case => ({
  name: `${op} [2,3]${dtype === 'float32' ? ' (float32: no double kernel)' : ''}`,
  dtype,
  params: [p('x', [2, 3], kind)],
  build: (g, [x]) => g.op(op, [x!], attributes),
});

const UNARY: Case[] = [
  unaryCase('Sigmoid'),
  unaryCase('Tanh'),
  unaryCase('Relu', 'away'),
  unaryCase('Exp'),
  unaryCase('Log', 'positive'),
  unaryCase('Sqrt', 'positive'),
  unaryCase('Reciprocal', 'positive'),
  unaryCase('Sin'),
  unaryCase('Cos'),
  unaryCase('Abs', 'away'),
  unaryCase('Identity'),
  unaryCase('Gelu', 'signed', 'float32', { approximate: str('none') }),
  { ...unaryCase('Gelu', 'signed', 'float32', { approximate: str('tanh') }), name: 'Gelu tanh approximation [2,3] (float32: no double kernel)' },
  unaryCase('Erf', 'signed', 'float32'),
  unaryCase('Softplus', 'signed', 'float32'),
  {
    name: 'Cast float32 → float64 (x² in double)',
    params: [p('x', [2, 3], 'signed', 'float32')],
    build: (g, [x]) => {
      const d = g.cast(x!, 'float64');
      return g.mul(d, d);
    },
  },
];

const mm = (name: string, a: number[], b: number[], symbolic = false): Case => ({
  name: `MatMul ${name}`,
  symbolic,
  params: [p('a', a), p('b', b)],
  build: (g, [x, y]) => g.matmul(x!, y!),
});

const gemm = (transA: number, transB: number, a: number[], b: number[], c: number[], alpha = 1, beta = 1): Case => ({
  name: `Gemm transA=${transA} transB=${transB} α=${alpha} β=${beta}, C ${JSON.stringify(c)}`,
  params: [p('a', a), p('b', b), p('c', c)],
  build: (g, [x, y, z]) => g.op('Gemm', [x!, y!, z!], { transA: int(transA), transB: int(transB), alpha: float(alpha), beta: float(beta) }),
});

const MATMUL: Case[] = [
  mm('[3,4]×[4,5]', [3, 4], [4, 5]),
  mm('[2,3,4,5]×[5,6]', [2, 3, 4, 5], [5, 6]),
  mm('[2,3,4,5]×[2,3,5,6]', [2, 3, 4, 5], [2, 3, 5, 6]),
  mm('[2,3,6,6]×[2,3,6,2] (attention-like: A the bigger operand)', [2, 3, 6, 6], [2, 3, 6, 2]),
  mm('[2,3,8,8]×[1,3,8,1] (A the bigger operand, B broadcast)', [2, 3, 8, 8], [1, 3, 8, 1]),
  mm('[2,1,4,5]×[3,5,6] (batch dims broadcast both ways)', [2, 1, 4, 5], [3, 5, 6]),
  mm('[2,3,4,5]×[5,6], run-time shapes', [2, 3, 4, 5], [5, 6], true),
  mm('[2,1,4,5]×[3,5,6], run-time shapes', [2, 1, 4, 5], [3, 5, 6], true),
  mm('[4]×[2,4,5]', [4], [2, 4, 5]),
  mm('[2,3,4]×[4]', [2, 3, 4], [4]),
  mm('[4]×[4]', [4], [4]),
  gemm(0, 0, [3, 4], [4, 5], [5]),
  gemm(1, 0, [4, 3], [4, 5], [3, 1], 0.7, 1.3),
  gemm(0, 1, [3, 4], [5, 4], [3, 5], 1.5, 0.5),
  gemm(1, 1, [4, 3], [5, 4], [1], 0.7, 1.3),
];

const SHAPE: Case[] = [
  { name: 'Reshape [2,3,4] → [0,-1]', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.reshape(x!, g.constant('int64', [0, -1])) },
  { name: 'Reshape [2,3,4] → [0,-1], run-time shapes', symbolic: true, params: [p('x', [2, 3, 4])], build: (g, [x]) => g.reshape(x!, g.constant('int64', [0, -1])) },
  { name: 'Transpose [2,3,4] perm [2,0,1]', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.transpose(x!, [2, 0, 1]) },
  { name: 'Transpose [2,3,4] without perm', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.op('Transpose', [x!]) },
  { name: 'Squeeze [2,1,3] axes [1]', params: [p('x', [2, 1, 3])], build: (g, [x]) => g.squeeze(x!, [1]) },
  { name: 'Unsqueeze [2,3] axes [0,-1]', params: [p('x', [2, 3])], build: (g, [x]) => g.unsqueeze(x!, [0, -1]) },
  { name: 'Flatten [2,3,4] axis 2', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.op('Flatten', [x!], { axis: int(2) }) },
  { name: 'Expand [3,1] → [2,3,4]', params: [p('x', [3, 1])], build: (g, [x]) => g.expand(x!, g.constant('int64', [2, 3, 4])) },
  { name: 'Expand [3,1] → [2,3,4], run-time shapes', symbolic: true, params: [p('x', [3, 1])], build: (g, [x]) => g.expand(x!, g.constant('int64', [2, 3, 4])) },
  { name: 'Slice [4,5,6] [1:-1, :, -4:100]', params: [p('x', [4, 5, 6])], build: (g, [x]) => g.slice(x!, [1, -4], [-1, 100], [0, 2]) },
  { name: 'Slice [4,5,6] [1:-1, :, -4:100], run-time shapes', symbolic: true, params: [p('x', [4, 5, 6])], build: (g, [x]) => g.slice(x!, [1, -4], [-1, 100], [0, 2]) },
  { name: 'Slice [4,5,6] axes [-1] [2:5], run-time shapes', symbolic: true, params: [p('x', [4, 5, 6])], build: (g, [x]) => g.slice(x!, [2], [5], [-1]) },
  {
    name: 'Concat [2,3] ‖ const [2,2] ‖ [2,1] along 1',
    params: [p('a', [2, 3]), p('b', [2, 1])],
    build: (g, [a, b]) => g.concat([a!, g.constant('float64', [1, 2, 3, 4], [2, 2]), b!], 1),
  },
  { name: 'Concat [2,3] ‖ [2,1] along -1, run-time shapes', symbolic: true, params: [p('a', [2, 3]), p('b', [2, 1])], build: (g, [a, b]) => g.concat([a!, b!], -1) },
  {
    name: 'Split [2,7] into 3,3,1 along 1, middle part unused',
    params: [p('x', [2, 7])],
    build: (g, [x]) => {
      const [first, , last] = g.split(x!, 1, 3) as [Value, Value, Value];
      return g.concat([g.mul(first, first), last], 1);
    },
  },
  {
    name: 'Gather axis 0 [5,4] by [[0,2,2],[4,0,1]] (repeated indices)',
    params: [p('x', [5, 4])],
    build: (g, [x]) => g.gather(x!, g.constant('int64', [0, 2, 2, 4, 0, 1], [2, 3]), 0),
  },
  { name: 'Gather axis 0 [5,4] by the scalar 2', params: [p('x', [5, 4])], build: (g, [x]) => g.gather(x!, g.constant('int64', [2], []), 0) },
  {
    name: 'Gather axis 1 [3,5,4] by [2,2] indices',
    params: [p('x', [3, 5, 4])],
    build: (g, [x]) => g.gather(x!, g.constant('int64', [1, 4, 1, 0], [2, 2]), 1),
  },
  { name: 'Gather axis -1 [3,5] by [4,-1,0] (negative indices)', params: [p('x', [3, 5])], build: (g, [x]) => g.gather(x!, g.constant('int64', [4, -1, 0]), -1) },
  {
    name: 'Gather axis 0 [5,4] by [[0,2,2],[4,0,1]], run-time shapes',
    symbolic: true,
    params: [p('x', [5, 4])],
    build: (g, [x]) => g.gather(x!, g.constant('int64', [0, 2, 2, 4, 0, 1], [2, 3]), 0),
  },
  {
    name: 'Where [2,3] condition, [2,3] and [3] branches',
    params: [p('a', [2, 3]), p('b', [3])],
    build: (g, [a, b]) => g.where(g.constant('bool', [1, 0, 1, 0, 0, 1], [2, 3]), a!, b!),
  },
];

const NN: Case[] = [
  { name: 'Softmax [2,3,4] axis -1', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.softmax(x!, -1) },
  { name: 'Softmax [2,3,4] axis 1', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.softmax(x!, 1) },
  { name: 'LogSoftmax [2,3,4] axis -1', params: [p('x', [2, 3, 4])], build: (g, [x]) => g.logSoftmax(x!, -1) },
  {
    name: 'LayerNormalization [2,3,4], scale and bias [4]',
    params: [p('x', [2, 3, 4]), p('scale', [4]), p('bias', [4])],
    build: (g, [x, s, b]) => g.layerNorm(x!, s!, b!, 1e-5),
  },
  {
    name: 'LayerNormalization [2,3,4] axis -2, scale and bias [3,4], run-time shapes',
    symbolic: true,
    params: [p('x', [2, 3, 4]), p('scale', [3, 4]), p('bias', [3, 4])],
    build: (g, [x, s, b]) => g.op('LayerNormalization', [x!, s!, b!], { axis: int(-2), epsilon: float(1e-3) }),
  },
  {
    name: 'Dropout [4,5] ratio 0.3 in training mode (seeded)',
    freshSessions: true,
    params: [p('x', [4, 5])],
    build: (g, [x]) => g.opN('Dropout', [x!, g.scalar(0.3, 'float64'), g.constant('bool', [1], [])], 1, { seed: int(7) })[0]!,
  },
  {
    name: 'Dropout [4,5] in inference mode',
    params: [p('x', [4, 5])],
    build: (g, [x]) => g.opN('Dropout', [x!, g.scalar(0.3, 'float64'), g.constant('bool', [0], [])], 1, { seed: int(7) })[0]!,
  },
];

const reduce = (op: string, dims: number[], axesList: number[] | null, keepdims: number, extra: Partial<Case> = {}, noop = 0): Case => ({
  name: `${op} [${dims}] axes ${axesList ? `[${axesList}]` : 'none'} keepdims=${keepdims}${noop ? ' noop_with_empty_axes=1' : ''}${extra.symbolic ? ', run-time shapes' : ''}`,
  params: [p('x', dims, op === 'ReduceMax' || op === 'ReduceMin' ? 'distinct' : 'signed')],
  build: (g, [x]) => g.op(op, axesList ? [x!, axes(g, axesList)] : [x!], { keepdims: int(keepdims), ...(noop ? { noop_with_empty_axes: int(1) } : {}) }),
  ...extra,
});

const REDUCE: Case[] = [
  reduce('ReduceSum', [2, 3, 4], [1], 0),
  reduce('ReduceSum', [2, 3, 4], [0, 2], 1),
  reduce('ReduceSum', [2, 3, 4], null, 0),
  reduce('ReduceSum', [2, 3, 4], [], 1, {}, 1),
  reduce('ReduceSum', [2, 3, 4], [-1], 0, { symbolic: true }),
  reduce('ReduceMean', [2, 3, 4], [-1], 0),
  reduce('ReduceMean', [2, 3, 4], [0, 2], 1, { symbolic: true }),
  reduce('ReduceMean', [2, 3, 4], null, 1),
  reduce('ReduceMax', [2, 3, 4], [1], 0),
  reduce('ReduceMax', [2, 3, 4], null, 1),
  reduce('ReduceMax', [2, 3, 4], [0, 2], 0, { symbolic: true }),
  reduce('ReduceMin', [2, 3, 4], [0], 1),
];

const COMPOSED: Case[] = [
  {
    name: 'a value used several times: x·x + sin(x)·x',
    params: [p('x', [2, 3])],
    build: (g, [x]) => g.add(g.mul(x!, x!), g.mul(g.sin(x!), x!)),
  },
  {
    name: 'attention-like: softmax((x Wq)(x Wk)ᵀ) (x Wv), W shared across a batch [2,3,4]',
    params: [p('x', [2, 3, 4]), p('wq', [4, 4]), p('wk', [4, 4]), p('wv', [4, 2])],
    build: (g, [x, wq, wk, wv]) => {
      const scores = g.matmul(g.matmul(x!, wq!), g.transpose(g.matmul(x!, wk!), [0, 2, 1]));
      return g.matmul(g.softmax(scores, -1), g.matmul(x!, wv!));
    },
  },
];

const GROUPS: Record<string, Case[]> = { arithmetic: ARITHMETIC, unary: UNARY, matmul: MATMUL, shape: SHAPE, nn: NN, reduce: REDUCE, composed: COMPOSED };
const worstSeen: Record<string, number> = {};

afterAll(() => {
  const rows = Object.entries(worstSeen).map(([name, worst]) => `${worst.toExponential(1).padStart(8)}  ${name}`);
  console.log(`autodiff: worst relative error per case\n${rows.join('\n')}`);
});

for (const [group, cases] of Object.entries(GROUPS)) {
  describe(`gradient rules: ${group}`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const { worst, where } = await gradCheck(c);
        worstSeen[c.name] = worst;
        const precision = c.dtype === 'float32' || c.params.some((q) => q.dtype === 'float32') ? 'float32' : 'float64';
        expect(worst, where).toBeLessThan(TOLERANCE[precision]);
      });
    }
  });
}

// ---------- what gets differentiated ----------
describe('differentiate', () => {
  const dense = (): GraphBuilder => {
    const g = new GraphBuilder('dense');
    const x = g.input('x', 'float64', ['rows', 4]);
    const w = g.input('w', 'float64', [4, 3]);
    const unused = g.input('unused', 'float64', [2]);
    g.output(g.mul(unused, g.scalar(2, 'float64')), 'side');
    const y = g.matmul(x, w);
    g.output(g.op('ReduceSum', [g.mul(y, y)], { keepdims: int(0) }), 'loss');
    return g;
  };

  it('builds no backward node for inputs that need no gradient (x is frozen here)', () => {
    const forward = dense().build();
    const full = differentiate(forward, { loss: 'loss', wrt: ['w'] });
    const backward = full.nodes.slice(forward.nodes.length);
    expect(backward.filter((n) => n.op === 'MatMul' || n.op === 'Gemm')).toHaveLength(1);
    expect(full.outputs.map((o) => o.name)).toEqual(['side', 'loss', 'grad.w']);
    expect(full.outputs[2]!.shape).toEqual([4, 3]);
  });

  it('gives zeros to a parameter the loss does not depend on', async () => {
    const full = differentiate(dense().build(), { loss: 'loss', wrt: ['w', 'unused'] });
    const s = await ort.InferenceSession.create(modelBytes(full));
    const out = await s.run({
      x: new ort.Tensor('float64', Float64Array.from({ length: 8 }, (_, i) => i / 8), [2, 4]),
      w: new ort.Tensor('float64', Float64Array.from({ length: 12 }, (_, i) => 1 - i / 12), [4, 3]),
      unused: new ort.Tensor('float64', Float64Array.from([3, 4]), [2]),
    });
    expect(Array.from(out['grad.unused']!.data as Float64Array)).toEqual([0, 0]);
    expect(out['grad.w']!.dims).toEqual([4, 3]);
  });

  it('refuses a loss that is not a scalar, an unknown parameter and an op without a rule', () => {
    const g = new GraphBuilder('bad');
    const x = g.input('x', 'float64', [2, 3]);
    g.output(g.sin(x), 'y');
    g.output(g.op('ReduceSum', [g.op('Atan', [x])], { keepdims: int(0) }), 'loss');
    const graph = g.build();
    expect(() => differentiate(graph, { loss: 'y', wrt: ['x'] })).toThrow(/must be a scalar/);
    expect(() => differentiate(graph, { loss: 'loss', wrt: ['nope'] })).toThrow(/neither an input nor an initializer/);
    expect(() => differentiate(graph, { loss: 'loss', wrt: ['x'] })).toThrow(/no gradient rule for Atan/);
  });

  it('leaves integer paths and constant subgraphs alone', () => {
    const g = new GraphBuilder('ints');
    const x = g.input('x', 'float64', ['n', 3]);
    const positions = g.cast(g.range(g.dim(x, 0)), 'float64');
    const table = g.cos(g.unsqueeze(positions, [1]));
    g.output(g.op('ReduceSum', [g.mul(x, table)], { keepdims: int(0) }), 'loss');
    const forward = g.build();
    const full = differentiate(forward, { loss: 'loss', wrt: ['x'] });
    const ops = full.nodes.slice(forward.nodes.length).map((n) => n.op);
    expect(ops).not.toContain('Sin');
    expect(ops).not.toContain('Cos');
    expect(ops).not.toContain('Range');
  });
});
