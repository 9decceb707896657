/**
 * models/esm2/checkpoint/config — reads a Hugging Face ESM `config.json` into the few numbers the ESM-2
 * graph needs, and refuses (with a message a biologist can act on) every model this converter
 * does not build: other architectures, ESM-1b's absolute positions, ESMFold.
 */
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../../api/errors';
import type { ModelConfig } from '../../family';
import { TOKENS, VOCAB_SIZE } from '../tokenizer';

/** ESM-2's config: the sizes every family has (ModelConfig; sourceName is `_name_or_path`, else the folder's name), and ESM-2's own. */
export interface EsmConfig extends ModelConfig {
  maxPositions: number;
  layerNormEps: number;
  tokenDropout: boolean;
  maskTokenId: number;
  padTokenId: number;
  /** `torch_dtype` (or the newer `dtype`) as written, e.g. "float32"; null when absent. */
  torchDtype: string | null;
}

const positiveInt = z.number().int().positive();

/** The fields we read; everything else in config.json is ignored. Defaults follow ESM-2's files. */
const RawConfig = z.looseObject({
  model_type: z.string().optional(),
  position_embedding_type: z.string().nullish(),
  is_folding_model: z.boolean().nullish(),
  hidden_act: z.string().nullish(),
  emb_layer_norm_before: z.boolean().nullish(),
  num_hidden_layers: positiveInt,
  hidden_size: positiveInt,
  num_attention_heads: positiveInt,
  intermediate_size: positiveInt,
  vocab_size: positiveInt,
  max_position_embeddings: positiveInt.nullish(),
  layer_norm_eps: z.number().positive().nullish(),
  token_dropout: z.boolean().nullish(),
  mask_token_id: z.number().int().nullish(),
  pad_token_id: z.number().int().nullish(),
  _name_or_path: z.string().nullish(),
  torch_dtype: z.string().nullish(),
  dtype: z.string().nullish(),
});
type RawConfig = z.infer<typeof RawConfig>;

/** What each field must be, in words, for type errors. */
const FIELD_EXPECTATIONS: Record<string, string> = {
  num_hidden_layers: 'a positive whole number',
  hidden_size: 'a positive whole number',
  num_attention_heads: 'a positive whole number',
  intermediate_size: 'a positive whole number',
  vocab_size: 'a positive whole number',
  max_position_embeddings: 'a positive whole number',
  layer_norm_eps: 'a small positive number such as 1e-05',
  mask_token_id: 'a whole number',
  pad_token_id: 'a whole number',
  token_dropout: 'true or false',
  is_folding_model: 'true or false',
  emb_layer_norm_before: 'true or false',
};

const DEFAULT_LAYER_NORM_EPS = 1e-5;
const DEFAULT_MAX_POSITIONS = 1026;

/** Parses an already JSON-decoded config.json. `file` is only used in messages (and for the folder name). */
export function parseEsmConfig(json: unknown, file: string): EsmConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw configError(file, 'the file does not hold a JSON object, so it is not a model configuration.');
  }
  refuseOtherArchitectures(json as Record<string, unknown>, file);
  const parsed = RawConfig.safeParse(json);
  if (!parsed.success) throw fieldTypeError(file, json as Record<string, unknown>, parsed.error);
  const raw = parsed.data;
  refuseUnsupportedVariants(raw, file);
  checkDimensions(raw, file);
  return toEsmConfig(raw, file);
}

/** Checked before the type checks: "this is a BERT" is more useful than "hidden_size is missing". */
function refuseOtherArchitectures(json: Record<string, unknown>, file: string): void {
  const modelType = json.model_type;
  if (modelType === 'esm') return;
  const found = modelType === undefined ? 'has no "model_type"' : `has "model_type": ${JSON.stringify(modelType)}`;
  throw configError(
    file,
    `the configuration ${found}, but ESM Studio converts ESM-2 protein language models only ("model_type": "esm"). ` +
      'Choose the folder of an ESM-2 checkpoint from Hugging Face, such as facebook/esm2_t33_650M_UR50D.',
  );
}

function refuseUnsupportedVariants(raw: RawConfig, file: string): void {
  if (raw.is_folding_model === true) {
    throw configError(
      file,
      '"is_folding_model" is true: this is an ESMFold structure-prediction model, which ESM Studio does not convert. ' +
        'Use an ESM-2 language model (for example facebook/esm2_t33_650M_UR50D) instead.',
    );
  }
  // Hugging Face's default for a missing field is "absolute", so absence means ESM-1b style too.
  const positions = raw.position_embedding_type ?? 'absolute';
  if (positions !== 'rotary') {
    throw configError(
      file,
      `"position_embedding_type" is ${JSON.stringify(positions)}${raw.position_embedding_type ? '' : ' (missing, which means "absolute")'}. ` +
        'Only ESM-2 models, which use "rotary" positions, are supported; ESM-1b and ESM-1v (absolute positions) are not. ' +
        'Use an ESM-2 checkpoint instead.',
    );
  }
  if (raw.emb_layer_norm_before === true) {
    throw configError(
      file,
      '"emb_layer_norm_before" is true, which is the ESM-1b layout; ESM-2 has it false. Only ESM-2 checkpoints are supported.',
    );
  }
  const activation = raw.hidden_act ?? 'gelu';
  if (activation !== 'gelu') {
    throw configError(file, `"hidden_act" is ${JSON.stringify(activation)}, but ESM-2 uses "gelu". This is not an ESM-2 checkpoint.`);
  }
}

function checkDimensions(raw: RawConfig, file: string): void {
  if (raw.vocab_size !== VOCAB_SIZE) {
    throw configError(
      file,
      `"vocab_size" is ${raw.vocab_size}, but ESM-2 uses an alphabet of ${VOCAB_SIZE} tokens. ` +
        'This checkpoint uses a different alphabet and cannot be converted.',
    );
  }
  if (raw.hidden_size % raw.num_attention_heads !== 0) {
    throw configError(
      file,
      `"hidden_size" (${raw.hidden_size}) is not divisible by "num_attention_heads" (${raw.num_attention_heads}). ` +
        'The file is damaged or edited; download config.json again.',
    );
  }
  // Rotary embeddings rotate pairs of channels, so each head needs an even width.
  if ((raw.hidden_size / raw.num_attention_heads) % 2 !== 0) {
    throw configError(
      file,
      `"hidden_size" / "num_attention_heads" = ${raw.hidden_size / raw.num_attention_heads} is odd, but rotary positions need an even head size. ` +
        'The file is damaged or edited; download config.json again.',
    );
  }
  checkSpecialToken(raw.mask_token_id, 'mask_token_id', TOKENS.MASK, file);
  checkSpecialToken(raw.pad_token_id, 'pad_token_id', TOKENS.PAD, file);
}

/** The tokenizer is fixed, so a config that moves `<mask>` or `<pad>` would be silently misread. */
function checkSpecialToken(value: number | null | undefined, field: string, expected: number, file: string): void {
  if (value === null || value === undefined || value === expected) return;
  throw configError(
    file,
    `"${field}" is ${value}, but the ESM-2 alphabet has it at ${expected}. This checkpoint uses a different alphabet and cannot be converted.`,
  );
}

function toEsmConfig(raw: RawConfig, file: string): EsmConfig {
  return {
    numLayers: raw.num_hidden_layers,
    hiddenSize: raw.hidden_size,
    numHeads: raw.num_attention_heads,
    headDim: raw.hidden_size / raw.num_attention_heads,
    intermediateSize: raw.intermediate_size,
    vocabSize: raw.vocab_size,
    maxPositions: raw.max_position_embeddings ?? DEFAULT_MAX_POSITIONS,
    layerNormEps: raw.layer_norm_eps ?? DEFAULT_LAYER_NORM_EPS,
    tokenDropout: raw.token_dropout ?? true,
    maskTokenId: raw.mask_token_id ?? TOKENS.MASK,
    padTokenId: raw.pad_token_id ?? TOKENS.PAD,
    sourceName: raw._name_or_path?.trim() || basename(dirname(file)),
    torchDtype: raw.torch_dtype ?? raw.dtype ?? null,
  };
}

function fieldTypeError(file: string, json: Record<string, unknown>, error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const field = String(issue?.path[0] ?? '');
  const expectation = FIELD_EXPECTATIONS[field] ?? 'a text value';
  const found = json[field] === undefined ? 'it is missing' : `it is ${JSON.stringify(json[field])}`;
  return configError(
    file,
    `"${field}" must be ${expectation}, but ${found}. The configuration is incomplete or damaged; download config.json again from the model's page.`,
  );
}

function configError(file: string, problem: string): ApiError {
  return new ApiError('invalid-input', `${file}: ${problem}`);
}

/**
 * The config as conversion stored it in a manifest (`toEsmConfig`'s fields). The sizes must be
 * there; the rest fall back to ESM-2's values, as older manifests may lack a later field.
 */
const StoredEsmConfig = z.looseObject({
  numLayers: positiveInt,
  hiddenSize: positiveInt,
  numHeads: positiveInt,
  headDim: positiveInt,
  intermediateSize: positiveInt,
  vocabSize: positiveInt,
  maxPositions: positiveInt.default(DEFAULT_MAX_POSITIONS),
  layerNormEps: z.number().positive().default(DEFAULT_LAYER_NORM_EPS),
  tokenDropout: z.boolean().default(true),
  maskTokenId: z.number().int().default(TOKENS.MASK),
  padTokenId: z.number().int().default(TOKENS.PAD),
  sourceName: z.string().default(''),
  torchDtype: z.string().nullish().transform((value) => value ?? null),
});

/** Checks a config read back from a manifest; `where` names the file in the message. */
export function readStoredEsmConfig(stored: unknown, where: string): EsmConfig {
  const parsed = StoredEsmConfig.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError('invalid-input', `${where}: the model's "config" is damaged (${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}); convert the checkpoint again.`);
  }
  return parsed.data;
}
