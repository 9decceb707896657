/**
 * autodiff's seeded backward (`seed`: a graph input holding d(objective)/d(loss)), the way a loss
 * computed outside the graph — the signal-peptide CRF's — is fed back: for y = tanh(x·W) and a
 * seed s, the gradients equal those of the in-graph loss Σ s ⊙ y, and float64 central
 * differences of Σ s ⊙ y. A seed that is not a graph input, or of another type, is refused.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { differentiate } from '../../src-main/autodiff';
import { checkGradient } from '../../src-main/autodiff/check';
import { encodeModel, GraphBuilder, int, type Graph } from '../../src-main/onnx';

const session = (graph: Graph): Promise<ort.InferenceSession> => ort.InferenceSession.create(encodeModel(graph, { external: new Map(), inline: new Map() }, '', {}));

const X = Float64Array.from({ length: 6 }, (_, i) => Math.sin(i + 1));
const W = Float64Array.from({ length: 12 }, (_, i) => Math.cos(2 * i + 0.5) * 0.8);
const S = Float64Array.from({ length: 8 }, (_, i) => ((i * 7) % 5) - 2.3);

/** y = tanh(x·W) [2, 4]; with `seedConstant`, also loss = Σ seed ⊙ y. */
function graph(options: { seedInput?: 'float64' | 'float32'; seedConstant?: boolean }): Graph {
  const g = new GraphBuilder('seeded');
  const x = g.input('x', 'float64', [2, 3]);
  const w = g.input('w', 'float64', [3, 4]);
  if (options.seedInput) g.input('s', options.seedInput, [2, 4]);
  const y = g.op('Tanh', [g.op('MatMul', [x, w])]);
  g.output(y, 'y');
  if (options.seedConstant) g.output(g.op('ReduceSum', [g.mul(y, g.constant('float64', Array.from(S), [2, 4]))], { keepdims: int(0) }), 'loss');
  return g.build();
}

const feeds = (): Record<string, ort.Tensor> => ({ x: new ort.Tensor('float64', X, [2, 3]), w: new ort.Tensor('float64', W, [3, 4]), s: new ort.Tensor('float64', S, [2, 4]) });

describe('autodiff: a backward seeded from a graph input', () => {
  it('gives the gradients of the in-graph loss Σ s ⊙ y, and of central differences', async () => {
    const seeded = await session(differentiate(graph({ seedInput: 'float64' }), { loss: 'y', seed: 's', wrt: ['x', 'w'] }));
    const inGraph = await session(differentiate(graph({ seedConstant: true }), { loss: 'loss', wrt: ['x', 'w'] }));
    const a = await seeded.run(feeds());
    const { s: _unused, ...plainFeeds } = feeds();
    const b = await inGraph.run(plainFeeds);
    for (const name of ['grad.x', 'grad.w']) {
      const got = a[name]!.data as Float64Array;
      const want = b[name]!.data as Float64Array;
      got.forEach((value, i) => expect(Math.abs(value - want[i]!)).toBeLessThan(1e-14));
    }
    const forward = await session(graph({}));
    const objective = async (): Promise<number> => {
      const y = (await forward.run({ x: new ort.Tensor('float64', X, [2, 3]), w: new ort.Tensor('float64', W, [3, 4]) })).y!.data as Float64Array;
      return y.reduce((sum, value, i) => sum + value * S[i]!, 0);
    };
    for (const [values, name] of [[X, 'grad.x'], [W, 'grad.w']] as const) {
      const result = await checkGradient({ values, analytic: a[name]!.data as Float64Array, evaluate: objective, step: 1e-4, points: 4 });
      expect(result.worst).toBeLessThan(1e-6);
    }
  });

  it('refuses a seed that is not a graph input or has another type', () => {
    expect(() => differentiate(graph({}), { loss: 'y', seed: 's', wrt: ['w'] })).toThrow(/seed s is not an input/);
    expect(() => differentiate(graph({ seedInput: 'float32' }), { loss: 'y', seed: 's', wrt: ['w'] })).toThrow(/seed s is float32; the loss y is float64/);
  });

  it('still refuses a non-scalar loss without a seed', () => {
    expect(() => differentiate(graph({ seedInput: 'float64' }), { loss: 'y', wrt: ['w'] })).toThrow(/must be a scalar/);
  });
});
