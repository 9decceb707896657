/**
 * models/formats/zip — the table of contents of a zip archive, read from its central directory
 * with positioned reads only (a 2.3 GB `.pth` is never loaded): each entry's name, compression,
 * sizes and where its bytes start. Enough for PyTorch's `torch.save` archives, which store every
 * record uncompressed; zip64 sizes and offsets are understood. Nothing here decompresses large
 * entries or writes anything.
 */
import fs from 'node:fs';
import { ApiError } from '../../api/errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored (uncompressed), 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute position of the entry's first data byte in the archive. */
  dataOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
/** The end record may be followed by a comment of up to 65,535 bytes. */
const MAX_TAIL = EOCD_BYTES + 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const FFFF = 0xffff;
const FFFFFFFF = 0xffffffff;

/** `length` bytes at `position` of `file`, or an error naming the file. */
export function readAt(file: string, position: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  const fd = fs.openSync(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const count = fs.readSync(fd, bytes, done, Math.min(length - done, 1 << 30), position + done);
      if (count === 0) throw damaged(file, 'it ends in the middle of a record (truncated download?)');
      done += count;
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** Whether the file starts like a zip archive (a local file header). Never throws. */
export function looksLikeZip(file: string): boolean {
  try {
    return fs.statSync(file).size >= EOCD_BYTES && readAt(file, 0, 4).readUInt32LE(0) === LOCAL_SIGNATURE;
  } catch {
    return false;
  }
}

/** Every entry of the archive, in central-directory order. */
export function readZipEntries(file: string): ZipEntry[] {
  const size = fs.statSync(file).size;
  if (size < EOCD_BYTES) throw damaged(file, `it is only ${size} bytes long`);
  const tailStart = Math.max(0, size - MAX_TAIL);
  const tail = readAt(file, tailStart, size - tailStart);
  let eocd = -1;
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw damaged(file, 'it has no zip directory at its end (truncated download?)');
  let count = tail.readUInt16LE(eocd + 10);
  let directorySize = tail.readUInt32LE(eocd + 12);
  let directoryOffset = tail.readUInt32LE(eocd + 16);
  if (count === FFFF || directorySize === FFFFFFFF || directoryOffset === FFFFFFFF) {
    const locator = eocd - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) throw damaged(file, 'its zip64 directory locator is missing');
    const zip64 = readAt(file, Number(tail.readBigUInt64LE(locator + 8)), 56);
    if (zip64.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw damaged(file, 'its zip64 directory record is damaged');
    count = Number(zip64.readBigUInt64LE(32));
    directorySize = Number(zip64.readBigUInt64LE(40));
    directoryOffset = Number(zip64.readBigUInt64LE(48));
  }
  if (directoryOffset + directorySize > size) throw damaged(file, 'its zip directory points past the end of the file');
  const directory = readAt(file, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw damaged(file, `zip directory entry ${n + 1} is damaged`);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
    const sizes = zip64Sizes(directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength), {
      size: directory.readUInt32LE(at + 24),
      compressedSize: directory.readUInt32LE(at + 20),
      localOffset: directory.readUInt32LE(at + 42),
    });
    entries.push({ name, method: directory.readUInt16LE(at + 10), size: sizes.size, compressedSize: sizes.compressedSize, dataOffset: dataStart(file, sizes.localOffset, name) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Sizes and offset, replaced by the zip64 extra field's 64-bit values where the 32-bit ones are saturated. */
function zip64Sizes(extra: Buffer, base: { size: number; compressedSize: number; localOffset: number }) {
  const result = { ...base };
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA_ID) {
      let field = at + 4;
      const next = (): number => {
        const value = Number(extra.readBigUInt64LE(field));
        field += 8;
        return value;
      };
      if (base.size === FFFFFFFF) result.size = next();
      if (base.compressedSize === FFFFFFFF) result.compressedSize = next();
      if (base.localOffset === FFFFFFFF) result.localOffset = next();
    }
    at += 4 + length;
  }
  return result;
}

/** Where an entry's data begins: after its local header, whose name and extra field (PyTorch pads records there) may differ in length from the directory's. */
function dataStart(file: string, localOffset: number, name: string): number {
  const header = readAt(file, localOffset, 30);
  if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw damaged(file, `the record of ${name} is damaged`);
  return localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

function damaged(file: string, problem: string): ApiError {
  return new ApiError('invalid-input', `${file} is not a readable zip archive: ${problem}. The file is damaged or incomplete; download it again.`);
}
