/**
 * Unit tests for src-main/esm/checkpoint/safetensors: float16 / bfloat16 / float64 decoding on
 * hand-picked bit patterns (subnormals, infinities, NaN, signed zero), header validation on
 * damaged files, the sharded index, and that reading one tensor touches only that tensor's bytes.
 */
import fs from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import {
  openSafetensors,
  openShardedSafetensors,
  readFloat32,
  type TensorInfo,
} from '../../src-main/models/formats/safetensors';
import {
  bits16Tensor,
  float32Tensor,
  float64Tensor,
  writeSafetensors,
  type RawTensor,
} from '../support/safetensors-writer';

const temporaryFolder = (): string => mkdtempSync(join(tmpdir(), 'esm-safetensors-'));

function writeOne(tensors: RawTensor[]): string {
  const file = join(temporaryFolder(), 'model.safetensors');
  writeSafetensors(file, tensors);
  return file;
}

function only(file: string, name: string): TensorInfo {
  const info = openSafetensors(file).get(name);
  if (!info) throw new Error(`${name} not in ${file}`);
  return info;
}

/** The message of the ApiError('invalid-input') that `call` throws. */
function refusal(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid-input');
    return (error as ApiError).message;
  }
  throw new Error('expected an ApiError');
}

describe('tensor table', () => {
  it('lists name, dtype, shape and absolute byte range of every tensor', () => {
    const file = writeOne([float32Tensor('a', [2, 3], [1, 2, 3, 4, 5, 6]), bits16Tensor('b', 'F16', [1], [0x3c00])]);
    const table = openSafetensors(file);
    const headerEnd = 8 + Number(fs.readFileSync(file).readBigUInt64LE(0));
    expect([...table.keys()]).toEqual(['a', 'b']);
    expect(table.get('a')).toEqual({ name: 'a', dtype: 'F32', shape: [2, 3], byteOffset: headerEnd, byteLength: 24, file });
    expect(table.get('b')).toEqual({ name: 'b', dtype: 'F16', shape: [1], byteOffset: headerEnd + 24, byteLength: 2, file });
    expect([...readFloat32(only(file, 'a'))]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads scalars and empty tensors', () => {
    const file = writeOne([float32Tensor('scalar', [], [2.5]), float32Tensor('empty', [0, 4], [])]);
    expect([...readFloat32(only(file, 'scalar'))]).toEqual([2.5]);
    expect(readFloat32(only(file, 'empty'))).toHaveLength(0);
  });
});

describe('float conversion', () => {
  it('decodes float16 exactly, subnormals, infinities, NaN and -0 included', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504], // largest finite
      [0x0400, 2 ** -14], // smallest normal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x8001, -(2 ** -24)],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const file = writeOne([bits16Tensor('h', 'F16', [cases.length + 3], [...cases.map(([bits]) => bits), 0x8000, 0x7e00, 0xfc01])]);
    const values = readFloat32(only(file, 'h'));
    cases.forEach(([, expected], index) => expect(values[index]).toBe(expected));
    expect(Object.is(values[cases.length], -0)).toBe(true);
    expect(Number.isNaN(values[cases.length + 1])).toBe(true);
    expect(Number.isNaN(values[cases.length + 2])).toBe(true);
  });

  it('decodes bfloat16 as the top half of a float32', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x3eab, 0.333984375],
      [0x0001, Math.fround(2 ** -133)], // a float32 subnormal
      [0x7f7f, 3.3895313892515355e38], // largest finite
      [0x7f80, Infinity],
      [0xff80, -Infinity],
    ];
    const file = writeOne([bits16Tensor('b', 'BF16', [cases.length + 1], [...cases.map(([bits]) => bits), 0x7fc0])]);
    const values = readFloat32(only(file, 'b'));
    cases.forEach(([, expected], index) => expect(values[index]).toBe(expected));
    expect(Number.isNaN(values[cases.length])).toBe(true);
  });

  it('rounds float64 to the nearest float32', () => {
    const doubles = [0.1, 1 / 3, -1e-30, 1e40, 123456789.123];
    const file = writeOne([float64Tensor('d', [5], doubles)]);
    expect([...readFloat32(only(file, 'd'))]).toEqual(doubles.map(Math.fround));
  });

  it('refuses to read an integer tensor as weights', () => {
    const file = writeOne([{ name: 'ids', dtype: 'I64', shape: [2], bytes: new Uint8Array(16) }]);
    const message = refusal(() => readFloat32(only(file, 'ids')));
    expect(message).toContain(file);
    expect(message).toContain('"ids"');
    expect(message).toContain('I64');
  });
});

describe('damaged files', () => {
  /** A file whose 8-byte prefix declares `length` and whose header is `json` (unpadded). */
  function fileWithHeader(json: string, data = new Uint8Array(0), length = Buffer.byteLength(json)): string {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(length));
    const file = join(temporaryFolder(), 'broken.safetensors');
    writeFileSync(file, Buffer.concat([prefix, Buffer.from(json), data]));
    return file;
  }

  it('refuses a file too short to hold the length', () => {
    const file = join(temporaryFolder(), 'short.safetensors');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    const message = refusal(() => openSafetensors(file));
    expect(message).toContain(file);
    expect(message).toContain('too short');
  });

  it('refuses an impossible header length', () => {
    expect(refusal(() => openSafetensors(fileWithHeader('{}', undefined, 0)))).toContain('impossible');
    expect(refusal(() => openSafetensors(fileWithHeader('{}', undefined, 2 ** 40)))).toContain('impossible');
    expect(refusal(() => openSafetensors(fileWithHeader('{}', undefined, 500)))).toContain('the header claims 500 bytes');
  });

  it('refuses a header that is not JSON, or not an object', () => {
    const garbage = fileWithHeader('{"a": {"dtype": "F32", "sha');
    const message = refusal(() => openSafetensors(garbage));
    expect(message).toContain(garbage);
    expect(message).toContain('not valid JSON');
    expect(refusal(() => openSafetensors(fileWithHeader('[1, 2]')))).toContain('not a JSON object');
    // A pickle (pytorch_model.bin renamed) starts with bytes that make an absurd length.
    const pickle = join(temporaryFolder(), 'pickle.safetensors');
    writeFileSync(pickle, Buffer.from([0x80, 0x02, 0x63, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74]));
    expect(refusal(() => openSafetensors(pickle))).toContain('not a readable safetensors file');
  });

  it('names the tensor whose entry is wrong', () => {
    const entry = (fields: Record<string, unknown>): string => JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...fields } });
    const cases: [Record<string, unknown>, string][] = [
      [{ dtype: 'F128' }, 'data type "F128"'],
      [{ shape: 'two' }, 'shape "two"'],
      [{ shape: [2, -1] }, 'shape [2,-1]'],
      [{ data_offsets: [8, 0] }, 'data_offsets [8,0]'],
      [{ data_offsets: [0, 12] }, 'spans 12 bytes, but F32 of shape [2] needs 8'],
      [{ shape: [3], data_offsets: [0, 12] }, 'past the end of the file'],
    ];
    for (const [fields, expected] of cases) {
      const file = fileWithHeader(entry(fields), new Uint8Array(8));
      const message = refusal(() => openSafetensors(file));
      expect(message).toContain(file);
      expect(message).toContain('"w"');
      expect(message).toContain(expected);
    }
  });

  it('refuses a file that was cut short after opening', () => {
    const file = writeOne([float32Tensor('w', [4], [1, 2, 3, 4])]);
    const info = only(file, 'w');
    fs.truncateSync(file, info.byteOffset + 4);
    const message = refusal(() => readFloat32(info));
    expect(message).toContain('"w"');
    expect(message).toContain('truncated');
  });

  it('says so when the file does not exist', () => {
    const missing = join(temporaryFolder(), 'nothing.safetensors');
    expect(refusal(() => openSafetensors(missing))).toContain(`Cannot read ${missing}: the file does not exist`);
  });
});

describe('sharded checkpoints', () => {
  function sharded(weightMap: Record<string, string>, shards: Record<string, RawTensor[]>): string {
    const folder = temporaryFolder();
    for (const [name, tensors] of Object.entries(shards)) writeSafetensors(join(folder, name), tensors);
    const index = join(folder, 'model.safetensors.index.json');
    writeFileSync(index, JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    return index;
  }
  const a = float32Tensor('a', [2], [1, 2]);
  const b = float32Tensor('b', [1], [3]);

  it('merges the shards', () => {
    const index = sharded({ a: 'one.safetensors', b: 'two.safetensors' }, { 'one.safetensors': [a], 'two.safetensors': [b] });
    const table = openShardedSafetensors(index);
    expect([...table.keys()].sort()).toEqual(['a', 'b']);
    expect(table.get('b')?.file).toBe(join(index, '..', 'two.safetensors'));
    expect([...readFloat32(table.get('a') as TensorInfo)]).toEqual([1, 2]);
    expect([...readFloat32(table.get('b') as TensorInfo)]).toEqual([3]);
  });

  it('refuses a missing shard, naming it', () => {
    const index = sharded({ a: 'one.safetensors', b: 'two.safetensors' }, { 'one.safetensors': [a] });
    const message = refusal(() => openShardedSafetensors(index));
    expect(message).toContain(index);
    expect(message).toContain('two.safetensors');
    expect(message).toContain('missing');
  });

  it('refuses an index that disagrees with its shards', () => {
    const index = sharded({ a: 'one.safetensors', b: 'one.safetensors' }, { 'one.safetensors': [a] });
    expect(refusal(() => openShardedSafetensors(index))).toContain('tensor "b" is in one.safetensors, but that file does not contain it');
    const twice = sharded({ a: 'one.safetensors', b: 'two.safetensors' }, { 'one.safetensors': [a, b], 'two.safetensors': [b] });
    expect(refusal(() => openShardedSafetensors(twice))).toContain('tensor "b" is in both one.safetensors and two.safetensors');
  });

  it('refuses shards outside the model folder and indexes without a weight_map', () => {
    const escape = sharded({ a: '../elsewhere.safetensors' }, {});
    expect(refusal(() => openShardedSafetensors(escape))).toContain('outside the model folder');
    const noMap = sharded({}, {});
    writeFileSync(noMap, JSON.stringify({ metadata: {} }));
    expect(refusal(() => openShardedSafetensors(noMap))).toContain('no "weight_map"');
    writeFileSync(noMap, '{ not json');
    expect(refusal(() => openShardedSafetensors(noMap))).toContain('cannot read the shard index');
  });
});

describe('memory: one tensor at a time', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads only the header and the one tensor of a 200 MB file', () => {
    // A 200 MB tensor followed by a small one, as a sparse file: no disk space needed.
    const bigBytes = 200 * 1024 * 1024;
    const small = float32Tensor('small', [3], [0.5, -1.5, 2.25]);
    const header = JSON.stringify({
      big: { dtype: 'U8', shape: [bigBytes], data_offsets: [0, bigBytes] },
      small: { dtype: 'F32', shape: [3], data_offsets: [bigBytes, bigBytes + 12] },
    });
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(header.length));
    const file = join(temporaryFolder(), 'large.safetensors');
    writeFileSync(file, Buffer.concat([prefix, Buffer.from(header)]));
    fs.truncateSync(file, 8 + header.length + bigBytes);
    fs.appendFileSync(file, small.bytes);

    const readSync = vi.spyOn(fs, 'readSync');
    const readFileSync = vi.spyOn(fs, 'readFileSync');
    const bytesRead = (): number => readSync.mock.results.reduce((sum, result) => sum + (result.value as number), 0);

    const table = openSafetensors(file);
    expect(bytesRead()).toBe(8 + header.length);
    const values = readFloat32(table.get('small') as TensorInfo);
    expect([...values]).toEqual([0.5, -1.5, 2.25]);
    expect(bytesRead()).toBe(8 + header.length + 12);
    expect(readFileSync).not.toHaveBeenCalled();
    // And the position asked for was the tensor's, not the start of the file.
    const lastCall = readSync.mock.calls.at(-1) as unknown[] | undefined;
    expect(lastCall?.[4]).toBe(8 + header.length + bigBytes);
  });
});
