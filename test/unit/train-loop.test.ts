/**
 * The training loop with a plain TypeScript step: linear regression y ≈ w·x + b with its analytic
 * MSE gradient. Checks that the loss falls, early stopping stops at the right epoch, a cancelled
 * or crashed run resumed from its checkpoint ends bit-identical to an uninterrupted one, and k
 * accumulated micro-batches equal one batch of all their examples.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Metric } from '../../src-main/api/schemas';
import { CancelledError } from '../../src-main/core/cancel';
import { loadCheckpoint } from '../../src-main/train/checkpoint';
import { gradientsFromOutputs, stepsPerEpoch, train, type EvaluateFunction, type StepFunction, type TrainLoopOptions } from '../../src-main/train/loop';
import type { TensorMap } from '../../src-main/train/optimizers';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'train-loop-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// ---- synthetic data: y = 1.5·x0 − 2·x1 + 0.5·x2 + 0.3 + small deterministic noise -------------
const N = 48;
const X = Array.from({ length: N }, (_, i) => [Math.sin(i), Math.cos(1.3 * i), ((i % 7) - 3) / 3]);
const Y = X.map(([a, b, c], i) => 1.5 * a! - 2 * b! + 0.5 * c! + 0.3 + 0.05 * Math.sin(17 * i));
const LENGTHS = Array.from({ length: N }, (_, i) => 10 + (i % 5) * 4);
const TRAIN = Array.from({ length: 40 }, (_, i) => i);
const VALID = Array.from({ length: 8 }, (_, i) => 40 + i);

function initialParams(): TensorMap {
  return new Map([['w', Float32Array.from([0.1, -0.1, 0])], ['b', Float32Array.from([0])]]);
}

function forward(indices: readonly number[], params: TensorMap): { predictions: Float32Array; loss: number; residuals: number[] } {
  const w = params.get('w')!;
  const b = params.get('b')![0]!;
  const residuals = indices.map((i) => w[0]! * X[i]![0]! + w[1]! * X[i]![1]! + w[2]! * X[i]![2]! + b - Y[i]!);
  const predictions = Float32Array.from(indices, (i, k) => residuals[k]! + Y[i]!);
  return { predictions, loss: residuals.reduce((s, r) => s + r * r, 0) / indices.length, residuals };
}

/** MSE and its analytic gradient: ∂/∂w = 2/m Σ r·x, ∂/∂b = 2/m Σ r. */
const linearStep: StepFunction = async (batch, params) => {
  const { predictions, loss, residuals } = forward(batch.indices, params);
  const m = batch.indices.length;
  const gw = [0, 1, 2].map((j) => (2 / m) * batch.indices.reduce((s, i, k) => s + residuals[k]! * X[i]![j]!, 0));
  const gb = (2 / m) * residuals.reduce((s, r) => s + r, 0);
  return { loss, predictions, grads: new Map([['w', Float32Array.from(gw)], ['b', Float32Array.from([gb])]]) };
};

const linearEvaluate: EvaluateFunction = async (batch, params) => {
  const { predictions, loss } = forward(batch.indices, params);
  return { loss, predictions };
};

function options(overrides: Partial<TrainLoopOptions> = {}): TrainLoopOptions {
  return {
    params: initialParams(),
    tokenLengths: LENGTHS,
    trainMembers: TRAIN,
    step: linearStep,
    evaluate: linearEvaluate,
    validation: { members: VALID, targets: { kind: 'regression', values: Y }, metric: 'r2' },
    epochs: 30,
    batching: { tokenBudget: 60 },
    shuffle: true,
    seed: 11,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    schedule: { kind: 'cosine', lr: 0.1, warmupSteps: 5 },
    ...overrides,
  };
}

const bits = (tensors: TensorMap): number[][] => [...tensors].map(([, v]) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)]);

describe('training loop', () => {
  it('fits the linear model: the loss falls and validation R² is high', async () => {
    const metrics: Metric[] = [];
    const fractions: number[] = [];
    const result = await train(options({ onMetrics: (m) => metrics.push(...m), onProgress: (f) => fractions.push(f) }));
    const losses = result.history.map((h) => h.trainLoss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 20);
    expect(result.history.at(-1)!.valMetric!).toBeGreaterThan(0.95);
    expect([...result.params.get('w')!].map((v) => Number(v.toFixed(1)))).toEqual([1.5, -2, 0.5]);
    // Per-step and per-epoch metrics, as the metrics table wants them.
    const perEpoch = stepsPerEpoch(options());
    expect(result.steps).toBe(30 * perEpoch);
    expect(metrics.filter((m) => m.name === 'train_loss').map((m) => m.step)).toEqual(Array.from({ length: result.steps }, (_, i) => i + 1));
    expect(metrics.filter((m) => m.name === 'lr')[0]!.value).toBe(0); // warmup starts at 0
    expect(metrics.filter((m) => m.name === 'val_r2')).toHaveLength(30);
    expect(metrics.find((m) => m.name === 'epoch' && m.value === 2)!.step).toBe(2 * perEpoch);
    expect(fractions.at(-1)).toBe(1);
  });

  it('stops early after `patience` epochs without improvement and returns the best epoch’s parameters', async () => {
    const scripted = [3, 2, 2.5, 2.4, 2.6, 1, 1];
    let evaluated = 0;
    const evaluate: EvaluateFunction = async (batch) => {
      const round = Math.floor(evaluated / VALID.length); // every batch of a round gets that round's loss
      evaluated += batch.indices.length;
      return { loss: scripted[round]!, predictions: new Float32Array(batch.indices.length) };
    };
    const dir = tempDir();
    const params = initialParams();
    const atEpochEnd: TensorMap[] = [];
    const result = await train(
      options({
        params,
        evaluate,
        validation: { members: VALID, targets: { kind: 'regression', values: Y }, metric: 'loss' },
        earlyStopping: { patience: 3 },
        epochs: 10,
        checkpointDir: dir,
        onMetrics: (m) => {
          if (m.some((x) => x.name === 'epoch')) atEpochEnd.push(new Map([...params].map(([n, v]) => [n, v.slice()])));
        },
      }),
    );
    expect(result.history.map((h) => h.valLoss)).toEqual([3, 2, 2.5, 2.4, 2.6]);
    expect(result.stoppedEarly).toBe(true);
    expect(result.epochsCompleted).toBe(5);
    expect(result.bestEpoch).toBe(1);
    expect(result.bestMetric).toBe(2);
    expect(result.bestParams).toEqual(atEpochEnd[1]);
    expect(result.params).toEqual(atEpochEnd[4]);
    expect(result.bestParams).not.toEqual(result.params);
    const best = loadCheckpoint(dir, 'best')!;
    expect(best.params).toEqual(atEpochEnd[1]);
    expect(best.position.step).toBe(2 * stepsPerEpoch(options()));
    expect(loadCheckpoint(dir, 'last')!.position.finished).toBe(true);
  });

  it('resumes a cancelled run bit-identically: same parameters, history, metrics and step seeds', async () => {
    const settings = { accumulation: 2, maxGradNorm: 0.5, epochs: 6, earlyStopping: { patience: 100 } } as const;
    const seeds: number[] = [];
    const step: StepFunction = async (batch, params, context) => {
      seeds.push(context.seed);
      return linearStep(batch, params, context);
    };
    const referenceMetrics: Metric[] = [];
    const reference = await train(options({ ...settings, step, onMetrics: (m) => referenceMetrics.push(...m) }));
    const referenceSeeds = seeds.splice(0);

    const dir = tempDir();
    const controller = new AbortController();
    const metrics: Metric[] = [];
    const stopAt = stepsPerEpoch(options(settings)) * 2 + 1; // in the middle of the third epoch
    const first = train(
      options({
        ...settings, step, checkpointDir: dir, signal: controller.signal,
        onMetrics: (m) => {
          metrics.push(...m);
          if (m.some((x) => x.name === 'train_loss' && x.step === stopAt)) controller.abort();
        },
      }),
    );
    await expect(first).rejects.toBeInstanceOf(CancelledError);
    const saved = loadCheckpoint(dir, 'last')!;
    expect(saved.position.step).toBe(stopAt);
    expect(saved.position.batchInEpoch).toBeGreaterThan(0);

    const resumed = await train(options({ ...settings, step, checkpointDir: dir, resumeFrom: saved, onMetrics: (m) => metrics.push(...m) }));
    expect(bits(resumed.params)).toEqual(bits(reference.params));
    expect(resumed.history).toEqual(reference.history);
    expect(metrics).toEqual(referenceMetrics);
    expect(seeds).toEqual(referenceSeeds.slice(0, seeds.length));
    expect(seeds.length).toBeGreaterThan(0);
    // Resuming a finished run does nothing more.
    const again = await train(options({ ...settings, step, checkpointDir: dir, resumeFrom: loadCheckpoint(dir, 'last') }));
    expect(again.steps).toBe(reference.steps);
  });

  it('resumes after a crash from the last periodic checkpoint, bit-identically', async () => {
    const settings = { epochs: 4, checkpointEvery: 3, optimizer: { kind: 'sgd', momentum: 0.9 } } as const;
    const reference = await train(options(settings));
    const dir = tempDir();
    let steps = 0;
    const crashing: StepFunction = async (batch, params, context) => {
      if (++steps === 11) throw new Error('power cut');
      return linearStep(batch, params, context);
    };
    await expect(train(options({ ...settings, step: crashing, checkpointDir: dir }))).rejects.toThrow('power cut');
    const saved = loadCheckpoint(dir, 'last')!;
    expect(saved.position.step).toBe(9);
    const resumed = await train(options({ ...settings, checkpointDir: dir, resumeFrom: saved }));
    expect(bits(resumed.params)).toEqual(bits(reference.params));
  });

  it('refuses to resume with different settings, naming each (more epochs may change)', async () => {
    const dir = tempDir();
    await train(options({ epochs: 1, checkpointDir: dir }));
    const refused = train(options({ epochs: 2, seed: 12, checkpointDir: dir, resumeFrom: loadCheckpoint(dir, 'last') }));
    await expect(refused).rejects.toThrow(/other settings, so it cannot be continued with these: seed was \d+, now 12\. /);
    await expect(train(options({ epochs: 2, seed: 12, checkpointDir: dir, resumeFrom: loadCheckpoint(dir, 'last') }))).rejects.not.toThrow(/epochs/);
  });

  it('a finished run given more epochs goes on, to the parameters of a run given them at once (constant schedule)', async () => {
    const constant = { schedule: { kind: 'constant' as const, lr: 0.05 } };
    const reference = await train(options({ ...constant, epochs: 3 }));
    const dir = tempDir();
    const first = await train(options({ ...constant, epochs: 2, checkpointDir: dir }));
    expect(first.epochsCompleted).toBe(2);
    const more = await train(options({ ...constant, epochs: 3, checkpointDir: dir, resumeFrom: loadCheckpoint(dir, 'last') }));
    expect(more.epochsCompleted).toBe(3);
    expect(bits(more.params)).toEqual(bits(reference.params));
    await expect(train(options({ ...constant, epochs: 1, checkpointDir: dir, resumeFrom: loadCheckpoint(dir, 'last') }))).rejects.toThrow(/epochs was 3, now 1/);
  });

  it('accumulating k micro-batches equals one batch of all their examples (SGD, unequal batch sizes)', async () => {
    const common = { epochs: 5, shuffle: false, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }, schedule: { kind: 'constant', lr: 0.05 }, validation: undefined, evaluate: undefined } as const;
    const small = { tokenBudget: 60 };
    const k = stepsPerEpoch({ tokenLengths: LENGTHS, trainMembers: TRAIN, batching: small });
    const accumulated = await train(options({ ...common, batching: small, accumulation: k }));
    const whole = await train(options({ ...common, batching: { tokenBudget: 1e6 } }));
    expect(accumulated.steps).toBe(5);
    expect(whole.steps).toBe(5);
    for (const [name, values] of whole.params) {
      values.forEach((value, i) => expect(accumulated.params.get(name)![i]).toBeCloseTo(value, 6));
    }
    expect(accumulated.history.map((h) => h.trainLoss)[4]).toBeCloseTo(whole.history[4]!.trainLoss, 6);
  });

  it('says which step diverged instead of training on NaN', async () => {
    const nan: StepFunction = async (batch, params, context) => ({ ...(await linearStep(batch, params, context)), loss: NaN });
    await expect(train(options({ step: nan }))).rejects.toThrow(/diverged at step 1/);
  });

  it('maps a training graph’s grad.<param> outputs to parameters, refusing a missing or mis-sized one', () => {
    const params = initialParams();
    const outputs = new Map([['loss', Float32Array.from([1])], ['grad.w', Float32Array.from([1, 2, 3])], ['grad.b', Float32Array.from([4])]]);
    expect(gradientsFromOutputs(outputs, params)).toEqual(new Map([['w', Float32Array.from([1, 2, 3])], ['b', Float32Array.from([4])]]));
    outputs.delete('grad.b');
    expect(() => gradientsFromOutputs(outputs, params)).toThrow(/no output "grad\.b"/);
    outputs.set('grad.b', new Float32Array(2));
    expect(() => gradientsFromOutputs(outputs, params)).toThrow(/"grad\.b" has 2 values, the parameter 1/);
  });

  it('scores classification validation from logits (accuracy, AUROC)', async () => {
    // Two classes; the "model" predicts logits [0, s] with s = x0, and the label is x0 > 0.
    const labels = Int32Array.from(X, ([a]) => (a! > 0 ? 1 : 0));
    const evaluate: EvaluateFunction = async (batch) => ({ loss: 0, predictions: Float32Array.from(batch.indices.flatMap((i) => [0, X[i]![0]!])) });
    const metrics: Metric[] = [];
    await train(options({ epochs: 1, evaluate, validation: { members: VALID, targets: { kind: 'classification', labels, classes: ['neg', 'pos'] }, metric: 'auroc' }, onMetrics: (m) => metrics.push(...m) }));
    const value = (name: string): number | undefined => metrics.find((m) => m.name === name)?.value;
    expect(value('val_accuracy')).toBe(1);
    expect(value('val_auroc')).toBe(1);
  });
});
