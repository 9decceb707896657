// exports: every file is read back and compared with its source exactly (float32 bit for bit).
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  encodeUnicodeNpy,
  formatFloat32,
  writeCsv,
  writeNpyExport,
  writeNpzExport,
  writeParquet,
  writePerResidueNpz,
  type LabelTable,
  type MatrixExport,
} from '../../src-main/exports';
import { decodeNpy, readNpy, type NpyArray } from '../../src-main/store/npy';

// Lets a test make fs.writeSync fail after some calls, as a full disk would.
const failure = vi.hoisted(() => ({ writesBeforeFailure: Infinity }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const writeSync = (...args: Parameters<typeof actual.writeSync>): number => {
    if (failure.writesBeforeFailure <= 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    failure.writesBeforeFailure -= 1;
    return (actual.writeSync as (...a: unknown[]) => number)(...args);
  };
  return { ...actual, default: { ...actual, writeSync }, writeSync };
});

afterEach(() => {
  failure.writesBeforeFailure = Infinity;
});

const tempDir = () => mkdtempSync(join(tmpdir(), 'esm-exports-'));

/**
 * Deterministic float32 values: embedding-like ones (|x| in 2^-10 .. 2^4) and, unless
 * `anyExponent` is false, a quarter of any bit pattern (subnormals, extremes), plus -0 and friends.
 */
function randomFloat32(count: number, seed = 1, anyExponent = true): Float32Array {
  const bits = new Uint32Array(count);
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  for (let index = 0; index < count; index += 1) {
    if (anyExponent && next() % 4 === 0) {
      bits[index] = next(); // any bit pattern, any exponent
    } else {
      // embedding-like: sign, exponent 2^-10 .. 2^3, random mantissa
      const exponent = 117 + (next() % 14);
      bits[index] = ((next() & 1) << 31) | (exponent << 23) | (next() & 0x7fffff);
    }
    if (((bits[index] as number) & 0x7f800000) === 0x7f800000) bits[index] = (bits[index] as number) & 0xff7fffff; // no NaN or infinity
  }
  const values = new Float32Array(bits.buffer);
  const specials = [0, -0, 1, -1, 0.1, 1 / 3, 3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 16777216, 1e-7];
  specials.forEach((value, index) => {
    if (index < count) values[index] = value;
  });
  return values;
}

function sameFloat32(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  expect(a.equals(b)).toBe(true);
}

const AWKWARD_IDS = ['plain', 'with,comma', 'with "quotes"', 'line\nbreak', 'crlf\r\nbreak', 'ünïcødé 🧬 蛋白质', ' spaced ', '', '=SUM(A1)'];

const LABELS: LabelTable = {
  columns: [
    { name: 'activity', type: 'number' },
    { name: 'family, class', type: 'category' },
    { name: 'count', type: 'number' },
  ],
  rows: [
    { activity: 1.5, 'family, class': 'kinase', count: 3 },
    { activity: null, 'family, class': 'a "quoted", category', count: '7' },
    { 'family, class': null, count: Number.NaN }, // activity absent
    { activity: -0.000123, 'family, class': 'ünï\ncode', count: 1e21 },
    { activity: 0.1, 'family, class': '', count: 0 },
    { activity: 2, 'family, class': 'kinase', count: null },
    { activity: 3, 'family, class': 'x', count: 4 },
    { activity: 4, 'family, class': 'y', count: 5 },
    { activity: 5, 'family, class': null, count: 6 },
  ],
};
/** LABELS as the exports read them: missing cells are null, numbers are numbers. */
const EXPECTED_LABELS: Record<string, (number | string | null)[]> = {
  activity: [1.5, null, null, -0.000123, 0.1, 2, 3, 4, 5],
  'family, class': ['kinase', 'a "quoted", category', null, 'ünï\ncode', '', 'kinase', 'x', 'y', null],
  count: [3, 7, null, 1e21, 0, null, 4, 5, 6],
};

function dataset(rows: number, cols: number, labels?: LabelTable): MatrixExport {
  const ids = Array.from({ length: rows }, (_, index) => AWKWARD_IDS[index] ?? `P${index}`);
  return { ids, matrix: randomFloat32(rows * cols, rows * 31 + cols), rows, cols, ...(labels ? { labels } : {}) };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.partial'));
}

// ---------------------------------------------------------------------------------------------
// Readers for the tests: a stored zip and NumPy's '<U' arrays (store/npy reads neither)

function readZip(buffer: Buffer): Map<string, Buffer> {
  const end = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buffer.readUInt16LE(end + 10);
  let position = buffer.readUInt32LE(end + 16);
  const members = new Map<string, Buffer>();
  for (let index = 0; index < count; index += 1) {
    expect(buffer.readUInt32LE(position)).toBe(0x02014b50);
    expect(buffer.readUInt16LE(position + 10)).toBe(0); // stored
    const crc = buffer.readUInt32LE(position + 16);
    const size = buffer.readUInt32LE(position + 24);
    const nameLength = buffer.readUInt16LE(position + 28);
    const local = buffer.readUInt32LE(position + 42);
    const name = buffer.toString('utf8', position + 46, position + 46 + nameLength);
    const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const bytes = buffer.subarray(start, start + size);
    expect(zlib.crc32(bytes)).toBe(crc);
    members.set(name, bytes);
    position += 46 + nameLength + buffer.readUInt16LE(position + 30) + buffer.readUInt16LE(position + 32);
  }
  return members;
}

function decodeUnicodeNpy(bytes: Buffer): string[] {
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  const match = /'descr': '<U(\d+)', 'fortran_order': False, 'shape': \((\d+),\)/.exec(header);
  if (!match) throw new Error(`not a 1-D '<U' array: ${header}`);
  const width = Number(match[1]);
  const count = Number(match[2]);
  const data = bytes.subarray(10 + headerLength);
  expect(data.length).toBe(count * width * 4);
  return Array.from({ length: count }, (_, row) => {
    const points: number[] = [];
    for (let index = 0; index < width; index += 1) points.push(data.readUInt32LE((row * width + index) * 4));
    while (points.length > 0 && points[points.length - 1] === 0) points.pop(); // NumPy strips trailing NULs
    return String.fromCodePoint(...points);
  });
}

function npzMembers(path: string): Map<string, Buffer> {
  return readZip(readFileSync(path));
}

function member(members: Map<string, Buffer>, name: string): Buffer {
  const bytes = members.get(name);
  if (!bytes) throw new Error(`no member ${name} in ${[...members.keys()].join(', ')}`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------

describe('formatFloat32', () => {
  /** The plainly correct reference: the least precision whose text reads back as the value. */
  function reference(value: number): string {
    for (let precision = 1; precision <= 9; precision += 1) {
      const parsed = Number(value.toPrecision(precision));
      if (Math.fround(parsed) === value) return String(parsed);
    }
    throw new Error(`no round trip for ${value}`);
  }

  it('writes the shortest text that reads back as the same float32, at every magnitude', () => {
    const values = randomFloat32(20_000, 7);
    for (const value of values) {
      const text = formatFloat32(value);
      expect(Object.is(Math.fround(Number(text)), value), `${value} → ${text}`).toBe(true);
      if (value !== 0) expect(text, `${value}`).toBe(reference(value));
    }
  });

  it('writes familiar values as people would', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1 / 3, '0.33333334'],
      [-2.5, '-2.5'],
      [100, '100'],
      [16777216, '16777216'],
      [1e21, '1e+21'],
      [1.5e-7, '1.5e-7'],
      [0.000001, '0.000001'],
      [1.401298464324817e-45, '1e-45'],
      [3.4028234663852886e38, '3.4028235e+38'],
      [0, '0'],
      [-0, '-0'],
      [Number.NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ];
    for (const [value, text] of cases) expect(formatFloat32(Math.fround(value))).toBe(text);
  });
});

describe('writeCsv', () => {
  function readCsv(path: string): string[][] {
    return parse(readFileSync(path, 'utf8'), { relax_column_count: false }) as string[][];
  }

  function expectMatrix(records: string[][], firstValueColumn: number, data: MatrixExport): void {
    const values = new Float32Array(data.rows * data.cols);
    records.forEach((record, row) => {
      for (let col = 0; col < data.cols; col += 1) values[row * data.cols + col] = Number(record[firstValueColumn + col]);
    });
    sameFloat32(values, data.matrix);
  }

  it('round-trips ids, labels and every float32 exactly', () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    const data = dataset(9, 7, LABELS);
    writeCsv(path, data);
    const [header, ...records] = readCsv(path);
    expect(header).toEqual(['id', 'activity', 'family, class', 'count', 'e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    expect(records.map((record) => record[0])).toEqual(data.ids);
    expect(records.map((record) => record[1])).toEqual(['1.5', '', '', '-0.000123', '0.1', '2', '3', '4', '5']);
    expect(records.map((record) => record[2])).toEqual(EXPECTED_LABELS['family, class']!.map((value) => value ?? ''));
    expect(records.map((record) => record[3])).toEqual(['3', '7', '', '1e+21', '0', '', '4', '5', '6']);
    expectMatrix(records, 4, data);
    expect(leftovers(dir)).toEqual([]);
  });

  it('quotes only what RFC 4180 needs, and tells an empty category from a missing one', () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeCsv(path, dataset(9, 1, LABELS));
    const lines = readFileSync(path, 'utf8');
    expect(lines.startsWith('id,activity,"family, class",count,e0\n')).toBe(true);
    expect(lines).toContain('\n"with,comma",,"a ""quoted"", category",7,');
    expect(lines).toContain('\n"with ""quotes""",,,,'); // every label missing
    expect(lines).toContain('\n"line\nbreak",-0.000123,"ünï\ncode",1e+21,');
    expect(lines).toContain('\n"crlf\r\nbreak",0.1,"",0,');
    expect(lines).toContain('\nünïcødé 🧬 蛋白质,2,kinase,,');
    expect(lines).toContain('\n spaced ,3,x,4,');
    expect(lines).toContain('\n"",4,y,5,');
  });

  it('writes a dataset without labels, with a column prefix, and one without rows', () => {
    const dir = tempDir();
    const data = { ...dataset(4, 3), columnPrefix: 'esm_' };
    writeCsv(join(dir, 'plain.csv'), data);
    const [header, ...records] = readCsv(join(dir, 'plain.csv'));
    expect(header).toEqual(['id', 'esm_0', 'esm_1', 'esm_2']);
    expect(records.map((record) => record[0])).toEqual(data.ids);
    expectMatrix(records, 1, data);

    writeCsv(join(dir, 'empty-labels.csv'), dataset(2, 2, { columns: [], rows: [{}, {}] }));
    expect(readCsv(join(dir, 'empty-labels.csv'))[0]).toEqual(['id', 'e0', 'e1']);

    writeCsv(join(dir, 'ids-only.csv'), { ids: ['', 'a'], matrix: new Float32Array(0), rows: 2, cols: 0 });
    expect(readCsv(join(dir, 'ids-only.csv'))).toEqual([['id'], [''], ['a']]);

    writeCsv(join(dir, 'no-rows.csv'), dataset(0, 3, { columns: [{ name: 'y', type: 'number' }], rows: [] }));
    expect(readFileSync(join(dir, 'no-rows.csv'), 'utf8')).toBe('id,y,e0,e1,e2\n');
  });

  it('refuses bad input, naming the file, and leaves the old file alone', () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'old');
    const data = dataset(2, 2);
    expect(() => writeCsv(path, { ...data, ids: ['only one'] })).toThrow(`${path}: 1 ids for 2 matrix rows.`);
    expect(() => writeCsv(path, { ...data, matrix: new Float32Array(3) })).toThrow(path);
    const clash: LabelTable = { columns: [{ name: 'id', type: 'category' }], rows: [{ id: 'a' }, { id: 'b' }] };
    expect(() => writeCsv(path, { ...data, labels: clash })).toThrow(`${path}: two columns would both be named 'id'`);
    const text: LabelTable = { columns: [{ name: 'y', type: 'number' }], rows: [{ y: 1 }, { y: 'high' }] };
    expect(() => writeCsv(path, { ...data, labels: text })).toThrow(`${path}: label 'y' is numeric, but row 2 holds 'high'.`);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(leftovers(dir)).toEqual([]);
  });

  it('replaces an existing file whole', () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'old contents that are longer than the new file '.repeat(100));
    writeCsv(path, dataset(1, 1));
    expect(readCsv(path)).toHaveLength(2);
  });

  it('writes a 1000 × 320 matrix well under a second', () => {
    const dir = tempDir();
    const data = { ...dataset(1000, 320), matrix: randomFloat32(1000 * 320, 5, false) };
    writeCsv(join(dir, 'warm-up.csv'), dataset(10, 320));
    const started = performance.now();
    writeCsv(join(dir, 'big.csv'), data);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000);
    const records = readCsv(join(dir, 'big.csv')).slice(1);
    expectMatrix(records, 1, data);
  });
});

describe('writeParquet', () => {
  async function readParquet(path: string) {
    const bytes = readFileSync(path);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    return { rows, metadata: parquetMetadata(file) };
  }

  function embeddings(rows: Record<string, unknown>[]): Float32Array {
    return Float32Array.from(rows.flatMap((row) => row.embedding as number[]));
  }

  it('round-trips ids, nullable labels and the embedding list exactly, with the documented schema', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.parquet');
    const data = dataset(9, 5, LABELS);
    await writeParquet(path, data);
    const { rows, metadata } = await readParquet(path);
    expect(rows.map((row) => row.id)).toEqual(data.ids);
    for (const column of LABELS.columns) expect(rows.map((row) => row[column.name])).toEqual(EXPECTED_LABELS[column.name]);
    expect(rows.every((row) => (row.embedding as number[]).length === 5)).toBe(true);
    sameFloat32(embeddings(rows), data.matrix);

    const schema = metadata.schema.map(({ name, type, converted_type, repetition_type, num_children }) => ({
      name,
      type,
      converted_type,
      repetition_type,
      num_children,
    }));
    expect(schema).toEqual([
      { name: 'schema', type: undefined, converted_type: undefined, repetition_type: undefined, num_children: 5 },
      { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED', num_children: undefined },
      { name: 'activity', type: 'DOUBLE', converted_type: undefined, repetition_type: 'OPTIONAL', num_children: undefined },
      { name: 'family, class', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL', num_children: undefined },
      { name: 'count', type: 'DOUBLE', converted_type: undefined, repetition_type: 'OPTIONAL', num_children: undefined },
      { name: 'embedding', type: undefined, converted_type: 'LIST', repetition_type: 'REQUIRED', num_children: 1 },
      { name: 'list', type: undefined, converted_type: undefined, repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', converted_type: undefined, repetition_type: 'REQUIRED', num_children: undefined },
    ]);
    expect(metadata.key_value_metadata).toEqual([{ key: 'esm_studio.embedding_dims', value: '5' }]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('writes a dataset without labels, and one without rows', async () => {
    const dir = tempDir();
    const data = dataset(3, 4);
    await writeParquet(join(dir, 'plain.parquet'), data);
    const plain = await readParquet(join(dir, 'plain.parquet'));
    expect(plain.rows.map((row) => Object.keys(row))).toEqual([['id', 'embedding'], ['id', 'embedding'], ['id', 'embedding']]);
    sameFloat32(embeddings(plain.rows), data.matrix);

    await writeParquet(join(dir, 'empty-labels.parquet'), dataset(2, 2, { columns: [], rows: [{}, {}] }));
    expect((await readParquet(join(dir, 'empty-labels.parquet'))).rows).toHaveLength(2);

    await writeParquet(join(dir, 'none.parquet'), dataset(0, 4, { columns: [{ name: 'y', type: 'number' }], rows: [] }));
    const none = await readParquet(join(dir, 'none.parquet'));
    expect(none.rows).toEqual([]);
    expect(none.metadata.schema.map((element) => element.name)).toEqual(['schema', 'id', 'y', 'embedding', 'list', 'element']);
  });

  it('splits a large matrix into row groups and still reads back exactly', async () => {
    const dir = tempDir();
    const data = dataset(2100, 512); // 2048 rows fit one row group at D = 512
    await writeParquet(join(dir, 'big.parquet'), data);
    const { rows, metadata } = await readParquet(join(dir, 'big.parquet'));
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([2048, 52]);
    expect(rows.map((row) => row.id)).toEqual(data.ids);
    sameFloat32(embeddings(rows), data.matrix);
  });

  it('refuses a label that would clash with a column, naming the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.parquet');
    const clash: LabelTable = { columns: [{ name: 'embedding', type: 'number' }], rows: [{ embedding: 1 }] };
    await expect(writeParquet(path, { ...dataset(1, 2), labels: clash })).rejects.toThrow(`${path}: two columns would both be named 'embedding'`);
    expect(existsSync(path)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('writeNpyExport', () => {
  it('writes the matrix as a float32 [N, D] .npy', () => {
    const dir = tempDir();
    const data = dataset(6, 9);
    writeNpyExport(join(dir, 'm.npy'), data);
    const array = readNpy(join(dir, 'm.npy'));
    expect(array.dtype).toBe('float32');
    expect(array.shape).toEqual([6, 9]);
    sameFloat32(array.data as Float32Array, data.matrix);
    expect(() => writeNpyExport(join(dir, 'bad.npy'), { ...data, rows: 5 })).toThrow(join(dir, 'bad.npy'));
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('writeNpzExport', () => {
  it('holds embeddings, ids as a unicode array, and labels (NaN or "" when missing)', () => {
    const dir = tempDir();
    const path = join(dir, 'out.npz');
    const data = dataset(9, 6, LABELS);
    writeNpzExport(path, data);
    const members = npzMembers(path);
    expect([...members.keys()]).toEqual(['embeddings.npy', 'ids.npy', 'label_activity.npy', 'label_family, class.npy', 'label_count.npy']);

    const embeddings = decodeNpy(member(members, 'embeddings.npy'));
    expect(embeddings.dtype).toBe('float32');
    expect(embeddings.shape).toEqual([9, 6]);
    sameFloat32(embeddings.data as Float32Array, data.matrix);

    expect(decodeUnicodeNpy(member(members, 'ids.npy'))).toEqual(data.ids);

    const numeric = (name: string): NpyArray => decodeNpy(member(members, `label_${name}.npy`));
    for (const name of ['activity', 'count']) {
      const array = numeric(name);
      expect(array.dtype).toBe('float64');
      expect(Array.from(array.data as Float64Array, (value) => (Number.isNaN(value) ? null : value))).toEqual(EXPECTED_LABELS[name]);
    }
    expect(decodeUnicodeNpy(member(members, 'label_family, class.npy'))).toEqual(EXPECTED_LABELS['family, class']!.map((value) => value ?? ''));
    expect(leftovers(dir)).toEqual([]);
  });

  it('writes a dataset without labels, one without rows, and keeps slashes out of member names', () => {
    const dir = tempDir();
    const data = dataset(3, 2);
    writeNpzExport(join(dir, 'plain.npz'), data);
    const plain = npzMembers(join(dir, 'plain.npz'));
    expect([...plain.keys()]).toEqual(['embeddings.npy', 'ids.npy']);
    sameFloat32(decodeNpy(member(plain, 'embeddings.npy')).data as Float32Array, data.matrix);

    writeNpzExport(join(dir, 'none.npz'), dataset(0, 4));
    const none = npzMembers(join(dir, 'none.npz'));
    expect(decodeNpy(member(none, 'embeddings.npy')).shape).toEqual([0, 4]);
    expect(decodeUnicodeNpy(member(none, 'ids.npy'))).toEqual([]);

    const slashed: LabelTable = { columns: [{ name: 'ic50/nM', type: 'number' }], rows: [{ 'ic50/nM': 1 }, { 'ic50/nM': 2 }, { 'ic50/nM': 3 }] };
    writeNpzExport(join(dir, 'slashed.npz'), { ...data, labels: slashed });
    expect([...npzMembers(join(dir, 'slashed.npz')).keys()]).toContain('label_ic50_nM.npy');
  });
});

describe('writePerResidueNpz', () => {
  it('holds one seq_<i> [L, D] float32 array per sequence and their ids', () => {
    const dir = tempDir();
    const path = join(dir, 'residues.npz');
    const sequences = [
      { id: 'sp|P69905|HBA_HUMAN', residues: 5, dims: 4, matrix: randomFloat32(20, 3) },
      { id: 'ünï, "code" 🧬', residues: 0, dims: 4, matrix: new Float32Array(0) },
      { id: 'third', residues: 2, dims: 4, matrix: randomFloat32(8, 4) },
    ];
    writePerResidueNpz(path, sequences);
    const members = npzMembers(path);
    expect([...members.keys()]).toEqual(['ids.npy', 'seq_0.npy', 'seq_1.npy', 'seq_2.npy']);
    expect(decodeUnicodeNpy(member(members, 'ids.npy'))).toEqual(sequences.map((sequence) => sequence.id));
    sequences.forEach((sequence, index) => {
      const array = decodeNpy(member(members, `seq_${index}.npy`));
      expect(array.dtype).toBe('float32');
      expect(array.shape).toEqual([sequence.residues, sequence.dims]);
      sameFloat32(array.data as Float32Array, sequence.matrix);
    });
    expect(() => writePerResidueNpz(join(dir, 'bad.npz'), [{ id: 'x', residues: 3, dims: 4, matrix: new Float32Array(4) }])).toThrow(
      `${join(dir, 'bad.npz')}: sequence 0 ('x') has 4 values, [3, 4] needs 12.`,
    );
    expect(leftovers(dir)).toEqual([]);
  });

  it('writes an empty list as an empty ids array', () => {
    const dir = tempDir();
    writePerResidueNpz(join(dir, 'empty.npz'), []);
    const members = npzMembers(join(dir, 'empty.npz'));
    expect([...members.keys()]).toEqual(['ids.npy']);
    expect(decodeUnicodeNpy(member(members, 'ids.npy'))).toEqual([]);
  });
});

describe('encodeUnicodeNpy', () => {
  it('writes the bytes np.save writes for a unicode array', () => {
    // np.save(f, np.array(['a', 'bcd'])): '<U3', UTF-32LE code points padded with NULs
    const dict = "{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }";
    const header = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0]), Buffer.from(dict.padEnd(0x76 - 1) + '\n', 'latin1')]);
    const data = Buffer.alloc(24);
    [0x61, 0, 0, 0x62, 0x63, 0x64].forEach((point, index) => data.writeUInt32LE(point, index * 4));
    expect(encodeUnicodeNpy(['a', 'bcd']).equals(Buffer.concat([header, data]))).toBe(true);
  });

  it('counts code points, not UTF-16 units, and is at least one wide', () => {
    expect(decodeUnicodeNpy(encodeUnicodeNpy(['🧬🧬', 'é']))).toEqual(['🧬🧬', 'é']);
    expect(encodeUnicodeNpy(['🧬🧬']).toString('latin1')).toContain("'<U2'");
    expect(encodeUnicodeNpy(['', '']).toString('latin1')).toContain("'<U1'");
  });
});

describe('a write that fails half-way', () => {
  it('leaves the old file in place and no partial file, for every format', async () => {
    const dir = tempDir();
    const data = dataset(2100, 512, undefined); // several megabytes: several writes for every format
    // [file, writes that succeed before the disk is full, writer]; .npy is written in one call.
    const writers: [string, number, (path: string) => unknown][] = [
      ['out.csv', 2, (path) => writeCsv(path, data)],
      ['out.parquet', 2, (path) => writeParquet(path, data)],
      ['out.npy', 0, (path) => writeNpyExport(path, data)],
      ['out.npz', 2, (path) => writeNpzExport(path, data)],
      ['residues.npz', 2, (path) => writePerResidueNpz(path, [{ id: 'a', residues: 2100, dims: 512, matrix: data.matrix }])],
    ];
    for (const [name, writes, write] of writers) {
      const path = join(dir, name);
      writeFileSync(path, 'old');
      failure.writesBeforeFailure = writes;
      await expect(Promise.resolve().then(() => write(path)), name).rejects.toThrow(`The disk is full while writing ${path}; free space and resume.`);
      failure.writesBeforeFailure = Infinity;
      expect(readFileSync(path, 'utf8')).toBe('old');
      expect(leftovers(dir)).toEqual([]);
    }
  });
});
