/**
 * LoRA fine-tuning graphs against a PyTorch reference (test/fixtures/golden/tiny-lora): the tiny
 * golden ESM-2 with adapters on query and value of its last 2 layers (r 4, alpha 8), a
 * mean-pooled linear regression head and MSE, at the reference's initial tensors. Loss, `pred`,
 * `pooled` and every gradient must agree within 1e-4 relative (max |Δ| / max |ref|).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32, readTensorBytes } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint } from '../../src-main/models/installed';
import { openTrainingSession, writeTrainingGraph, type InstalledGraphSpec } from '../../src-main/train/graph-files';
import { runStep, type TrainingBatch } from '../../src-main/train/graph-feeds';
import { loraParameters, type LoraSpec } from '../../src-main/train/lora';
import { esm2 } from '../../src-main/models/esm2';
import { GOLDEN, maxAbsDiff } from '../support/golden';

const TOLERANCE = 1e-4;
const REF = join(GOLDEN, 'tiny-lora', 'lora_ref.safetensors');
const LORA: LoraSpec = { r: 4, alpha: 8, dropout: 0, targets: ['query', 'value'], layers: 2 };
const SPEC: Omit<InstalledGraphSpec, 'mode'> = { lora: LORA, head: { kind: 'linear', pool: 'mean' }, task: { kind: 'regression', outputs: 1 } };

interface Reference {
  float(name: string): Float32Array;
  ints(name: string): Int32Array;
  shape(name: string): number[];
  names: string[];
}

function loadReference(): Reference {
  const table = openSafetensors(REF);
  const info = (name: string) => {
    const entry = table.get(name);
    if (!entry) throw new Error(`no reference array ${name}`);
    return entry;
  };
  return {
    float: (name) => Float32Array.from(readFloat32(info(name))),
    ints: (name) => {
      const bytes = readTensorBytes(info(name));
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    },
    shape: (name) => info(name).shape,
    names: [...table.keys()],
  };
}

/** max |Δ| / max |ref|: error relative to the reference's scale. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  return maxAbsDiff(actual, expected) / (scale || 1);
}

describe('LoRA golden (tiny-lora)', () => {
  let modelDir: string;
  let ref: Reference;
  let batch: TrainingBatch;
  let params: Map<string, Float32Array>;

  beforeAll(async () => {
    ref = loadReference();
    modelDir = join(mkdtempSync(join(tmpdir(), 'train-golden-')), 'model');
    await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), modelDir, { appVersion: 'test' });
    const [B, T] = ref.shape('tokens') as [number, number];
    const tokens = ref.ints('tokens');
    const lengths = ref.ints('lengths');
    // Rows as the reference padded them; the graph pads again to the same width.
    const rows = Array.from({ length: B }, (_, b) => Array.from(tokens.subarray(b * T, (b + 1) * T)));
    expect(rows.map((r) => r.filter((id) => id !== 1).length)).toEqual(Array.from(lengths, (l) => l + 2));
    batch = { tokens: rows, targets: ref.float('targets') };
    params = new Map(ref.names.filter((n) => n.startsWith('init.')).map((n) => [n.slice('init.'.length), ref.float(n)]));
  });

  it('names the adapters as PEFT does, with the reference shapes', () => {
    const config = { numLayers: 2, hiddenSize: 64, intermediateSize: 256 } as Parameters<typeof loraParameters>[1];
    for (const p of loraParameters(LORA, config, esm2)) expect(ref.shape(`init.${p.name}`)).toEqual(p.shape);
    expect(loraParameters(LORA, config, esm2)).toHaveLength(8);
  });

  it('matches the reference loss, predictions and pooled vectors (eval graph)', async () => {
    const { file, training } = await writeTrainingGraph(modelDir, { ...SPEC, mode: 'eval' });
    const session = (await openTrainingSession(file)).session;
    const step = await runStep(session, training, batch, params);
    await session.release();
    const worst = {
      loss: relativeError([step.loss!], ref.float('loss')),
      pred: relativeError(step.prediction, ref.float('pred')),
      pooled: relativeError(step.pooled!, ref.float('pooled')),
    };
    console.log('tiny-lora forward, relative error:', worst);
    for (const [key, value] of Object.entries(worst)) expect(value, key).toBeLessThanOrEqual(TOLERANCE);

    // The adapters matter: with B = 0 (PEFT's init) the same graph gives the frozen model's numbers.
    const zeroB = new Map([...params].map(([name, data]) => [name, name.includes('lora_B') ? new Float32Array(data.length) : data]));
    const again = (await openTrainingSession(file)).session;
    const frozen = await runStep(again, training, batch, zeroB);
    await again.release();
    expect(relativeError(frozen.pooled!, ref.float('pooled'))).toBeGreaterThan(1e-3);
  });

  it('matches every reference gradient (train graph, src-main/autodiff)', async () => {
    const { file, training } = await writeTrainingGraph(modelDir, { ...SPEC, mode: 'train' });
    const session = (await openTrainingSession(file)).session;
    const step = await runStep(session, training, batch, params);
    await session.release();
    const expected = ref.names.filter((n) => n.startsWith('grad.')).map((n) => n.slice('grad.'.length));
    expect([...step.gradients.keys()].sort()).toEqual(expected.sort());
    const worst: Record<string, number> = {};
    for (const name of expected) worst[name] = relativeError(step.gradients.get(name)!, ref.float(`grad.${name}`));
    console.log('tiny-lora gradients, relative error:', worst);
    expect(relativeError([step.loss!], ref.float('loss'))).toBeLessThanOrEqual(TOLERANCE);
    for (const [key, value] of Object.entries(worst)) expect(value, key).toBeLessThanOrEqual(TOLERANCE);
  });
});
