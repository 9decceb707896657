/**
 * test/support/safetensors-writer — writes small safetensors files for tests, reads them back
 * whole, and rounds float32 to float16 / bfloat16 bit patterns. Deliberately independent of
 * src-main/esm/checkpoint (no shared code), so tests compare the reader against a second
 * implementation rather than against itself. Test-only: it reads files whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Little-endian element bytes, exactly as stored. */
  bytes: Uint8Array;
}

/** The safetensors file bytes for these tensors, stored in the given order; header padded to 8 bytes. */
export function encodeSafetensors(tensors: readonly RawTensor[], metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([prefix, Buffer.from(json, 'utf8'), ...tensors.map((tensor) => Buffer.from(tensor.bytes))]);
}

export function writeSafetensors(file: string, tensors: readonly RawTensor[], metadata?: Record<string, string>): void {
  writeFileSync(file, encodeSafetensors(tensors, metadata));
}

/** Reads a whole safetensors file (test fixtures only) into its tensors, in file order. */
export function readSafetensorsWhole(file: string): RawTensor[] {
  const data = readFileSync(file);
  const headerLength = Number(data.readBigUInt64LE(0));
  const header = JSON.parse(data.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const start = 8 + headerLength;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => {
      const { dtype, shape, data_offsets: [begin, end] } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
      return { name, dtype, shape, bytes: new Uint8Array(data.subarray(start + begin, start + end)) };
    });
}

/** Little-endian float32 values of raw bytes, decoded with a DataView. */
export function float32Values(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, index) => view.getFloat32(index * 4, true));
}

export function int32Values(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, index) => view.getInt32(index * 4, true));
}

export function float32Tensor(name: string, shape: number[], values: ArrayLike<number>): RawTensor {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) view.setFloat32(index * 4, values[index] ?? 0, true);
  return { name, dtype: 'F32', shape, bytes };
}

export function float64Tensor(name: string, shape: number[], values: ArrayLike<number>): RawTensor {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) view.setFloat64(index * 8, values[index] ?? 0, true);
  return { name, dtype: 'F64', shape, bytes };
}

/** A 16-bit tensor from bit patterns (F16, BF16, I16...). */
export function bits16Tensor(name: string, dtype: string, shape: number[], bits: ArrayLike<number>): RawTensor {
  const bytes = new Uint8Array(bits.length * 2);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < bits.length; index++) view.setUint16(index * 2, bits[index] ?? 0, true);
  return { name, dtype, shape, bytes };
}

/** An F32 tensor converted to F16 or BF16 with round-to-nearest-even (what torch's .half() / .bfloat16() do). */
export function narrowTensor(tensor: RawTensor, dtype: 'F16' | 'BF16'): RawTensor {
  const toBits = dtype === 'F16' ? toFloat16Bits : toBfloat16Bits;
  return bits16Tensor(tensor.name, dtype, tensor.shape, float32Values(tensor.bytes).map(toBits));
}

function float32Bits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  return view.getUint32(0);
}

/** float32 → float16 bits, round half to even, overflow to infinity, gradual underflow. */
export function toFloat16Bits(value: number): number {
  const bits = float32Bits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const shift = 14 - halfExponent;
    return sign | roundShift(mantissa | 0x800000, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** float32 → bfloat16 bits: keep the top 16 bits, round half to even; NaN stays NaN. */
export function toBfloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  const bits = float32Bits(value);
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

function roundShift(value: number, shift: number): number {
  const kept = Math.floor(value / 2 ** shift);
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && kept % 2 === 1) ? kept + 1 : kept;
}
