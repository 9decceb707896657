/**
 * models/esmc/checkpoint — opens an ESM C checkpoint in any of the layouts it is distributed in, for
 * conversion: the Biohub / Hugging Face folder (`config.json` with `"model_type": "esmc"`,
 * `model.safetensors` or shards, TransformerEngine names under `esmc.` and `lm_head.`), the `esm`
 * package's names as `model.safetensors`, and the original `.pth` (`data/weights/esmc_*.pth`, read
 * by the restricted pickle reader: nothing in it is run). Names are mapped to the `esm` package's
 * (models/esmc/names), the sizes read or inferred (models/esmc/config), and every tensor the graph
 * needs checked for presence, shape and type before anything is converted. Only headers (and the
 * `.pth`'s small pickle) are read when opening; weights are read one at a time later.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ApiError } from '../../api/errors';
import { openTorchCheckpoint } from '../formats/pth';
import { FLOAT_DTYPES, openSafetensors, openShardedSafetensors, readFloat32, shardFiles, type TensorInfo, type TensorTable } from '../formats/safetensors';
import { looksLikeZip } from '../formats/zip';
import { folderName, inferredHeads, isEsmcConfigJson, makeConfig, parseHfConfig, type EsmcConfig, type EsmcLayout, type HfSizes } from './config';
import { blockIndexOf, blockNames, canonicalName, isExtraState, TOP } from './names';
import { VOCAB_SIZE } from './tokenizer';

export interface EsmcCheckpoint {
  config: EsmcConfig;
  /** config.json (when there is one), then the weight files: what `checksum` hashes. */
  files: string[];
  /** Names in the files the model does not use (empty TransformerEngine `_extra_state` entries are not listed). */
  ignoredKeys: string[];
  /** One tensor, by its `esm` package name, as float32 (F16, BF16 and F64 are converted). */
  readFloat32(name: string): Float32Array;
  checksum(onProgress?: (fraction: number) => void): Promise<string>;
}

interface TensorSpec {
  name: string;
  shape: number[];
}

const CONFIG_FILE = 'config.json';
const SINGLE_WEIGHTS_FILE = 'model.safetensors';
const SHARD_INDEX_FILE = 'model.safetensors.index.json';
/** Where the EvolutionaryScale repositories keep the `.pth` (`data/weights/esmc_300m_2024_12_v0.pth`). */
const PTH_SUBFOLDER = join('data', 'weights');
const MAX_CONFIG_BYTES = 1_000_000;

/** Every tensor the graph reads, with `esm` package names and PyTorch shapes ([out, in]). */
export function expectedTensors(config: EsmcConfig): TensorSpec[] {
  const d = config.hiddenSize;
  const F = config.intermediateSize;
  const vector = (name: string): TensorSpec => ({ name, shape: [d] });
  const specs: TensorSpec[] = [{ name: TOP.embed, shape: [VOCAB_SIZE, d] }];
  for (let n = 0; n < config.numLayers; n++) {
    const b = blockNames(n);
    specs.push(
      vector(`${b.attentionNorm}.weight`),
      vector(`${b.attentionNorm}.bias`),
      { name: `${b.qkv}.weight`, shape: [3 * d, d] },
      vector(`${b.queryNorm}.weight`),
      vector(`${b.keyNorm}.weight`),
      { name: `${b.attentionOut}.weight`, shape: [d, d] },
      vector(`${b.ffnNorm}.weight`),
      vector(`${b.ffnNorm}.bias`),
      { name: `${b.ffnIn}.weight`, shape: [2 * F, d] },
      { name: `${b.ffnOut}.weight`, shape: [d, F] },
    );
  }
  specs.push(
    vector(`${TOP.finalNorm}.weight`),
    { name: `${TOP.headDense}.weight`, shape: [d, d] },
    vector(`${TOP.headDense}.bias`),
    vector(`${TOP.headNorm}.weight`),
    vector(`${TOP.headNorm}.bias`),
    { name: `${TOP.headOut}.weight`, shape: [VOCAB_SIZE, d] },
    { name: `${TOP.headOut}.bias`, shape: [VOCAB_SIZE] },
  );
  return specs;
}

// ---------------------------------------------------------------------------------------------
// Finding the files

interface Location {
  /** Where messages point: the weights file, index or .pth. */
  weightsName: string;
  configFile: string | null;
  weightFiles: string[];
  indexFile: string | null;
  pth: string | null;
}

/**
 * Whether `source` looks like an ESM C checkpoint: an `"esmc"` config.json (in the folder or beside
 * the file), safetensors whose header has ESM C's embedding, or a `.pth` zip (in the folder or its
 * data/weights/). Never throws.
 */
export function recognisesEsmc(source: string): boolean {
  try {
    const isFolder = fs.statSync(source).isDirectory();
    const dir = isFolder ? source : dirname(source);
    if (readEsmcConfigJson(join(dir, CONFIG_FILE)) !== null) return true;
    if (!isFolder && basename(source) === CONFIG_FILE) return false;
    if (!isFolder) return extname(source) === '.pth' ? looksLikeZip(source) : source.endsWith('.safetensors') && hasEsmcEmbedding(source);
    if (fs.existsSync(join(dir, SINGLE_WEIGHTS_FILE))) return hasEsmcEmbedding(join(dir, SINGLE_WEIGHTS_FILE));
    return pthFilesIn(dir).length > 0;
  } catch {
    return false;
  }
}

function hasEsmcEmbedding(file: string): boolean {
  const table = openSafetensors(file);
  return table.has(TOP.embed) || table.has(`esmc.${TOP.embed}`);
}

/** The parsed config.json if it is an ESM C one, else null (absent, unreadable, or another model's). */
function readEsmcConfigJson(file: string): unknown {
  try {
    if (fs.statSync(file).size > MAX_CONFIG_BYTES) return null;
    const json: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return isEsmcConfigJson(json) ? json : null;
  } catch {
    return null;
  }
}

function pthFilesIn(dir: string): string[] {
  for (const folder of [dir, join(dir, PTH_SUBFOLDER)]) {
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) continue;
    const found = fs.readdirSync(folder).filter((name) => name.endsWith('.pth')).sort();
    if (found.length > 0) return found.map((name) => join(folder, name));
  }
  return [];
}

function locate(source: string): Location {
  let isFolder: boolean;
  try {
    isFolder = fs.statSync(source).isDirectory();
  } catch {
    throw new ApiError('invalid-input', `${source} does not exist. Choose the folder of a downloaded ESM C model, its model.safetensors or its .pth file.`);
  }
  const dir = isFolder ? source : dirname(source);
  const configFile = readEsmcConfigJson(join(dir, CONFIG_FILE)) !== null ? join(dir, CONFIG_FILE) : null;
  const none = { configFile, indexFile: null, pth: null };
  if (!isFolder) {
    const name = basename(source);
    if (name === CONFIG_FILE) return locate(dir);
    if (name.endsWith('.pth')) return { ...none, weightsName: source, weightFiles: [source], pth: source };
    if (name.endsWith('.safetensors.index.json')) return { ...none, weightsName: source, weightFiles: shardFiles(source), indexFile: source };
    if (name.endsWith('.safetensors')) return { ...none, weightsName: source, weightFiles: [source] };
    throw new ApiError('invalid-input', `${source}: not an ESM C checkpoint. Choose the model's folder, its model.safetensors or its .pth file.`);
  }
  const single = join(dir, SINGLE_WEIGHTS_FILE);
  if (fs.existsSync(single)) return { ...none, weightsName: single, weightFiles: [single] };
  const index = join(dir, SHARD_INDEX_FILE);
  if (fs.existsSync(index)) return { ...none, weightsName: index, weightFiles: shardFiles(index), indexFile: index };
  const pths = pthFilesIn(dir);
  if (pths.length === 1) return { ...none, weightsName: pths[0]!, weightFiles: pths, pth: pths[0]! };
  if (pths.length > 1) {
    throw new ApiError('invalid-input', `${dir}: holds several .pth files (${pths.map((file) => basename(file)).join(', ')}); choose the one to convert.`);
  }
  throw new ApiError('invalid-input', `${dir}: no ${SINGLE_WEIGHTS_FILE}, ${SHARD_INDEX_FILE} or .pth file in this folder. Choose the folder of an ESM C model (biohub/ESMC-300M or EvolutionaryScale/esmc-300m-2024-12).`);
}

// ---------------------------------------------------------------------------------------------
// Opening

/** Opens and checks a checkpoint; an `ApiError('invalid-input')` naming the file and tensor for anything unusable. */
export function openEsmcCheckpoint(source: string): EsmcCheckpoint {
  const location = locate(source);
  const fileTable = location.pth
    ? openTorchCheckpoint(location.pth).tensors
    : location.indexFile
      ? openShardedSafetensors(location.indexFile)
      : openSafetensors(location.weightFiles[0]!);
  const { tensors, ignoredKeys, hfNames } = canonicalTable(fileTable, location.weightsName);
  const layout: EsmcLayout = location.pth ? 'esm-pth' : hfNames ? 'hf' : 'esm-safetensors';
  const hfSizes = location.configFile ? parseHfConfig(JSON.parse(fs.readFileSync(location.configFile, 'utf8')), location.configFile) : null;
  const config = configOf(tensors, hfSizes, layout, location);
  const expected = expectedTensors(config);
  const expectedNames = new Set(expected.map((spec) => spec.name));
  for (const name of [...tensors.keys()]) {
    if (expectedNames.has(name)) continue;
    ignoredKeys.push(tensors.get(name)!.name);
    tensors.delete(name);
  }
  for (const spec of expected) checkTensor(spec, tensors.get(spec.name), location.weightsName);
  const files = [...(location.configFile ? [location.configFile] : []), ...location.weightFiles];
  return {
    config,
    files,
    ignoredKeys,
    readFloat32: (name) => {
      const info = tensors.get(name);
      if (!info) throw new ApiError('internal', `The ESM C graph does not use a tensor named "${name}" (${location.weightsName}).`);
      return readFloat32(info);
    },
    checksum: (onProgress) => sha256OfFiles(files, onProgress),
  };
}

/** The file's tensors under their `esm` package names; empty `_extra_state` entries dropped. */
function canonicalTable(fileTable: TensorTable, weightsName: string): { tensors: TensorTable; ignoredKeys: string[]; hfNames: boolean } {
  const tensors: TensorTable = new Map();
  const ignoredKeys: string[] = [];
  let hfNames = false;
  for (const [key, info] of fileTable) {
    if (isExtraState(key)) {
      if (info.byteLength > 0) ignoredKeys.push(key);
      continue;
    }
    const name = canonicalName(key);
    if (name !== key) hfNames = true;
    const earlier = tensors.get(name);
    if (earlier) {
      throw new ApiError('invalid-input', `${weightsName}: tensor "${name}" is stored twice (as "${earlier.name}" and "${key}"). The file mixes two exports; download the model again.`);
    }
    tensors.set(name, info);
  }
  return { tensors, ignoredKeys, hfNames };
}

/** Sizes from config.json when there is one; the layer count and widths from the tensors. */
function configOf(tensors: TensorTable, hf: HfSizes | null, layout: EsmcLayout, location: Location): EsmcConfig {
  const where = location.weightsName;
  const embed = tensors.get(TOP.embed);
  if (!embed || embed.shape.length !== 2) {
    throw new ApiError('invalid-input', `${where}: tensor "${TOP.embed}" (ESM C's token embeddings) is missing. This is not an ESM C checkpoint, or the download is incomplete.`);
  }
  const hiddenSize = hf?.hiddenSize ?? embed.shape[1]!;
  const blocks = new Set([...tensors.keys()].map(blockIndexOf).filter((n): n is number => n !== null));
  const numLayers = hf?.numLayers ?? blocks.size;
  const ffnOut = tensors.get(`${blockNames(0).ffnOut}.weight`);
  if (numLayers === 0 || !ffnOut || ffnOut.shape.length !== 2) {
    throw new ApiError('invalid-input', `${where}: tensor "${blockNames(0).ffnOut}.weight" is missing. The download is incomplete; download the model again.`);
  }
  const sourceName = hf?.sourceName ?? (location.pth ? basename(location.pth, '.pth') : folderName(where));
  return makeConfig(
    { hiddenSize, numHeads: hf?.numHeads ?? inferredHeads(hiddenSize), numLayers, intermediateSize: ffnOut.shape[1]!, layerNormEps: hf?.layerNormEps },
    { layout, headsInferred: !hf, sourceName, where: hf ? location.configFile! : where },
  );
}

function checkTensor(spec: TensorSpec, info: TensorInfo | undefined, weightsName: string): void {
  if (!info) {
    throw new ApiError(
      'invalid-input',
      `${weightsName}: tensor "${spec.name}" is missing (expected shape [${spec.shape.join(', ')}]). The weights are incomplete or do not match config.json; download the model again.`,
    );
  }
  if (info.shape.length !== spec.shape.length || info.shape.some((size, i) => size !== spec.shape[i])) {
    throw new ApiError(
      'invalid-input',
      `${info.file}: tensor "${info.name}" has shape [${info.shape.join(', ')}], but this ESM C needs [${spec.shape.join(', ')}]. The weights and config.json come from different models.`,
    );
  }
  if (!FLOAT_DTYPES.includes(info.dtype)) {
    throw new ApiError('invalid-input', `${info.file}: tensor "${info.name}" is stored as ${info.dtype}; model weights must be F32, F16, BF16 or F64.`);
  }
}

/** sha256 of the files one after another, streamed in 4 MB chunks. */
async function sha256OfFiles(files: readonly string[], onProgress?: (fraction: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const total = files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
  let done = 0;
  onProgress?.(0);
  for (const file of files) {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      onProgress?.(total === 0 ? 1 : done / total);
    }
  }
  onProgress?.(1);
  return hash.digest('hex');
}
