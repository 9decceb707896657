/**
 * onnx/: graphs built with the builder and written by the writer run in onnxruntime-node and
 * give the values computed independently here in float64.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { byteView, decodeModel, float32ToFloat16, GraphBuilder, writeModel, WriteCancelled } from '../../src-main/onnx';
import { createRng } from '../../src-main/core/rng';
import { uniformValues } from '../support/random-proteins';

const scratch = () => mkdtempSync(join(tmpdir(), 'esm-onnx-'));

function seeded(n: number, seed: number): Float32Array {
  return uniformValues(createRng(seed), n, -1, 1);
}

/** y = LayerNorm(gelu(x Wᵀ + b)) computed directly. */
function reference(x: Float32Array, rows: number, w: Float32Array, b: Float32Array, inDim: number, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let sum = b[o]!;
      for (let i = 0; i < inDim; i++) sum += x[r * inDim + i]! * w[o * inDim + i]!;
      y[r * outDim + o] = 0.5 * sum * (1 + erf(sum / Math.SQRT2));
    }
    let mean = 0;
    for (let o = 0; o < outDim; o++) mean += y[r * outDim + o]! / outDim;
    let variance = 0;
    for (let o = 0; o < outDim; o++) variance += (y[r * outDim + o]! - mean) ** 2 / outDim;
    for (let o = 0; o < outDim; o++) y[r * outDim + o] = (y[r * outDim + o]! - mean) / Math.sqrt(variance + 1e-5);
  }
  return y;
}

/**
 * erf by Simpson's rule on 2/√π ∫₀ˣ e^(−t²) dt (2,000 intervals: error below 1e-10 for |x| < 8).
 * Plain and independent of any series: a Taylor series loses all precision by |x| ≈ 5 to
 * cancellation, and these pre-activations reach beyond that.
 */
function erf(x: number): number {
  const intervals = 2000;
  const h = x / intervals;
  let sum = 1 + Math.exp(-x * x);
  for (let i = 1; i < intervals; i++) sum += (i % 2 === 1 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * h * sum) / 3;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

function buildDense(inDim: number, outDim: number, w: Float32Array, b: Float32Array) {
  const g = new GraphBuilder('dense');
  const x = g.input('x', 'float32', ['rows', inDim]);
  const wt = g.initializer('w_t', 'float32', [inDim, outDim], { kind: 'lazy', read: () => byteView(transpose(w, outDim, inDim)) });
  const bias = g.initializer('b', 'float32', [outDim], { kind: 'lazy', read: () => byteView(b) });
  const ones = g.constant('float32', new Array<number>(outDim).fill(1));
  const zeros = g.constant('float32', new Array<number>(outDim).fill(0));
  const y = g.scope('block', () => g.layerNorm(g.gelu(g.linear(x, wt, bias)), ones, zeros, 1e-5));
  g.output(y, 'y', ['rows', outDim]);
  return g.build();
}

describe('onnx writer + builder', () => {
  it('runs a dense → GELU → LayerNorm graph with external weights in onnxruntime, matching float64', async () => {
    const [inDim, outDim, rows] = [48, 40, 5];
    const w = seeded(inDim * outDim, 1);
    const b = seeded(outDim, 2);
    const x = seeded(rows * inDim, 3);
    const dir = scratch();
    const entries = await writeModel(buildDense(inDim, outDim, w, b), join(dir, 'dense.onnx'), { dataPath: join(dir, 'dense.data') });
    expect(entries.map((e) => e.name)).toEqual(['w_t']); // the bias (160 bytes) stays inline
    expect(entries[0]!.offset % 64).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['dense.data', 'dense.onnx']);

    const session = await ort.InferenceSession.create(join(dir, 'dense.onnx'));
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [rows, inDim]) });
    const expected = reference(x, rows, w, b, inDim, outDim);
    const got = y!.data as Float32Array;
    const maxDiff = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i]!)));
    expect(y!.dims).toEqual([rows, outDim]);
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('writes what it says: opset, dynamic dims, external data entries, attributes', async () => {
    const dir = scratch();
    await writeModel(buildDense(8, 300, seeded(2400, 4), seeded(300, 5)), join(dir, 'm.onnx'), { dataPath: join(dir, 'm.data'), metadata: { source: 'test' } });
    const model = decodeModel(readFileSync(join(dir, 'm.onnx'))) as {
      opsetImport: { version: number }[];
      metadataProps: { key: string; value: string }[];
      graph: { input: { type: { tensorType: { shape: { dim: object[] } } } }[]; initializer: { name: string; externalData?: { key: string; value: string }[] }[]; node: { opType: string; name: string }[] };
    };
    expect(model.opsetImport[0]!.version).toBe(20);
    expect(model.metadataProps).toEqual([{ key: 'source', value: 'test' }]);
    expect(model.graph.input[0]!.type.tensorType.shape.dim).toEqual([{ dimParam: 'rows' }, { dimValue: 8 }]);
    const external = model.graph.initializer.filter((i) => i.externalData).map((i) => i.name);
    expect(external).toEqual(['w_t', 'b']);
    expect(model.graph.node.map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Gelu', 'LayerNormalization', 'Identity']);
    expect(model.graph.node[0]!.name.startsWith('block/')).toBe(true);
  });

  it('leaves no file behind when cancelled mid-way', async () => {
    const dir = scratch();
    let calls = 0;
    await expect(
      writeModel(buildDense(64, 64, seeded(4096, 6), seeded(64, 7)), join(dir, 'm.onnx'), {
        dataPath: join(dir, 'm.data'),
        isCancelled: () => ++calls > 1,
      }),
    ).rejects.toThrow(WriteCancelled);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('converts float32 to float16 like IEEE round-to-nearest-even', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [1e-8, 0x0000],
      [5.960464477539063e-8, 0x0001], [6.103515625e-5, 0x0400], [0.1, 0x2e66], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
      [Infinity, 0x7c00], [-Infinity, 0xfc00],
    ];
    const halves = float32ToFloat16(Float32Array.from(cases.map(([v]) => v)));
    expect(Array.from(halves)).toEqual(cases.map(([, h]) => h));
    expect(float32ToFloat16(Float32Array.of(NaN))[0]! & 0x7c00).toBe(0x7c00);
  });
});
