/**
 * train/merge — a fine-tuned model as an ordinary installed model. Each adapted linear's
 * weight becomes W' = W + (alpha/r)·B A, folded into the stored (transposed, [in, out]) matrix:
 * W'ᵀ = Wᵀ + (alpha/r)·Aᵀ Bᵀ. The result is a new model folder — weights.data, model.onnx,
 * manifest.json, exactly what esm/model's conversion writes — so `Embedder`, `graphFile` and
 * everything else load it unchanged and it runs as fast as the base model. When a head is
 * given, `prediction.onnx` is added: input_ids → `prediction` (and `pooled`), with the head's
 * weights stored inside it. The manifest records what was merged under `merged` (extra field,
 * ignored by readManifest). The folder is built beside its target and renamed at the end;
 * half-built folders of merges that were killed are removed by the next merge into that place.
 *
 * Soft prompts and bottleneck adapters cannot be folded into weights (a prompt adds positions, an
 * adapter has a GELU inside): for those runs the weights are copied unchanged and prediction.onnx
 * carries the prompt or the adapters as constants beside the head (`carried`).
 */
import { int8MergeRefusal } from './int8';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { byteView, float32ToFloat16, GraphBuilder, writeModel, type Value } from '../onnx';
import { float16ToFloat32 } from '../models/formats/safetensors';
import { DEFAULT_GRAPH_FILE, defaultOutputsOf, familyOfManifest, MANIFEST_FILE, readManifest, WEIGHTS_FILE, type ModelManifest } from '../models/installed';
import { buildTrainingGraph, type TaskSpec } from './graph';
import { installedWeights } from './graph-files';
import type { HeadSpec } from './heads';
import { adaptedLinears, loraScale, type AdaptedLinear, type LoraSpec } from './lora';
import type { PromptSpec } from './prompt';
import type { BottleneckSpec } from './bottleneck';
import { settleStaging, writeFailure } from '../core/atomic';
import { mergingPrefix } from './staging';

export const PREDICTION_GRAPH_FILE = 'prediction.onnx';

export interface MergeOptions {
  /** LoRA adapters to fold into the weights; null when the run trained prompts or bottleneck adapters. */
  lora: LoraSpec | null;
  /** lora_A / lora_B tensors by PEFT name; the prompt's or the bottleneck adapters' tensors for `carried`. */
  adapters: ReadonlyMap<string, Float32Array>;
  /** A soft prompt or bottleneck adapters, which stay in prediction.onnx (so a head is needed). */
  carried?: { prompt: PromptSpec | null; adapter: BottleneckSpec | null };
  /** Also write prediction.onnx with this head on top. */
  head?: { spec: HeadSpec; task: TaskSpec; weights: ReadonlyMap<string, Float32Array> };
  /** Shown in the model list; default "<base name> + LoRA". */
  name?: string;
  appVersion?: string;
}

type ManifestEntry = ModelManifest['weights'][number];

/** Wᵀ + scale·Aᵀ Bᵀ for a weight stored as [in, out]; A is [r, in], B is [out, r] (all row-major). */
export function mergeLinear(stored: Float32Array, a: Float32Array, b: Float32Array, dims: { inDim: number; outDim: number; r: number }, scale: number): Float32Array {
  const { inDim, outDim, r } = dims;
  if (stored.length !== inDim * outDim || a.length !== r * inDim || b.length !== outDim * r) {
    throw new RangeError(`mergeLinear: sizes do not fit [${inDim}, ${outDim}] with rank ${r}.`);
  }
  const merged = Float32Array.from(stored);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) {
      let sum = 0; // in float64: one rounding per element, whatever r
      for (let k = 0; k < r; k++) sum += a[k * inDim + i]! * b[o * r + k]!;
      merged[row + o] = merged[row + o]! + scale * sum;
    }
  }
  return merged;
}

function readEntry(dataFile: string, entry: ManifestEntry): Uint8Array {
  const bytes = new Uint8Array(entry.length);
  const fd = openSync(dataFile, 'r');
  try {
    let done = 0;
    while (done < entry.length) done += readSync(fd, bytes, done, entry.length - done, entry.offset + done);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function toFloat32(bytes: Uint8Array, dtype: ManifestEntry['dtype']): Float32Array {
  const copy = bytes.slice().buffer;
  if (dtype === 'float16') return float16ToFloat32(new Uint16Array(copy));
  if (dtype === 'float32') return new Float32Array(copy);
  throw new Error(`Cannot merge into a ${dtype} weight.`);
}

/** The stored bytes of a weight, merged with its adapter when it has one. */
function mergedBytes(dataFile: string, entry: ManifestEntry, module: AdaptedLinear | undefined, options: MergeOptions): Uint8Array {
  const raw = readEntry(dataFile, entry);
  if (!module) return raw;
  const tensor = (name: string): Float32Array => {
    const data = options.adapters.get(name);
    if (!data) throw new Error(`No adapter tensor ${name}.`);
    return data;
  };
  const lora = options.lora!; // modules exist only with LoRA
  const dims = { inDim: module.inDim, outDim: module.outDim, r: lora.r };
  const merged = mergeLinear(toFloat32(raw, entry.dtype), tensor(module.a), tensor(module.b), dims, loraScale(lora));
  return entry.dtype === 'float16' ? byteView(float32ToFloat16(merged)) : byteView(merged);
}

/** Writes model.onnx and weights.data of the merged model into `folder`; returns the weight table. */
async function writeMergedWeights(sourceDir: string, manifest: ModelManifest, folder: string, options: MergeOptions) {
  const family = familyOfManifest(manifest);
  const modules = new Map(options.lora ? adaptedLinears(options.lora, manifest.config, family).map((m) => [`${m.base}.weight`, m]) : []);
  const dataFile = join(sourceDir, WEIGHTS_FILE);
  const g = new GraphBuilder(family.id);
  const params = new Map<string, Value>();
  for (const entry of manifest.weights) {
    const read = (): Uint8Array => mergedBytes(dataFile, entry, modules.get(entry.name), options);
    params.set(entry.name, g.initializer(entry.name, entry.dtype, entry.dims, { kind: 'lazy', read }));
  }
  family.buildGraph(g, { config: manifest.config, precision: manifest.precision, outputs: defaultOutputsOf(family), param: (name) => params.get(name)! });
  return writeModel(g.build(), join(folder, DEFAULT_GRAPH_FILE), {
    dataPath: join(folder, WEIGHTS_FILE),
    externalThreshold: 0,
    producerVersion: options.appVersion ?? manifest.appVersion,
  });
}

/** prediction.onnx: the merged backbone (no LoRA left) with the head, and any prompt or bottleneck adapters, baked in. */
async function writePredictionGraph(folder: string, manifest: ModelManifest, head: NonNullable<MergeOptions['head']>, options: MergeOptions): Promise<void> {
  const carried = options.carried ?? { prompt: null, adapter: null };
  const spec = { family: familyOfManifest(manifest), config: manifest.config, precision: manifest.precision, lora: null, ...carried, head: head.spec, task: head.task, mode: 'predict' as const };
  const baked = new Map([...head.weights, ...(options.carried ? options.adapters : [])]);
  const { graph } = buildTrainingGraph(spec, installedWeights(folder, manifest), { baked });
  await writeModel(graph, join(folder, PREDICTION_GRAPH_FILE), { producerVersion: manifest.appVersion });
}

/**
 * Writes the merged model to `outDir` (built in a temporary sibling folder, renamed at the end,
 * so a failure leaves nothing behind) and returns its manifest.
 */
export async function writeMergedModel(sourceDir: string, outDir: string, options: MergeOptions): Promise<ModelManifest> {
  const base = readManifest(sourceDir);
  if (base.precision === 'int8') throw new Error(int8MergeRefusal(base.name));
  const carriedMethod = options.carried?.prompt ? 'prompt' : options.carried?.adapter ? 'bottleneck adapters' : null;
  if (carriedMethod && !options.head) {
    throw new Error(`A ${carriedMethod === 'prompt' ? 'soft prompt' : carriedMethod} cannot be merged into the model's weights: only the prediction model (with the head it was trained with) can carry it. Give the head, or predict with the run instead.`);
  }
  if (!options.lora && !carriedMethod) throw new Error('Nothing to merge: no LoRA adapters, prompt or bottleneck adapters were given.');
  const target = resolve(outDir);
  if (existsSync(join(target, MANIFEST_FILE))) throw new Error(`${target} already holds a model; choose another folder.`);
  settleStaging(dirname(target), mergingPrefix(basename(target))); // merges killed before they finished
  const building = join(dirname(target), `${mergingPrefix(basename(target))}${process.pid}`);
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  try {
    const weights = await writeMergedWeights(sourceDir, base, building, options);
    const manifest: ModelManifest = { ...base, name: options.name ?? `${base.name} + ${carriedMethod ?? 'LoRA'}`, createdAt: new Date().toISOString(), weights };
    if (options.head) await writePredictionGraph(building, manifest, options.head, options);
    const merged = {
      base: { path: resolve(sourceDir), name: base.name },
      lora: options.lora,
      // The weights are the base model's; only prediction.onnx has the prompt or adapters.
      ...(options.carried ? { carried: options.carried } : {}),
      ...(options.head ? { head: { spec: options.head.spec, task: options.head.task }, predictionGraph: PREDICTION_GRAPH_FILE } : {}),
    };
    writeFileSync(join(building, MANIFEST_FILE), JSON.stringify({ ...manifest, merged }, null, 2));
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(building, target);
    return manifest;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw writeFailure(target, error);
  }
}
