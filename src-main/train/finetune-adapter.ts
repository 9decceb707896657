/**
 * train/finetune-adapter — between our LoRA spec (train/lora: targets by role, "top K layers")
 * and PEFT's adapter_config.json (train/peft: module-name suffixes, explicit layer lists), both
 * ways, and the trained tensors as the shaped maps the PEFT writer takes.
 *
 * PEFT matches target modules by name suffix, so the FFN projections need care: "dense" adapts
 * all three dense layers of an ESM layer, "intermediate.dense" only the FFN's first, and
 * "output.dense" would also match "attention.output.dense" — the FFN's second projection can
 * therefore only be exported together with the attention output ("dense"). That is ESM-2's mapping;
 * a family with its own module names (`ModelFamily.peftModules`, ESM C's `attn.layernorm_qkv.1`, …)
 * maps each role to one suffix, and an adapter folder's target_modules say which family it is for.
 */
import { join } from 'node:path';
import type { ModelConfig, ModelFamily } from '../models/family';
import { FAMILIES } from '../models/registry';
import type { ParamSpec } from './lora';
import { LORA_TARGETS, loraLayers, loraParameters, type LoraSpec, type LoraTarget } from './lora';
import { ADAPTER_CONFIG, loraParameterShapes, parsePeftConfig, readPeftAdapter, type LoraSettings, type PeftAdapter, type ShapedTensorMap } from './peft';
import type { TensorMap } from './optimizers';

const DENSE: readonly LoraTarget[] = ['attention-output', 'intermediate', 'output'];

/** Our targets → PEFT target_modules, in the family's own module names when it has them (else ESM-2's). */
export function peftTargetModules(targets: readonly LoraTarget[], family?: ModelFamily): string[] {
  const own = family?.peftModules;
  if (own) {
    return LORA_TARGETS.filter((t) => targets.includes(t)).map((t) => {
      const module = own[t];
      if (!module) throw new Error(`${family.label} models have no "${t}" projection for LoRA; choose from ${Object.keys(own).join(', ')}.`);
      return module;
    });
  }
  const modules: string[] = [];
  for (const target of ['query', 'key', 'value'] as const) if (targets.includes(target)) modules.push(target);
  const dense = DENSE.filter((t) => targets.includes(t));
  if (dense.length === DENSE.length) return [...modules, 'dense'];
  if (dense.includes('output')) {
    throw new Error('The FFN output projection can only be adapted together with the attention output and the FFN input ("dense"): PEFT would read "output.dense" as both output projections.');
  }
  if (dense.includes('attention-output')) modules.push('attention.output.dense');
  if (dense.includes('intermediate')) modules.push('intermediate.dense');
  return modules;
}

/** The family whose own PEFT module names cover all of `modules`; null for ESM-2's names. */
export function familyOfPeftModules(modules: readonly string[]): ModelFamily | null {
  const covers = (family: ModelFamily): boolean => modules.length > 0 && modules.every((m) => Object.values(family.peftModules ?? {}).includes(m));
  return FAMILIES.find(covers) ?? null;
}

/** PEFT target_modules → our targets (refuses names we do not adapt). */
export function targetsFromPeft(modules: readonly string[]): LoraTarget[] {
  const own = familyOfPeftModules(modules)?.peftModules;
  if (own) return LORA_TARGETS.filter((t) => own[t] !== undefined && modules.includes(own[t]));
  const found = new Set<LoraTarget>();
  for (const module of modules) {
    if (module === 'query' || module === 'key' || module === 'value') found.add(module);
    else if (module === 'dense') DENSE.forEach((t) => found.add(t));
    else if (module === 'attention.output.dense') found.add('attention-output');
    else if (module === 'intermediate.dense') found.add('intermediate');
    else throw new Error(`The adapter targets "${module}", which ESM Studio does not adapt (query, key, value, dense, attention.output.dense, intermediate.dense).`);
  }
  return LORA_TARGETS.filter((t) => found.has(t));
}

/** PEFT's layers_to_transform → 'all' or the top K layers (other layer sets cannot be expressed). */
export function layersFromPeft(layers: readonly number[] | null, numLayers: number): 'all' | number {
  if (layers === null) return 'all';
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  const k = sorted.length;
  const top = Array.from({ length: k }, (_, i) => numLayers - k + i);
  if (k === 0 || sorted.some((layer, i) => layer !== top[i])) {
    throw new Error(`The adapter's layers_to_transform [${layers.join(', ')}] are not the top layers of this ${numLayers}-layer model; ESM Studio adapts all layers or the top K.`);
  }
  return k === numLayers ? 'all' : k;
}

/** The LoRA spec an adapter folder's config describes (dropout as given by the caller). */
export function loraSpecFromPeft(settings: LoraSettings, numLayers: number): Omit<LoraSpec, 'dropout'> {
  return { r: settings.r, alpha: settings.loraAlpha, targets: targetsFromPeft(settings.targetModules), layers: layersFromPeft(settings.layersToTransform, numLayers) };
}

/**
 * The LoRA shape of an adapter folder to continue training on a model, checked against that
 * model first (every LoRA matrix present with the shape the model needs), so a wrong folder or an
 * adapter of another model size is refused before a run starts, with the file and tensor named.
 */
export function adapterLoraSpecFor(dir: string, config: ModelConfig): Omit<LoraSpec, 'dropout'> {
  const settings = parsePeftConfig(join(dir, ADAPTER_CONFIG));
  const spec = loraSpecFromPeft(settings, config.numLayers);
  const family = familyOfPeftModules(settings.targetModules);
  const shapes = family
    ? new Map(loraParameters({ ...spec, dropout: 0 }, config, family).map((p) => [p.name, p.shape]))
    : loraParameterShapes(settings, config);
  readPeftAdapter(dir, { lora: shapes });
  return spec;
}

const PEFT_TASK_TYPE: Record<string, string> = { regression: 'SEQ_CLS', classification: 'SEQ_CLS', multilabel: 'SEQ_CLS', token: 'TOKEN_CLS' };

/** Our spec → PEFT's LoraConfig fields. */
export function peftSettings(spec: LoraSpec, config: ModelConfig, baseModel: string, task: string, family?: ModelFamily): LoraSettings {
  return {
    baseModel,
    r: spec.r,
    loraAlpha: spec.alpha,
    loraDropout: spec.dropout,
    targetModules: peftTargetModules(spec.targets, family),
    layersToTransform: spec.layers === 'all' ? null : loraLayers(spec, config.numLayers),
    taskType: PEFT_TASK_TYPE[task] ?? null,
  };
}

/** Trained tensors (flat) with the shapes of the graph's parameter list, split into LoRA and head. */
export function shapedParameters(params: TensorMap, specs: readonly ParamSpec[]): { lora: ShapedTensorMap; head: ShapedTensorMap } {
  const lora: ShapedTensorMap = new Map();
  const head: ShapedTensorMap = new Map();
  for (const spec of specs) {
    const data = params.get(spec.name);
    if (!data) throw new Error(`No trained values for ${spec.name}.`);
    (spec.name.startsWith('head.') ? head : lora).set(spec.name, { shape: spec.shape, data });
  }
  return { lora, head };
}

/**
 * Replaces initial values with an adapter's tensors: every LoRA tensor the spec creates must be
 * in the adapter with the same shape; the head is taken when it fits (same names and shapes),
 * otherwise the head starts fresh (e.g. a new task on a pre-trained adapter) — `headTaken` says which.
 */
export function applyInitAdapter(params: TensorMap, specs: readonly ParamSpec[], adapter: Pick<PeftAdapter, 'lora' | 'head'>, source: string): { headTaken: boolean } {
  const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((n, i) => n === b[i]);
  const headSpecs = specs.filter((s) => s.name.startsWith('head.'));
  const headTaken = headSpecs.length > 0 && headSpecs.every((s) => sameShape(adapter.head.get(s.name)?.shape ?? [], s.shape));
  for (const spec of specs) {
    const isHead = spec.name.startsWith('head.');
    if (isHead && !headTaken) continue;
    const tensor = (isHead ? adapter.head : adapter.lora).get(spec.name);
    if (!tensor) throw new Error(`${source}: the adapter has no tensor "${spec.name}" [${spec.shape.join(', ')}] that these LoRA settings need.`);
    if (!sameShape(tensor.shape, spec.shape)) throw new Error(`${source}: "${spec.name}" is [${tensor.shape.join(', ')}], these settings need [${spec.shape.join(', ')}].`);
    params.set(spec.name, Float32Array.from(tensor.data));
  }
  const extra = [...adapter.lora.keys()].filter((name) => !specs.some((s) => s.name === name));
  if (extra.length > 0) throw new Error(`${source}: the adapter has tensors these LoRA settings do not create (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''}).`);
  return { headTaken };
}
