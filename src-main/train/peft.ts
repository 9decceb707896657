/**
 * train/peft — a fine-tuned LoRA adapter on disk, in Hugging Face PEFT's layout so that Python
 * users can load it with `PeftModel.from_pretrained`: `adapter_model.safetensors` (fp32, names
 * `base_model.model.esm.encoder.layer.N.attention.self.query.lora_A.weight`), `adapter_config.json`
 * (PEFT's LoraConfig fields), and our prediction head beside them as `head.safetensors` (+
 * `head_config.json`): the head is ours (e.g. mean pooling → linear), not a transformers module,
 * so PEFT's `modules_to_save` cannot describe it and stays null.
 *
 * Inside the app parameters are named without PEFT's `base_model.model.` prefix (as in the golden
 * files): `esm.encoder.layer.0.attention.self.query.lora_A.weight`, `head.weight`, `head.bias`.
 * Reading an adapter back checks every name and shape and says which file, which tensor, what
 * was expected and what was found.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, readFloat32, type TensorTable } from '../models/formats/safetensors';
import { writeSafetensorsFile } from '../models/formats/safetensors-write';
import { writeBytesAtomically } from '../core/atomic';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';
export const HEAD_WEIGHTS = 'head.safetensors';
export const HEAD_CONFIG = 'head_config.json';
const PEFT_PREFIX = 'base_model.model.';

export interface ShapedTensor {
  shape: number[];
  data: Float32Array;
}

export type ShapedTensorMap = Map<string, ShapedTensor>;

/** The LoRA settings we train with; written as PEFT's LoraConfig. */
export interface LoraSettings {
  baseModel: string;
  r: number;
  loraAlpha: number;
  loraDropout: number;
  /** PEFT module-name suffixes: 'query', 'key', 'value', 'dense'. */
  targetModules: string[];
  /** Encoder layers that carry adapters (0-based); null for all. */
  layersToTransform: number[] | null;
  /** PEFT's task_type, e.g. 'SEQ_CLS', 'TOKEN_CLS', 'FEATURE_EXTRACTION'; null for none. */
  taskType: string | null;
  inferenceMode?: boolean;
}

export interface PeftAdapter {
  settings: LoraSettings;
  /** Internal names → tensors. */
  lora: ShapedTensorMap;
  head: ShapedTensorMap;
  headConfig: Record<string, unknown> | null;
}

/** Splits trained parameters (internal names) into the adapter's LoRA tensors and the head's. */
export function splitTrainedParameters(params: ShapedTensorMap): { lora: ShapedTensorMap; head: ShapedTensorMap } {
  const lora: ShapedTensorMap = new Map();
  const head: ShapedTensorMap = new Map();
  for (const [name, tensor] of params) {
    if (name.startsWith('head.')) head.set(name, tensor);
    else if (/\.lora_[AB]\.weight$/.test(name)) lora.set(name, tensor);
    else throw new Error(`Parameter "${name}" is neither a LoRA matrix nor part of the head; it cannot be saved in an adapter.`);
  }
  return { lora, head };
}

/** Writes the adapter folder; each file atomically. */
export function writePeftAdapter(dir: string, adapter: PeftAdapter): void {
  checkSettings(adapter.settings, join(dir, ADAPTER_CONFIG));
  const lora = [...adapter.lora].map(([name, tensor]) => ({ name: PEFT_PREFIX + name, shape: tensor.shape, data: tensor.data }));
  writeSafetensorsFile(join(dir, ADAPTER_WEIGHTS), lora, { format: 'pt' });
  writeJson(join(dir, ADAPTER_CONFIG), peftConfigJson(adapter.settings));
  writeHead(dir, adapter.head, adapter.headConfig);
}

/** head.safetensors (when the head has tensors) and head_config.json (when given). */
export function writeHead(dir: string, tensors: ShapedTensorMap, headConfig: Record<string, unknown> | null): void {
  if (tensors.size > 0) {
    const head = [...tensors].map(([name, tensor]) => ({ name, shape: tensor.shape, data: tensor.data }));
    writeSafetensorsFile(join(dir, HEAD_WEIGHTS), head, { format: 'pt' });
  }
  if (headConfig) writeJson(join(dir, HEAD_CONFIG), headConfig);
}

/** PEFT's LoraConfig as `save_pretrained` writes it (fields we do not use at their defaults). */
export function peftConfigJson(settings: LoraSettings): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: settings.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: settings.inferenceMode ?? true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: settings.layersToTransform,
    loftq_config: {},
    lora_alpha: settings.loraAlpha,
    lora_dropout: settings.loraDropout,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r: settings.r,
    rank_pattern: {},
    revision: null,
    target_modules: settings.targetModules,
    task_type: settings.taskType,
    use_dora: false,
    use_rslora: false,
  };
}

/** The ESM-2 dimensions LoRA shapes depend on. */
export interface EsmDimensions {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
}

/** Module paths inside `esm.encoder.layer.N.` each PEFT target name adapts, with [out, in]. */
function targetedModules(target: string, dims: EsmDimensions): { path: string; out: number; in: number }[] {
  const d = dims.hiddenSize;
  switch (target) {
    case 'query':
    case 'key':
    case 'value':
      return [{ path: `attention.self.${target}`, out: d, in: d }];
    case 'dense': // PEFT matches by suffix: every *.dense inside the layer
      return [
        { path: 'attention.output.dense', out: d, in: d },
        { path: 'intermediate.dense', out: dims.intermediateSize, in: d },
        { path: 'output.dense', out: d, in: dims.intermediateSize },
      ];
    default:
      throw new Error(`LoRA target module "${target}" is not one ESM Studio adapts; use query, key, value or dense.`);
  }
}

/** Internal name → shape of every LoRA matrix these settings create: A is [r, in], B is [out, r]. */
export function loraParameterShapes(settings: Pick<LoraSettings, 'r' | 'targetModules' | 'layersToTransform'>, dims: EsmDimensions): Map<string, number[]> {
  const layers = settings.layersToTransform ?? Array.from({ length: dims.numLayers }, (_, i) => i);
  const shapes = new Map<string, number[]>();
  for (const layer of layers) {
    if (!Number.isSafeInteger(layer) || layer < 0 || layer >= dims.numLayers) {
      throw new Error(`Layer ${layer} does not exist: the model has layers 0 to ${dims.numLayers - 1}.`);
    }
    for (const target of settings.targetModules) {
      for (const module of targetedModules(target, dims)) {
        const base = `esm.encoder.layer.${layer}.${module.path}`;
        shapes.set(`${base}.lora_A.weight`, [settings.r, module.in]);
        shapes.set(`${base}.lora_B.weight`, [module.out, settings.r]);
      }
    }
  }
  return shapes;
}

export interface ExpectedAdapter {
  /** The LoRA matrices the model expects (see loraParameterShapes); omitted: only self-consistency is checked. */
  lora?: Map<string, number[]>;
  /** The head tensors the model expects, e.g. head.weight [1, D], head.bias [1]. */
  head?: Map<string, number[]>;
}

/** Reads and validates an adapter folder written by us (or by PEFT, for the LoRA part). */
export function readPeftAdapter(dir: string, expected: ExpectedAdapter = {}): PeftAdapter {
  const configPath = join(dir, ADAPTER_CONFIG);
  const settings = parsePeftConfig(configPath);
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  const lora = readLora(weightsPath, settings);
  if (expected.lora) checkExpected(weightsPath, lora, expected.lora);
  const headPath = join(dir, HEAD_WEIGHTS);
  const head: ShapedTensorMap = existsSync(headPath) ? readAll(openSafetensors(headPath)) : new Map();
  if (expected.head) checkExpected(headPath, head, expected.head);
  const headConfigPath = join(dir, HEAD_CONFIG);
  const headConfig = existsSync(headConfigPath) ? (readJson(headConfigPath) as Record<string, unknown>) : null;
  return { settings, lora, head, headConfig };
}

function readLora(file: string, settings: LoraSettings): ShapedTensorMap {
  if (!existsSync(file)) throw new Error(`${file} is missing: the adapter folder has no LoRA weights.`);
  const table = openSafetensors(file);
  const lora: ShapedTensorMap = new Map();
  for (const [stored, tensor] of readAll(table)) {
    if (!stored.startsWith(PEFT_PREFIX)) throw new Error(`${file}: tensor "${stored}" does not start with "${PEFT_PREFIX}", so it is not a PEFT adapter weight.`);
    const name = stored.slice(PEFT_PREFIX.length);
    checkLoraTensor(file, stored, name, tensor.shape, settings);
    lora.set(name, tensor);
  }
  if (lora.size === 0) throw new Error(`${file} holds no LoRA weights.`);
  checkPairs(file, lora);
  return lora;
}

/** ESM-2's `esm.encoder.layer.N.<module>` or ESM C's (`esm` package) `transformer.blocks.N.<module>`. */
const LORA_NAME = /^(?:esm\.encoder\.layer|transformer\.blocks)\.(\d+)\.(.+)\.lora_([AB])\.weight$/;

function checkLoraTensor(file: string, stored: string, name: string, shape: number[], settings: LoraSettings): void {
  const match = LORA_NAME.exec(name);
  if (!match) throw new Error(`${file}: tensor "${stored}" is not named like a LoRA weight of ESM-2 (esm.encoder.layer.N.<module>.lora_A.weight) or ESM C (transformer.blocks.N.<module>.lora_A.weight).`);
  const [, layer, module, which] = match;
  if (settings.layersToTransform && !settings.layersToTransform.includes(Number(layer))) {
    throw new Error(`${file}: tensor "${stored}" adapts layer ${layer}, but adapter_config.json's layers_to_transform is [${settings.layersToTransform.join(', ')}].`);
  }
  if (!settings.targetModules.some((target) => module === target || module!.endsWith(`.${target}`))) {
    throw new Error(`${file}: tensor "${stored}" adapts module "${module}", which is not in adapter_config.json's target_modules [${settings.targetModules.join(', ')}].`);
  }
  const rankAxis = which === 'A' ? 0 : 1;
  if (shape.length !== 2 || shape[rankAxis] !== settings.r) {
    const want = which === 'A' ? `[${settings.r}, in]` : `[out, ${settings.r}]`;
    throw new Error(`${file}: tensor "${stored}": expected shape ${want} (r = ${settings.r} from adapter_config.json), found [${shape.join(', ')}].`);
  }
}

/** Every lora_A needs its lora_B and the other way round. */
function checkPairs(file: string, lora: ShapedTensorMap): void {
  for (const name of lora.keys()) {
    const partner = name.endsWith('.lora_A.weight') ? name.replace(/lora_A\.weight$/, 'lora_B.weight') : name.replace(/lora_B\.weight$/, 'lora_A.weight');
    if (!lora.has(partner)) throw new Error(`${file}: tensor "${PEFT_PREFIX}${name}" has no partner "${PEFT_PREFIX}${partner}".`);
  }
}

function checkExpected(file: string, found: ShapedTensorMap, expected: Map<string, number[]>): void {
  for (const [name, shape] of expected) {
    const tensor = found.get(name);
    if (!tensor) throw new Error(`${file}: tensor "${name}" is missing; this model expects it with shape [${shape.join(', ')}].`);
    if (!sameShape(tensor.shape, shape)) {
      throw new Error(`${file}: tensor "${name}": expected shape [${shape.join(', ')}], found [${tensor.shape.join(', ')}]. The adapter was trained for a different model or settings.`);
    }
  }
  const unexpected = [...found.keys()].filter((name) => !expected.has(name));
  if (unexpected.length > 0) throw new Error(`${file}: unexpected tensor(s) ${unexpected.map((name) => `"${name}"`).join(', ')}; this model and settings do not use them.`);
}

/** head.safetensors of an adapter folder (empty when it has none). */
export function readHeadTensors(dir: string): ShapedTensorMap {
  const headPath = join(dir, HEAD_WEIGHTS);
  return existsSync(headPath) ? readAll(openSafetensors(headPath)) : new Map();
}

function readAll(table: TensorTable): ShapedTensorMap {
  return new Map([...table].map(([name, info]) => [name, { shape: info.shape, data: readFloat32(info) }]));
}

/** adapter_config.json → settings, refusing LoRA variants whose math we do not implement. */
export function parsePeftConfig(path: string): LoraSettings {
  if (!existsSync(path)) throw new Error(`${path} is missing: the folder is not a PEFT adapter.`);
  const json = readJson(path) as Record<string, unknown>;
  const bad = (field: string, why: string): Error => new Error(`${path}: ${field} ${JSON.stringify(json[field])} ${why}.`);
  if (json.peft_type !== 'LORA') throw bad('peft_type', 'is not "LORA"; only LoRA adapters are supported');
  if (!isPositiveInteger(json.r)) throw bad('r', 'is not a positive integer');
  if (typeof json.lora_alpha !== 'number' || !(json.lora_alpha > 0)) throw bad('lora_alpha', 'is not a positive number');
  const dropout = json.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw bad('lora_dropout', 'is not in [0, 1)');
  if (!Array.isArray(json.target_modules) || !json.target_modules.every((m) => typeof m === 'string')) {
    throw bad('target_modules', 'is not a list of module names (regular expressions are not supported)');
  }
  if ((json.bias ?? 'none') !== 'none') throw bad('bias', 'is not "none"; adapters that train biases are not supported');
  if (json.fan_in_fan_out === true) throw bad('fan_in_fan_out', 'is true; ESM-2 linear weights are [out, in]');
  if (json.use_dora === true) throw bad('use_dora', 'is true; DoRA adapters are not supported');
  if (json.use_rslora === true) throw bad('use_rslora', 'is true; rank-stabilised scaling is not supported');
  for (const field of ['rank_pattern', 'alpha_pattern']) {
    const value = json[field];
    if (value && typeof value === 'object' && Object.keys(value).length > 0) throw bad(field, 'is not empty; per-module ranks are not supported');
  }
  return {
    baseModel: typeof json.base_model_name_or_path === 'string' ? json.base_model_name_or_path : '',
    r: json.r,
    loraAlpha: json.lora_alpha,
    loraDropout: dropout,
    targetModules: json.target_modules as string[],
    layersToTransform: parseLayers(json.layers_to_transform, () => bad('layers_to_transform', 'is not a layer index or list of them')),
    taskType: typeof json.task_type === 'string' ? json.task_type : null,
    inferenceMode: json.inference_mode !== false,
  };
}

function parseLayers(value: unknown, bad: () => Error): number[] | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') value = [value];
  if (!Array.isArray(value) || !value.every((layer) => Number.isSafeInteger(layer) && layer >= 0)) throw bad();
  return value as number[];
}

function checkSettings(settings: LoraSettings, path: string): void {
  if (!isPositiveInteger(settings.r)) throw new Error(`${path}: LoRA rank r must be a positive integer, got ${settings.r}.`);
  if (!(settings.loraAlpha > 0)) throw new Error(`${path}: lora_alpha must be > 0, got ${settings.loraAlpha}.`);
  if (settings.targetModules.length === 0) throw new Error(`${path}: no target modules.`);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read it as JSON (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
}

function writeJson(path: string, value: unknown): void {
  writeBytesAtomically(path, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`));
}
