/**
 * Unit tests for src-main/esm/checkpoint: opening the golden checkpoints and modified copies of
 * the tiny one (tied decoder, extra keys, no `esm.` prefix, missing or misshapen tensors, sharded,
 * F16, BF16, damaged header, foreign configs). Expected values come from an independent reader and
 * independent rounding (test/support/safetensors-writer and the helpers below), not from the code
 * under test.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import { DECODER_WEIGHT, expectedTensors, openCheckpoint, WORD_EMBEDDINGS, type EsmCheckpoint } from '../../src-main/models/esm2/checkpoint';
import { float32Tensor, float32Values, narrowTensor, readSafetensorsWhole, writeSafetensors, type RawTensor } from '../support/safetensors-writer';

const GOLDEN = resolve(import.meta.dirname, '..', 'fixtures', 'golden');
const TINY = join(GOLDEN, 'tiny', 'checkpoint');
const ESM2_8M = join(GOLDEN, 'esm2-8M-random', 'checkpoint');
const TINY_TENSORS = readSafetensorsWhole(join(TINY, 'model.safetensors'));
const QUERY_1 = 'esm.encoder.layer.1.attention.self.query.weight';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A temporary checkpoint folder: tiny's config.json (optionally edited) and the given tensors. */
function tinyCopy(tensors: readonly RawTensor[], configChanges: Record<string, unknown> = {}): string {
  const folder = mkdtempSync(join(tmpdir(), 'esm-checkpoint-'));
  folders.push(folder);
  const config = { ...(JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')) as Record<string, unknown>), ...configChanges };
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  writeSafetensors(join(folder, 'model.safetensors'), tensors);
  return folder;
}

function tinyTensor(name: string): RawTensor {
  const tensor = TINY_TENSORS.find((candidate) => candidate.name === name);
  if (!tensor) throw new Error(`tiny has no ${name}`);
  return tensor;
}

/** The message of the ApiError('invalid-input') that opening throws. */
function refusal(path: string): string {
  try {
    openCheckpoint(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid-input');
    return (error as ApiError).message;
  }
  throw new Error(`expected opening ${path} to fail`);
}

function product(shape: readonly number[]): number {
  return shape.reduce((total, size) => total * size, 1);
}

/** Every expected tensor reads as float32 with the values the independent reader decodes. */
function expectSameValues(checkpoint: EsmCheckpoint, reference: readonly RawTensor[], canonical = (name: string): string => name): void {
  for (const tensor of reference) {
    const name = canonical(tensor.name);
    expect(firstDifference(checkpoint.readFloat32(name), float32Values(tensor.bytes)), name).toBeNull();
  }
}

/** Null when equal element for element (Object.is: NaN equals NaN, -0 differs from 0), else where not. */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} instead of ${expected.length}`;
  for (let index = 0; index < actual.length; index++) {
    if (!Object.is(actual[index], expected[index])) return `[${index}] is ${actual[index]} instead of ${expected[index]}`;
  }
  return null;
}

// Round-to-nearest-even onto a grid of `significandBits` bits, computed with plain arithmetic (no
// bit manipulation), as a check on both the writer's bit rounding and the reader's decoding.
function roundToPrecision(value: number, significandBits: number, minExponent: number, maxFinite: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  let exponent = Math.floor(Math.log2(Math.abs(value)));
  if (2 ** exponent > Math.abs(value)) exponent -= 1;
  if (2 ** (exponent + 1) <= Math.abs(value)) exponent += 1;
  const step = 2 ** (Math.max(exponent, minExponent) - (significandBits - 1));
  const scaled = value / step;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  const rounded = (rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor) * step;
  if (Math.abs(rounded) > maxFinite) return Math.sign(rounded) * Infinity;
  return rounded === 0 ? 0 * Math.sign(value) : rounded;
}
const roundToFloat16 = (value: number): number => roundToPrecision(value, 11, -14, 65504);
const roundToBfloat16 = (value: number): number => roundToPrecision(value, 8, -126, 3.3895313892515355e38);

describe('the golden checkpoints', () => {
  it('tiny opens with the right config and every tensor', () => {
    const checkpoint = openCheckpoint(TINY);
    expect(checkpoint.dir).toBe(TINY);
    expect(checkpoint.config).toMatchObject({ numLayers: 2, hiddenSize: 64, numHeads: 4, headDim: 16, intermediateSize: 256, vocabSize: 33 });
    expect(checkpoint.ignoredKeys).toEqual([]);
    expect(checkpoint.tiedDecoder).toBe(false);
    expect(checkpoint.files).toEqual([join(TINY, 'config.json'), join(TINY, 'model.safetensors')]);
    const expected = expectedTensors(checkpoint.config);
    // The file holds exactly the tensors the graph needs.
    expect(expected.map((spec) => spec.name).sort()).toEqual(TINY_TENSORS.map((tensor) => tensor.name).sort());
    for (const spec of expected) {
      expect(checkpoint.info(spec.name).shape).toEqual(spec.shape);
      expect(checkpoint.readFloat32(spec.name)).toHaveLength(product(spec.shape));
    }
    expectSameValues(checkpoint, TINY_TENSORS);
  });

  it('the 8M-shaped checkpoint opens with the right config and every tensor', () => {
    const checkpoint = openCheckpoint(ESM2_8M);
    expect(checkpoint.config).toMatchObject({ numLayers: 6, hiddenSize: 320, numHeads: 20, headDim: 16, intermediateSize: 1280 });
    const expected = expectedTensors(checkpoint.config);
    expect(expected).toHaveLength(6 * 17 + 11);
    expect(checkpoint.info('esm.contact_head.regression.weight').shape).toEqual([1, 120]);
    expect(checkpoint.info('esm.encoder.layer.5.attention.self.rotary_embeddings.inv_freq').shape).toEqual([8]);
    for (const spec of expected) expect(checkpoint.readFloat32(spec.name)).toHaveLength(product(spec.shape));
    expectSameValues(checkpoint, readSafetensorsWhole(join(ESM2_8M, 'model.safetensors')));
  });

  it('opens from the .safetensors file or config.json as well as the folder', () => {
    expect(openCheckpoint(join(TINY, 'model.safetensors')).config.numLayers).toBe(2);
    expect(openCheckpoint(join(TINY, 'config.json')).config.numLayers).toBe(2);
  });

  it('refuses names the graph does not use', () => {
    expect(() => openCheckpoint(TINY).info('esm.embeddings.position_ids')).toThrow(/does not use a tensor named "esm.embeddings.position_ids"/);
  });

  it('checksums config.json then the weights, like cat | sha256sum, reporting progress', async () => {
    const expected = createHash('sha256')
      .update(readFileSync(join(TINY, 'config.json')))
      .update(readFileSync(join(TINY, 'model.safetensors')))
      .digest('hex');
    const progress: number[] = [];
    expect(await openCheckpoint(TINY).checksum((fraction) => progress.push(fraction))).toBe(expected);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((fraction, index) => index === 0 || fraction >= (progress[index - 1] ?? 0))).toBe(true);
  });
});

describe('modified copies of tiny', () => {
  it('falls back to the word embeddings when lm_head.decoder.weight is absent', () => {
    const checkpoint = openCheckpoint(tinyCopy(TINY_TENSORS.filter((tensor) => tensor.name !== DECODER_WEIGHT)));
    expect(checkpoint.tiedDecoder).toBe(true);
    expect(firstDifference(checkpoint.readFloat32(DECODER_WEIGHT), float32Values(tinyTensor(WORD_EMBEDDINGS).bytes))).toBeNull();
  });

  it('ignores and lists keys the model does not use', () => {
    const positionIds: RawTensor = { name: 'esm.embeddings.position_ids', dtype: 'I64', shape: [1, 1026], bytes: new Uint8Array(1026 * 8) };
    const checkpoint = openCheckpoint(tinyCopy([...TINY_TENSORS, positionIds, float32Tensor('classifier.dense.weight', [2], [1, 2])]));
    expect(checkpoint.ignoredKeys.sort()).toEqual(['classifier.dense.weight', 'esm.embeddings.position_ids']);
    expect(() => checkpoint.info('esm.embeddings.position_ids')).toThrow();
    expectSameValues(checkpoint, TINY_TENSORS);
  });

  it('accepts keys without the esm. prefix', () => {
    const stripped = TINY_TENSORS.map((tensor) => ({ ...tensor, name: tensor.name.replace(/^esm\./, '') }));
    const checkpoint = openCheckpoint(tinyCopy(stripped));
    expect(checkpoint.ignoredKeys).toEqual([]);
    expectSameValues(checkpoint, stripped, (name) => (name.startsWith('lm_head.') ? name : `esm.${name}`));
  });

  it('refuses a tensor stored both with and without the prefix', () => {
    const twice = { ...tinyTensor(QUERY_1), name: QUERY_1.replace(/^esm\./, '') };
    expect(refusal(tinyCopy([...TINY_TENSORS, twice]))).toContain(`"${QUERY_1}" is stored twice`);
  });

  it('names a missing tensor, its expected shape and the file', () => {
    const folder = tinyCopy(TINY_TENSORS.filter((tensor) => tensor.name !== QUERY_1));
    const message = refusal(folder);
    expect(message).toContain(join(folder, 'model.safetensors'));
    expect(message).toContain(`"${QUERY_1}" is missing (expected shape [64, 64])`);
  });

  it('says when the language-model head is missing altogether', () => {
    const message = refusal(tinyCopy(TINY_TENSORS.filter((tensor) => !tensor.name.startsWith('lm_head.'))));
    expect(message).toContain('"lm_head.dense.weight" is missing');
    expect(message).toContain('no language-model head');
  });

  it('names a misshapen tensor with the expected and found shapes', () => {
    const query = tinyTensor(QUERY_1);
    const misshapen = { ...query, shape: [32, 128] };
    const folder = tinyCopy(TINY_TENSORS.map((tensor) => (tensor === query ? misshapen : tensor)));
    const message = refusal(folder);
    expect(message).toContain(join(folder, 'model.safetensors'));
    expect(message).toContain(`"${QUERY_1}" has shape [32, 128], but config.json needs [64, 64]`);
  });

  it('refuses weights that do not match config.json', () => {
    const message = refusal(tinyCopy(TINY_TENSORS, { num_hidden_layers: 3 }));
    expect(message).toContain('"esm.encoder.layer.2.attention.self.query.weight" is missing');
    expect(refusal(tinyCopy(TINY_TENSORS, { intermediate_size: 128 }))).toContain('has shape [256, 64], but config.json needs [128, 64]');
  });

  it('opens a checkpoint sharded into two files with an index', () => {
    const folder = tinyCopy([]);
    rmSync(join(folder, 'model.safetensors'));
    const half = Math.floor(TINY_TENSORS.length / 2);
    const shards = { 'model-00001-of-00002.safetensors': TINY_TENSORS.slice(0, half), 'model-00002-of-00002.safetensors': TINY_TENSORS.slice(half) };
    const weightMap: Record<string, string> = {};
    for (const [file, tensors] of Object.entries(shards)) {
      writeSafetensors(join(folder, file), tensors);
      for (const tensor of tensors) weightMap[tensor.name] = file;
    }
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 434664 }, weight_map: weightMap }));

    for (const path of [folder, join(folder, 'model.safetensors.index.json')]) {
      const checkpoint = openCheckpoint(path);
      expect(checkpoint.files).toEqual([join(folder, 'config.json'), ...Object.keys(shards).map((file) => join(folder, file))]);
      expect(checkpoint.info(QUERY_1).file).toBe(join(folder, 'model-00002-of-00002.safetensors'));
      expectSameValues(checkpoint, TINY_TENSORS);
    }
  });

  it.each([
    ['F16', roundToFloat16],
    ['BF16', roundToBfloat16],
  ] as const)('reads %s weights as the float32 values rounded to that precision', (dtype, round) => {
    const checkpoint = openCheckpoint(tinyCopy(TINY_TENSORS.map((tensor) => narrowTensor(tensor, dtype))));
    expect(checkpoint.info(WORD_EMBEDDINGS).dtype).toBe(dtype);
    let changed = 0;
    for (const tensor of TINY_TENSORS) {
      const original = float32Values(tensor.bytes);
      const expected = original.map(round);
      changed += expected.filter((value, index) => value !== original[index]).length;
      expect(firstDifference(checkpoint.readFloat32(tensor.name), expected), tensor.name).toBeNull();
    }
    // The rounding really happened (the test would be vacuous otherwise).
    expect(changed).toBeGreaterThan(1000);
  });

  it('refuses a corrupted header clearly', () => {
    const folder = tinyCopy(TINY_TENSORS);
    const file = join(folder, 'model.safetensors');
    const bytes = readFileSync(file);
    bytes.write('#garbage#', 20, 'latin1');
    writeFileSync(file, bytes);
    const message = refusal(folder);
    expect(message).toContain(file);
    expect(message).toContain('not a readable safetensors file');
    expect(message).toContain('header is not valid JSON');
  });

  it('refuses a truncated weights file, naming the tensor that runs past the end', () => {
    const folder = tinyCopy(TINY_TENSORS);
    const file = join(folder, 'model.safetensors');
    writeFileSync(file, readFileSync(file).subarray(0, 300_000));
    expect(refusal(folder)).toMatch(/tensor ".+" is damaged: .*past the end of the file/);
  });

  it('refuses a BERT config and ESM-1b absolute positions, naming config.json', () => {
    const bert = tinyCopy(TINY_TENSORS, { model_type: 'bert' });
    expect(refusal(bert)).toContain(`${join(bert, 'config.json')}: the configuration has "model_type": "bert"`);
    const esm1b = tinyCopy(TINY_TENSORS, { position_embedding_type: 'absolute' });
    const message = refusal(esm1b);
    expect(message).toContain(join(esm1b, 'config.json'));
    expect(message).toContain('"position_embedding_type" is "absolute"');
  });
});

describe('finding the files', () => {
  function emptyFolder(): string {
    const folder = mkdtempSync(join(tmpdir(), 'esm-checkpoint-'));
    folders.push(folder);
    return folder;
  }

  it('says what is missing from a folder', () => {
    const folder = emptyFolder();
    expect(refusal(folder)).toContain('no model.safetensors (or model.safetensors.index.json)');
    writeFileSync(join(folder, 'pytorch_model.bin'), 'pickle');
    expect(refusal(folder)).toContain('pytorch_model.bin');
  });

  it('needs config.json beside the weights, and valid JSON in it', () => {
    const folder = emptyFolder();
    copyFileSync(join(TINY, 'model.safetensors'), join(folder, 'weights.safetensors'));
    expect(refusal(join(folder, 'weights.safetensors'))).toContain(`${join(folder, 'config.json')}: config.json is missing`);
    writeFileSync(join(folder, 'config.json'), '{ "model_type": ');
    expect(refusal(join(folder, 'weights.safetensors'))).toContain('not valid JSON');
  });

  it('refuses paths that do not exist or are not checkpoints', () => {
    const folder = emptyFolder();
    expect(refusal(join(folder, 'nope'))).toContain('does not exist');
    writeFileSync(join(folder, 'notes.txt'), 'hello');
    expect(refusal(join(folder, 'notes.txt'))).toContain('not a model checkpoint');
  });
});
