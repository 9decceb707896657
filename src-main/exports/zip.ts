/**
 * exports/zip — a minimal stored (uncompressed) zip writer for `.npz` files whose members are
 * already-encoded `.npy` bytes. store/npy's encodeNpz only takes its own numeric dtypes, and the
 * ids of an export are a unicode ('<U') array, so the archive is assembled here. Same layout as
 * store/npy (and np.savez): zip 2.0, UTF-8 names flagged, a fixed 1980-01-01 timestamp.
 */
import * as zlib from 'node:zlib';
import type { FileSink } from './atomic';

export interface ZipMember {
  name: string;
  bytes: Uint8Array;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;
const ZIP_VERSION = 20;
const UTF8_NAME_FLAG = 0x0800;
const DOS_DATE_1980_01_01 = (1 << 5) | 1;
const ZIP32_LIMIT = 0xffffffff;
const MAX_MEMBERS = 0xffff;

/**
 * Writes the members one after another, then the central directory. Members may be produced
 * lazily (a generator), so only one encoded array needs to be in memory at a time.
 */
export function writeStoredZip(file: string, sink: FileSink, members: Iterable<ZipMember>): void {
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
    crc: zlib.crc32(member.bytes),
    size: member.bytes.length,
  };
}

function localHeader(entry: Entry): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(ZIP_VERSION, 4);
  header.writeUInt16LE(entry.flags, 6);
  // method 0 (stored) and time 00:00:00 stay zero
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
  header.writeUInt16LE(DOS_DATE_1980_01_01, 14);
  header.writeUInt32LE(entry.crc, 16);
  header.writeUInt32LE(entry.size, 20);
  header.writeUInt32LE(entry.size, 24);
  header.writeUInt16LE(entry.name.length, 28);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, entry.name]);
}

function endRecord(count: number, directorySize: number, directoryOffset: number): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(END_OF_CENTRAL_DIRECTORY_SIGNATURE, 0);
  record.writeUInt16LE(count, 8);
  record.writeUInt16LE(count, 10);
  record.writeUInt32LE(directorySize, 12);
  record.writeUInt32LE(directoryOffset, 16);
  return record;
}
