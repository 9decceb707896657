/**
 * train/importable — whether a folder holds a fine-tuned model ESM Studio can import onto an
 * installed base model, and which files an import copies. Cheap checks only (no model runs, no
 * onnxruntime): the services call it before they start an import (train/import does the work in
 * the compute process), so the app's main process never loads the engine.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { familyOfManifest, readManifest } from '../models/installed';
import { adapterLoraSpecFor } from './finetune-adapter';
import { HEAD_GRAPH_FILE, readHeadConfig, type HeadConfig } from './head-config';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_CONFIG, HEAD_WEIGHTS } from './peft';
import { peftMethodOfFolder, readPromptOrAdapter } from './peft-methods';

export /** The files an import copies, by how the model was trained. */
function filesOf(config: HeadConfig): string[] {
  return config.mode === 'head-only' ? [HEAD_WEIGHTS, HEAD_CONFIG, HEAD_GRAPH_FILE] : [ADAPTER_WEIGHTS, ADAPTER_CONFIG, HEAD_WEIGHTS, HEAD_CONFIG];
}

/**
 * Checks that `sourceDir` holds a fine-tuned model ESM Studio can predict with on the base model
 * in `baseModelDir` (its files present, its adapter's tensors the shapes that model needs, its
 * head as wide as the model's vectors) and returns its head configuration. Cheap: no model runs.
 */
export function checkImportable(sourceDir: string, baseModelDir: string): HeadConfig {
  const dir = resolve(sourceDir);
  if (!existsSync(dir)) throw new Error(`There is no folder ${dir} on this computer.`);
  if (!existsSync(join(dir, HEAD_CONFIG))) {
    throw new Error(`${dir} is not a fine-tuned model made by ESM Studio: it has no ${HEAD_CONFIG} (the head's task and classes). A fine-tuning run's folder has it.`);
  }
  const config = readHeadConfig(dir);
  const missing = filesOf(config).filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) throw new Error(`${dir} lacks ${missing.join(', ')}, which a ${config.mode === 'head-only' ? 'head-only' : 'LoRA'} fine-tuned model needs.`);
  const base = readManifest(baseModelDir);
  const width = config.hiddenSize;
  if (width !== undefined && width !== base.config.hiddenSize) {
    throw new Error(`The head reads ${width}-wide vectors, but ${base.name} gives ${base.config.hiddenSize}: choose the model it was trained on${config.baseModel ? ` (${config.baseModel.name})` : ''}.`);
  }
  if (config.mode !== 'head-only') {
    if (peftMethodOfFolder(dir) === 'lora') adapterLoraSpecFor(dir, base.config);
    else readPromptOrAdapter(dir, base.config, familyOfManifest(base)); // a prompt or bottleneck adapters, checked against the model
  }
  return config;
}
