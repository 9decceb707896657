/**
 * train/peft-methods — the three ways a run adapts the frozen model (LoRA, prompt tuning,
 * bottleneck adapters) from the settings to the graph and to disk and back:
 *
 * - `PeftParts`: what train/graph builds (at most one of lora / prompt / adapter is set by a run);
 * - their initial tensors (LoRA: PEFT's init; prompts: amino-acid embeddings read from the model's
 *   weights; adapters: identity);
 * - the adapter folder of prompt tuning and adapters (LoRA's stays in train/peft):
 *
 *   prompt tuning  adapter_config.json  PEFT's PromptTuningConfig: peft_type "PROMPT_TUNING",
 *                                       num_virtual_tokens, token_dim, num_transformer_submodules 1,
 *                                       num_attention_heads, num_layers, prompt_tuning_init "SAMPLE_VOCAB",
 *                                       plus ours: esm_studio_prompt_layers ("input" | "all" | K) and
 *                                       esm_studio_prompt_blocks (the 0-based blocks with a prompt)
 *                  adapter_model.safetensors  `prompt_embeddings` [blocks·num_virtual_tokens, token_dim]
 *                                       (PEFT's name; a shallow prompt loads into PEFT as it is)
 *   adapters       adapter_config.json  peft_type "BOTTLENECK" (the LLM-Adapters fork of PEFT's name;
 *                                       PEFT itself has none), bottleneck_size, non_linearity "gelu",
 *                                       adapter_dropout 0, use_parallel_adapter false, scaling 1,
 *                                       target_modules (the family's attention-output and output
 *                                       modules), layers_to_transform, esm_studio_layout "houlsby-after-projection"
 *                  adapter_model.safetensors  `base_model.model.<module>.adapter.{down,up}.{weight,bias}`
 *
 * Neither can be folded into the model's weights; a saved run's prediction graph carries them.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { PeftChoice, PeftMethodName } from '../api/schemas';
import { writeBytesAtomically } from '../core/atomic';
import { float16ToFloat32, openSafetensors, readFloat32 } from '../models/formats/safetensors';
import { writeSafetensorsFile } from '../models/formats/safetensors-write';
import type { ModelConfig, ModelFamily } from '../models/family';
import { WEIGHTS_FILE, type ModelManifest } from '../models/installed';
import { BOTTLENECK_ACTIVATION, BOTTLENECK_ROLES, bottleneckLayers, bottleneckParameters, initBottleneck, type BottleneckSpec } from './bottleneck';
import { initLora, type LoraSpec, type ParamSpec } from './lora';
import { initPrompt, promptBlocks, promptParameters, PROMPT_EMBEDDINGS, type PromptSpec } from './prompt';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, type ShapedTensorMap } from './peft';

export type PeftMethod = PeftMethodName;

/** What the graph adapts: one of them in a run (null for the others). */
export interface PeftParts {
  lora: LoraSpec | null;
  prompt: PromptSpec | null;
  adapter: BottleneckSpec | null;
}

export const PEFT_LABELS: Record<PeftMethod, string> = { lora: 'LoRA', prompt: 'prompt tuning', adapter: 'bottleneck adapters' };

/** The chosen method's parts; `lora` is the run's LoRA spec, used when the method is LoRA (the default). */
export function peftPartsOf(choice: PeftChoice | undefined, lora: LoraSpec): PeftParts {
  switch (choice?.method ?? 'lora') {
    case 'prompt':
      return { lora: null, prompt: { ...choice!.prompt }, adapter: null };
    case 'adapter':
      return { lora: null, prompt: null, adapter: { ...choice!.adapter } };
    default:
      return { lora, prompt: null, adapter: null };
  }
}

export function methodOf(parts: PeftParts): PeftMethod {
  return parts.prompt ? 'prompt' : parts.adapter ? 'adapter' : 'lora';
}

/** The trainable tensors of the parts (the graph's order: LoRA, adapters, prompt). */
export function peftParameters(parts: PeftParts, config: ModelConfig, family: ModelFamily): ParamSpec[] {
  const adapter = parts.adapter ? bottleneckParameters(parts.adapter, config, family) : [];
  const prompt = parts.prompt ? promptParameters(parts.prompt, config) : [];
  return [...adapter, ...prompt];
}

/** The model's token-embedding table as float32 (prompts start from its rows). */
export function inputEmbeddings(modelDir: string, manifest: ModelManifest, family: ModelFamily): Float32Array {
  const { tensor } = family.inputEmbedding(manifest.config);
  const entry = manifest.weights.find((w) => w.name === tensor);
  if (!entry) throw new Error(`${modelDir}: the token embeddings (${tensor}) are missing from manifest.json; convert the checkpoint again.`);
  const bytes = new Uint8Array(entry.length);
  const fd = openSync(join(modelDir, WEIGHTS_FILE), 'r');
  try {
    let done = 0;
    while (done < entry.length) done += readSync(fd, bytes, done, entry.length - done, entry.offset + done);
  } finally {
    closeSync(fd);
  }
  if (entry.dtype === 'float16') return float16ToFloat32(new Uint16Array(bytes.buffer));
  if (entry.dtype === 'float32') return new Float32Array(bytes.buffer);
  throw new Error(`${modelDir}: the token embeddings are stored as ${entry.dtype}; prompt tuning needs an fp32 or fp16 model.`);
}

/** Initial tensors of the parts: PEFT's LoRA init, prompts from amino-acid embeddings, adapters as the identity. */
export function initPeft(parts: PeftParts, modelDir: string, manifest: ModelManifest, family: ModelFamily, seed: number): Map<string, Float32Array> {
  const { config } = manifest;
  return new Map([
    ...(parts.lora ? initLora(parts.lora, config, family, seed) : []),
    ...(parts.adapter ? initBottleneck(parts.adapter, config, family, seed) : []),
    ...(parts.prompt ? initPrompt(parts.prompt, config, family, seed, inputEmbeddings(modelDir, manifest, family)) : []),
  ]);
}

const PEFT_PREFIX = 'base_model.model.';
const PEFT_TASK_TYPE: Record<string, string> = { regression: 'SEQ_CLS', classification: 'SEQ_CLS', multilabel: 'SEQ_CLS', token: 'TOKEN_CLS', 'signal-peptide': 'TOKEN_CLS' };

/** PEFT's PromptTuningConfig for a prompt, with our deep-prompt fields. */
export function promptConfigJson(spec: PromptSpec, config: ModelConfig, baseModel: string, task: string): Record<string, unknown> {
  return {
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    inference_mode: true,
    num_attention_heads: config.numHeads,
    num_layers: config.numLayers,
    num_transformer_submodules: 1,
    num_virtual_tokens: spec.length,
    peft_type: 'PROMPT_TUNING',
    prompt_tuning_init: 'SAMPLE_VOCAB',
    prompt_tuning_init_text: null,
    revision: null,
    task_type: PEFT_TASK_TYPE[task] ?? null,
    token_dim: config.hiddenSize,
    tokenizer_kwargs: null,
    tokenizer_name_or_path: null,
    esm_studio_prompt_layers: spec.layers,
    esm_studio_prompt_blocks: promptBlocks(spec, config.numLayers),
  };
}

/** The bottleneck adapters' config (LLM-Adapters' BottleneckConfig fields, and the layout). */
export function bottleneckConfigJson(spec: BottleneckSpec, config: ModelConfig, family: ModelFamily, baseModel: string, task: string): Record<string, unknown> {
  return {
    adapter_dropout: 0,
    base_model_name_or_path: baseModel,
    bottleneck_size: spec.size,
    esm_studio_layout: 'houlsby-after-projection',
    esm_studio_roles: BOTTLENECK_ROLES,
    inference_mode: true,
    init_up: 'zeros',
    layers_to_transform: bottleneckLayers(spec, config.numLayers),
    non_linearity: BOTTLENECK_ACTIVATION,
    peft_type: 'BOTTLENECK',
    scaling: 1,
    target_modules: BOTTLENECK_ROLES.map((role) => moduleInBlock(family.adaptableLinear(config, 0, role)?.base ?? role)),
    task_type: PEFT_TASK_TYPE[task] ?? null,
    use_adapterp: false,
    use_parallel_adapter: false,
  };
}

/** Writes a prompt or adapter folder's adapter_model.safetensors and adapter_config.json (the head: train/peft's writeHead). */
export function writePromptOrAdapter(dir: string, parts: PeftParts, tensors: ShapedTensorMap, config: ModelConfig, family: ModelFamily, baseModel: string, task: string): void {
  let json: Record<string, unknown>;
  let stored: { name: string; shape: number[]; data: Float32Array }[];
  if (parts.prompt) {
    json = promptConfigJson(parts.prompt, config, baseModel, task);
    const prompt = tensors.get(PROMPT_EMBEDDINGS);
    if (!prompt) throw new Error(`No trained ${PROMPT_EMBEDDINGS} to save.`);
    stored = [{ name: PROMPT_EMBEDDINGS, shape: prompt.shape, data: prompt.data }];
  } else if (parts.adapter) {
    json = bottleneckConfigJson(parts.adapter, config, family, baseModel, task);
    stored = [...tensors].map(([name, t]) => ({ name: PEFT_PREFIX + name, shape: t.shape, data: t.data }));
  } else {
    throw new Error('Internal error: LoRA adapters are written by train/peft.');
  }
  writeSafetensorsFile(join(dir, ADAPTER_WEIGHTS), stored, { format: 'pt' });
  writeBytesAtomically(join(dir, ADAPTER_CONFIG), new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`));
}

/** The method an adapter folder holds, from its adapter_config.json's peft_type. */
export function peftMethodOfFolder(dir: string): PeftMethod {
  const path = join(dir, ADAPTER_CONFIG);
  if (!existsSync(path)) throw new Error(`${path} is missing: the folder is not a PEFT adapter.`);
  const type = readJson(path).peft_type;
  if (type === 'LORA') return 'lora';
  if (type === 'PROMPT_TUNING') return 'prompt';
  if (type === 'BOTTLENECK') return 'adapter';
  throw new Error(`${path}: peft_type ${JSON.stringify(type)} is not one ESM Studio reads (LORA, PROMPT_TUNING, BOTTLENECK).`);
}

export interface SavedPromptOrAdapter {
  parts: PeftParts;
  /** Internal names (prompt_embeddings; `<module>.adapter.down.weight`, …) → values. */
  tensors: Map<string, Float32Array>;
}

/**
 * A prompt or adapter folder read back and checked against the model it will run on: its config
 * describes a layout of this model's depth and width, and every tensor that layout needs is there
 * with its shape (file, tensor, expected and found named otherwise).
 */
export function readPromptOrAdapter(dir: string, config: ModelConfig, family: ModelFamily): SavedPromptOrAdapter {
  const configPath = join(dir, ADAPTER_CONFIG);
  const json = readJson(configPath);
  const method = peftMethodOfFolder(dir);
  const bad = (field: string, why: string): Error => new Error(`${configPath}: ${field} ${JSON.stringify(json[field])} ${why}.`);
  let parts: PeftParts;
  if (method === 'prompt') {
    if (!isPositiveInteger(json.num_virtual_tokens)) throw bad('num_virtual_tokens', 'is not a positive whole number');
    if (json.token_dim !== config.hiddenSize) throw bad('token_dim', `does not match this model's hidden size ${config.hiddenSize}; choose the model the prompt was trained on`);
    if ((json.num_transformer_submodules ?? 1) !== 1) throw bad('num_transformer_submodules', 'is not 1 (encoder-decoder prompts do not fit ESM models)');
    const layers = json.esm_studio_prompt_layers ?? 'input';
    if (!(layers === 'input' || layers === 'all' || isPositiveInteger(layers))) throw bad('esm_studio_prompt_layers', "is not 'input', 'all' or a number of top layers");
    parts = { lora: null, prompt: { length: json.num_virtual_tokens, layers: layers as PromptSpec['layers'] }, adapter: null };
  } else if (method === 'adapter') {
    if (!isPositiveInteger(json.bottleneck_size)) throw bad('bottleneck_size', 'is not a positive whole number');
    if ((json.non_linearity ?? BOTTLENECK_ACTIVATION) !== BOTTLENECK_ACTIVATION) throw bad('non_linearity', `is not "${BOTTLENECK_ACTIVATION}", the only one ESM Studio runs`);
    if (json.use_parallel_adapter === true) throw bad('use_parallel_adapter', 'is true; only adapters after the projection (Houlsby) are supported');
    if ((json.scaling ?? 1) !== 1) throw bad('scaling', 'is not 1');
    const layers = json.layers_to_transform;
    if (!Array.isArray(layers) || layers.length === 0 || !layers.every((l) => Number.isSafeInteger(l))) throw bad('layers_to_transform', 'is not a list of layer indices');
    const count = layers.length;
    const top = Array.from({ length: count }, (_, i) => config.numLayers - count + i);
    if ([...layers].sort((a: number, b: number) => a - b).some((l, i) => l !== top[i])) throw bad('layers_to_transform', `are not the top layers of this ${config.numLayers}-layer model`);
    parts = { lora: null, prompt: null, adapter: { size: json.bottleneck_size, layers: count === config.numLayers ? 'all' : count } };
  } else {
    throw new Error(`${dir} holds LoRA adapters; train/peft reads those.`);
  }
  const expected = peftParameters(parts, config, family);
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath} is missing: the adapter folder has no weights.`);
  const table = openSafetensors(weightsPath);
  const tensors = new Map<string, Float32Array>();
  for (const spec of expected) {
    const stored = method === 'prompt' ? spec.name : PEFT_PREFIX + spec.name;
    const info = table.get(stored);
    if (!info) throw new Error(`${weightsPath}: tensor "${stored}" is missing; this model and adapter_config.json need it with shape [${spec.shape.join(', ')}].`);
    if (info.shape.length !== spec.shape.length || info.shape.some((n, i) => n !== spec.shape[i])) {
      throw new Error(`${weightsPath}: tensor "${stored}": expected shape [${spec.shape.join(', ')}], found [${info.shape.join(', ')}]. It was trained for a different model or settings.`);
    }
    tensors.set(spec.name, readFloat32(info));
  }
  const unexpected = [...table.keys()].filter((name) => !expected.some((spec) => name === spec.name || name === PEFT_PREFIX + spec.name));
  if (unexpected.length > 0) throw new Error(`${weightsPath}: unexpected tensor(s) ${unexpected.slice(0, 3).map((n) => `"${n}"`).join(', ')}; adapter_config.json does not describe them.`);
  return { parts, tensors };
}

/** A linear layer's module path inside its block: `attention.output.dense` of `esm.encoder.layer.0.attention.output.dense`. */
const moduleInBlock = (base: string): string => base.replace(/^.*?\.\d+\./, '');

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path}: cannot read it as JSON (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
}
