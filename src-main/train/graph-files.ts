/**
 * train/graph-files — training graphs of an installed model, on disk and in a session. The graph
 * file sits in the model folder beside `weights.data` and references the frozen weights there
 * (as esm/model's `graphFile` does), so no weight is copied; onnxruntime resolves external data
 * relative to the graph file, which is why the file cannot live in the run's folder.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeModel, type GraphBuilder, type Value } from '../onnx';
import { familyOfManifest, readManifest, WEIGHTS_FILE, type ModelManifest } from '../models/installed';
import { openSession, type OpenedSession, type SessionOptions } from '../engine/session';
import { buildTrainingGraph, type BackboneGraphSpec, type BuildOptions, type FrozenParams, type TrainingGraph } from './graph';

/** Frozen weights of an installed model: initializers pointing into its weights.data. */
export function installedWeights(modelDir: string, manifest: ModelManifest): FrozenParams {
  const table = new Map(manifest.weights.map((w) => [w.name, w]));
  return (g: GraphBuilder) =>
    (name: string): Value => {
      const entry = table.get(name);
      if (!entry) throw new Error(`${modelDir}: weight ${name} is missing from the manifest; convert the checkpoint again.`);
      return g.initializer(name, entry.dtype, entry.dims, { kind: 'external', location: WEIGHTS_FILE, offset: entry.offset, length: entry.length });
    };
}

export type InstalledGraphSpec = Omit<BackboneGraphSpec, 'family' | 'config' | 'precision'>;

/** A stable file name for one graph spec of one model version. */
function trainingGraphName(manifest: ModelManifest, spec: InstalledGraphSpec, options: BuildOptions): string {
  const key = JSON.stringify({ spec, seed: options.seed ?? 0, baked: [...(options.baked?.keys() ?? [])], recompute: options.recompute ?? null, app: manifest.appVersion, created: manifest.createdAt });
  return `train-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.onnx`;
}

/**
 * Builds the graph for `spec` on the model in `modelDir` and writes it there. Always rewritten
 * (graphs are small and cheap to build, and a cached one could predate a fix in autodiff); the
 * name is stable, so repeated runs replace rather than pile up, and the write is atomic.
 */
export async function writeTrainingGraph(
  modelDir: string,
  spec: InstalledGraphSpec,
  options: BuildOptions = {},
): Promise<{ file: string; training: TrainingGraph }> {
  const manifest = readManifest(modelDir);
  const training = buildTrainingGraph({ ...spec, family: familyOfManifest(manifest), config: manifest.config, precision: manifest.precision }, installedWeights(modelDir, manifest), options);
  const file = join(modelDir, trainingGraphName(manifest, spec, options));
  await writeModel(training.graph, file, { producerVersion: manifest.appVersion });
  return { file, training };
}

/** An onnxruntime session on a training graph (the engine's device choice and fallback). */
export function openTrainingSession(file: string, options: SessionOptions = {}): Promise<OpenedSession> {
  return openSession(file, options);
}
