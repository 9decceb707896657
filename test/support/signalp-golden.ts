/** test/support/signalp-golden — the signal-peptide golden files (test/fixtures/golden/signalp-tiny) read as plain numbers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, readTensorBytes, type TensorTable } from '../../src-main/models/formats/safetensors';
import { GOLDEN } from './golden';

export const SIGNALP_GOLDEN = join(GOLDEN, 'signalp-tiny');

export interface GoldenArrays {
  has(name: string): boolean;
  shape(name: string): number[];
  /** Any numeric dtype widened to float64 (F32 inputs exactly, as the references were computed from them). */
  numbers(name: string): Float64Array;
}

export function openSignalpGolden(file: 'labels_ref.safetensors' | 'crf_ref.safetensors'): GoldenArrays {
  const table: TensorTable = openSafetensors(join(SIGNALP_GOLDEN, file));
  const info = (name: string) => {
    const found = table.get(name);
    if (!found) throw new Error(`${file} has no array ${name}`);
    return found;
  };
  return {
    has: (name) => table.has(name),
    shape: (name) => info(name).shape,
    numbers(name) {
      const tensor = info(name);
      const bytes = readTensorBytes(tensor);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      switch (tensor.dtype) {
        case 'F64': return new Float64Array(buffer);
        case 'F32': return Float64Array.from(new Float32Array(buffer));
        case 'I32': return Float64Array.from(new Int32Array(buffer));
        case 'U8': return Float64Array.from(new Uint8Array(buffer));
        case 'I64': return Float64Array.from(new BigInt64Array(buffer), Number);
        default: throw new Error(`${name}: dtype ${tensor.dtype} not handled`);
      }
    },
  };
}

export function readSignalpGoldenText(name: 'data.fasta' | 'metrics_ref.json'): string {
  return readFileSync(join(SIGNALP_GOLDEN, name), 'utf8');
}
