import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeNpy, decodeNpz, encodeNpy, encodeNpz, writeNpz, readNpy, writeNpyAtomic, type NpyArray } from '../../src-main/store/npy';

// Lets a test make fs.writeSync fail after some bytes, as a full disk or a crash mid-write would.
const failure = vi.hoisted(() => ({ writesBeforeFailure: Infinity }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const writeSync = (...args: unknown[]): number => {
    if (failure.writesBeforeFailure <= 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    failure.writesBeforeFailure -= 1;
    // Write only a few bytes per call so a failure really leaves a partial file behind.
    const [fd, buffer, offset = 0, length] = args as [number, Uint8Array, number?, number?];
    return actual.writeSync(fd, buffer, offset, Math.min(length ?? buffer.length - offset, 16));
  };
  return { ...actual, default: { ...actual, writeSync }, writeSync };
});

afterEach(() => {
  failure.writesBeforeFailure = Infinity;
});

const tempDir = () => mkdtempSync(join(tmpdir(), 'esm-npy-'));

/** The bytes NumPy writes before the data: magic, version 1.0, little-endian length, padded dict. */
function expectedHeader(dict: string, totalLength: number): Buffer {
  const headerLength = totalLength - 10;
  const text = dict + ' '.repeat(headerLength - dict.length - 1) + '\n';
  return Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, headerLength & 0xff, headerLength >> 8]), Buffer.from(text, 'latin1')]);
}

function headerOf(bytes: Buffer): Buffer {
  return bytes.subarray(0, bytes.indexOf(0x0a) + 1);
}

describe('npy header', () => {
  // Expected lengths follow the spec: dict + NumPy's 21-digit growth room, spaces, '\n', to a multiple of 64.
  it('writes a 2-D header byte-exact', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [3, 4], data: new Float32Array(12) });
    expect(headerOf(bytes)).toEqual(expectedHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 128));
    expect(bytes.length).toBe(128 + 48);
  });

  it('writes a scalar shape as ()', () => {
    const bytes = encodeNpy({ dtype: 'float64', shape: [], data: new Float64Array([1.5]) });
    expect(headerOf(bytes)).toEqual(expectedHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 128));
    expect(bytes.readDoubleLE(128)).toBe(1.5);
  });

  it('writes a 1-D shape as (n,)', () => {
    const bytes = encodeNpy({ dtype: 'int32', shape: [5], data: new Int32Array([0, 1, 2, 3, 4]) });
    expect(headerOf(bytes)).toEqual(expectedHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", 128));
    expect(bytes.subarray(128)).toEqual(Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]));
  });

  it('writes one-byte and half types with NumPy descrs', () => {
    expect(headerOf(encodeNpy({ dtype: 'bool', shape: [7], data: new Uint8Array(7) }))).toEqual(
      expectedHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (7,), }", 128),
    );
    expect(headerOf(encodeNpy({ dtype: 'uint8', shape: [0], data: new Uint8Array(0) }))).toEqual(
      expectedHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }", 128),
    );
    expect(headerOf(encodeNpy({ dtype: 'float16', shape: [2, 3, 4], data: new Uint16Array(24) }))).toEqual(
      expectedHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3, 4), }", 128),
    );
  });

  it('grows the header to the next multiple of 64 when the dict is long', () => {
    const shape = new Array<number>(15).fill(1);
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
    expect(headerOf(encodeNpy({ dtype: 'float32', shape, data: new Float32Array(1) }))).toEqual(expectedHeader(dict, 192));
  });

  it('switches to format 2.0 only when the header length overflows 2 bytes', () => {
    const shape = new Array<number>(22_000).fill(1);
    const bytes = encodeNpy({ dtype: 'uint8', shape, data: new Uint8Array([9]) });
    expect([...bytes.subarray(6, 8)]).toEqual([2, 0]);
    const headerLength = bytes.readUInt32LE(8);
    expect((12 + headerLength) % 64).toBe(0);
    expect(decodeNpy(bytes)).toEqual({ dtype: 'uint8', shape, data: new Uint8Array([9]) });
  });
});

describe('npy round trips', () => {
  const samples: NpyArray[] = [
    { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, -1.5, 3.25, Number.NaN, Infinity, 1e-30]) },
    { dtype: 'float64', shape: [4], data: new Float64Array([Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE]) },
    { dtype: 'int32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, 7]) },
    { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n]) },
    { dtype: 'uint8', shape: [1, 1, 3], data: new Uint8Array([0, 128, 255]) },
    { dtype: 'float16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x7c00]) }, // 1, -2, +inf
    { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    { dtype: 'float32', shape: [], data: new Float32Array([7]) },
    { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
  ];

  for (const sample of samples) {
    it(`${sample.dtype} (${sample.shape.join(', ')})`, () => {
      const decoded = decodeNpy(encodeNpy(sample));
      expect(decoded.dtype).toBe(sample.dtype);
      expect(decoded.shape).toEqual(sample.shape);
      expect(decoded.data.constructor).toBe(sample.data.constructor);
      expect(Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength)).toEqual(
        Buffer.from(sample.data.buffer, sample.data.byteOffset, sample.data.byteLength),
      );
    });
  }

  it('encodes a typed-array view at an offset into a larger buffer', () => {
    const backing = new Float32Array([9, 1, 2, 9]);
    const decoded = decodeNpy(encodeNpy({ dtype: 'float32', shape: [2], data: backing.subarray(1, 3) }));
    expect([...decoded.data]).toEqual([1, 2]);
  });

  it('decodes data that is not aligned in the source buffer', () => {
    const bytes = encodeNpy({ dtype: 'float64', shape: [2], data: new Float64Array([1, 2]) });
    const shifted = Buffer.alloc(bytes.length + 1).subarray(1);
    bytes.copy(shifted);
    expect([...decodeNpy(shifted).data]).toEqual([1, 2]);
  });

  it('reads headers written with other spacing, key order and quotes', () => {
    const header = `{"shape": ( 2 , ), "fortran_order": False, "descr": "<i4"}`;
    const bytes = Buffer.concat([expectedHeader(header, 128), Buffer.from(new Int32Array([5, 6]).buffer)]);
    expect(decodeNpy(bytes)).toEqual({ dtype: 'int32', shape: [2], data: new Int32Array([5, 6]) });
  });
});

describe('npy rejects', () => {
  const withHeader = (dict: string, data: Buffer = Buffer.alloc(16)) => Buffer.concat([expectedHeader(dict, 128), data]);

  it('fortran_order True, with a message that says how to fix it', () => {
    const bytes = withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }");
    expect(() => decodeNpy(bytes, 'a.npy')).toThrow(/a\.npy: fortran_order arrays are not supported.*ascontiguousarray/);
  });

  it('big-endian data', () => {
    const bytes = withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }");
    expect(() => decodeNpy(bytes, 'b.npy')).toThrow(/b\.npy: big-endian/);
  });

  it('unsupported and structured dtypes', () => {
    expect(() => decodeNpy(withHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"))).toThrow(/unsupported dtype '<c8'/);
    expect(() => decodeNpy(withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }"))).toThrow(/bad \.npy header/);
  });

  it('truncated data, truncated header and bad magic', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [4], data: new Float32Array(4) });
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 1), 'c.npy')).toThrow(/c\.npy: truncated \.npy data: expected 16 bytes, found 15/);
    expect(() => decodeNpy(bytes.subarray(0, 40), 'c.npy')).toThrow(/c\.npy: truncated \.npy header/);
    expect(() => decodeNpy(bytes.subarray(0, 5), 'c.npy')).toThrow(/c\.npy: not a NumPy \.npy file/);
    expect(() => decodeNpy(Buffer.from('PK\x03\x04 this is a zip'), 'c.npy')).toThrow(/bad magic/);
  });

  it('trailing bytes after the data', () => {
    const bytes = encodeNpy({ dtype: 'uint8', shape: [2], data: new Uint8Array(2) });
    expect(() => decodeNpy(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/unexpected 1 bytes/);
  });

  it('arrays whose data does not match dtype or shape, when encoding', () => {
    expect(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) })).toThrow(/needs 3 elements/);
    expect(() => encodeNpy({ dtype: 'float32', shape: [2], data: new Float64Array(2) })).toThrow(/needs a Float32Array/);
    expect(() => encodeNpy({ dtype: 'int32', shape: [-1], data: new Int32Array(0) })).toThrow(/invalid shape/);
  });

  it('names the file when reading from disk', () => {
    const file = join(tempDir(), 'broken.npy');
    writeFileSync(file, 'not numpy');
    expect(() => readNpy(file)).toThrow(file);
  });
});

describe('writeNpyAtomic', () => {
  const array: NpyArray = { dtype: 'float32', shape: [64, 8], data: Float32Array.from({ length: 512 }, (_, i) => i) };

  it('creates parent folders, writes the file, and leaves no .partial', () => {
    const dir = tempDir();
    const file = join(dir, 'runs', 'r1', 'embeddings.npy');
    writeNpyAtomic(file, array);
    expect(readNpy(file)).toEqual(array);
    expect(readdirSync(join(dir, 'runs', 'r1'))).toEqual(['embeddings.npy']);
  });

  it('a write that fails midway keeps the old file and removes the .partial', () => {
    const dir = tempDir();
    const file = join(dir, 'out.npy');
    const old: NpyArray = { dtype: 'uint8', shape: [1], data: new Uint8Array([1]) };
    writeNpyAtomic(file, old);
    failure.writesBeforeFailure = 3; // 48 bytes in, out of 2 KiB
    expect(() => writeNpyAtomic(file, array)).toThrow(`The disk is full while writing ${file}; free space and resume.`);
    expect(readNpy(file)).toEqual(old);
    expect(readdirSync(dir)).toEqual(['out.npy']);
  });

  it('a write that fails midway with no old file leaves nothing under the final name', () => {
    const dir = tempDir();
    failure.writesBeforeFailure = 1;
    expect(() => writeNpyAtomic(join(dir, 'out.npy'), array)).toThrow(`The disk is full while writing ${join(dir, 'out.npy')}; free space and resume.`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an array that cannot be encoded touches nothing', () => {
    const dir = tempDir();
    expect(() => writeNpyAtomic(join(dir, 'out.npy'), { dtype: 'float32', shape: [5], data: new Float32Array(1) })).toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed rename removes the .partial', () => {
    const dir = tempDir();
    const file = join(dir, 'out.npy');
    mkdirSync(join(file, 'occupied'), { recursive: true }); // a non-empty folder cannot be renamed over
    expect(() => writeNpyAtomic(file, array)).toThrow();
    expect(statSync(file).isDirectory()).toBe(true);
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it.skipIf(process.platform === 'win32')('a read-only folder fails before anything is written', () => {
    const dir = tempDir();
    chmodSync(dir, 0o555);
    try {
      expect(writeAsAnotherUserIfRoot(join(dir, 'out.npy'))).toMatch(/EACCES/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

/**
 * Writes a small array to `file`, returning the error message (or "written"). Root may write
 * anywhere, so as root (CI runs as root) the write runs in a child process as user "nobody".
 */
function writeAsAnotherUserIfRoot(file: string): string {
  if (process.getuid?.() !== 0) {
    try {
      writeNpyAtomic(file, { dtype: 'float32', shape: [1], data: new Float32Array([1]) });
      return 'written';
    } catch (error) {
      return (error as Error).message;
    }
  }
  const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'src-main', 'store', 'npy.ts')).href;
  const code = `const { writeNpyAtomic } = await import(${JSON.stringify(module)});
try { writeNpyAtomic(${JSON.stringify(file)}, { dtype: 'float32', shape: [1], data: new Float32Array([1]) }); console.log('written'); }
catch (error) { console.log(error.message); }`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { uid: 65534, gid: 65534, encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

describe('npz', () => {
  const entries: Record<string, NpyArray> = {
    embeddings: { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    ids: { dtype: 'int64', shape: [2], data: new BigInt64Array([10n, 20n]) },
    'mask_é': { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) },
  };

  it('round trips every member', () => {
    expect(decodeNpz(encodeNpz(entries))).toEqual(entries);
    expect(decodeNpz(encodeNpz({}))).toEqual({});
  });

  it('writes a plain stored zip: members named <key>.npy with correct CRCs, reproducibly', () => {
    const bytes = encodeNpz({ embeddings: entries.embeddings as NpyArray });
    expect(bytes.readUInt32LE(0)).toBe(0x04034b50);
    expect(bytes.readUInt16LE(8)).toBe(0); // stored
    const nameLength = bytes.readUInt16LE(26);
    expect(bytes.toString('utf8', 30, 30 + nameLength)).toBe('embeddings.npy');
    const npy = encodeNpy(entries.embeddings as NpyArray);
    expect(bytes.readUInt32LE(14)).toBe(zlib.crc32(npy));
    expect(bytes.subarray(30 + nameLength, 30 + nameLength + npy.length)).toEqual(npy);
    expect(encodeNpz(entries)).toEqual(encodeNpz(entries));
  });

  it('reads np.savez output (zip64 placeholders in the local headers)', () => {
    // np.savez(f, emb=np.arange(6, dtype='<f4').reshape(2, 3), ids=np.array([7, -1], dtype='<i8')), NumPy 2.4
    const bytes = Buffer.from(
      'UEsDBC0AAAAAAAAAIQBP6QAq//////////8HABQAZW1iLm5weQEAEACYAAAAAAAAAJgAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEBQSwMELQAAAAAAAAAhAOCSzrz//////////wcAFABpZHMubnB5AQAQAJAAAAAAAAAAkAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgcAAAAAAAAA//////////9QSwECLQMtAAAAAAAAACEAT+kAKpgAAACYAAAABwAAAAAAAAAAAAAAgAEAAAAAZW1iLm5weVBLAQItAy0AAAAAAAAAIQDgks68kAAAAJAAAAAHAAAAAAAAAAAAAACAAdEAAABpZHMubnB5UEsFBgAAAAACAAIAagAAAJoBAAAAAA==',
      'base64',
    );
    expect(decodeNpz(bytes)).toEqual({
      emb: { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) },
      ids: { dtype: 'int64', shape: [2], data: new BigInt64Array([7n, -1n]) },
    });
  });

  it('reads np.savez_compressed output (deflated members)', () => {
    // np.savez_compressed(f, contacts=np.eye(3, dtype='<f4'), mask=np.array([True, False])), NumPy 2.4
    const bytes = Buffer.from(
      'UEsDBC0AAAAIAAAAIQC5HlG1//////////8MABQAY29udGFjdHMubnB5AQAQAKQAAAAAAAAATwAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2airqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOgrGmjoKtQpkAy4GhgZ7BhSAyQcAUEsDBC0AAAAIAAAAIQDuGbtd//////////8IABQAbWFzay5ucHkBABAAggAAAAAAAABGAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF6TZKiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6mjoKtQoUAC5GBgBQSwECLQMtAAAACAAAACEAuR5RtU8AAACkAAAADAAAAAAAAAAAAAAAgAEAAAAAY29udGFjdHMubnB5UEsBAi0DLQAAAAgAAAAhAO4Zu11GAAAAggAAAAgAAAAAAAAAAAAAAIABjQAAAG1hc2subnB5UEsFBgAAAAACAAIAcAAAAA0BAAAAAA==',
      'base64',
    );
    expect(decodeNpz(bytes)).toEqual({
      contacts: { dtype: 'float32', shape: [3, 3], data: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) },
      mask: { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) },
    });
  });

  it('streams an archive member by member that reads back the same (writeNpz, the exports writer)', () => {
    const chunks: Uint8Array[] = [];
    const members = Object.entries(entries).map(([key, array]) => ({ name: `${key}.npy`, bytes: encodeNpy(array) }));
    writeNpz('s.npz', { write: (bytes) => chunks.push(bytes) }, members);
    const bytes = Buffer.concat(chunks);
    expect(decodeNpz(bytes, 's.npz')).toEqual(entries);
    // The same members written again give the same bytes (fixed timestamps).
    const again: Uint8Array[] = [];
    writeNpz('s.npz', { write: (chunk) => again.push(chunk) }, members);
    expect(Buffer.concat(again).equals(bytes)).toBe(true);
  });

  it('rejects a corrupt member and names it', () => {
    const bytes = Buffer.from(encodeNpz({ ids: entries.ids as NpyArray }));
    const inData = 30 + 'ids.npy'.length + 130; // a byte inside the member's data
    bytes[inData] = (bytes[inData] as number) ^ 0xff;
    expect(() => decodeNpz(bytes, 'r.npz')).toThrow(/r\.npz:ids\.npy: zip member CRC mismatch/);
    expect(() => decodeNpz(Buffer.from('not a zip'), 'r.npz')).toThrow(/r\.npz: not a zip file/);
  });
});
