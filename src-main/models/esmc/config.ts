/**
 * models/esmc/config — ESM C's sizes: read from a Biohub / Hugging Face `config.json`
 * (`"model_type": "esmc"`, `d_model`, `n_heads`, `n_layers`) or, for the `esm` package's files
 * (which hold no config), inferred from the tensor shapes; and checked back from a manifest.
 *
 * The number of heads is the one size a weight file does not show. Every published ESM C has
 * 64-wide heads (300M: 960 / 15, 600M: 1152 / 18, 6B: 2560 / 40), which is what the `esm` package
 * hard-codes per model; the rule `heads = max(4, d_model / 64)` gives exactly those, and 4 heads
 * for the small test models narrower than 256 (the golden tiny model: d 64, 4 heads of 16). A
 * config.json beside the weights always wins over the rule.
 */
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../api/errors';
import type { ModelConfig } from '../family';
import { TOKENS, VOCAB_SIZE } from './tokenizer';

/** Where the weights came from: the three layouts ESM C is distributed in. */
export type EsmcLayout = 'esm-pth' | 'esm-safetensors' | 'hf';

export interface EsmcConfig extends ModelConfig {
  layerNormEps: number;
  /** Rotary base (10,000 in every ESM C). */
  ropeBase: number;
  /** The checkpoint's layout (names of adapters saved for it follow it). */
  layout: EsmcLayout;
  /** True when the head count came from the rule in this file's header, not from a config. */
  headsInferred: boolean;
}

const DEFAULT_LAYER_NORM_EPS = 1e-5;
const ROPE_BASE = 10_000;
const HEAD_DIM = 64;
const MIN_HEADS = 4;

/** Heads of a model `hiddenSize` wide without a config (this file's header). */
export function inferredHeads(hiddenSize: number): number {
  return Math.max(MIN_HEADS, Math.floor(hiddenSize / HEAD_DIM));
}

const positiveInt = z.number().int().positive();

const RawConfig = z.looseObject({
  model_type: z.literal('esmc'),
  d_model: positiveInt,
  n_heads: positiveInt,
  n_layers: positiveInt,
  vocab_size: positiveInt.nullish(),
  pad_token_id: z.number().int().nullish(),
  mask_token_id: z.number().int().nullish(),
  layer_norm_eps: z.number().positive().nullish(),
  _name_or_path: z.string().nullish(),
});

/** The sizes a Biohub config.json gives (the FFN width comes from the weights). */
export interface HfSizes {
  hiddenSize: number;
  numHeads: number;
  numLayers: number;
  layerNormEps: number;
  sourceName: string | null;
}

/** Whether parsed JSON is an ESM C config (cheap recognition). */
export const isEsmcConfigJson = (json: unknown): boolean =>
  typeof json === 'object' && json !== null && (json as Record<string, unknown>).model_type === 'esmc';

export function parseHfConfig(json: unknown, file: string): HfSizes {
  const parsed = RawConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? 'config');
    throw new ApiError('invalid-input', `${file}: "${field}" is missing or not valid (${issue?.message ?? 'invalid'}). Download config.json again from the model's page.`);
  }
  const raw = parsed.data;
  const expect = (value: number | null | undefined, field: string, expected: number): void => {
    if (value === null || value === undefined || value === expected) return;
    throw new ApiError('invalid-input', `${file}: "${field}" is ${value}, but ESM C has ${expected}. This checkpoint uses a different alphabet and cannot be converted.`);
  };
  expect(raw.vocab_size, 'vocab_size', VOCAB_SIZE);
  expect(raw.pad_token_id, 'pad_token_id', TOKENS.PAD);
  expect(raw.mask_token_id, 'mask_token_id', TOKENS.MASK);
  return {
    hiddenSize: raw.d_model,
    numHeads: raw.n_heads,
    numLayers: raw.n_layers,
    layerNormEps: raw.layer_norm_eps ?? DEFAULT_LAYER_NORM_EPS,
    sourceName: raw._name_or_path?.trim() || null,
  };
}

/** A full config from sizes; checks that heads split the width into even (rotary) halves. */
export function makeConfig(
  sizes: { hiddenSize: number; numHeads: number; numLayers: number; intermediateSize: number; layerNormEps?: number },
  details: { layout: EsmcLayout; headsInferred: boolean; sourceName: string; where: string },
): EsmcConfig {
  const { hiddenSize, numHeads } = sizes;
  if (hiddenSize % numHeads !== 0 || (hiddenSize / numHeads) % 2 !== 0) {
    const advice = details.headsInferred
      ? 'Put the model\'s config.json (with "n_heads") beside the weights.'
      : 'The file is damaged or edited; download config.json again.';
    throw new ApiError('invalid-input', `${details.where}: a width of ${hiddenSize} cannot be split into ${numHeads} attention heads of even size. ${advice}`);
  }
  return {
    numLayers: sizes.numLayers,
    hiddenSize,
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: sizes.intermediateSize,
    vocabSize: VOCAB_SIZE,
    sourceName: details.sourceName,
    layerNormEps: sizes.layerNormEps ?? DEFAULT_LAYER_NORM_EPS,
    ropeBase: ROPE_BASE,
    layout: details.layout,
    headsInferred: details.headsInferred,
  };
}

/** The folder's name, for checkpoints that do not name themselves. */
export const folderName = (file: string): string => basename(dirname(file));

const StoredConfig = z.looseObject({
  numLayers: positiveInt,
  hiddenSize: positiveInt,
  numHeads: positiveInt,
  headDim: positiveInt,
  intermediateSize: positiveInt,
  vocabSize: z.literal(VOCAB_SIZE),
  sourceName: z.string().default(''),
  layerNormEps: z.number().positive().default(DEFAULT_LAYER_NORM_EPS),
  ropeBase: z.number().positive().default(ROPE_BASE),
  layout: z.enum(['esm-pth', 'esm-safetensors', 'hf']).default('esm-safetensors'),
  headsInferred: z.boolean().default(false),
});

/** Checks a config read back from a manifest written by this family. */
export function readStoredEsmcConfig(stored: unknown, where: string): EsmcConfig {
  const parsed = StoredConfig.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError('invalid-input', `${where}: the model's "config" is damaged (${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}); convert the checkpoint again.`);
  }
  return parsed.data;
}
