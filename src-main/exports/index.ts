/**
 * exports — writing an embedding matrix, joined with its dataset's ids and labels, as the files
 * biologists take elsewhere: CSV, Parquet, .npy and .npz (plus per-residue .npz). Every writer
 * checks its input first, then writes atomically (temp file + rename), and names the file in
 * its errors.
 */
export { writeCsv, formatFloat32, csvField } from './csv';
export { writeParquet, parquetSchema, PARQUET_DIMS_KEY, PARQUET_EMBEDDING_COLUMN, PARQUET_ID_COLUMN } from './parquet';
export {
  writeNpyExport,
  writeNpzExport,
  writePerResidueNpz,
  encodeUnicodeNpy,
  labelMemberKey,
  EMBEDDINGS_MEMBER,
  IDS_MEMBER,
  LABEL_MEMBER_PREFIX,
  SEQUENCE_MEMBER_PREFIX,
} from './numpy';
export type { LabelColumn, LabelTable, LabelValue, MatrixExport, PerResidueMatrix } from './types';
