/**
 * jobs/tasks/map-project — the body of a `map.project` job in the compute process: reads a
 * stored embedding matrix, projects it to 2-D (map/project) and writes the coordinates as a
 * float32 [rows, 2] .npy under the run's folder. The file appears under its final name only when
 * complete; a resumed attempt recomputes (the projection is seeded, so it gives the same file)
 * unless the previous attempt had already written it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { project } from '../../map/project';
import { readNpy, writeNpyAtomic } from '../../store/npy';
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type MapProjectParams = TaskParams<'map.project'>;

const MapProjectCheckpoint = z.object({
  /** The coordinates file is complete (only the artifact report may be missing). */
  written: z.boolean(),
  explainedVariance: z.array(z.number()).nullable(),
});

function readMatrix(workDir: string, source: MapProjectParams['source']): Float32Array {
  const array = readNpy(join(workDir, source.path));
  const [rows, cols] = array.shape;
  if (array.dtype !== 'float32' || rows !== source.rows || cols !== source.cols) {
    throw new Error(`${source.path} is not the float32 [${source.rows}, ${source.cols}] matrix this map was started on; was the run changed?`);
  }
  return array.data as Float32Array;
}

export const mapProject = defineTask({
  ...contract('map.project'),
  input: z.null(),
  checkpoint: MapProjectCheckpoint,
  async run(ctx) {
    const { source, outPath, ...settings } = ctx.params;
    const target = join(ctx.workDir, outPath);
    const started = Date.now();
    let explainedVariance = ctx.resumeFrom?.explainedVariance ?? null;
    if (!(ctx.resumeFrom?.written && existsSync(target))) {
      ctx.progress(0, `Reading ${source.rows} × ${source.cols} embeddings`);
      const data = readMatrix(ctx.workDir, source);
      const result = await project({ data, rows: source.rows, cols: source.cols }, settings, {
        progress: (fraction, message) => ctx.progress(fraction * 0.98, message),
        checkCancelled: () => throwIfCancelled(ctx.signal),
        yieldNow: yieldToEvents,
      });
      throwIfCancelled(ctx.signal);
      writeNpyAtomic(target, { dtype: 'float32', shape: [source.rows, 2], data: result.coords });
      explainedVariance = result.explainedVariance;
      ctx.checkpoint({ written: true, explainedVariance });
    }
    await ctx.artifact('map', outPath, { method: settings.method, rows: source.rows, explainedVariance });
    ctx.progress(1, 'Map ready');
    return { method: settings.method, rows: source.rows, cols: source.cols, seconds: (Date.now() - started) / 1000, explainedVariance };
  },
});
