/**
 * exports/parquet — an embedding matrix as Apache Parquet (schema: docs/parquet-schema.md):
 * `id` (UTF8), one nullable column per label (DOUBLE or UTF8), and `embedding`, a LIST<FLOAT>
 * holding the D values of each row. Written with hyparquet-writer (pure JS), one row group per
 * chunk of rows so memory stays bounded, to a partial file renamed into place at the end.
 */
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import { writeAtomicallyAsync, type FileSink } from '../core/atomic';
import { checkExport, checkUniqueNames, labelColumnValues, type LabelColumn, type MatrixExport } from './types';

export const PARQUET_ID_COLUMN = 'id';
export const PARQUET_EMBEDDING_COLUMN = 'embedding';
/** Key-value metadata entry holding D, for readers that want the width without reading rows. */
export const PARQUET_DIMS_KEY = 'esm_studio.embedding_dims';

/** About this many float values per row group: 4 MiB of embedding (819 rows at D = 1280). */
const VALUES_PER_ROW_GROUP = 1 << 20;
const FLUSH_BYTES = 1 << 20;

export async function writeParquet(path: string, data: MatrixExport): Promise<void> {
  checkExport(path, data);
  const labelColumns = data.labels?.columns ?? [];
  checkUniqueNames(path, [PARQUET_ID_COLUMN, ...labelColumns.map((column) => column.name), PARQUET_EMBEDDING_COLUMN]);
  const labelData = labelColumns.map((column) => labelColumnValues(path, data.labels!, column));
  await writeAtomicallyAsync(path, async (sink) => {
    const writer = new ParquetWriter({
      writer: new SinkWriter(sink),
      schema: parquetSchema(labelColumns),
      kvMetadata: [{ key: PARQUET_DIMS_KEY, value: String(data.cols) }],
      createdBy: 'ESM Studio (hyparquet-writer)',
    });
    const rowsPerGroup = Math.max(1, Math.floor(VALUES_PER_ROW_GROUP / Math.max(1, data.cols)));
    for (let start = 0; start < data.rows; start += rowsPerGroup) {
      const end = Math.min(data.rows, start + rowsPerGroup);
      await writer.write({ columnData: rowGroupColumns(data, labelColumns, labelData, start, end), rowGroupSize: end - start });
      await yieldToEventLoop(); // let the process answer (progress, cancellation) during a large export
    }
    await writer.finish();
  });
}

/** The Parquet schema, flattened depth-first as the file footer stores it. */
export function parquetSchema(labelColumns: LabelColumn[]): SchemaElement[] {
  return [
    { name: 'schema', num_children: labelColumns.length + 2 },
    { name: PARQUET_ID_COLUMN, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ...labelColumns.map(labelSchema),
    // The standard three-level list: <embedding> (LIST) / repeated group list / element.
    { name: PARQUET_EMBEDDING_COLUMN, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
  ];
}

function labelSchema(column: LabelColumn): SchemaElement {
  return column.type === 'number'
    ? { name: column.name, type: 'DOUBLE', repetition_type: 'OPTIONAL' }
    : { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
}

function rowGroupColumns(
  data: MatrixExport,
  labelColumns: LabelColumn[],
  labelData: (number | string | null)[][],
  start: number,
  end: number,
): ColumnSource[] {
  const embedding: number[][] = [];
  for (let row = start; row < end; row += 1) {
    // The writer walks nested values as plain arrays; float32 → double → float32 is exact.
    embedding.push(plainArray(data.matrix, row * data.cols, data.cols));
  }
  return [
    { name: PARQUET_ID_COLUMN, data: data.ids.slice(start, end) },
    ...labelColumns.map((column, index) => ({ name: column.name, data: (labelData[index] as (number | string | null)[]).slice(start, end) })),
    // PLAIN, not dictionary: embedding values are nearly all distinct.
    { name: PARQUET_EMBEDDING_COLUMN, data: embedding, encoding: 'PLAIN' as const },
  ];
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** hyparquet-writer's in-memory writer, emptied into the file every megabyte or so. */
class SinkWriter extends ByteWriter {
  constructor(private readonly sink: FileSink) {
    super(FLUSH_BYTES * 2);
  }

  override ensure(size: number): void {
    if (this.index > FLUSH_BYTES) this.drain();
    super.ensure(size);
  }

  override finish(): void {
    this.drain();
  }

  override getBuffer(): ArrayBuffer {
    throw new Error('parquet: the file writer keeps no buffer');
  }

  override getBytes(): Uint8Array<ArrayBuffer> {
    throw new Error('parquet: the file writer keeps no buffer');
  }

  private drain(): void {
    if (this.index === 0) return;
    this.sink.write(new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
  }
}

/** A plain copy of `count` values from `start` (Array.from on a subarray is several times slower). */
function plainArray(values: Float32Array, start: number, count: number): number[] {
  const copy = new Array<number>(count);
  for (let index = 0; index < count; index += 1) copy[index] = values[start + index] as number;
  return copy;
}
