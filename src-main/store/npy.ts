/**
 * store/npy — NumPy `.npy` and `.npz` files, the format ESM Studio stores embeddings, logits and
 * contact maps in, so that users can open them with `np.load` directly.
 *
 * The .npy codec is written here on purpose. The format is small
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): a magic string, a
 * version, a header length, a Python-literal header dict padded to 64 bytes, then the raw
 * little-endian C-order data. The one maintained npm codec, npyjs (1.2), was checked for issue
 * 13 and does not fit: its headers are not NumPy's (no spaces, 16-byte alignment, so files
 * differ from np.save's), it turns float16 into float32, its errors do not say what is wrong
 * with which file, and it pulls in a fetch polyfill the offline app has no use for. Headers here
 * are written byte-for-byte as NumPy writes them, and the streaming row writer/reader below
 * (matrices larger than memory) has no library equivalent at all.
 * `.npz` is a zip of `.npy` members, zipped and unzipped with fflate: stored members as np.savez
 * writes them, and deflated ones (np.savez_compressed) on reading. fflate does not check CRCs
 * when unzipping, so decodeNpz compares every member with its central-directory CRC itself.
 *
 * Data is viewed in host byte order; every platform ESM Studio ships on is little-endian.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory, writeAll, writeBytesAtomically, writingFile } from '../core/atomic';
import { crc32 } from 'node:zlib';
import { Zip, ZipPassThrough, unzipSync, zipSync, type Zippable } from 'fflate';

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

/** One member of an .npz: `<key>.npy` and its encoded bytes. */
export interface NpzMember {
  name: string;
  bytes: Uint8Array;
}

/** Where an archive's bytes go, in order (core/atomic's FileSink is one). */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

/** fflate writes local time: local midnight gives every time zone the same DOS date, 1980-01-01 00:00, so output is reproducible. */
const FIXED_MTIME = new Date(1980, 0, 1);
const ZIP32_LIMIT = 0xffffffff;
const MAX_MEMBERS = 0xffff;
const LOCAL_HEADER = 30;
const DATA_DESCRIPTOR = 16;
const CENTRAL_HEADER = 46;

/** The arrays as `<name>.npy` members of a stored zip, in memory, CRCs in the local headers as np.savez writes them. */
export function encodeNpz(entries: Record<string, NpyArray>): Buffer {
  const members: Zippable = {};
  for (const [name, array] of Object.entries(entries)) members[`${name}.npy`] = [encodeNpy(array), { level: 0, mtime: FIXED_MTIME }];
  const bytes = zipSync(members);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Streams the members to `sink` as a stored zip (fflate's streaming Zip: sizes and CRCs follow
 * each member in a data descriptor, which np.load reads). Members may be produced lazily (a
 * generator), so only one encoded array is in memory at a time. fflate has no zip64: archives of
 * 4 GiB or more, or of more than 65,535 arrays, are refused naming `file`.
 */
export function writeNpz(file: string, sink: ByteSink, members: Iterable<NpzMember>): void {
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    sink.write(chunk);
  });
  let count = 0;
  let size = 0;
  for (const member of members) {
    if (++count > MAX_MEMBERS) throw new Error(`${file}: more than ${MAX_MEMBERS} arrays do not fit a zip without zip64.`);
    const nameLength = Buffer.byteLength(member.name, 'utf8');
    size += LOCAL_HEADER + nameLength + member.bytes.length + DATA_DESCRIPTOR + CENTRAL_HEADER + nameLength;
    if (size >= ZIP32_LIMIT) throw new Error(`${file}: larger than 4 GiB, which needs zip64 (not supported); export as .npy instead.`);
    const entry = new ZipPassThrough(member.name);
    entry.mtime = FIXED_MTIME;
    zip.add(entry);
    entry.push(member.bytes, true);
  }
  zip.end();
}

/** Reads every `.npy` member (or only those named in `only`); keys drop the `.npy` suffix, as np.load does. */
export function decodeNpz(buffer: Buffer, file = '<buffer>', only?: readonly string[]): Record<string, NpyArray> {
  const keyOf = (name: string): string => (name.endsWith('.npy') ? name.slice(0, -'.npy'.length) : name);
  let members: Record<string, Uint8Array>;
  try {
    // A folder entry holds no array.
    members = unzipSync(buffer, { filter: (entry) => !entry.name.endsWith('/') && (!only || only.includes(keyOf(entry.name))) });
  } catch (error) {
    throw new Error(`${file}: not a zip file, or a damaged one (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const crcs = centralDirectoryCrcs(buffer);
  const result: Record<string, NpyArray> = {};
  for (const [name, bytes] of Object.entries(members)) {
    if (crc32(bytes) !== crcs.get(name)) throw new Error(`${file}:${name}: zip member CRC mismatch (corrupt file)`);
    result[keyOf(name)] = decodeNpy(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), `${file}:${name}`);
  }
  return result;
}

/**
 * Each member's CRC-32 from the zip's central directory (fflate, which has already read the
 * archive's structure, does not check them). Zip64 archives keep their count and offset in the
 * zip64 end record.
 */
function centralDirectoryCrcs(buffer: Buffer): Map<string, number> {
  const crcs = new Map<string, number>();
  let end = buffer.length - 22;
  while (end > 0 && buffer.readUInt32LE(end) !== 0x06054b50) end--;
  let count = buffer.readUInt16LE(end + 10);
  let position = buffer.readUInt32LE(end + 16);
  const locator = end - 20;
  if (locator >= 0 && buffer.readUInt32LE(locator) === 0x07064b50) {
    const zip64End = Number(buffer.readBigUInt64LE(locator + 8));
    count = Number(buffer.readBigUInt64LE(zip64End + 32));
    position = Number(buffer.readBigUInt64LE(zip64End + 48));
  }
  for (let index = 0; index < count; index++) {
    const nameLength = buffer.readUInt16LE(position + 28);
    const utf8 = (buffer.readUInt16LE(position + 8) & 0x0800) !== 0;
    const name = buffer.toString(utf8 ? 'utf8' : 'latin1', position + 46, position + 46 + nameLength);
    crcs.set(name, buffer.readUInt32LE(position + 16));
    position += 46 + nameLength + buffer.readUInt16LE(position + 30) + buffer.readUInt16LE(position + 32);
  }
  return crcs;
}
