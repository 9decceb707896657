/**
 * esm/checkpoint/safetensors-write — writes safetensors files (the format `safetensors.ts` reads):
 * u64 little-endian header length, a JSON header padded with spaces to a multiple of 8 bytes (as
 * the reference implementation does, so tensor data starts 8-byte aligned), then the tensors'
 * little-endian bytes in the order given. Files are written atomically (core/atomic): a reader
 * never sees half a file, and a crash leaves the previous file in place.
 *
 * Tensors are streamed to the file one at a time rather than concatenated first, so writing a
 * merged model does not need a second copy of it in memory.
 */
import { writeAtomically, type FileSink } from '../../core/atomic';

/** The typed arrays we write, with the dtype each is stored as. */
export type WritableTensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface WritableTensor {
  name: string;
  shape: readonly number[];
  data: WritableTensorData;
}

const DTYPE_OF = (data: WritableTensorData): string => {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
};

/** The header bytes (length prefix included) for these tensors, validated. */
export function safetensorsHeader(tensors: readonly WritableTensor[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    checkTensor(tensor, header);
    header[tensor.name] = { dtype: DTYPE_OF(tensor.data), shape: [...tensor.shape], data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + padded).fill(0x20); // spaces are valid trailing JSON whitespace
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return bytes;
}

/** Writes the file atomically; throws (naming the file) on a bad tensor or an I/O error. */
export function writeSafetensorsFile(path: string, tensors: readonly WritableTensor[], metadata?: Record<string, string>): void {
  const header = safetensorsHeader(tensors, metadata);
  writeAtomically(path, (sink) => {
    sink.write(header);
    for (const tensor of tensors) writeTensorBytes(sink, tensor.data);
  });
}

/** The whole file as bytes (small files, tests). */
export function encodeSafetensorsFile(tensors: readonly WritableTensor[], metadata?: Record<string, string>): Uint8Array {
  const chunks: Uint8Array[] = [safetensorsHeader(tensors, metadata)];
  const sink: FileSink = { write: (bytes) => chunks.push(bytes.slice()) };
  for (const tensor of tensors) writeTensorBytes(sink, tensor.data);
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Typed arrays hold host byte order; every platform we ship on is little-endian, like the format
 * (the reader makes the same assumption).
 */
function writeTensorBytes(sink: FileSink, data: WritableTensorData): void {
  if (data.byteLength > 0) sink.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function checkTensor(tensor: WritableTensor, header: Record<string, unknown>): void {
  const { name, shape, data } = tensor;
  if (name === '' || name === '__metadata__') throw new Error(`"${name}" cannot be the name of a tensor in a safetensors file.`);
  if (Object.hasOwn(header, name)) throw new Error(`Tensor "${name}" is listed twice; safetensors names must be unique.`);
  if (!shape.every((size) => Number.isSafeInteger(size) && size >= 0)) throw new Error(`Tensor "${name}" has an invalid shape [${shape.join(', ')}].`);
  const count = shape.reduce((total, size) => total * size, 1);
  if (count !== data.length) throw new Error(`Tensor "${name}" has shape [${shape.join(', ')}] (${count} values) but ${data.length} values.`);
}
