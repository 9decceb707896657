/**
 * jobs/tasks/embedding-files — work on stored embedding matrices in the compute process:
 * SWAT compressions of per-residue rows (one vector per protein) and exports joined with the
 * dataset's labels (.npy, .npz, CSV, Parquet). Files appear under their final names only when
 * complete.
 */
import { join } from 'node:path';
import { parseCompression } from '../../core/compression';
import { compress, outputLength } from '../../embeddings/compress';
import { writeCsv, writeNpyExport, writeNpzExport, writeParquet, writePerResidueNpz } from '../../exports';
import { NpyRowReader, NpyRowWriter, readNpy } from '../../store/npy';
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type CompressParams = TaskParams<'embeddings.compress'>;
export type StoredMatrix = CompressParams['source'];

function readOffsets(workDir: string, matrix: StoredMatrix): number[] {
  if (!matrix.offsetsPath) throw new Error(`${matrix.path} is not a per-residue matrix.`);
  return Array.from(readNpy(join(workDir, matrix.offsetsPath)).data as BigInt64Array, Number);
}

export const compressEmbeddings = defineTask({
  ...contract('embeddings.compress'),
  input: z.null(),
  checkpoint: z.null(),
  async run(ctx) {
    const { source, bos, outPath } = ctx.params;
    const compression = parseCompression(ctx.params.compression);
    const offsets = readOffsets(ctx.workDir, source);
    const sequences = offsets.length - 1;
    const reader = new NpyRowReader(join(ctx.workDir, source.path));
    const bosReader = compression.kind === 'bos' && bos ? new NpyRowReader(join(ctx.workDir, bos.path)) : null;
    if (compression.kind === 'bos' && !bosReader) throw new Error('The BOS compression needs the run to have computed BOS embeddings of this layer.');
    // Every protein gets the same length: iDCT pads short proteins, the others are length D.
    const width = outputLength(compression, Math.max(...offsets.slice(1).map((o, i) => o - offsets[i]!)), source.cols);
    const writer = new NpyRowWriter(join(ctx.workDir, outPath), sequences, width);
    try {
      for (let i = 0; i < sequences; i++) {
        throwIfCancelled(ctx.signal);
        const residues = offsets[i + 1]! - offsets[i]!;
        const rows = reader.readRows(offsets[i]!, residues);
        writer.writeRow(i, compress(compression, rows, residues, source.cols, bosReader?.readRows(i, 1)));
        if (i % 50 === 49) {
          ctx.progress((i + 1) / sequences, `${i + 1} of ${sequences} proteins compressed`);
          await yieldToEvents();
        }
      }
      writer.finish();
    } catch (error) {
      writer.abort();
      throw error;
    } finally {
      reader.close();
      bosReader?.close();
    }
    await ctx.artifact('embedding', outPath, { rows: sequences, cols: width, compression: ctx.params.compression });
    return { compression: ctx.params.compression, rows: sequences, cols: width };
  },
});

const LabelValue = z.union([z.number(), z.string(), z.null()]);
export const ExportInput = z.object({
  ids: z.array(z.string()),
  labels: z.object({ columns: z.array(z.object({ name: z.string(), type: z.enum(['number', 'category']) })), rows: z.array(z.record(z.string(), LabelValue)) }),
});
export type ExportInput = z.output<typeof ExportInput>;

export const exportEmbeddings = defineTask({
  ...contract('embeddings.export'),
  input: ExportInput,
  checkpoint: z.null(),
  async run(ctx) {
    const { source, format, outPath } = ctx.params;
    const { ids, labels } = ctx.input;
    const target = join(ctx.workDir, outPath);
    ctx.progress(0.05, 'Reading the embeddings');
    const reader = new NpyRowReader(join(ctx.workDir, source.path));
    try {
      if (source.offsetsPath) {
        if (format !== 'npz') throw new Error('Per-residue embeddings are exported as .npz (one array per protein).');
        const offsets = readOffsets(ctx.workDir, source);
        const perResidue = ids.map((id, i) => ({ id, residues: offsets[i + 1]! - offsets[i]!, dims: source.cols, matrix: reader.readRows(offsets[i]!, offsets[i + 1]! - offsets[i]!) }));
        writePerResidueNpz(target, perResidue);
      } else {
        const data = { ids, matrix: reader.readRows(0, source.rows), rows: source.rows, cols: source.cols, labels };
        ctx.progress(0.3, `Writing ${format.toUpperCase()}`);
        if (format === 'csv') writeCsv(target, data);
        else if (format === 'parquet') await writeParquet(target, data);
        else if (format === 'npz') writeNpzExport(target, data);
        else writeNpyExport(target, data);
      }
    } finally {
      reader.close();
    }
    await ctx.artifact('export', outPath, { format });
    return { path: outPath, format };
  },
});
