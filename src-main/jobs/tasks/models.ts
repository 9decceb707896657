/**
 * jobs/tasks/models — installing a model in the compute process: converting a checkpoint folder
 * on this computer, or first downloading one from the Hugging Face hub (resumable: an
 * interrupted download continues from its partial files).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint, familyOfManifest, WEIGHTS_FILE, type ModelManifest } from '../../models/installed';
import { ApiError } from '../../api/errors';
import { downloadModel, hubOptionsFromEnv } from '../../models/download';
import { APP_VERSION } from '../../core/version';
import { z } from 'zod';
import type { TaskParams, TaskSummary } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type InstallParams = TaskParams<'model.install'>;
export type DownloadParams = TaskParams<'model.download'>;

/** What the main side records for an installed model. */
export type InstalledModel = TaskSummary<'model.install'>;

function installed(manifest: ModelManifest, params: InstallParams): InstalledModel {
  return {
    dir: params.targetDir,
    name: manifest.name,
    family: familyOfManifest(manifest).label,
    parameters: manifest.parameters,
    layers: manifest.config.numLayers,
    hidden: manifest.config.hiddenSize,
    precision: manifest.precision,
    sizeBytes: statSync(join(params.targetDir, WEIGHTS_FILE)).size,
    catalogId: params.catalogId,
    source: params.source,
  };
}

/** What converting needs of a task's context. */
interface Progressing {
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
}

async function convert(ctx: Progressing, params: InstallParams, from: number): Promise<InstalledModel> {
  const manifest = await convertCheckpoint(params.source, params.targetDir, {
    precision: params.precision,
    appVersion: APP_VERSION,
    onProgress: (fraction, message) => ctx.progress(from + (1 - from) * fraction, `Converting: ${message}`),
    isCancelled: () => ctx.signal.aborted,
  });
  return installed(manifest, params);
}

export const installModel = defineTask({
  ...contract('model.install'),
  input: z.null(),
  checkpoint: z.null(),
  run: (ctx) => convert(ctx, ctx.params, 0),
});

const DOWNLOAD_ATTEMPTS = 3;

export const downloadAndInstallModel = defineTask({
  ...contract('model.download'),
  input: z.null(),
  checkpoint: z.null(),
  async run(ctx) {
    const { repo, downloadDir, endpoint } = ctx.params;
    // The token (for gated models) is read here, from the environment, never stored with the job.
    const hub = { ...hubOptionsFromEnv(), endpoint };
    for (let attempt = 1; ; attempt++) {
      try {
        await downloadModel(repo, downloadDir, {
          ...hub,
          signal: ctx.signal,
          onProgress: (p) => ctx.progress(0.8 * p.fraction, `Downloading ${p.file}: ${(p.bytesDone / 1e6).toFixed(1)} of ${(p.bytesTotal / 1e6).toFixed(1)} MB (${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s)`),
        });
        break;
      } catch (error) {
        // A dropped connection leaves partial files; trying again continues from them.
        if (ctx.signal.aborted || attempt >= DOWNLOAD_ATTEMPTS || !(error instanceof ApiError) || error.code !== 'refused') throw error;
        ctx.progress(0, `Connection lost; trying again (${attempt + 1} of ${DOWNLOAD_ATTEMPTS})`);
        await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
      }
    }
    return convert(ctx, { ...ctx.params, source: downloadDir }, 0.8);
  },
});
