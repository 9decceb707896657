/**
 * store/zip — the one zip writer: a minimal stored (uncompressed) zip, streamed member by member
 * to a sink, for `.npz` files whose members are already-encoded `.npy` bytes. Used by store/npy
 * (encodeNpz, in memory) and exports/numpy (straight to the export file). Same layout as
 * np.savez: zip 2.0, UTF-8 names flagged, a fixed 1980-01-01 timestamp so output is
 * reproducible. Also owns the zip constants and the CRC-32 that store/npy's zip reader shares.
 */
import * as zlib from 'node:zlib';

/** Where the archive's bytes go, in order (exports/atomic's FileSink is one). */
export interface ZipSink {
  write(bytes: Uint8Array): void;
}

export interface ZipMember {
  name: string;
  bytes: Uint8Array;
}

export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;
export const ZIP32_LIMIT = 0xffffffff;
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
const ZIP_VERSION = 20; // 2.0: the oldest version that every unzip tool reads
const UTF8_NAME_FLAG = 0x0800;
const DOS_DATE_1980_01_01 = (1 << 5) | 1; // fixed timestamp keeps the output reproducible
const MAX_MEMBERS = 0xffff;

/**
 * Writes the members one after another, then the central directory. Members may be produced
 * lazily (a generator), so only one encoded array needs to be in memory at a time. Errors name
 * `file`.
 */
export function writeStoredZip(file: string, sink: ZipSink, members: Iterable<ZipMember>): void {
  const central: Buffer[] = [];
  let offset = 0;
  for (const member of members) {
    if (central.length === MAX_MEMBERS) throw new Error(`${file}: more than ${MAX_MEMBERS} arrays do not fit a zip without zip64.`);
    const entry = memberEntry(member);
    const local = localHeader(entry);
    if (offset + local.length + member.bytes.length >= ZIP32_LIMIT) {
      throw new Error(`${file}: larger than 4 GiB, which needs zip64 (not supported); export as .npy instead.`);
    }
    central.push(centralHeader(entry, offset));
    sink.write(local);
    sink.write(member.bytes);
    offset += local.length + member.bytes.length;
  }
  const directory = Buffer.concat(central);
  if (offset + directory.length >= ZIP32_LIMIT) throw new Error(`${file}: larger than 4 GiB, which needs zip64 (not supported).`);
  sink.write(directory);
  sink.write(endRecord(central.length, directory.length, offset));
}

interface Entry {
  name: Buffer;
  flags: number;
  crc: number;
  size: number;
}

function memberEntry(member: ZipMember): Entry {
  return {
    name: Buffer.from(member.name, 'utf8'),
    flags: /^[\x20-\x7e]*$/.test(member.name) ? 0 : UTF8_NAME_FLAG,
    crc: crc32(member.bytes),
    size: member.bytes.length,
  };
}

function localHeader(entry: Entry): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(ZIP_VERSION, 4);
  header.writeUInt16LE(entry.flags, 6);
  header.writeUInt16LE(METHOD_STORED, 8);
  // time 00:00:00 and the extra field length stay zero
  header.writeUInt16LE(DOS_DATE_1980_01_01, 12);
  header.writeUInt32LE(entry.crc, 14);
  header.writeUInt32LE(entry.size, 18); // compressed size
  header.writeUInt32LE(entry.size, 22); // uncompressed size
  header.writeUInt16LE(entry.name.length, 26);
  return Buffer.concat([header, entry.name]);
}

function centralHeader(entry: Entry, offset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(ZIP_VERSION, 4); // version made by
  header.writeUInt16LE(ZIP_VERSION, 6); // version needed
  header.writeUInt16LE(entry.flags, 8);
  header.writeUInt16LE(METHOD_STORED, 10);
  header.writeUInt16LE(DOS_DATE_1980_01_01, 14);
  header.writeUInt32LE(entry.crc, 16);
  header.writeUInt32LE(entry.size, 20);
  header.writeUInt32LE(entry.size, 24);
  header.writeUInt16LE(entry.name.length, 28);
  // extra length, comment length, disk number, internal and external attributes stay 0
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, entry.name]);
}

function endRecord(count: number, directorySize: number, directoryOffset: number): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(END_OF_CENTRAL_DIRECTORY_SIGNATURE, 0);
  record.writeUInt16LE(count, 8); // entries on this disk
  record.writeUInt16LE(count, 10); // entries in total
  record.writeUInt32LE(directorySize, 12);
  record.writeUInt32LE(directoryOffset, 16);
  return record;
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (the zip polynomial). zlib.crc32 exists from Node 20.15; the table is a fallback.

type Crc32 = (data: Uint8Array) => number;

const nativeCrc32 = (zlib as { crc32?: Crc32 }).crc32;

let crcTable: Uint32Array | undefined;

function tableCrc32(data: Uint8Array): number {
  crcTable ??= makeCrcTable();
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

export function crc32(data: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(data) : tableCrc32(data);
}

/** Exposed for tests: the fallback must agree with zlib. */
export const _tableCrc32ForTests = tableCrc32;
