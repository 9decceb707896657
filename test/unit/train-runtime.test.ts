/**
 * The training runtime's pieces, each against hand-computed values or invariants: optimizers
 * (torch's AdamW / SGD update rules), schedules, clipping and accumulation, batches and the
 * validation split, the seeded generator, early stopping, the safetensors writer and checkpoints.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSafetensors, readFloat32 } from '../../src-main/models/formats/safetensors';
import { encodeSafetensorsFile, writeSafetensorsFile } from '../../src-main/models/formats/safetensors-write';
import { createRng } from '../../src-main/core/rng';
import { epochBatches, validationSplit } from '../../src-main/train/batches';
import { checkpointJsonPath, loadCheckpoint, saveCheckpoint, type LoopPosition } from '../../src-main/train/checkpoint';
import { clipGradNorm, globalNorm, GradientAccumulator } from '../../src-main/train/clip';
import { EarlyStopping } from '../../src-main/train/early-stopping';
import { AdamW, createOptimizer, Sgd, type TensorMap } from '../../src-main/train/optimizers';
import { SeededRng as TrainingRng } from '../../src-main/core/rng';
import { learningRate, warmupStepsFromRatio } from '../../src-main/train/schedule';
import { float32Values, readSafetensorsWhole } from '../support/safetensors-writer';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'train-runtime-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const one = (name: string, ...values: number[]): TensorMap => new Map([[name, Float32Array.from(values)]]);

describe('AdamW', () => {
  it('matches two steps worked out by hand (torch.optim.AdamW rule, decoupled weight decay)', () => {
    const params = one('p', 1);
    const adam = new AdamW({ weightDecay: 0.1 });
    adam.step(params, one('p', 0.5), 0.1);
    // p·(1 − 0.01) = 0.99; m̂ = 0.5, v̂ = 0.25: p − 0.1·0.5/(0.5 + 1e-8)
    expect(params.get('p')![0]).toBeCloseTo(0.99 - (0.1 * 0.5) / (0.5 + 1e-8), 7);
    adam.step(params, one('p', -0.25), 0.1);
    // m = 0.9·0.05 − 0.025 = 0.02, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
    const p1 = Math.fround(0.99 - (0.1 * 0.5) / (0.5 + 1e-8));
    const mHat = 0.02 / (1 - 0.9 ** 2);
    const vHat = 0.00031225 / (1 - 0.999 ** 2);
    expect(params.get('p')![0]).toBeCloseTo(p1 * 0.99 - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8), 6);
    expect(adam.stepCount).toBe(2);
  });

  it('first step moves every coordinate by ≈ lr·sign(g), whatever the gradient scale', () => {
    const params = one('p', 0, 0, 0);
    new AdamW({ weightDecay: 0 }).step(params, one('p', 1e-3, -50, 3), 0.01);
    expect([...params.get('p')!].map((v) => Number(v.toFixed(6)))).toEqual([-0.01, 0.01, -0.01]);
  });

  it('follows a float64 AdamW reference on a quadratic for 200 steps, converging to the minimum', () => {
    // f(p) = ½ Σ aᵢ (pᵢ − cᵢ)², ∇f = a ⊙ (p − c)
    const a = [1, 10, 0.1, 3];
    const c = [0.5, -2, 3, 0];
    const params = new Map([['w', Float32Array.from([2, 2, -1, 1])]]);
    const ref = [2, 2, -1, 1];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    const [lr, wd, b1, b2, eps] = [0.05, 0.01, 0.9, 0.999, 1e-8];
    const adam = createOptimizer({ kind: 'adamw', weightDecay: wd });
    let maxDiff = 0;
    for (let t = 1; t <= 200; t++) {
      const w = params.get('w')!;
      adam.step(params, new Map([['w', Float32Array.from(a, (ai, i) => ai * (w[i]! - c[i]!))]]), lr);
      for (let i = 0; i < 4; i++) {
        const g = a[i]! * (ref[i]! - c[i]!);
        ref[i] = ref[i]! * (1 - lr * wd);
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        ref[i] = ref[i]! - (lr * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
        maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - params.get('w')![i]!));
      }
    }
    expect(maxDiff).toBeLessThan(1e-4);
    // Near the minimum (weight decay pulls it slightly toward 0).
    params.get('w')!.forEach((value, i) => expect(Math.abs(value - c[i]!)).toBeLessThan(0.15));
  });

  it('restores its state: 3 steps + save/load + 2 steps equals 5 steps, bit for bit', () => {
    const grads = (t: number): TensorMap => new Map([['x', Float32Array.from([Math.sin(t), Math.cos(t) * 3])], ['y', Float32Array.from([t * 0.1])]]);
    const run = (split: boolean): TensorMap => {
      const params: TensorMap = new Map([['x', Float32Array.from([1, -1])], ['y', Float32Array.from([0.5])]]);
      let adam = new AdamW({ weightDecay: 0.05 });
      for (let t = 0; t < 5; t++) {
        if (split && t === 3) {
          const state = adam.state();
          adam = new AdamW({ weightDecay: 0.05 });
          adam.load(state, params);
        }
        adam.step(params, grads(t), 0.01);
      }
      return params;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('refuses a missing or extra gradient, and a state of the wrong optimizer', () => {
    const params: TensorMap = new Map([['a', new Float32Array(2)], ['b', new Float32Array(1)]]);
    expect(() => new AdamW().step(params, one('a', 1, 2), 0.1)).toThrow(/No gradient for parameter "b"/);
    expect(() => new AdamW().step(one('a', 1), new Map([...one('a', 1), ...one('z', 1)]), 0.1)).toThrow(/"z"/);
    expect(() => new AdamW().load(new Sgd().state(), params)).toThrow(/for sgd/);
  });
});

describe('SGD', () => {
  it('matches torch.optim.SGD with momentum and weight decay, worked by hand', () => {
    const params = one('p', 1);
    const sgd = new Sgd({ momentum: 0.9, weightDecay: 0.1 });
    sgd.step(params, one('p', 0.5), 0.1); // d = 0.5 + 0.1 = 0.6, buf = d, p = 1 − 0.06
    expect(params.get('p')![0]).toBeCloseTo(0.94, 6);
    sgd.step(params, one('p', 0.5), 0.1); // d = 0.5 + 0.094 = 0.594, buf = 0.54 + 0.594 = 1.134
    expect(params.get('p')![0]).toBeCloseTo(0.94 - 0.1134, 6);
    expect(sgd.state().tensors.get('momentum_buffer.p')![0]).toBeCloseTo(1.134, 6);
  });

  it('without momentum is p ← p − lr·g and keeps no buffer', () => {
    const params = one('p', 2, -3);
    const sgd = new Sgd();
    sgd.step(params, one('p', 1, -2), 0.25);
    expect([...params.get('p')!]).toEqual([1.75, -2.5]);
    expect(sgd.state().tensors.size).toBe(0);
  });
});

describe('schedules', () => {
  const base = { lr: 1, warmupSteps: 10, totalSteps: 110 };
  it('warms up linearly from 0 (HF: step 0 has rate 0)', () => {
    for (const kind of ['constant', 'linear', 'cosine'] as const) {
      expect(learningRate({ ...base, kind }, 0)).toBe(0);
      expect(learningRate({ ...base, kind }, 5)).toBeCloseTo(0.5, 12);
      expect(learningRate({ ...base, kind }, 10)).toBeCloseTo(1, 12);
    }
  });
  it('decays linearly or along a half cosine to 0 at the last step, and stays there', () => {
    expect(learningRate({ ...base, kind: 'linear' }, 60)).toBeCloseTo(0.5, 12);
    expect(learningRate({ ...base, kind: 'linear' }, 110)).toBe(0);
    expect(learningRate({ ...base, kind: 'cosine' }, 60)).toBeCloseTo(0.5, 12);
    expect(learningRate({ ...base, kind: 'cosine' }, 35)).toBeCloseTo(0.5 * (1 + Math.SQRT1_2), 12);
    expect(learningRate({ ...base, kind: 'cosine' }, 110)).toBeCloseTo(0, 12);
    expect(learningRate({ ...base, kind: 'cosine' }, 150)).toBeCloseTo(0, 12);
    expect(learningRate({ ...base, kind: 'constant' }, 500)).toBe(1);
  });
  it('turns a warmup ratio into steps, rounding up', () => {
    expect(warmupStepsFromRatio(0.1, 95)).toBe(10);
    expect(warmupStepsFromRatio(0, 95)).toBe(0);
  });
});

describe('clipping and accumulation', () => {
  it('computes one global norm and scales all gradients by maxNorm / (norm + 1e-6) when over', () => {
    const grads: TensorMap = new Map([['a', Float32Array.from([3])], ['b', Float32Array.from([0, 4])]]);
    expect(globalNorm(grads)).toBe(5);
    expect(clipGradNorm(grads, 1)).toBe(5);
    expect(grads.get('a')![0]).toBeCloseTo(3 / 5.000001, 7);
    expect(grads.get('b')![1]).toBeCloseTo(4 / 5.000001, 7);
    expect(globalNorm(grads)).toBeLessThanOrEqual(1);
    const small: TensorMap = new Map([['a', Float32Array.from([0.3, 0.4])]]);
    clipGradNorm(small, 1);
    expect([...small.get('a')!]).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('averages micro-batch gradients and losses weighted by their example counts', () => {
    const accumulator = new GradientAccumulator();
    accumulator.add(one('w', 1, 10), 2, 1);
    accumulator.add(one('w', 4, 2), 6, 3);
    expect(accumulator.count).toBe(2);
    const { grads, loss, weight } = accumulator.take();
    expect([...grads.get('w')!]).toEqual([13 / 4, 16 / 4]);
    expect(loss).toBe(5);
    expect(weight).toBe(4);
    expect(() => accumulator.take()).toThrow(/No micro-batch/);
  });
});

describe('batches', () => {
  const lengths = [10, 10, 10, 5, 5, 5, 5, 20];
  const all = lengths.map((_, i) => i);

  it('packs longest first under the padded token budget', () => {
    const batches = epochBatches(lengths, all, { tokenBudget: 20 });
    expect(batches.map((b) => [b.paddedLength, b.indices])).toEqual([
      [20, [7]],
      [10, [0, 1]],
      [10, [2, 3]],
      [5, [4, 5, 6]],
    ]);
  });

  it('honours a cap on sequences per batch, and gives an over-long sequence its own batch', () => {
    expect(epochBatches([5, 5, 5, 5], [0, 1, 2, 3], { tokenBudget: 100, maxSequences: 3 }).map((b) => b.indices)).toEqual([[0, 1, 2], [3]]);
    expect(epochBatches([50, 5], [0, 1], { tokenBudget: 20 }).map((b) => b.indices)).toEqual([[0], [1]]);
  });

  it('shuffles with the seed: same seed same epoch, every example once, the same batch shapes every epoch', () => {
    const many = Array.from({ length: 60 }, (_, i) => 20 + (i % 4) * 10);
    const members = many.map((_, i) => i);
    const fixed = epochBatches(many, members, { tokenBudget: 200 });
    const shape = (batches: { indices: number[]; paddedLength: number }[]): string[] => batches.map((b) => `${b.paddedLength}×${b.indices.length}`).sort();
    const rng = new TrainingRng(3);
    const epoch1 = epochBatches(many, members, { tokenBudget: 200 }, rng);
    const epoch2 = epochBatches(many, members, { tokenBudget: 200 }, rng);
    expect(epochBatches(many, members, { tokenBudget: 200 }, new TrainingRng(3))).toEqual(epoch1);
    expect(epoch2).not.toEqual(epoch1);
    for (const epoch of [epoch1, epoch2]) {
      expect(epoch.flatMap((b) => b.indices).sort((x, y) => x - y)).toEqual(members);
      expect(shape(epoch)).toEqual(shape(fixed));
      for (const b of epoch) {
        expect(b.indices.length * b.paddedLength).toBeLessThanOrEqual(200);
        expect(Math.max(...b.indices.map((i) => many[i]!))).toBe(b.paddedLength);
      }
    }
    expect(epochBatches(many, members, { tokenBudget: 200 })).toEqual(fixed);
  });

  it('splits off a seeded validation fraction', () => {
    const split = validationSplit(50, 0.2, new TrainingRng(1));
    expect(split.validation).toHaveLength(10);
    expect([...split.train, ...split.validation].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(validationSplit(50, 0.2, new TrainingRng(1))).toEqual(split);
    expect(validationSplit(50, 0.2, new TrainingRng(2)).validation).not.toEqual(split.validation);
    expect(validationSplit(3, 0.01, new TrainingRng(1)).validation).toHaveLength(1);
    expect(validationSplit(5, 0, new TrainingRng(1)).validation).toEqual([]);
  });

  it('stratifies the split by class, keeping the proportions', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 60 ? 0 : i < 90 ? 1 : 2));
    const { validation } = validationSplit(100, 0.2, new TrainingRng(5), labels);
    const perClass = [0, 1, 2].map((c) => validation.filter((i) => labels[i] === c).length);
    expect(perClass).toEqual([12, 6, 2]);
    // 3 classes of 7, 7 held out: shares 2⅓ each → 2, 2, 2, and the 7th by largest remainder (a tie → first class)
    const even = Int32Array.from({ length: 21 }, (_, i) => i % 3);
    const held = validationSplit(21, 1 / 3, new TrainingRng(5), even).validation;
    expect([0, 1, 2].map((c) => held.filter((i) => even[i] === c).length)).toEqual([3, 2, 2]);
  });
});

describe('TrainingRng', () => {
  it('is the same stream as learn/stats createRng for a seed, and resumes from a saved state', () => {
    const ours = new TrainingRng(42);
    const theirs = createRng(42);
    for (let i = 0; i < 100; i++) expect(ours.next()).toBe(theirs.next());
    const state = ours.getState();
    const expected = [ours.next(), ours.nextUint32(), ours.nextInt(7)];
    const resumed = TrainingRng.fromState(state);
    expect([resumed.next(), resumed.nextUint32(), resumed.nextInt(7)]).toEqual(expected);
    expect(() => TrainingRng.fromState(-1)).toThrow(/32-bit/);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement and remembers the best epoch', () => {
    const early = new EarlyStopping({ mode: 'min', patience: 3 });
    const verdicts = [5, 4, 4.5, 4.2, 4.1].map((value, epoch) => early.update(epoch, value));
    expect(verdicts.map((v) => v.improved)).toEqual([true, true, false, false, false]);
    expect(verdicts.map((v) => v.stop)).toEqual([false, false, false, false, true]);
    expect(early.state()).toEqual({ best: 4, bestEpoch: 1, staleEpochs: 3 });
  });
  it('maximises, needs more than minDelta, never improves on NaN, and restores its state', () => {
    const early = new EarlyStopping({ mode: 'max', patience: 2, minDelta: 0.01 });
    expect(early.update(0, 0.5).improved).toBe(true);
    expect(early.update(1, 0.505).improved).toBe(false);
    const copy = new EarlyStopping({ mode: 'max', patience: 2, minDelta: 0.01 });
    copy.load(early.state());
    expect(copy.update(2, NaN)).toEqual({ improved: false, stop: true });
  });
});

describe('safetensors writer', () => {
  it('writes a file both readers agree on: names, dtypes, shapes, values; header 8-aligned', () => {
    const file = join(tempDir(), 'x.safetensors');
    writeSafetensorsFile(file, [
      { name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
      { name: 'b', shape: [3], data: Int32Array.from([7, -8, 9]) },
      { name: 'd', shape: [1], data: Float64Array.from([Math.PI]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    ]);
    const raw = readSafetensorsWhole(file);
    expect(raw.map((t) => [t.name, t.dtype, t.shape])).toEqual([['w', 'F32', [2, 3]], ['b', 'I32', [3]], ['d', 'F64', [1]], ['empty', 'F32', [0, 4]]]);
    expect(float32Values(raw[0]!.bytes)).toEqual([1, 2, 3, 4, 5, 6.5]);
    const bytes = readFileSync(file);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const table = openSafetensors(file);
    expect([...readFloat32(table.get('d')!)]).toEqual([Math.fround(Math.PI)]);
    expect(readdirSync(join(file, '..'))).toEqual(['x.safetensors']);
    expect(Buffer.from(encodeSafetensorsFile([{ name: 'w', shape: [1], data: Float32Array.from([1]) }])).subarray(-4).readFloatLE(0)).toBe(1);
  });

  it('refuses duplicate names and a shape that does not fit the values, leaving no file', () => {
    const file = join(tempDir(), 'bad.safetensors');
    const t = { name: 'a', shape: [2], data: new Float32Array(2) };
    expect(() => writeSafetensorsFile(file, [t, t])).toThrow(/listed twice/);
    expect(() => writeSafetensorsFile(file, [{ ...t, shape: [3] }])).toThrow(/shape \[3\] \(3 values\) but 2 values/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('training checkpoints', () => {
  const position: LoopPosition = {
    step: 7, epoch: 1, batchInEpoch: 2, epochRngState: 123, rngState: 456, epochLossSum: 1.5, epochLossWeight: 6,
    earlyStopping: { best: 0.25, bestEpoch: 0, staleEpochs: 0 }, history: [{ epoch: 0, step: 4, trainLoss: 0.5, valLoss: 0.25, valMetric: 0.25 }], finished: false,
  };

  it('round-trips parameters, optimizer state and position exactly', () => {
    const dir = tempDir();
    const params: TensorMap = new Map([['head.weight', Float32Array.from([0.1, -0.2, 1e-30])], ['head.bias', Float32Array.from([3])]]);
    const adam = new AdamW();
    adam.step(params, new Map([['head.weight', Float32Array.from([1, 2, 3])], ['head.bias', Float32Array.from([-1])]]), 0.01);
    saveCheckpoint(dir, 'last', { params, optimizer: adam.state(), position, extra: { settings: 'x' } });
    const loaded = loadCheckpoint(dir, 'last')!;
    expect(loaded.params).toEqual(params);
    expect(loaded.optimizer).toEqual(adam.state());
    expect(loaded.position).toEqual(position);
    expect(loaded.extra).toEqual({ settings: 'x' });
    expect(loadCheckpoint(dir, 'best')).toBeNull();
  });

  it('keeps one tensor file per slot, the one its JSON names, and reports a damaged checkpoint', () => {
    const dir = tempDir();
    const state = new Sgd().state();
    const params: TensorMap = new Map([['w', Float32Array.from([1])]]);
    writeFileSync(join(dir, 'last-step3.safetensors.partial'), 'left by a crash');
    saveCheckpoint(dir, 'last', { params, optimizer: state, position });
    saveCheckpoint(dir, 'last', { params, optimizer: state, position: { ...position, step: 8 } });
    saveCheckpoint(dir, 'best', { params, optimizer: state, position });
    expect(readdirSync(dir).sort()).toEqual(['best-step7.safetensors', 'best.json', 'last-step8.safetensors', 'last.json']);
    expect(JSON.parse(readFileSync(checkpointJsonPath(dir, 'last'), 'utf8')).tensors).toBe('last-step8.safetensors');
    rmSync(join(dir, 'best-step7.safetensors'));
    expect(() => loadCheckpoint(dir, 'best')).toThrow(/best-step7\.safetensors/);
    writeFileSync(checkpointJsonPath(dir, 'last'), '{"format":"other"}');
    expect(() => loadCheckpoint(dir, 'last')).toThrow(/not a training checkpoint/);
  });
});
