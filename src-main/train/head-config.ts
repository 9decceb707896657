/**
 * train/head-config — head_config.json, what a fine-tuning run saves about its head beside the
 * adapter: the head and task (with loss weights), the target columns and class names, how it was
 * trained (LoRA or head only) and on which base model. Prediction and import read it back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskSpec } from './graph';
import type { HeadSpec } from './heads';
import { HEAD_CONFIG } from './peft';

/** The head's own ONNX graph, all a head-only run needs to predict. */
export const HEAD_GRAPH_FILE = 'head.onnx';

/** What the run saved about its head (head_config.json beside the adapter). */
export interface HeadConfig {
  task: TaskSpec;
  taskKind: string;
  targets: string[];
  /** Class names (classification, token) or label names (multi-label); null for regression. */
  classes: string[] | null;
  head: HeadSpec;
  /** Width of the vectors the head reads (the base model's hidden size). */
  hiddenSize?: number;
  /** Absent in runs made before head-only training existed: those are LoRA runs. */
  mode?: 'lora' | 'head-only';
  /** How a 'lora'-mode run adapted the model; absent in runs made before prompts and adapters existed (LoRA). */
  peft?: 'lora' | 'prompt' | 'adapter' | null;
  /** The model the run started from (head-only runs pool new sequences with it). */
  baseModel?: { name: string; dir: string };
}


/** The run folder's head_config.json, with a message that says what is missing. */
export function readHeadConfig(runDir: string): HeadConfig {
  const path = join(runDir, HEAD_CONFIG);
  if (!existsSync(path)) throw new Error(`${runDir} is not a finished fine-tuning run: it has no ${HEAD_CONFIG}.`);
  return JSON.parse(readFileSync(path, 'utf8')) as HeadConfig;
}

