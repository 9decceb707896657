/** test/support/golden — the golden references (test/fixtures/golden) and a direct runner for graphs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { ROOT } from './serve';

export const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden');

export interface GoldenSequence {
  index: number;
  id: string;
  sequence: string;
  length: number;
  has_pll: boolean;
}

export interface Golden {
  dir: string;
  checkpoint: string;
  sequences: GoldenSequence[];
  /** A reference array as float32 with its shape. */
  array(name: string): { shape: number[]; data: Float32Array };
  has(name: string): boolean;
}

export function loadGolden(model: 'tiny' | 'esm2-8M-random' | 'esmc-tiny'): Golden {
  const dir = join(GOLDEN, model);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { sequences: GoldenSequence[] };
  const table = openSafetensors(join(dir, 'refs.safetensors'));
  return {
    dir,
    checkpoint: join(dir, 'checkpoint'),
    sequences: manifest.sequences,
    has: (name) => table.has(name),
    array(name) {
      const info = table.get(name);
      if (!info) throw new Error(`no reference array ${name}`);
      if (info.dtype === 'I32' || info.dtype === 'I64') {
        const bytes = readFileSync(info.file).subarray(info.byteOffset, info.byteOffset + info.byteLength);
        const ints = info.dtype === 'I32'
          ? new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
          : Array.from(new BigInt64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), Number);
        return { shape: info.shape, data: Float32Array.from(ints) };
      }
      return { shape: info.shape, data: readFloat32(info) };
    },
  };
}

export const seqKey = (index: number, name: string): string => `seq${String(index).padStart(2, '0')}.${name}`;

/** Runs a graph file directly on int64 token ids [batch, length]. */
export async function runGraph(file: string, tokens: number[][]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(file);
  const length = Math.max(...tokens.map((t) => t.length));
  const ids = new BigInt64Array(tokens.length * length).fill(1n);
  tokens.forEach((row, b) => row.forEach((id, t) => (ids[b * length + t] = BigInt(id))));
  const result = await session.run({ input_ids: new ort.Tensor('int64', ids, [tokens.length, length]) });
  await session.release();
  return result;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(max) ? Infinity : max;
}

/** Rows [r0, r1) and columns [c0, c1) of a row-major matrix with `cols` columns. */
export function block(data: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): Float32Array {
  const out = new Float32Array((r1 - r0) * (c1 - c0));
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[(r - r0) * (c1 - c0) + (c - c0)] = data[r * cols + c]!;
  return out;
}

export function logSoftmaxRows(data: ArrayLike<number>, cols: number): Float64Array {
  const out = new Float64Array(data.length);
  for (let r = 0; r < data.length / cols; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, data[r * cols + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(data[r * cols + c]! - max);
    const log = Math.log(sum) + max;
    for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c]! - log;
  }
  return out;
}
