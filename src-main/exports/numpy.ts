/**
 * exports/numpy — exports for NumPy: the matrix as `.npy`, the matrix with ids and labels as
 * `.npz`, and per-residue matrices as `.npz`. Everything opens with np.load without
 * allow_pickle: ids are a fixed-width unicode array ('<U{longest}'), which store/npy does not
 * encode, so that encoding lives here (encodeUnicodeNpy). The archives are streamed to the file
 * by store/npy's writeNpz (fflate).
 */
import { encodeNpy, writeNpyAtomic, writeNpz, type NpyArray, type NpzMember } from '../store/npy';
import { writeAtomically } from '../core/atomic';
import { checkExport, checkShape, labelColumnValues, type LabelColumn, type MatrixExport, type PerResidueMatrix } from './types';

export const EMBEDDINGS_MEMBER = 'embeddings';
export const IDS_MEMBER = 'ids';
export const LABEL_MEMBER_PREFIX = 'label_';
export const SEQUENCE_MEMBER_PREFIX = 'seq_';

export function writeNpyExport(path: string, data: MatrixExport): void {
  checkExport(path, data);
  try {
    writeNpyAtomic(path, matrixArray(data.matrix, data.rows, data.cols));
  } catch (error) {
    throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * "embeddings" [N, D] float32, "ids" [N] '<U', and one "label_<name>" [N] per label column:
 * float64 with NaN for a missing value for a numeric label, '<U' with '' for a category.
 */
export function writeNpzExport(path: string, data: MatrixExport): void {
  checkExport(path, data);
  const labelColumns = data.labels?.columns ?? [];
  const labelMembers = labelColumns.map((column) => labelMember(path, data, column));
  checkMemberNames(path, [EMBEDDINGS_MEMBER, IDS_MEMBER, ...labelMembers.map((member) => member.name)]);
  writeAtomically(path, (sink) =>
    writeNpz(path, sink, [
      npyMember(EMBEDDINGS_MEMBER, encodeNpy(matrixArray(data.matrix, data.rows, data.cols))),
      npyMember(IDS_MEMBER, encodeUnicodeNpy(data.ids)),
      ...labelMembers,
    ]),
  );
}

/** "seq_<i>" [residues, dims] float32 for the i-th sequence, and "ids" [count] '<U'. */
export function writePerResidueNpz(path: string, perResidue: PerResidueMatrix[]): void {
  perResidue.forEach((entry, index) => checkShape(path, `sequence ${index} ('${entry.id}')`, entry.matrix, entry.residues, entry.dims));
  const ids = perResidue.map((entry) => entry.id);
  writeAtomically(path, (sink) => writeNpz(path, sink, perResidueMembers(perResidue, ids)));
}

function* perResidueMembers(perResidue: PerResidueMatrix[], ids: string[]): Generator<NpzMember> {
  yield npyMember(IDS_MEMBER, encodeUnicodeNpy(ids));
  for (const [index, entry] of perResidue.entries()) {
    yield npyMember(`${SEQUENCE_MEMBER_PREFIX}${index}`, encodeNpy(matrixArray(entry.matrix, entry.residues, entry.dims)));
  }
}

function matrixArray(matrix: Float32Array, rows: number, cols: number): NpyArray {
  return { dtype: 'float32', shape: [rows, cols], data: matrix };
}

function npyMember(key: string, bytes: Uint8Array): NpzMember {
  return { name: `${key}.npy`, bytes };
}

function labelMember(path: string, data: MatrixExport, column: LabelColumn): NpzMember {
  const values = labelColumnValues(path, data.labels!, column);
  const key = labelMemberKey(column.name);
  if (column.type === 'category') return npyMember(key, encodeUnicodeNpy(values.map((value) => (value === null ? '' : String(value)))));
  const numbers = Float64Array.from(values, (value) => (value === null ? Number.NaN : (value as number)));
  return npyMember(key, encodeNpy({ dtype: 'float64', shape: [numbers.length], data: numbers }));
}

/** A slash would make the member a folder inside the zip (and a path when unzipped). */
export function labelMemberKey(name: string): string {
  return LABEL_MEMBER_PREFIX + name.replace(/[/\\\0]/g, '_');
}

function checkMemberNames(path: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`${path}: two arrays would both be named '${name}'; rename a label column.`);
    seen.add(name);
  }
}

// ---------------------------------------------------------------------------------------------
// '<U' arrays: NumPy's fixed-width unicode strings, UTF-32LE code points padded with NULs

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * A 1-D '<U{width}' .npy, width being the longest string in code points (at least 1, as NumPy
 * makes it for empty strings). NumPy drops trailing NULs when reading, so a string may not end
 * in U+0000.
 */
export function encodeUnicodeNpy(strings: readonly string[]): Buffer {
  let width = 1;
  for (const text of strings) width = Math.max(width, codePointCount(text));
  const header = npyHeader(`<U${width}`, strings.length);
  const data = Buffer.alloc(strings.length * width * 4);
  strings.forEach((text, row) => {
    let offset = row * width * 4;
    for (const char of text) offset = data.writeUInt32LE(char.codePointAt(0) as number, offset);
  });
  return Buffer.concat([header, data]);
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _char of text) count += 1;
  return count;
}

/** A 1-D array's header, byte for byte as numpy.lib.format writes it (see store/npy). */
function npyHeader(descr: string, length: number): Buffer {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${length},), }`;
  dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(length).length));
  const headerLength = dict.length + 1;
  const padding = ARRAY_ALIGN - ((MAGIC.length + 4 + headerLength) % ARRAY_ALIGN);
  const prefix = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(prefix, 0);
  prefix[MAGIC.length] = 1; // version 1.0: a one-line header never needs more
  prefix.writeUInt16LE(headerLength + padding, MAGIC.length + 2);
  return Buffer.concat([prefix, Buffer.from(dict + ' '.repeat(padding) + '\n', 'latin1')]);
}
