/**
 * The zip table-of-contents reader (models/formats/zip) on an archive written with every zip64
 * field in use (saturated 32-bit sizes and offsets, zip64 extra fields, zip64 end records), as a
 * `.pth` over 4 GB has them: entries, sizes and data offsets come out right. The ordinary layout is
 * covered by the real torch.save files (esmc-checkpoint.test.ts) and fflate's (esmc-pickle.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAt, readZipEntries } from '../../src-main/models/formats/zip';

const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const SATURATED = 0xffffffff;

/** One stored entry per (name, data), every size and offset given only through zip64 fields. */
function zip64Archive(files: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nameBytes = Buffer.from(name);
    const localExtra = Buffer.concat([u16(1), u16(16), u64(data.length), u64(data.length)]);
    const local = Buffer.concat([u32(0x04034b50), u16(45), u16(0), u16(0), u16(0), u16(0), u32(0), u32(SATURATED), u32(SATURATED), u16(nameBytes.length), u16(localExtra.length), nameBytes, localExtra, data]);
    const centralExtra = Buffer.concat([u16(1), u16(24), u64(data.length), u64(data.length), u64(offset)]);
    central.push(Buffer.concat([
      u32(0x02014b50), u16(45), u16(45), u16(0), u16(0), u16(0), u16(0), u32(0), u32(SATURATED), u32(SATURATED),
      u16(nameBytes.length), u16(centralExtra.length), u16(0), u16(0), u16(0), u32(0), u32(SATURATED), nameBytes, centralExtra,
    ]));
    parts.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(central);
  const zip64End = Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(files.length), u64(files.length), u64(directory.length), u64(offset)]);
  const locator = Buffer.concat([u32(0x07064b50), u32(0), u64(offset + directory.length), u32(1)]);
  const end = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(0xffff), u16(0xffff), u32(SATURATED), u32(SATURATED), u16(0)]);
  return Buffer.concat([...parts, directory, zip64End, locator, end]);
}

describe('zip reader', () => {
  it('reads entries whose sizes and offsets are only in zip64 fields', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'esmc-zip64-')), 'big.pth');
    const files: [string, Buffer][] = [['big/data.pkl', Buffer.from('pickle bytes')], ['big/data/0', Buffer.from(Float32Array.from([1.5, -2]).buffer)]];
    writeFileSync(file, zip64Archive(files));
    const entries = readZipEntries(file);
    expect(entries.map((entry) => [entry.name, entry.method, entry.size, entry.compressedSize])).toEqual(files.map(([name, data]) => [name, 0, data.length, data.length]));
    for (const [i, [, data]] of files.entries()) expect(readAt(file, entries[i]!.dataOffset, data.length).equals(data)).toBe(true);
  });

  it('says a truncated archive is damaged', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'esmc-zip-cut-')), 'cut.pth');
    writeFileSync(file, zip64Archive([['a/data.pkl', Buffer.from('x')]]).subarray(0, 60));
    expect(() => readZipEntries(file)).toThrow(/cut\.pth is not a readable zip archive: it has no zip directory at its end/);
  });
});
