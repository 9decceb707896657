/**
 * esm/checkpoint/safetensors — a lazy reader for the safetensors format: reads the 8-byte header
 * length and the JSON header, validates the tensor table, and later reads one tensor's bytes at a
 * time (converted to float32). Also reads the sharded layout (`model.safetensors.index.json`).
 *
 * Written here rather than taken from npm because no maintained Node library reads safetensors
 * lazily: the ones that exist load the whole file into memory, and the 3B ESM-2 checkpoint is
 * 11 GB. Nothing in this file reads more than the header or one tensor's bytes.
 *
 * Format (https://github.com/huggingface/safetensors): u64 little-endian N, then N bytes of UTF-8
 * JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }`, then the
 * data; offsets are relative to the first byte after the header, values little-endian.
 */
import fs from 'node:fs';
import { basename, dirname, relative, resolve, isAbsolute } from 'node:path';
import { ApiError } from '../../api/errors';

/** Bytes per element of every dtype the format defines. */
const DTYPE_SIZES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_SIZES;

/** The float dtypes `readFloat32` converts. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute position of the first byte in `file`. */
  byteOffset: number;
  byteLength: number;
  file: string;
}

/** Tensor name → where it lives. */
export type TensorTable = Map<string, TensorInfo>;

/** Real headers are kilobytes; the reference implementation refuses anything over 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;
const LENGTH_PREFIX_BYTES = 8;
const MAX_READ_BYTES = 1 << 30;

/** Reads and validates only the header of one `.safetensors` file. */
export function openSafetensors(file: string): TensorTable {
  const fileSize = sizeOf(file);
  const headerLength = readHeaderLength(file, fileSize);
  const header = parseHeaderJson(file, readBytes(file, LENGTH_PREFIX_BYTES, headerLength));
  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  const table: TensorTable = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    table.set(name, toTensorInfo(file, name, entry, dataStart, fileSize));
  }
  return table;
}

/**
 * Opens every shard named by a `model.safetensors.index.json` (headers only) and merges their
 * tables. The index's `weight_map` must agree with the shards: a listed tensor missing from its
 * shard, a shard outside the folder or a tensor in two shards is an error.
 */
export function openShardedSafetensors(indexFile: string): TensorTable {
  const weightMap = readWeightMap(indexFile);
  const folder = dirname(indexFile);
  const shards = new Map<string, TensorTable>();
  for (const shardName of new Set(weightMap.values())) shards.set(shardName, openSafetensors(shardPath(indexFile, folder, shardName)));
  for (const [tensor, shardName] of weightMap) {
    if (!shards.get(shardName)?.has(tensor)) {
      throw new ApiError(
        'invalid-input',
        `${indexFile}: the index says tensor "${tensor}" is in ${shardName}, but that file does not contain it. ` +
          'The download is incomplete or mixes files of different models; download the model again.',
      );
    }
  }
  return mergeShards(indexFile, shards);
}

/** The files a sharded checkpoint's index refers to, as absolute paths, sorted. */
export function shardFiles(indexFile: string): string[] {
  const folder = dirname(indexFile);
  return [...new Set(readWeightMap(indexFile).values())].sort().map((shardName) => shardPath(indexFile, folder, shardName));
}

/**
 * Reads exactly this tensor's bytes (one positioned read, never the whole file) and returns them as
 * float32: F32 as is, F16 and BF16 widened exactly, F64 rounded to nearest.
 */
export function readFloat32(info: TensorInfo): Float32Array {
  if (!FLOAT_DTYPES.includes(info.dtype)) {
    throw new ApiError(
      'invalid-input',
      `${info.file}: tensor "${info.name}" is stored as ${info.dtype}, not as floating-point numbers, so it cannot be model weights. ` +
        'The file is not a usable checkpoint.',
    );
  }
  const bytes = readTensorBytes(info);
  switch (info.dtype) {
    case 'F16':
      return float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
    case 'F64':
      return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8));
    default:
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
}

/**
 * This tensor's raw little-endian bytes, in a fresh buffer aligned for any typed-array view.
 * Typed-array views read the host's byte order; every platform Electron and onnxruntime ship for
 * is little-endian, like the format.
 */
export function readTensorBytes(info: TensorInfo): Uint8Array {
  return readBytes(info.file, info.byteOffset, info.byteLength, info.name);
}

/** float16 bit patterns → float32 values, through a 64K-entry table (exact for every pattern). */
export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const table = float16Table();
  const out = new Float32Array(halves.length);
  for (let index = 0; index < halves.length; index++) out[index] = table[halves[index] ?? 0] ?? 0;
  return out;
}

/** bfloat16 is the top half of a float32, so widening is a shift (NaN and infinities included). */
export function bfloat16ToFloat32(halves: Uint16Array): Float32Array {
  const bits = new Uint32Array(halves.length);
  for (let index = 0; index < halves.length; index++) bits[index] = (halves[index] ?? 0) << 16;
  return new Float32Array(bits.buffer);
}

/** The value of one float16 bit pattern. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals: no implicit leading 1
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

let FLOAT16_TABLE: Float32Array | null = null;

function float16Table(): Float32Array {
  if (!FLOAT16_TABLE) {
    FLOAT16_TABLE = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) FLOAT16_TABLE[bits] = float16Value(bits);
  }
  return FLOAT16_TABLE;
}

// ---------------------------------------------------------------------------------------------
// Header parsing and validation

function readHeaderLength(file: string, fileSize: number): number {
  if (fileSize < LENGTH_PREFIX_BYTES) throw corrupted(file, `it is only ${fileSize} bytes long, too short to hold a header`);
  const prefix = Buffer.from(readBytes(file, 0, LENGTH_PREFIX_BYTES));
  const length = prefix.readBigUInt64LE(0);
  if (length === 0n || length > BigInt(MAX_HEADER_BYTES)) {
    throw corrupted(file, `the header length at its start (${length} bytes) is impossible`);
  }
  if (length > BigInt(fileSize - LENGTH_PREFIX_BYTES)) {
    throw corrupted(file, `the header claims ${length} bytes but the file has only ${fileSize - LENGTH_PREFIX_BYTES} after the length`);
  }
  return Number(length);
}

function parseHeaderJson(file: string, bytes: Uint8Array): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupted(file, 'its header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupted(file, 'its header is not a JSON object');
  return header as Record<string, unknown>;
}

function toTensorInfo(file: string, name: string, entry: unknown, dataStart: number, fileSize: number): TensorInfo {
  const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const dtype = fields.dtype;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZES)) {
    throw badEntry(file, name, `its data type ${JSON.stringify(dtype)} is not one the safetensors format defines`);
  }
  const shape = fields.shape;
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) throw badEntry(file, name, `its shape ${JSON.stringify(shape)} is not a list of sizes`);
  const offsets = fields.data_offsets;
  if (!isOffsetPair(offsets)) throw badEntry(file, name, `its data_offsets ${JSON.stringify(offsets)} are not a [begin, end] pair`);
  const [begin, end] = offsets;
  const expectedLength = product(shape) * DTYPE_SIZES[dtype as SafetensorsDtype];
  if (end - begin !== expectedLength) {
    throw badEntry(file, name, `it spans ${end - begin} bytes, but ${dtype} of shape [${shape.join(', ')}] needs ${expectedLength}`);
  }
  if (dataStart + end > fileSize) {
    throw badEntry(file, name, `its data would end at byte ${dataStart + end}, past the end of the file (${fileSize} bytes): the file is truncated`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...shape] as number[], byteOffset: dataStart + begin, byteLength: expectedLength, file };
}

function readWeightMap(indexFile: string): Map<string, string> {
  let index: unknown;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (error) {
    throw new ApiError('invalid-input', `${indexFile}: cannot read the shard index (${reasonOf(error)}). Download the model again.`);
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new ApiError('invalid-input', `${indexFile}: the shard index has no "weight_map" object. Download the model again.`);
  }
  const entries = Object.entries(weightMap);
  const notAFileName = entries.find(([, shard]) => typeof shard !== 'string' || shard === '');
  if (notAFileName) {
    throw new ApiError('invalid-input', `${indexFile}: "weight_map" gives ${JSON.stringify(notAFileName[1])} as the file of "${notAFileName[0]}", which is not a file name.`);
  }
  return new Map(entries as [string, string][]);
}

/** A shard must sit inside the checkpoint folder: an index must not make us open files elsewhere. */
function shardPath(indexFile: string, folder: string, shardName: string): string {
  const path = resolve(folder, shardName);
  const inside = relative(resolve(folder), path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new ApiError('invalid-input', `${indexFile}: the shard "${shardName}" is outside the model folder; shards must be files beside the index.`);
  }
  if (!fs.existsSync(path)) {
    throw new ApiError(
      'invalid-input',
      `${indexFile}: the shard ${basename(path)} it lists is missing from ${folder}. The download is incomplete; download all the model's .safetensors files.`,
    );
  }
  return path;
}

function mergeShards(indexFile: string, shards: Map<string, TensorTable>): TensorTable {
  const merged: TensorTable = new Map();
  for (const table of shards.values()) {
    for (const [name, info] of table) {
      const earlier = merged.get(name);
      if (earlier) {
        throw new ApiError(
          'invalid-input',
          `${indexFile}: tensor "${name}" is in both ${basename(earlier.file)} and ${basename(info.file)}. The shards come from different downloads; download the model again.`,
        );
      }
      merged.set(name, info);
    }
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// File access: positioned reads only

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    throw new ApiError('invalid-input', `Cannot read ${file}: ${reasonOf(error)}.`);
  }
}

/** Reads `length` bytes at `position` into a fresh buffer; `tensor` names what was read for messages. */
function readBytes(file: string, position: number, length: number, tensor?: string): Uint8Array {
  const bytes = new Uint8Array(length);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new ApiError('invalid-input', `Cannot read ${file}: ${reasonOf(error)}.`);
  }
  try {
    let done = 0;
    while (done < length) {
      // A read may return fewer bytes than asked, and Node refuses single reads over 2 GB.
      const count = fs.readSync(fd, bytes, done, Math.min(length - done, MAX_READ_BYTES), position + done);
      if (count === 0) {
        const what = tensor ? `tensor "${tensor}"` : 'the header';
        throw corrupted(file, `the file ended while reading ${what}: it was truncated or changed after it was opened`);
      }
      done += count;
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

function corrupted(file: string, problem: string): ApiError {
  return new ApiError('invalid-input', `${file} is not a readable safetensors file: ${problem}. The file is damaged or incomplete; download it again.`);
}

function badEntry(file: string, name: string, problem: string): ApiError {
  return new ApiError('invalid-input', `${file}: the header entry for tensor "${name}" is damaged: ${problem}. Download the file again.`);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isOffsetPair(value: unknown): value is [number, number] {
  if (!Array.isArray(value) || value.length !== 2) return false;
  const [begin, end] = value as unknown[];
  return isNonNegativeInteger(begin) && isNonNegativeInteger(end) && begin <= end;
}

function product(values: readonly number[]): number {
  return values.reduce((total, value) => total * value, 1);
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'the file does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder, not a file';
  return error instanceof Error ? error.message : String(error);
}
