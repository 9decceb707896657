/**
 * models/esm2/checkpoint — opens a Hugging Face ESM-2 checkpoint (`EsmForMaskedLM` in safetensors, one
 * file or sharded) for conversion: reads config.json, checks that every tensor the ESM-2 graph
 * needs is present with the right shape, and then hands out tensors one at a time. Only headers
 * are read when opening; weights are read lazily, so an 11 GB checkpoint never sits in memory.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ApiError } from '../../../api/errors';
import { parseEsmConfig, type EsmConfig } from './config';
import {
  FLOAT_DTYPES,
  openSafetensors,
  openShardedSafetensors,
  readFloat32 as readTensorFloat32,
  shardFiles,
  type TensorInfo,
  type TensorTable,
} from '../../formats/safetensors';

export type { EsmConfig } from './config';
export { parseEsmConfig } from './config';
export type { SafetensorsDtype, TensorInfo, TensorTable } from '../../formats/safetensors';
export { openSafetensors, openShardedSafetensors } from '../../formats/safetensors';

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface EsmCheckpoint {
  dir: string;
  config: EsmConfig;
  /** config.json, then the weight files in name order: what `checksum` hashes. */
  files: string[];
  /** The tensor table entry, after validation; throws for names the graph does not use. */
  info(name: string): TensorInfo;
  /** Reads one tensor (lazily, one at a time) and returns it as float32, whatever it is stored as. */
  readFloat32(name: string): Float32Array;
  /** Names present in the files that the model does not use (ignored), as written in the files. */
  ignoredKeys: string[];
  /** True when lm_head.decoder.weight was absent and the word embeddings stand in for it. */
  tiedDecoder: boolean;
  /** sha256 over config.json and the weight files, streamed (for the model manifest). */
  checksum(onProgress?: (fraction: number) => void): Promise<string>;
}

export const WORD_EMBEDDINGS = 'esm.embeddings.word_embeddings.weight';
export const DECODER_WEIGHT = 'lm_head.decoder.weight';

const CONFIG_FILE = 'config.json';
const SINGLE_WEIGHTS_FILE = 'model.safetensors';
const SHARD_INDEX_FILE = 'model.safetensors.index.json';
/** A real config.json is about 1 KB; refuse to read something huge that merely has the name. */
const MAX_CONFIG_BYTES = 1_000_000;

/**
 * Every tensor the ESM-2 graph needs, with Hugging Face names (`esm.` prefix for the encoder) and
 * PyTorch shapes (linear weights are [out, in]), in graph order.
 */
export function expectedTensors(config: EsmConfig): TensorSpec[] {
  const { hiddenSize, vocabSize, numLayers, numHeads } = config;
  const layers = Array.from({ length: numLayers }, (_, layer) => layerTensors(`esm.encoder.layer.${layer}`, config));
  return [
    { name: WORD_EMBEDDINGS, shape: [vocabSize, hiddenSize] },
    ...layers.flat(),
    ...layerNorm('esm.encoder.emb_layer_norm_after', hiddenSize),
    // One input channel per attention map: channel = layer * numHeads + head.
    { name: 'esm.contact_head.regression.weight', shape: [1, numLayers * numHeads] },
    { name: 'esm.contact_head.regression.bias', shape: [1] },
    ...linear('lm_head.dense', hiddenSize, hiddenSize),
    ...layerNorm('lm_head.layer_norm', hiddenSize),
    { name: DECODER_WEIGHT, shape: [vocabSize, hiddenSize] },
    { name: 'lm_head.bias', shape: [vocabSize] },
  ];
}

function layerTensors(prefix: string, config: EsmConfig): TensorSpec[] {
  const { hiddenSize, intermediateSize, headDim } = config;
  return [
    ...linear(`${prefix}.attention.self.query`, hiddenSize, hiddenSize),
    ...linear(`${prefix}.attention.self.key`, hiddenSize, hiddenSize),
    ...linear(`${prefix}.attention.self.value`, hiddenSize, hiddenSize),
    { name: `${prefix}.attention.self.rotary_embeddings.inv_freq`, shape: [headDim / 2] },
    ...linear(`${prefix}.attention.output.dense`, hiddenSize, hiddenSize),
    ...layerNorm(`${prefix}.attention.LayerNorm`, hiddenSize),
    ...linear(`${prefix}.intermediate.dense`, hiddenSize, intermediateSize),
    ...linear(`${prefix}.output.dense`, intermediateSize, hiddenSize),
    ...layerNorm(`${prefix}.LayerNorm`, hiddenSize),
  ];
}

function linear(prefix: string, inputs: number, outputs: number): TensorSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [outputs, inputs] },
    { name: `${prefix}.bias`, shape: [outputs] },
  ];
}

function layerNorm(prefix: string, size: number): TensorSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [size] },
    { name: `${prefix}.bias`, shape: [size] },
  ];
}

/**
 * Opens a checkpoint from its folder (config.json + model.safetensors or the sharded index), from a
 * `.safetensors` file or index with config.json beside it, or from that config.json. Reads only
 * config.json and the safetensors headers; throws `ApiError('invalid-input')` naming the file and
 * tensor for anything missing, misshapen or damaged.
 */
export function openCheckpoint(pathToFolderOrSafetensorsFile: string): EsmCheckpoint {
  const location = locate(pathToFolderOrSafetensorsFile);
  const config = readConfig(location.configFile);
  const fileTable = location.indexFile ? openShardedSafetensors(location.indexFile) : openSafetensors(location.weightFiles[0] ?? '');
  const weightsName = location.indexFile ?? location.weightFiles[0] ?? location.dir;
  const expected = expectedTensors(config);
  const { tensors, ignoredKeys } = normaliseNames(fileTable, new Set(expected.map((spec) => spec.name)), weightsName);
  const tiedDecoder = !tensors.has(DECODER_WEIGHT);
  const word = tensors.get(WORD_EMBEDDINGS);
  if (tiedDecoder && word) tensors.set(DECODER_WEIGHT, word);
  checkAllPresent(expected, tensors, weightsName);
  for (const spec of expected) checkTensor(spec, tensors.get(spec.name) as TensorInfo);

  const info = (name: string): TensorInfo => {
    const entry = tensors.get(name);
    if (!entry) throw new ApiError('internal', `The ESM-2 graph does not use a tensor named "${name}" (checkpoint ${location.dir}).`);
    return entry;
  };
  const files = [location.configFile, ...location.weightFiles];
  return {
    dir: location.dir,
    config,
    files,
    info,
    readFloat32: (name) => readTensorFloat32(info(name)),
    ignoredKeys,
    tiedDecoder,
    checksum: (onProgress) => sha256OfFiles(files, onProgress),
  };
}

// ---------------------------------------------------------------------------------------------
// Finding the files

interface Location {
  dir: string;
  configFile: string;
  /** The single weights file, or every shard in name order. */
  weightFiles: string[];
  indexFile: string | null;
}

function locate(path: string): Location {
  const kind = kindOf(path);
  if (kind === 'folder') return locateInFolder(path);
  const dir = dirname(path);
  const name = basename(path);
  if (name.endsWith('.safetensors.index.json')) return { dir, configFile: join(dir, CONFIG_FILE), weightFiles: shardFiles(path), indexFile: path };
  if (name.endsWith('.safetensors')) return { dir, configFile: join(dir, CONFIG_FILE), weightFiles: [path], indexFile: null };
  if (name === CONFIG_FILE) return locateInFolder(dir);
  throw new ApiError(
    'invalid-input',
    `${path}: not a model checkpoint. Choose the model's folder (holding config.json and model.safetensors) or its .safetensors file.`,
  );
}

/**
 * Whether `path` looks like an ESM-2 checkpoint: its config.json (beside a weights file, or in the
 * folder) says `"model_type": "esm"`. Never throws: anything unreadable is simply not recognised.
 */
export function recognisesCheckpoint(path: string): boolean {
  try {
    const configFile = fs.statSync(path).isDirectory() ? join(path, CONFIG_FILE) : join(dirname(path), CONFIG_FILE);
    if (fs.statSync(configFile).size > MAX_CONFIG_BYTES) return false;
    const json: unknown = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    return typeof json === 'object' && json !== null && (json as Record<string, unknown>).model_type === 'esm';
  } catch {
    return false;
  }
}

function kindOf(path: string): 'folder' | 'file' {
  try {
    return fs.statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    throw new ApiError('invalid-input', `${path} does not exist. Choose the folder of a downloaded ESM-2 model.`);
  }
}

function locateInFolder(dir: string): Location {
  const configFile = join(dir, CONFIG_FILE);
  const single = join(dir, SINGLE_WEIGHTS_FILE);
  if (fs.existsSync(single)) return { dir, configFile, weightFiles: [single], indexFile: null };
  const index = join(dir, SHARD_INDEX_FILE);
  if (fs.existsSync(index)) return { dir, configFile, weightFiles: shardFiles(index), indexFile: index };
  throw new ApiError('invalid-input', `${dir}: no ${SINGLE_WEIGHTS_FILE} (or ${SHARD_INDEX_FILE}) in this folder. ${missingWeightsAdvice(dir)}`);
}

function missingWeightsAdvice(dir: string): string {
  const pytorch = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].find((name) => fs.existsSync(join(dir, name)));
  if (pytorch) {
    return `The folder has ${pytorch}, the PyTorch pickle format, which ESM Studio does not read; download the model's safetensors files (model.safetensors) instead.`;
  }
  return 'Choose the folder of a Hugging Face ESM-2 model, which holds config.json and model.safetensors.';
}

function readConfig(configFile: string): EsmConfig {
  let text: string;
  try {
    if (fs.statSync(configFile).size > MAX_CONFIG_BYTES) throw new Error('too large');
    text = fs.readFileSync(configFile, 'utf8');
  } catch {
    throw new ApiError(
      'invalid-input',
      `${configFile}: config.json is missing or unreadable. It must sit beside the weights; download it from the model's page together with model.safetensors.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError('invalid-input', `${configFile}: the file is not valid JSON. Download config.json again from the model's page.`);
  }
  return parseEsmConfig(json, configFile);
}

// ---------------------------------------------------------------------------------------------
// Names and shapes

/** Some exports drop the `esm.` prefix of encoder tensors; the `lm_head.` ones keep theirs. */
function canonicalName(key: string): string {
  return key.startsWith('esm.') || key.startsWith('lm_head.') ? key : `esm.${key}`;
}

function normaliseNames(fileTable: TensorTable, expected: ReadonlySet<string>, weightsName: string): { tensors: TensorTable; ignoredKeys: string[] } {
  const tensors: TensorTable = new Map();
  const ignoredKeys: string[] = [];
  for (const [key, info] of fileTable) {
    const name = canonicalName(key);
    if (!expected.has(name)) {
      ignoredKeys.push(key);
      continue;
    }
    const earlier = tensors.get(name);
    if (earlier) {
      throw new ApiError(
        'invalid-input',
        `${weightsName}: tensor "${name}" is stored twice (as "${earlier.name}" and "${key}"). The file mixes two exports; download the model again.`,
      );
    }
    tensors.set(name, info);
  }
  return { tensors, ignoredKeys };
}

function checkAllPresent(expected: readonly TensorSpec[], tensors: TensorTable, weightsName: string): void {
  const missing = expected.filter((spec) => !tensors.has(spec.name));
  const first = missing[0];
  if (!first) return;
  const others = missing.length > 1 ? ` (and ${missing.length - 1} more, e.g. ${missing.slice(1, 4).map((spec) => `"${spec.name}"`).join(', ')})` : '';
  throw new ApiError('invalid-input', `${weightsName}: tensor "${first.name}" is missing (expected shape ${shapeText(first.shape)})${others}. ${missingAdvice(missing)}`);
}

function missingAdvice(missing: readonly TensorSpec[]): string {
  if (missing.every((spec) => spec.name.startsWith('lm_head.'))) {
    return 'The checkpoint has no language-model head (it was saved from EsmModel, not EsmForMaskedLM); use the full facebook/esm2_* checkpoint.';
  }
  return 'The weights do not match config.json or the download is incomplete; download the model again.';
}

function checkTensor(spec: TensorSpec, info: TensorInfo): void {
  if (!sameShape(spec.shape, info.shape)) {
    throw new ApiError(
      'invalid-input',
      `${info.file}: tensor "${info.name}" has shape ${shapeText(info.shape)}, but config.json needs ${shapeText(spec.shape)}. ` +
        'The weights and config.json come from different models; put the matching config.json beside the weights.',
    );
  }
  if (!FLOAT_DTYPES.includes(info.dtype)) {
    throw new ApiError(
      'invalid-input',
      `${info.file}: tensor "${info.name}" is stored as ${info.dtype}; model weights must be F32, F16, BF16 or F64. The file is not a usable checkpoint.`,
    );
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, index) => size === b[index]);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Checksum

/**
 * sha256 of the files' bytes one after another — the same as `cat files... | sha256sum` — read in
 * 4 MB chunks so memory stays flat for an 11 GB model.
 */
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
