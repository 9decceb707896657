/**
 * autodiff's `recompute` option: values marked for recomputation are copied into the backward
 * pass instead of read from the forward pass, with the same gradients (bit for bit: the same ops
 * on the same numbers), including nodes with several outputs (a Split whose second output is
 * read), and copies that depend on the gradient (so they cannot run before the backward pass).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { differentiate } from '../../src-main/autodiff';
import { encodeModel, GraphBuilder, type Graph } from '../../src-main/onnx';

const run = async (graph: Graph, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> => {
  const session = await ort.InferenceSession.create(encodeModel(graph, { external: new Map(), inline: new Map() }, '', {}));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
};

/** loss = Σ (softmax((−b) ⊙ a) · w)², [a, b] = split(tanh(p · u)): the backward reads both Split outputs. */
function forward(): Graph {
  const g = new GraphBuilder('recompute');
  const p = g.input('p', 'float64', [3, 4]);
  const u = g.input('u', 'float64', [4, 8]);
  const w = g.input('w', 'float64', [4, 2]);
  const hidden = g.op('Tanh', [g.matmul(p, u)]);
  const [a, b] = g.split(hidden, -1, 2) as [ReturnType<GraphBuilder['neg']>, ReturnType<GraphBuilder['neg']>];
  const probs = g.softmax(g.mul(g.neg(b), a), -1);
  const out = g.matmul(probs, w);
  g.output(g.reduceSum(g.mul(out, out), [0, 1], false), 'loss');
  return g.build();
}

const values = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed));

describe('autodiff recompute', () => {
  it('gives bit-identical gradients, reads no marked value from the forward pass, and copies after the gradient exists', async () => {
    const graph = forward();
    const producedBy = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.op] as const)));
    // Everything but the product p·u (which the copies then read from the forward pass) and the loss.
    const marked = new Set([...producedBy].filter(([name, op]) => op !== 'MatMul' && name !== 'loss').map(([name]) => name));
    const wrt = ['p', 'u', 'w'];
    const kept = differentiate(graph, { loss: 'loss', wrt });
    const recomputed = differentiate(graph, { loss: 'loss', wrt, recompute: (name) => marked.has(name) });

    const feeds = { p: new ort.Tensor('float64', values(12, 1), [3, 4]), u: new ort.Tensor('float64', values(32, 2), [4, 8]), w: new ort.Tensor('float64', values(8, 3), [4, 2]) };
    const [expected, actual] = [await run(kept, feeds), await run(recomputed, feeds)];
    for (const name of wrt) expect(Array.from(actual[`grad.${name}`]!.data as Float64Array), name).toEqual(Array.from(expected[`grad.${name}`]!.data as Float64Array));

    const backward = recomputed.nodes.filter((n) => n.name.startsWith('grad/'));
    expect(backward.flatMap((n) => n.inputs).filter((input) => marked.has(input))).toEqual([]);
    expect(backward.filter((n) => n.op === 'Split')).toHaveLength(1);
    const [copy] = backward.filter((n) => n.op === 'Tanh');
    // The product p·u is read only through its anchor, a Reshape alias that waits for a gradient (which depends on w; the forward pass does not).
    const product = graph.nodes.find((n) => n.op === 'MatMul' && n.inputs[0] === 'p')!.outputs[0]!;
    const anchor = backward.find((n) => n.op === 'Reshape' && n.inputs[0] === product)!;
    expect(copy!.inputs).toEqual([anchor.outputs[0]]);
    const producers = new Map(recomputed.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const dependsOn = (value: string, on: string, seen = new Set<string>()): boolean =>
      value === on || (!seen.has(value) && (seen.add(value), (producers.get(value)?.inputs ?? []).some((input) => input && dependsOn(input, on, seen))));
    expect(dependsOn(copy!.outputs[0]!, 'w')).toBe(true);
    expect(dependsOn(graph.nodes.find((n) => n.op === 'Tanh')!.outputs[0]!, 'w')).toBe(false);
    // Without the option the backward reads the Split's and the Softmax's outputs themselves.
    const keptReaders = kept.nodes.filter((n) => n.name.startsWith('grad/')).flatMap((n) => n.inputs).filter((input) => ['Split', 'Softmax'].includes(producedBy.get(input) ?? ''));
    expect(keptReaders.length).toBeGreaterThan(0);
  });
});
