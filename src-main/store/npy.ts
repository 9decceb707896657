/**
 * store/npy — NumPy `.npy` and `.npz` files, the format ESM Studio stores embeddings, logits and
 * contact maps in, so that users can open them with `np.load` directly.
 *
 * Written by hand on purpose: no maintained npm package writes .npy, and the format is small
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): a magic string, a
 * version, a header length, a Python-literal header dict padded to 64 bytes, then the raw
 * little-endian C-order data. Headers are written byte-for-byte as NumPy writes them.
 * `.npz` is a zip of `.npy` members; no zip library is a dependency. encodeNpz writes them with
 * store/zip (the one zip writer); the reader lives here and also inflates deflated members,
 * which is what `np.savez_compressed` produces.
 *
 * Data is viewed in host byte order; every platform ESM Studio ships on is little-endian.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory, writeAll, writeBytesAtomically, writingFile } from '../core/atomic';
import * as zlib from 'node:zlib';
import {
  CENTRAL_HEADER_SIGNATURE,
  END_OF_CENTRAL_DIRECTORY_SIGNATURE,
  LOCAL_HEADER_SIGNATURE,
  METHOD_DEFLATE,
  METHOD_STORED,
  ZIP32_LIMIT,
  crc32,
  writeStoredZip,
  type ZipMember,
} from './zip';

/** Re-exported so the CRC tests keep one import; the CRC itself lives in store/zip. */
export { _tableCrc32ForTests } from './zip';

export type NpyDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'float16' | 'bool';

/** float16 data is the raw IEEE half bits (Uint16Array); bool data is 0/1 bytes (Uint8Array). */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
}

type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor;

interface DtypeInfo {
  descr: string;
  itemSize: number;
  arrayType: TypedArrayConstructor;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  float32: { descr: '<f4', itemSize: 4, arrayType: Float32Array },
  float64: { descr: '<f8', itemSize: 8, arrayType: Float64Array },
  int32: { descr: '<i4', itemSize: 4, arrayType: Int32Array },
  int64: { descr: '<i8', itemSize: 8, arrayType: BigInt64Array },
  uint8: { descr: '|u1', itemSize: 1, arrayType: Uint8Array },
  float16: { descr: '<f2', itemSize: 2, arrayType: Uint16Array },
  bool: { descr: '|b1', itemSize: 1, arrayType: Uint8Array },
};

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ARRAY_ALIGN = 64;
// NumPy leaves room for the first axis to grow to 21 digits so headers can be rewritten in place.
const GROWTH_AXIS_MAX_DIGITS = 21;

// ---------------------------------------------------------------------------------------------
// .npy encoding

export function encodeNpy(array: NpyArray): Buffer {
  const info = dtypeInfo(array.dtype);
  checkData(array, info);
  const header = npyHeader(info.descr, array.shape);
  const data = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return Buffer.concat([header, data]);
}

function dtypeInfo(dtype: string): DtypeInfo {
  const info = DTYPES[dtype as NpyDtype] as DtypeInfo | undefined;
  if (!info) throw new Error(`npy: unsupported dtype '${dtype}'`);
  return info;
}

function checkData(array: NpyArray, info: DtypeInfo): void {
  for (const dim of array.shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) throw new Error(`npy: invalid shape (${array.shape.join(', ')})`);
  }
  if (!(array.data instanceof info.arrayType)) {
    throw new Error(`npy: dtype ${array.dtype} needs a ${info.arrayType.name}, got ${array.data.constructor.name}`);
  }
  const expected = elementCount(array.shape);
  if (array.data.length !== expected) {
    throw new Error(`npy: shape (${array.shape.join(', ')}) needs ${expected} elements, data has ${array.data.length}`);
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Python's repr of a tuple of ints: `()`, `(5,)`, `(3, 4)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The magic, version, length and padded header dict, exactly as numpy.lib.format writes them. */
function npyHeader(descr: string, shape: readonly number[]): Buffer {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // Version 1.0 stores the header length in 2 bytes; 2.0 (4 bytes) only when that overflows.
  return wrapHeader(dict, 1) ?? (wrapHeader(dict, 2) as Buffer);
}

function wrapHeader(dict: string, major: 1 | 2): Buffer | undefined {
  const lengthSize = major === 1 ? 2 : 4;
  const headerLength = dict.length + 1; // + the final newline
  // Same formula as NumPy, including its quirk of adding a full 64 bytes when already aligned.
  const padding = ARRAY_ALIGN - ((MAGIC.length + 2 + lengthSize + headerLength) % ARRAY_ALIGN);
  const total = headerLength + padding;
  if (major === 1 && total > 0xffff) return undefined;
  const prefix = Buffer.alloc(MAGIC.length + 2 + lengthSize);
  MAGIC.copy(prefix, 0);
  prefix[MAGIC.length] = major;
  prefix[MAGIC.length + 1] = 0;
  if (major === 1) prefix.writeUInt16LE(total, MAGIC.length + 2);
  else prefix.writeUInt32LE(total, MAGIC.length + 2);
  return Buffer.concat([prefix, Buffer.from(dict + ' '.repeat(padding) + '\n', 'latin1')]);
}

// ---------------------------------------------------------------------------------------------
// .npy decoding

export function decodeNpy(buffer: Buffer, file = '<buffer>'): NpyArray {
  const fail = (reason: string): never => {
    throw new Error(`${file}: ${reason}`);
  };
  if (buffer.length < MAGIC.length + 4 || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    fail('not a NumPy .npy file (bad magic)');
  }
  const major = buffer[MAGIC.length];
  if (major !== 1 && major !== 2 && major !== 3) fail(`unsupported .npy format version ${major}`);
  const lengthSize = major === 1 ? 2 : 4;
  const headerStart = MAGIC.length + 2 + lengthSize;
  if (buffer.length < headerStart) fail('truncated .npy header');
  const headerLength = major === 1 ? buffer.readUInt16LE(MAGIC.length + 2) : buffer.readUInt32LE(MAGIC.length + 2);
  const dataStart = headerStart + headerLength;
  if (buffer.length < dataStart) fail('truncated .npy header');
  // Versions 1 and 2 use latin1 headers; version 3 is the same with UTF-8.
  const headerText = buffer.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);

  const header = parseHeader(headerText, fail);
  const dtype = dtypeFromDescr(header.descr, fail);
  const info = DTYPES[dtype];
  const byteLength = elementCount(header.shape) * info.itemSize;
  const available = buffer.length - dataStart;
  if (available < byteLength) fail(`truncated .npy data: expected ${byteLength} bytes, found ${available}`);
  if (available > byteLength) fail(`unexpected ${available - byteLength} bytes after the .npy data`);
  // Copy into a fresh buffer: the data need not be aligned for a typed-array view in place.
  const copy = new Uint8Array(byteLength);
  copy.set(buffer.subarray(dataStart, dataStart + byteLength));
  const data = new info.arrayType(copy.buffer, 0, byteLength / info.itemSize);
  return { dtype, shape: header.shape, data };
}

interface NpyHeader {
  descr: string;
  shape: number[];
}

function dtypeFromDescr(descr: string, fail: (reason: string) => never): NpyDtype {
  if (descr.startsWith('>')) fail(`big-endian data ('${descr}') is not supported; save it little-endian`);
  // One-byte types have no byte order; NumPy writes '|' but any marker means the same.
  const normalized = /^[<|=]/.test(descr) ? descr.slice(1) : descr;
  for (const [dtype, info] of Object.entries(DTYPES) as [NpyDtype, DtypeInfo][]) {
    if (info.descr.slice(1) === normalized) return dtype;
  }
  return fail(`unsupported dtype '${descr}'`);
}

/**
 * Reads the header dict, a Python literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. Only the forms NumPy writes
 * are accepted: string values, True/False, and tuples of ints.
 */
function parseHeader(text: string, fail: (reason: string) => never): NpyHeader {
  const fields = new Map<string, string | boolean | number[]>();
  const parser = new LiteralParser(text, (reason) => fail(`bad .npy header (${reason}): ${text.trim()}`));
  parser.expect('{');
  while (!parser.tryConsume('}')) {
    const key = parser.string();
    parser.expect(':');
    fields.set(key, parser.value());
    if (!parser.tryConsume(',')) {
      parser.expect('}');
      break;
    }
  }
  parser.expectEnd();

  const descr = fields.get('descr');
  const fortranOrder = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') fail(`header has no string 'descr' (structured dtypes are not supported)`);
  if (typeof fortranOrder !== 'boolean') fail(`header has no 'fortran_order'`);
  if (!Array.isArray(shape)) fail(`header has no 'shape' tuple`);
  if (fortranOrder) fail('fortran_order arrays are not supported; save with np.ascontiguousarray first');
  return { descr: descr as string, shape: shape as number[] };
}

/** A tiny tokenizer for the subset of Python literals NumPy headers use. */
class LiteralParser {
  private position = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (reason: string) => never,
  ) {}

  expect(token: string): void {
    if (!this.tryConsume(token)) this.fail(`expected '${token}'`);
  }

  tryConsume(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.position)) return false;
    this.position += token.length;
    return true;
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.position !== this.text.length) this.fail('unexpected text after the dict');
  }

  string(): string {
    this.skipSpace();
    const quote = this.text[this.position];
    if (quote !== "'" && quote !== '"') return this.fail('expected a quoted string');
    const end = this.text.indexOf(quote, this.position + 1);
    if (end < 0) return this.fail('unterminated string');
    const value = this.text.slice(this.position + 1, end);
    this.position = end + 1;
    return value;
  }

  value(): string | boolean | number[] {
    if (this.tryConsume('True')) return true;
    if (this.tryConsume('False')) return false;
    if (this.tryConsume('(')) return this.intTuple();
    return this.string();
  }

  private intTuple(): number[] {
    const values: number[] = [];
    while (!this.tryConsume(')')) {
      values.push(this.int());
      if (!this.tryConsume(',')) {
        this.expect(')');
        break;
      }
    }
    return values;
  }

  private int(): number {
    this.skipSpace();
    // Python 2 era files may write longs as `3L`.
    const match = /^(\d+)L?/.exec(this.text.slice(this.position));
    if (!match?.[1]) return this.fail('expected a non-negative integer');
    this.position += match[0].length;
    const value = Number(match[1]);
    if (!Number.isSafeInteger(value)) return this.fail(`dimension ${match[1]} is too large`);
    return value;
  }

  private skipSpace(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position] ?? '')) this.position += 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * Writes `path + '.partial'`, fsyncs it, then renames it over `path`, so a crash or a failed write
 * never leaves a half-written file under the final name (readers see the old file or the new one).
 * Two writers to the same path at once are the caller's business.
 */
export function writeNpyAtomic(path: string, array: NpyArray): void {
  const bytes = encodeNpy(array); // encode first: a bad array must not touch the disk at all
  writeBytesAtomically(path, bytes);
}

/**
 * A float32 matrix [rows, columns] written in row ranges at their final position, so that a
 * matrix of many sequences never has to be held in memory and rows may arrive in any order.
 * Written to `path + '.partial'` and renamed by `finish()`; `abort()` removes it. With
 * `resume`, an existing partial file is reopened and kept: rows written before an interruption
 * stay, and `sync()` makes what was written durable before a checkpoint says so. A full disk
 * is reported naming `path` (core/atomic's writeFailure).
 */
export class NpyRowWriter {
  readonly partial: string;
  private readonly fd: number;
  private readonly dataStart: number;

  constructor(
    readonly path: string,
    readonly rows: number,
    readonly columns: number,
    options: { resume?: boolean } = {},
  ) {
    this.partial = `${path}.partial`;
    mkdirSync(dirname(path), { recursive: true });
    const header = npyHeader(DTYPES.float32.descr, [rows, columns]);
    this.dataStart = header.length;
    const reopen = options.resume === true && existsSync(this.partial);
    this.fd = writingFile(path, () => openSync(this.partial, reopen ? 'r+' : 'w'));
    if (!reopen) writingFile(path, () => writeAll(this.fd, header));
  }

  /** Writes `values` (a whole number of rows) starting at row `firstRow`. */
  writeRows(firstRow: number, values: Float32Array): void {
    const count = values.length / this.columns;
    if (!Number.isInteger(count)) throw new Error(`${this.path}: ${values.length} values are not whole rows of ${this.columns}.`);
    if (firstRow < 0 || firstRow + count > this.rows) throw new Error(`${this.path}: rows ${firstRow}..${firstRow + count - 1} are outside 0..${this.rows - 1}.`);
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const position = this.dataStart + firstRow * this.columns * 4;
    writingFile(this.path, () => {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset, position + offset);
    });
  }

  writeRow(row: number, values: Float32Array): void {
    if (values.length !== this.columns) throw new Error(`${this.path}: row ${row} has ${values.length} values, expected ${this.columns}.`);
    this.writeRows(row, values);
  }

  sync(): void {
    writingFile(this.path, () => fsyncSync(this.fd));
  }

  /** Syncs and renames into place; the caller has written every row. */
  finish(): void {
    writingFile(this.path, () => {
      try {
        fsyncSync(this.fd);
      } finally {
        closeSync(this.fd);
      }
      renameSync(this.partial, this.path);
    });
    syncDirectory(dirname(this.path));
  }

  /** Closes without renaming, keeping the partial file for a later resume. */
  close(): void {
    closeSync(this.fd);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.partial, { force: true });
  }
}

/**
 * Reads row ranges of a large float32 matrix file without loading it: only the header and the
 * requested rows are read (per-residue matrices can be larger than memory).
 */
export class NpyRowReader {
  readonly rows: number;
  readonly columns: number;
  private readonly fd: number;
  private readonly dataStart: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    const probe = Buffer.alloc(12);
    readSync(this.fd, probe, 0, 12, 0);
    const major = probe[MAGIC.length];
    const lengthSize = major === 1 ? 2 : 4;
    const headerLength = major === 1 ? probe.readUInt16LE(MAGIC.length + 2) : probe.readUInt32LE(MAGIC.length + 2);
    this.dataStart = MAGIC.length + 2 + lengthSize + headerLength;
    const head = Buffer.alloc(this.dataStart);
    readSync(this.fd, head, 0, this.dataStart, 0);
    // Decoding the header with an empty data part checks the magic, version and dtype.
    const header = decodeHeaderOnly(head, path);
    if (header.dtype !== 'float32' || header.shape.length !== 2) {
      closeSync(this.fd);
      throw new Error(`${path}: expected a 2-D float32 matrix, found ${header.dtype} [${header.shape.join(', ')}]`);
    }
    [this.rows, this.columns] = header.shape as [number, number];
  }

  readRows(firstRow: number, count: number): Float32Array {
    if (firstRow < 0 || firstRow + count > this.rows) throw new Error(`${this.path}: rows ${firstRow}..${firstRow + count - 1} are outside 0..${this.rows - 1}.`);
    const out = new Float32Array(count * this.columns);
    const bytes = new Uint8Array(out.buffer);
    let offset = 0;
    const position = this.dataStart + firstRow * this.columns * 4;
    while (offset < bytes.length) {
      const read = readSync(this.fd, bytes, offset, bytes.length - offset, position + offset);
      if (read === 0) throw new Error(`${this.path}: the file ends before row ${firstRow + count - 1}.`);
      offset += read;
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The dtype and shape of a .npy header (the bytes up to the data). */
function decodeHeaderOnly(head: Buffer, file: string): { dtype: NpyDtype; shape: number[] } {
  const fail = (reason: string): never => {
    throw new Error(`${file}: ${reason}`);
  };
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) fail('not a NumPy .npy file (bad magic)');
  const major = head[MAGIC.length];
  const lengthSize = major === 1 ? 2 : 4;
  const headerText = head.toString(major === 3 ? 'utf8' : 'latin1', MAGIC.length + 2 + lengthSize);
  const header = parseHeader(headerText, fail);
  return { dtype: dtypeFromDescr(header.descr, fail), shape: header.shape };
}

export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileSync(path), path);
}

// ---------------------------------------------------------------------------------------------
// .npz: a zip whose members are `<name>.npy`, as np.savez writes them

/** The arrays as `<name>.npy` members of a stored zip, collected in memory. */
export function encodeNpz(entries: Record<string, NpyArray>): Buffer {
  const chunks: Uint8Array[] = [];
  writeStoredZip('npz', { write: (bytes) => chunks.push(bytes) }, npzMembers(entries));
  return Buffer.concat(chunks);
}

/** Encodes lazily, so a bad array fails before the later ones are encoded. */
function* npzMembers(entries: Record<string, NpyArray>): Generator<ZipMember> {
  for (const [name, array] of Object.entries(entries)) yield { name: `${name}.npy`, bytes: encodeNpy(array) };
}

/** Reads every `.npy` member (or only those named in `only`); keys drop the `.npy` suffix, as np.load does. */
export function decodeNpz(buffer: Buffer, file = '<buffer>', only?: readonly string[]): Record<string, NpyArray> {
  const fail = (reason: string): never => {
    throw new Error(`${file}: ${reason}`);
  };
  const end = findEndRecord(buffer) ?? fail('not a zip file (no end of central directory)');
  const entryCount = buffer.readUInt16LE(end + 10);
  const centralSize = buffer.readUInt32LE(end + 12);
  const centralOffset = buffer.readUInt32LE(end + 16);
  if (entryCount === 0xffff || centralOffset === ZIP32_LIMIT) fail('zip64 archives are not supported');
  if (centralOffset + centralSize > end) fail('truncated zip central directory');

  const result: Record<string, NpyArray> = {};
  let position = centralOffset;
  for (let index = 0; index < entryCount; index += 1) {
    const entry = readCentralEntry(buffer, position, fail);
    position = entry.next;
    if (entry.name.endsWith('/')) continue; // a folder entry holds no array
    const bytes = readMemberData(buffer, entry, `${file}:${entry.name}`);
    const key = entry.name.endsWith('.npy') ? entry.name.slice(0, -'.npy'.length) : entry.name;
    if (only && !only.includes(key)) continue;
    result[key] = decodeNpy(bytes, `${file}:${entry.name}`);
  }
  return result;
}

interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  next: number;
}

function findEndRecord(buffer: Buffer): number | undefined {
  // The end record is 22 bytes plus a comment of at most 65535 bytes, so search only that tail.
  const lowest = Math.max(0, buffer.length - 22 - 0xffff);
  for (let position = buffer.length - 22; position >= lowest; position -= 1) {
    if (buffer.readUInt32LE(position) === END_OF_CENTRAL_DIRECTORY_SIGNATURE) return position;
  }
  return undefined;
}

function readCentralEntry(buffer: Buffer, position: number, fail: (reason: string) => never): CentralEntry {
  if (position + 46 > buffer.length || buffer.readUInt32LE(position) !== CENTRAL_HEADER_SIGNATURE) {
    fail('corrupt zip central directory');
  }
  const nameLength = buffer.readUInt16LE(position + 28);
  const extraLength = buffer.readUInt16LE(position + 30);
  const commentLength = buffer.readUInt16LE(position + 32);
  const name = buffer.toString('utf8', position + 46, position + 46 + nameLength);
  const entry: CentralEntry = {
    name,
    method: buffer.readUInt16LE(position + 10),
    crc: buffer.readUInt32LE(position + 16),
    compressedSize: buffer.readUInt32LE(position + 20),
    size: buffer.readUInt32LE(position + 24),
    localOffset: buffer.readUInt32LE(position + 42),
    next: position + 46 + nameLength + extraLength + commentLength,
  };
  if (entry.compressedSize === ZIP32_LIMIT || entry.size === ZIP32_LIMIT || entry.localOffset === ZIP32_LIMIT) {
    fail(`'${name}' needs zip64, which is not supported`);
  }
  return entry;
}

function readMemberData(buffer: Buffer, entry: CentralEntry, member: string): Buffer {
  const fail = (reason: string): never => {
    throw new Error(`${member}: ${reason}`);
  };
  const local = entry.localOffset;
  if (local + 30 > buffer.length || buffer.readUInt32LE(local) !== LOCAL_HEADER_SIGNATURE) {
    fail('corrupt zip local header');
  }
  // Sizes come from the central directory: local headers may defer them to a data descriptor,
  // and their extra field (zip64 placeholders from Python's zipfile) may differ in length.
  const dataStart = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > buffer.length) fail('truncated zip member');
  const stored = buffer.subarray(dataStart, dataEnd);
  let bytes: Buffer;
  if (entry.method === METHOD_STORED) bytes = stored;
  else if (entry.method === METHOD_DEFLATE) bytes = zlib.inflateRawSync(stored);
  else return fail(`unsupported zip compression method ${entry.method}`);
  if (bytes.length !== entry.size) fail('zip member size does not match its directory entry');
  if (crc32(bytes) !== entry.crc) fail('zip member CRC mismatch (corrupt file)');
  return bytes;
}
