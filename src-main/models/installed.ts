/**
 * models/installed — installed model folders, whatever their family: converting a checkpoint into
 * one, reading its manifest, and making more graphs of it. A model folder holds `weights.data`
 * (every weight once, as its family's weight table stores it), `model.onnx` (the default graph),
 * `manifest.json` (family, source checksum, config, app version, weight table, outputs) and
 * `graph-<key>.onnx` files made on demand, which reference the same weights. Conversion builds in
 * a temporary sibling folder and renames it at the end, so a cancelled or failed conversion
 * leaves nothing behind. A manifest without `family` was written before families existed: ESM-2.
 * `parameters` is the model's parameter count, counted by its family from the checkpoint tensors
 * the model uses (not from file sizes: int8 and fp16 store fewer bytes a parameter); manifests
 * written before it existed get it on read from their weight table, which lists the same tensors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../api/errors';
import { isProcessAlive } from '../core/process';
import { GraphBuilder, writeModel, type Graph, type Value } from '../onnx';
import type { FamilyCheckpoint, GraphOutputs, ModelConfig, ModelFamily, Precision } from './family';
import { DEFAULT_FAMILY_ID, familyById, familyOfCheckpoint } from './registry';

export const WEIGHTS_FILE = 'weights.data';
export const DEFAULT_GRAPH_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';
const MANIFEST_FORMAT = 'esm-studio-model';

export const DEFAULT_OUTPUTS: GraphOutputs = { layers: [], pool: [], logits: true, contacts: true };

const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(1),
  name: z.string(),
  /** The family's id (models/registry); absent in manifests written before families: ESM-2. */
  family: z.string().optional(),
  /** Learned parameters (the family's `parameterCount`); absent in older manifests (see `readManifest`). */
  parameters: z.number().int().nonnegative().optional(),
  precision: z.enum(['fp32', 'fp16', 'int8']),
  /** The family's parsed config; checked again by the family when read (`readManifest`). */
  config: z.custom<ModelConfig>((value) => typeof value === 'object' && value !== null && 'numLayers' in value),
  source: z.object({ path: z.string(), checksum: z.string(), ignoredKeys: z.array(z.string()), tiedDecoder: z.boolean() }),
  appVersion: z.string(),
  createdAt: z.string(),
  weights: z.array(
    z.object({ name: z.string(), dtype: z.enum(['float32', 'float16', 'float64', 'int64', 'int32', 'bool', 'uint8', 'int8']), dims: z.array(z.number()), offset: z.number(), length: z.number() }),
  ),
  defaultOutputs: z.record(z.string(), z.unknown()),
});
/** A manifest as read: `parameters` always present (computed for manifests written without it). */
export type ModelManifest = z.infer<typeof ManifestSchema> & { parameters: number };

export interface ConvertOptions {
  precision?: Precision;
  appVersion: string;
  /** fraction in [0, 1] and a message for the user. */
  onProgress?: (fraction: number, message: string) => void;
  isCancelled?: () => boolean;
}

/** A graph whose weights are all read from the checkpoint when written (every weight is included). */
function conversionGraph(family: ModelFamily, checkpoint: FamilyCheckpoint, precision: Precision, outputs: GraphOutputs): Graph {
  const g = new GraphBuilder(family.id);
  const params = new Map<string, Value>();
  for (const tensor of family.storedTensors(checkpoint.config, precision)) {
    params.set(tensor.name, g.initializer(tensor.name, tensor.dtype, tensor.dims, { kind: 'lazy', read: () => checkpoint.storedBytes(tensor) }));
  }
  family.buildGraph(g, { config: checkpoint.config, precision, outputs, param: (name) => params.get(name)! });
  return g.build();
}

/** The outputs of a model's default graph: everything its family's heads give. */
export const defaultOutputsOf = (family: ModelFamily): GraphOutputs => ({ ...DEFAULT_OUTPUTS, contacts: family.heads.contacts });

const buildingPrefix = (target: string): string => `.${basename(target)}.converting-`;

/** Removes half-built folders of `target` left by conversions whose process was killed. */
function removeAbandonedBuilds(target: string): void {
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  for (const entry of readdirSync(parent)) {
    if (!entry.startsWith(buildingPrefix(target))) continue;
    const pid = Number(entry.slice(buildingPrefix(target).length));
    if (Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid)) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * Converts a checkpoint (folder or .safetensors) of any known family into a model folder `outDir`;
 * a checkpoint no family recognises gets the default family's (ESM-2's) explanation of what is wrong.
 */
export async function convertCheckpoint(source: string, outDir: string, options: ConvertOptions): Promise<ModelManifest> {
  const precision = options.precision ?? 'fp32';
  const target = resolve(outDir);
  if (existsSync(join(target, MANIFEST_FILE))) {
    throw new ApiError('conflict', `${target} already holds a converted model; choose another folder or delete it first.`);
  }
  const family = familyOfCheckpoint(source);
  const checkpoint = family.openCheckpoint(source);
  const report = options.onProgress ?? (() => undefined);
  report(0, 'Checking the checkpoint files');
  const checksum = await checkpoint.checksum((f) => report(0.2 * f, 'Checking the checkpoint files'));
  if (options.isCancelled?.()) throw new ApiError('refused', 'Cancelled');

  removeAbandonedBuilds(target);
  const building = join(dirname(target), `${buildingPrefix(target)}${process.pid}`);
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  try {
    const defaultOutputs = defaultOutputsOf(family);
    const graph = conversionGraph(family, checkpoint, precision, defaultOutputs);
    const weights = await writeModel(graph, join(building, DEFAULT_GRAPH_FILE), {
      dataPath: join(building, WEIGHTS_FILE),
      externalThreshold: 0,
      producerVersion: options.appVersion,
      onTensor: (done, total) => report(0.2 + 0.8 * (done / total), `Writing weights (${done} of ${total} tensors)`),
      isCancelled: options.isCancelled,
    });
    const manifest: ModelManifest = {
      format: MANIFEST_FORMAT,
      formatVersion: 1,
      family: family.id,
      parameters: family.parameterCount(family.storedTensors(checkpoint.config, precision)),
      name: checkpoint.config.sourceName,
      precision,
      config: checkpoint.config,
      source: { path: resolve(source), checksum, ignoredKeys: checkpoint.ignoredKeys, tiedDecoder: checkpoint.tiedDecoder },
      appVersion: options.appVersion,
      createdAt: new Date().toISOString(),
      weights,
      defaultOutputs: { ...defaultOutputs },
    };
    writeFileSync(join(building, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(building, target);
    report(1, 'Converted');
    return manifest;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}

export function readManifest(modelDir: string): ModelManifest {
  const file = join(modelDir, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new ApiError('invalid-input', `${modelDir} is not a converted ESM Studio model (no ${MANIFEST_FILE}); convert a checkpoint first.`);
  }
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new ApiError('invalid-input', `${file} is damaged: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  const family = familyOfManifest(parsed.data, file);
  const parameters = parsed.data.parameters ?? family.parameterCount(parsed.data.weights);
  return { ...parsed.data, parameters, config: family.readConfig(parsed.data.config, file) };
}

/** The family of an installed model (a manifest without `family` is ESM-2's). */
export function familyOfManifest(manifest: Pick<ModelManifest, 'family'>, where = 'manifest.json'): ModelFamily {
  const id = manifest.family ?? DEFAULT_FAMILY_ID;
  const family = familyById(id);
  if (!family) {
    throw new ApiError('invalid-input', `${where}: the model family "${id}" is not one this version of ESM Studio knows; update ESM Studio or convert the checkpoint again.`);
  }
  return family;
}

/** An installed model: its folder, manifest and family, read once. */
export interface InstalledModel {
  dir: string;
  manifest: ModelManifest;
  family: ModelFamily;
}

export function openInstalled(modelDir: string): InstalledModel {
  const manifest = readManifest(modelDir);
  return { dir: modelDir, manifest, family: familyOfManifest(manifest) };
}

/**
 * Whether graphs made on demand use the family's fused kernels (where their outputs allow).
 * ESM_STUDIO_KERNELS=plain turns them off: for comparisons (bench/embed) and for a device whose
 * provider lacks one of onnxruntime's contrib operators.
 */
export const fusedKernels = (): boolean => process.env.ESM_STUDIO_KERNELS !== 'plain';

/** A stable short name for an output selection. */
function outputsKey(manifest: ModelManifest, outputs: GraphOutputs, fused: boolean): string {
  const normalised = {
    layers: [...new Set(outputs.layers)].sort((a, b) => a - b),
    pool: [...new Set(outputs.pool)].sort(),
    logits: !!outputs.logits,
    contacts: !!outputs.contacts,
    attentionLayers: [...new Set(outputs.attentionLayers ?? [])].sort((a, b) => a - b),
    app: manifest.appVersion,
    ...(fused ? { kernels: 'fused' } : {}),
  };
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex').slice(0, 16);
}

/** The path of a graph of this model with exactly these outputs, written on first use. */
export async function graphFile(modelDir: string, manifest: ModelManifest, outputs: GraphOutputs): Promise<string> {
  const fused = fusedKernels();
  const file = join(modelDir, `graph-${outputsKey(manifest, outputs, fused)}.onnx`);
  if (existsSync(file)) return file;
  const family = familyOfManifest(manifest);
  const g = new GraphBuilder(family.id);
  const table = new Map(manifest.weights.map((w) => [w.name, w]));
  const param = (name: string): Value => {
    const entry = table.get(name);
    if (!entry) throw new ApiError('invalid-input', `${modelDir}: weight ${name} is missing from the manifest; convert the checkpoint again.`);
    return g.initializer(name, entry.dtype, entry.dims, { kind: 'external', location: WEIGHTS_FILE, offset: entry.offset, length: entry.length });
  };
  family.buildGraph(g, { config: manifest.config, precision: manifest.precision, outputs, param, fused });
  // Several processes may make the same graph at once (the shards of a cluster job starting
  // together, on one host or several): each writes a file of its own and renames it into place.
  // The copies are identical, so whichever rename comes last, the graph is whole.
  const own = `${file}.${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeModel(g.build(), own, { producerVersion: manifest.appVersion });
    renameSync(own, file);
  } finally {
    rmSync(own, { force: true });
  }
  return file;
}
