/**
 * bench/support/random-checkpoint — writes a Hugging Face ESM-2 checkpoint (config.json +
 * model.safetensors, fp32) with random weights of any ESM-2 shape, for benchmarks that need real
 * model sizes without downloading them. Streams: the safetensors header is computed from
 * `expectedTensors` first, then the data is generated and appended one tensor at a time (in
 * fixed-size chunks), so even the 2.6 GB 650M checkpoint takes a few MB of memory.
 *
 * Values: weights uniform on ±0.02·√3 (the variance of N(0, 0.02), much faster than Box–Muller)
 * from a seeded xorshift32; biases 0; LayerNorm weights 1 and biases 0; rotary inv_freq as ESM-2.
 *
 * `writeRandomEsmcCheckpoint` does the same for ESM C in the `esm` package's layout (one
 * `model.safetensors`, names like `transformer.blocks.N.attn.layernorm_qkv.1.weight`, no
 * config.json: the converter infers the sizes, heads of 64).
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expectedTensors, parseEsmConfig, type EsmConfig, type TensorSpec } from '../../src-main/models/esm2/checkpoint';
import { expectedTensors as expectedEsmcTensors } from '../../src-main/models/esmc/checkpoint';
import type { EsmcConfig } from '../../src-main/models/esmc/config';

export interface CheckpointShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  /** Goes into `_name_or_path`. */
  name: string;
}

/** The real ESM-2 shapes the benchmarks use. */
export const ESM2_SHAPES = {
  '8M': { layers: 6, hidden: 320, heads: 20, intermediate: 1280, name: 'random-esm2_t6_8M' },
  '35M': { layers: 12, hidden: 480, heads: 20, intermediate: 1920, name: 'random-esm2_t12_35M' },
  '150M': { layers: 30, hidden: 640, heads: 20, intermediate: 2560, name: 'random-esm2_t30_150M' },
  '650M': { layers: 33, hidden: 1280, heads: 20, intermediate: 5120, name: 'random-esm2_t33_650M' },
} satisfies Record<string, CheckpointShape>;

/** ESM C 300M's shape (d_model 960, 30 blocks, 15 heads of 64; SwiGLU width 2560, as the `esm` package rounds 8/3·d up to 256). */
export const ESMC_SHAPES = {
  '300M': { layers: 30, hidden: 960, heads: 15, intermediate: 2560, name: 'random-esmc_300m' },
} satisfies Record<string, CheckpointShape>;

const TEMPLATE_CONFIG = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'golden', 'tiny', 'checkpoint', 'config.json');
const WEIGHT_STD = 0.02;
/** Floats generated per write: 4 MB. */
const CHUNK_FLOATS = 1 << 20;

/** Writes `dir/config.json` and `dir/model.safetensors`; returns the size of the weights file in bytes. */
export function writeRandomCheckpoint(dir: string, shape: CheckpointShape, seed = 1): number {
  mkdirSync(dir, { recursive: true });
  const configJson = configFor(shape);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configJson, null, 2));
  const config = parseEsmConfig(configJson, join(dir, 'config.json'));
  return writeSafetensors(join(dir, 'model.safetensors'), expectedTensors(config), (spec, index) => fillFor(spec.name, config, seed * 1_000_003 + index));
}

/** Writes `dir/model.safetensors` of an ESM C in the `esm` package's layout; returns its size in bytes. */
export function writeRandomEsmcCheckpoint(dir: string, shape: CheckpointShape, seed = 1): number {
  mkdirSync(dir, { recursive: true });
  // Only the sizes matter for the tensor list.
  const sizes = { numLayers: shape.layers, hiddenSize: shape.hidden, numHeads: shape.heads, intermediateSize: shape.intermediate } as EsmcConfig;
  return writeSafetensors(join(dir, 'model.safetensors'), expectedEsmcTensors(sizes), (spec, index) => esmcFillFor(spec.name, seed * 1_000_003 + index));
}

/** Header, then each tensor generated chunk by chunk. */
function writeSafetensors(file: string, tensors: readonly TensorSpec[], fillOf: (spec: TensorSpec, index: number) => Fill): number {
  const fd = openSync(file, 'w');
  try {
    let position = writeBytes(fd, safetensorsHeader(tensors), 0);
    const chunk = new Float32Array(CHUNK_FLOATS);
    for (const [index, spec] of tensors.entries()) position = writeTensor(fd, position, spec, fillOf(spec, index), chunk);
    return position;
  } finally {
    closeSync(fd);
  }
}

function configFor(shape: CheckpointShape): Record<string, unknown> {
  const template = JSON.parse(readFileSync(TEMPLATE_CONFIG, 'utf8')) as Record<string, unknown>;
  return {
    ...template,
    _name_or_path: shape.name,
    num_hidden_layers: shape.layers,
    hidden_size: shape.hidden,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
  };
}

const elementCount = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

/** u64 header length + JSON header padded with spaces to a multiple of 8 (as the reference writer does). */
function safetensorsHeader(tensors: readonly TensorSpec[]): Uint8Array {
  const table: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const spec of tensors) {
    const length = elementCount(spec.shape) * 4;
    table[spec.name] = { dtype: 'F32', shape: spec.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(table);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + body.length);
  out.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(out, 8);
  return out;
}

function writeBytes(fd: number, bytes: Uint8Array, position: number): number {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
  return position + bytes.length;
}

type Fill = (target: Float32Array, start: number) => void;

/** Generates one tensor chunk by chunk into the shared buffer and appends it. */
function writeTensor(fd: number, position: number, spec: TensorSpec, fill: Fill, chunk: Float32Array): number {
  const total = elementCount(spec.shape);
  for (let start = 0; start < total; start += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, total - start));
    fill(part, start);
    position = writeBytes(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength), position);
  }
  return position;
}

function fillFor(name: string, config: EsmConfig, seed: number): Fill {
  if (name.endsWith('.inv_freq')) return (target, start) => fillInvFreq(target, start, config.headDim);
  const isNorm = name.includes('LayerNorm') || name.includes('layer_norm');
  if (isNorm && name.endsWith('.weight')) return (target) => target.fill(1);
  if (name.endsWith('.bias') || name === 'lm_head.bias') return (target) => target.fill(0);
  const next = xorshift32(seed);
  return (target) => fillUniform(target, next);
}

/** ESM C's LayerNorms (attention, q, k, feed-forward, final, head) are 1; biases 0; the rest random. */
function esmcFillFor(name: string, seed: number): Fill {
  const isNorm = /\.(layernorm_qkv\.0|q_ln|k_ln|ffn\.0)\.weight$|^transformer\.norm\.weight$|^sequence_head\.2\.weight$/.test(name);
  if (isNorm) return (target) => target.fill(1);
  if (name.endsWith('.bias')) return (target) => target.fill(0);
  const next = xorshift32(seed);
  return (target) => fillUniform(target, next);
}

function fillInvFreq(target: Float32Array, start: number, headDim: number): void {
  for (let i = 0; i < target.length; i++) target[i] = 1 / 10000 ** ((2 * (start + i)) / headDim);
}

/** Uniform on [−a, a) with a = std·√3, which has the variance of N(0, std²). */
function fillUniform(target: Float32Array, next: () => number): void {
  const scale = (2 * WEIGHT_STD * Math.sqrt(3)) / 2 ** 32;
  const shift = WEIGHT_STD * Math.sqrt(3);
  for (let i = 0; i < target.length; i++) target[i] = next() * scale - shift;
}

/** Marsaglia's xorshift32 (seed scrambled first, so neighbouring seeds give unrelated streams). */
function xorshift32(seed: number): () => number {
  let state = mix32(seed) || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}

/** The murmur3 finaliser: spreads every seed bit over the whole state. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
