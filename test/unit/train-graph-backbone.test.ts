/**
 * Training graphs on a real (tiny, random-weight) installed ESM-2: the token task ignores
 * <cls>, <eos>, padding and unlabelled residues; a merged model (W + (alpha/r)·B A folded into
 * the stored weights) gives the same predictions and pooled vectors as the unmerged LoRA graph,
 * through its prediction.onnx and through the engine's own graphs; the gradients of every task's
 * training graph agree with finite differences of its validation graph's loss.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, graphFile, readManifest } from '../../src-main/models/installed';
import { esm2 } from '../../src-main/models/esm2';
import { encode, TOKENS } from '../../src-main/models/esm2/tokenizer';
import { buildHeadGraph, IO, trainableParameters, type TaskSpec } from '../../src-main/train/graph';
import { openTrainingSession, writeTrainingGraph } from '../../src-main/train/graph-files';
import { runStep, tokenTensor, type TrainingBatch } from '../../src-main/train/graph-feeds';
import { initHead, type HeadSpec } from '../../src-main/train/heads';
import { initLora, type LoraSpec } from '../../src-main/train/lora';
import { mergeLinear, PREDICTION_GRAPH_FILE, writeMergedModel } from '../../src-main/train/merge';
import { GOLDEN, maxAbsDiff } from '../support/golden';
import { createRng } from '../../src-main/core/rng';
import { uniformValues } from '../support/random-proteins';

const SEQUENCES = ['MKTAYIAKQRQISFVKSHFSRQ', 'GAVLIPFW', 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPP'];

let root: string;
let modelDir: string;
let tokens: number[][];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'train-backbone-'));
  modelDir = join(root, 'model');
  await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), modelDir, { appVersion: 'test' });
  tokens = SEQUENCES.map((s) => Array.from(encode(s)));
});

/** Adapters with B ≠ 0 (as after some training), so merging has something to fold in. */
function trainedAdapters(spec: LoraSpec, seed: number): Map<string, Float32Array> {
  const config = readManifest(modelDir).config;
  const adapters = initLora(spec, config, esm2, seed);
  const rng = createRng(seed);
  for (const [name, data] of adapters) {
    if (name.includes('lora_B')) data.set(uniformValues(rng, data.length, -0.1, 0.1));
  }
  return adapters;
}

describe('merging adapters', () => {
  it('folds (alpha/r)·Aᵀ Bᵀ into a weight stored as [in, out]', () => {
    // in 2, out 3, r 1: A = [1, 2], B = [1; 0; −1], scale 0.5 → Aᵀ Bᵀ = [[1, 0, −1], [2, 0, −2]]
    const merged = mergeLinear(new Float32Array(6), Float32Array.from([1, 2]), Float32Array.from([1, 0, -1]), { inDim: 2, outDim: 3, r: 1 }, 0.5);
    expect(Array.from(merged)).toEqual([0.5, 0, -0.5, 1, 0, -1]);
  });

  it('gives the same predictions and pooled vectors as the LoRA graph', async () => {
    const lora: LoraSpec = { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'key', 'value', 'attention-output', 'intermediate', 'output'], layers: 'all' };
    const task: TaskSpec = { kind: 'regression', outputs: 2 };
    const head = { kind: 'swat' as const, pool: 'bos' as const, hiddenDim: 16, dropout: 0.2 };
    const config = readManifest(modelDir).config;
    const params = new Map([...trainedAdapters(lora, 3), ...initHead(head, config.hiddenSize, 2, 4)]);
    expect([...params.keys()].sort()).toEqual(trainableParameters({ family: esm2, config, lora, head, task }).map((p) => p.name).sort());

    const { file, training } = await writeTrainingGraph(modelDir, { lora, head, task, mode: 'predict' });
    const session = (await openTrainingSession(file)).session;
    const unmerged = await runStep(session, training, { tokens }, params);
    await session.release();

    const headWeights = new Map([...params].filter(([name]) => name.startsWith('head.')));
    const mergedDir = join(root, 'merged');
    const manifest = await writeMergedModel(modelDir, mergedDir, { lora, adapters: params, head: { spec: head, task, weights: headWeights } });
    expect(manifest.name).toMatch(/LoRA/);

    const prediction = (await openTrainingSession(join(mergedDir, PREDICTION_GRAPH_FILE))).session;
    expect(prediction.inputNames).toEqual(['input_ids']);
    const out = await prediction.run({ input_ids: tokenTensor(tokens, TOKENS.PAD) });
    await prediction.release();
    const predDiff = maxAbsDiff(out.prediction!.data as Float32Array, unmerged.prediction);
    const pooledDiff = maxAbsDiff(out.pooled!.data as Float32Array, unmerged.pooled!);

    // The engine's own graphs of the merged folder (what Embedder runs) see the adapted model too.
    const engineFile = await graphFile(mergedDir, readManifest(mergedDir), { layers: [config.numLayers], pool: ['bos'] });
    const engine = await ort.InferenceSession.create(engineFile);
    const engineOut = await engine.run({ input_ids: tokenTensor(tokens, TOKENS.PAD) });
    await engine.release();
    const engineDiff = maxAbsDiff(engineOut[`bos_${config.numLayers}`]!.data as Float32Array, unmerged.pooled!);
    console.log(`merged vs LoRA graph: prediction ${predDiff.toExponential(2)}, pooled ${pooledDiff.toExponential(2)}, engine ${engineDiff.toExponential(2)}`);
    expect(predDiff).toBeLessThanOrEqual(1e-5);
    expect(pooledDiff).toBeLessThanOrEqual(1e-5);
    expect(engineDiff).toBeLessThanOrEqual(1e-5);

    // …and differs from the base model, so the adapters were really folded in.
    const baseFile = await graphFile(modelDir, readManifest(modelDir), { layers: [config.numLayers], pool: ['bos'] });
    const base = await ort.InferenceSession.create(baseFile);
    const baseOut = await base.run({ input_ids: tokenTensor(tokens, TOKENS.PAD) });
    await base.release();
    expect(maxAbsDiff(baseOut[`bos_${config.numLayers}`]!.data as Float32Array, unmerged.pooled!)).toBeGreaterThan(1e-3);
  });
});

describe('token task', () => {
  it('averages −log p(label) over labelled residues only', async () => {
    const task: TaskSpec = { kind: 'token', classes: 3 };
    const lora: LoraSpec = { r: 2, alpha: 4, dropout: 0, targets: ['value'], layers: 1 };
    const config = readManifest(modelDir).config;
    const params = new Map([...trainedAdapters(lora, 9), ...initHead({ kind: 'linear', pool: 'mean' }, config.hiddenSize, 3, 10)]);
    const { file, training } = await writeTrainingGraph(modelDir, { lora, head: { kind: 'linear', pool: 'mean' }, task, mode: 'eval' });
    const B = tokens.length;
    const T = Math.max(...tokens.map((t) => t.length));
    const labels = Array.from({ length: B * T }, (_, i) => i % 3);
    // Everything marked labelled, except residue 2 of sequence 0: specials and padding must still be ignored.
    const labelMask = new Float32Array(B * T).fill(1);
    labelMask[2] = 0;
    const session = (await openTrainingSession(file)).session;
    const step = await runStep(session, training, { tokens, labels, labelMask }, params);
    await session.release();
    expect(step.predictionShape).toEqual([B, T, 3]);
    let sum = 0;
    let count = 0;
    tokens.forEach((row, b) => {
      for (let t = 1; t < row.length - 1; t++) {
        if (b === 0 && t === 2) continue;
        sum -= Math.log(step.prediction[(b * T + t) * 3 + labels[b * T + t]!]!);
        count += 1;
      }
    });
    expect(step.loss).toBeCloseTo(sum / count, 5);
  });
});

describe('classification and multilabel graphs', () => {
  it('give probabilities that sum to 1 (classification) and lie in (0, 1) (multilabel)', async () => {
    const config = readManifest(modelDir).config;
    for (const task of [{ kind: 'classification', classes: 4, classWeights: [1, 2, 3, 4] }, { kind: 'multilabel', labels: 3, posWeight: [1, 2, 3] }] as TaskSpec[]) {
      const head = { kind: 'linear' as const, pool: 'mean' as const };
      const outDim = task.kind === 'classification' ? 4 : 3;
      const params = initHead(head, config.hiddenSize, outDim, 1);
      const { file, training } = await writeTrainingGraph(modelDir, { lora: null, head, task, mode: 'eval' });
      const batch =
        task.kind === 'classification'
          ? { tokens, labels: [0, 3, 1] }
          : { tokens, targets: Float32Array.from([1, 0, 0, 0, 1, 1, 0, 0, 0]) };
      const session = (await openTrainingSession(file)).session;
      const step = await runStep(session, training, batch, params);
      await session.release();
      expect(step.predictionShape).toEqual([3, outDim]);
      expect(Number.isFinite(step.loss!)).toBe(true);
      if (task.kind === 'classification') {
        for (let b = 0; b < 3; b++) expect(step.prediction.subarray(b * 4, b * 4 + 4).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
      } else expect(step.prediction.every((p) => p > 0 && p < 1)).toBe(true);
    }
  });
});

/** Pseudo-random numbers in [−1, 1) (a fixed LCG: the tests only need variety, not quality). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
}

/**
 * Σ_θ grad·d from the 'train' graph against the derivative of the 'eval' graph's loss along d
 * (finite differences), for a random direction d over every trainable tensor.
 */
async function directionalCheck(
  spec: { lora: LoraSpec | null; head: HeadSpec; task: TaskSpec },
  params: Map<string, Float32Array>,
  batch: TrainingBatch,
): Promise<{ analytic: number; numeric: number }> {
  const train = await writeTrainingGraph(modelDir, { ...spec, mode: 'train' });
  const evaluate = await writeTrainingGraph(modelDir, { ...spec, mode: 'eval' });
  const trainSession = (await openTrainingSession(train.file)).session;
  const evalSession = (await openTrainingSession(evaluate.file)).session;
  const step = await runStep(trainSession, train.training, batch, params);
  const next = lcg(17);
  const direction = new Map([...params].map(([name, data]) => [name, Float32Array.from(data, () => next())]));
  let analytic = 0;
  for (const [name, grad] of step.gradients) grad.forEach((g, i) => (analytic += g * direction.get(name)![i]!));
  // Five-point stencil (error O(ε⁴)): the SWAT head's LayerNorm curves too much for ±ε alone.
  const EPS = 5e-3;
  const lossAt = async (steps: number) => {
    const shifted = new Map([...params].map(([name, data]) => [name, data.map((v, i) => v + steps * EPS * direction.get(name)![i]!)]));
    return (await runStep(evalSession, evaluate.training, batch, shifted)).loss!;
  };
  const numeric = (-(await lossAt(2)) + 8 * (await lossAt(1)) - 8 * (await lossAt(-1)) + (await lossAt(-2))) / (12 * EPS);
  await trainSession.release();
  await evalSession.release();
  expect([...step.gradients.keys()].sort()).toEqual([...params.keys()].sort());
  return { analytic, numeric };
}

describe('training graphs: gradients against finite differences', () => {
  const cases: { name: string; lora: LoraSpec | null; head: HeadSpec; task: TaskSpec; batch: () => TrainingBatch }[] = [
    {
      name: 'classification, class weights, SWAT head on BOS, LoRA on the FFN',
      lora: { r: 2, alpha: 4, dropout: 0, targets: ['intermediate', 'output'], layers: 1 },
      head: { kind: 'swat', pool: 'bos', hiddenDim: 8 },
      task: { kind: 'classification', classes: 3, classWeights: [0.5, 2, 1] },
      batch: () => ({ tokens, labels: [2, 0, 1] }),
    },
    {
      name: 'multilabel, pos_weight, mean pool, LoRA on key and attention output',
      lora: { r: 3, alpha: 3, dropout: 0, targets: ['key', 'attention-output'], layers: 'all' },
      head: { kind: 'linear', pool: 'mean' },
      task: { kind: 'multilabel', labels: 2, posWeight: [3, 0.5] },
      batch: () => ({ tokens, targets: Float32Array.from([1, 0, 0, 1, 1, 1]) }),
    },
    {
      name: 'token classification, class weights',
      lora: { r: 2, alpha: 2, dropout: 0, targets: ['query', 'value'], layers: 'all' },
      head: { kind: 'linear', pool: 'mean' },
      task: { kind: 'token', classes: 3, classWeights: [1, 2, 3] },
      batch: () => {
        const T = Math.max(...tokens.map((t) => t.length));
        return { tokens, labels: Array.from({ length: tokens.length * T }, (_, i) => (i * 7) % 3), labelMask: new Float32Array(tokens.length * T).fill(1) };
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const config = readManifest(modelDir).config;
      const outDim = c.task.kind === 'multilabel' ? c.task.labels : c.task.kind === 'regression' ? c.task.outputs : c.task.classes;
      const adapters = c.lora ? trainedAdapters(c.lora, 5) : new Map<string, Float32Array>();
      const params = new Map([...adapters, ...initHead(c.task.kind === 'token' ? { ...c.head, kind: 'linear' } : c.head, config.hiddenSize, outDim, 6)]);
      const { analytic, numeric } = await directionalCheck(c, params, c.batch());
      console.log(`${c.name}: analytic ${analytic.toPrecision(8)}, numeric ${numeric.toPrecision(8)}`);
      expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-3);
    });
  }

  it('the head-only graph trains the head on stored embeddings', async () => {
    const head: HeadSpec = { kind: 'swat', pool: 'mean', hiddenDim: 4 };
    const task = { kind: 'classification' as const, classes: 2 };
    const train = buildHeadGraph({ inDim: 5, head, task, mode: 'train' });
    expect(Object.keys(train.outputs.gradients).sort()).toEqual(train.trainable.map((p) => p.name).sort());
    const evaluate = buildHeadGraph({ inDim: 5, head, task, mode: 'eval' });
    const { writeModel } = await import('../../src-main/onnx');
    await writeModel(train.graph, join(root, 'head-train.onnx'));
    await writeModel(evaluate.graph, join(root, 'head-eval.onnx'));
    const trainSession = (await openTrainingSession(join(root, 'head-train.onnx'))).session;
    const evalSession = (await openTrainingSession(join(root, 'head-eval.onnx'))).session;
    const next = lcg(3);
    const batch = { embeddings: { data: Float32Array.from({ length: 15 }, () => next()), rows: 3, cols: 5 }, labels: [1, 0, 1] };
    const params = initHead(head, 5, 2, 2);
    const step = await runStep(trainSession, train, batch, params);
    // ∂L/∂(out.bias) has a closed form: mean over rows of (softmax − one-hot).
    const probs = (await runStep(evalSession, evaluate, batch, params)).prediction;
    const expected = [0, 1].map((c) => [0, 1, 2].reduce((sum, b) => sum + probs[b * 2 + c]! - (batch.labels[b] === c ? 1 : 0), 0) / 3);
    expect(Array.from(step.gradients.get('head.out.bias')!)).toEqual(expected.map((v) => expect.closeTo(v, 6)));
    await trainSession.release();
    await evalSession.release();
  });

  it('applies dropout only in training graphs: masks follow the step seed, gradients follow the masks', async () => {
    const lora: LoraSpec = { r: 4, alpha: 8, dropout: 0.5, targets: ['query', 'value'], layers: 'all' };
    const head: HeadSpec = { kind: 'swat', pool: 'mean', hiddenDim: 8, dropout: 0.5 };
    const task: TaskSpec = { kind: 'regression', outputs: 1 };
    const config = readManifest(modelDir).config;
    const params = new Map([...trainedAdapters(lora, 2), ...initHead(head, config.hiddenSize, 1, 3)]);
    const batch = { tokens, targets: Float32Array.from([0.5, -1, 2]) };
    const run = async (mode: 'train' | 'eval', seeds: number[], values = params) => {
      const { file, training } = await writeTrainingGraph(modelDir, { lora, head, task, mode });
      expect(training.inputs.some((i) => i.name === IO.dropoutSeed)).toBe(mode === 'train');
      const session = (await openTrainingSession(file)).session;
      const out = [];
      for (const seed of seeds) out.push(await runStep(session, training, { ...batch, seed }, values));
      await session.release();
      return out;
    };
    const [eval1] = await run('eval', [1]);
    const [train1, train1again, train2] = await run('train', [1, 1, 2]);
    expect(train1!.loss).toBe(train1again!.loss);
    expect(train2!.loss).not.toBe(train1!.loss);
    expect(train1!.loss).not.toBe(eval1!.loss);

    // With the masks fixed by the seed, the gradient is that of the training graph's own loss.
    const next = lcg(23);
    const direction = new Map([...params].map(([name, data]) => [name, Float32Array.from(data, () => next())]));
    let analytic = 0;
    for (const [name, grad] of train1!.gradients) grad.forEach((g, i) => (analytic += g * direction.get(name)![i]!));
    const EPS = 5e-3;
    const at = (steps: number) => new Map([...params].map(([name, data]) => [name, data.map((v, i) => v + steps * EPS * direction.get(name)![i]!)]));
    const [l2, l1, m1, m2] = await Promise.all([2, 1, -1, -2].map(async (k) => (await run('train', [1], at(k)))[0]!.loss!));
    const numeric = (-l2! + 8 * l1! - 8 * m1! + m2!) / (12 * EPS);
    console.log(`dropout 0.5: analytic ${analytic.toPrecision(8)}, numeric ${numeric.toPrecision(8)}`);
    expect(Math.abs(analytic - numeric) / Math.abs(numeric)).toBeLessThan(1e-3);
  });
});
