/**
 * Unit tests for src-main/esm/checkpoint/config: the golden configs parse to the right numbers,
 * defaults apply, and every model the converter does not build is refused with a message that
 * names the file and the field.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import { parseEsmConfig } from '../../src-main/models/esm2/checkpoint/config';

const GOLDEN = resolve(import.meta.dirname, '..', 'fixtures', 'golden');
const FILE = '/models/my-esm/config.json';

function goldenConfig(model: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(GOLDEN, model, 'checkpoint', 'config.json'), 'utf8')) as Record<string, unknown>;
}

const tiny = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({ ...goldenConfig('tiny'), ...changes });

function without(config: Record<string, unknown>, ...fields: string[]): Record<string, unknown> {
  const copy = { ...config };
  for (const field of fields) delete copy[field];
  return copy;
}

/** The message of the ApiError('invalid-input') that parsing throws. */
function refusal(json: unknown): string {
  try {
    parseEsmConfig(json, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid-input');
    expect((error as ApiError).message).toContain(FILE);
    return (error as ApiError).message;
  }
  throw new Error('expected parseEsmConfig to throw');
}

describe('parseEsmConfig on the golden checkpoints', () => {
  it('reads tiny', () => {
    expect(parseEsmConfig(goldenConfig('tiny'), FILE)).toEqual({
      numLayers: 2,
      hiddenSize: 64,
      numHeads: 4,
      headDim: 16,
      intermediateSize: 256,
      vocabSize: 33,
      maxPositions: 1026,
      layerNormEps: 1e-5,
      tokenDropout: true,
      maskTokenId: 32,
      padTokenId: 1,
      sourceName: 'random-esm2_tiny_random-seed3',
      torchDtype: 'float32',
    });
  });

  it('reads the 8M shape', () => {
    const config = parseEsmConfig(goldenConfig('esm2-8M-random'), FILE);
    expect(config).toMatchObject({ numLayers: 6, hiddenSize: 320, numHeads: 20, headDim: 16, intermediateSize: 1280 });
    expect(config.sourceName).toBe('random-esm2_t6_8M_UR50D-seed11');
  });
});

describe('defaults', () => {
  it('fills token_dropout, layer_norm_eps, positions and special tokens like ESM-2', () => {
    const config = parseEsmConfig(
      without(tiny(), 'token_dropout', 'layer_norm_eps', 'max_position_embeddings', 'mask_token_id', 'pad_token_id', 'hidden_act', 'is_folding_model', 'emb_layer_norm_before'),
      FILE,
    );
    expect(config).toMatchObject({ tokenDropout: true, layerNormEps: 1e-5, maxPositions: 1026, maskTokenId: 32, padTokenId: 1 });
  });

  it('keeps token_dropout false when the file says so', () => {
    expect(parseEsmConfig(tiny({ token_dropout: false }), FILE).tokenDropout).toBe(false);
  });

  it('names the source after the folder when _name_or_path is missing or empty', () => {
    expect(parseEsmConfig(without(tiny(), '_name_or_path'), FILE).sourceName).toBe('my-esm');
    expect(parseEsmConfig(tiny({ _name_or_path: '' }), FILE).sourceName).toBe('my-esm');
  });

  it('reads the dtype from torch_dtype or the newer dtype field, else null', () => {
    expect(parseEsmConfig(without(tiny(), 'torch_dtype'), FILE).torchDtype).toBeNull();
    expect(parseEsmConfig(without(tiny({ dtype: 'float16' }), 'torch_dtype'), FILE).torchDtype).toBe('float16');
  });
});

describe('refusals', () => {
  it('refuses other model types', () => {
    const message = refusal(tiny({ model_type: 'bert' }));
    expect(message).toContain('"model_type"');
    expect(message).toContain('"bert"');
    expect(refusal(without(tiny(), 'model_type'))).toContain('no "model_type"');
  });

  it('refuses absolute positions (ESM-1b), saying so', () => {
    const message = refusal(tiny({ position_embedding_type: 'absolute' }));
    expect(message).toContain('"position_embedding_type"');
    expect(message).toContain('ESM-1b');
    expect(message).toContain('rotary');
    expect(refusal(without(tiny(), 'position_embedding_type'))).toContain('missing');
  });

  it('refuses ESMFold', () => {
    const message = refusal(tiny({ is_folding_model: true }));
    expect(message).toContain('"is_folding_model"');
    expect(message).toContain('ESMFold');
  });

  it('refuses other activations and the ESM-1b embedding LayerNorm', () => {
    expect(refusal(tiny({ hidden_act: 'relu' }))).toContain('"hidden_act" is "relu"');
    expect(refusal(tiny({ emb_layer_norm_before: true }))).toContain('"emb_layer_norm_before"');
  });

  it('refuses a hidden size the heads do not divide, or an odd head size', () => {
    const message = refusal(tiny({ num_attention_heads: 5 }));
    expect(message).toContain('"hidden_size" (64)');
    expect(message).toContain('"num_attention_heads" (5)');
    expect(refusal(tiny({ hidden_size: 60 }))).toContain('odd');
  });

  it('refuses another alphabet', () => {
    expect(refusal(tiny({ vocab_size: 34 }))).toContain('"vocab_size" is 34');
    expect(refusal(tiny({ mask_token_id: 4 }))).toContain('"mask_token_id" is 4');
    expect(refusal(tiny({ pad_token_id: 0 }))).toContain('"pad_token_id" is 0');
  });

  it('names a field of the wrong type or a missing one', () => {
    expect(refusal(tiny({ token_dropout: 'yes' }))).toContain('"token_dropout" must be true or false, but it is "yes"');
    expect(refusal(without(tiny(), 'num_hidden_layers'))).toContain('"num_hidden_layers" must be a positive whole number, but it is missing');
    expect(refusal(tiny({ hidden_size: 64.5 }))).toContain('"hidden_size"');
    expect(refusal(tiny({ layer_norm_eps: -1 }))).toContain('"layer_norm_eps"');
  });

  it('refuses JSON that is not an object', () => {
    expect(refusal([1, 2])).toContain('not a model configuration');
    expect(refusal(null)).toContain('not a model configuration');
  });
});
