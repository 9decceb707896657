/**
 * Integrated gradients (train/attributions) on the golden LoRA model (test/fixtures/golden/tiny-lora):
 * the tiny golden ESM-2 with its reference LoRA adapters (q and v of both layers, r 4, alpha 8)
 * merged in and its mean-pooled linear regression head. Checks: the cut graph predicts what
 * PyTorch predicted (`pred`), attributions sum to f(x) − f(baseline) within 1 % (completeness),
 * and the onnxruntime gradient at one interpolation point agrees with a central finite
 * difference of the same model's forward pass. Also: a classification head (class probabilities)
 * and an fp16 copy of the model (close to fp32).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint } from '../../src-main/models/installed';
import { writeMergedModel } from '../../src-main/train/merge';
import { AttributionModel, attributionsCsv, integratedGradients } from '../../src-main/train/attributions';
import type { LoraSpec } from '../../src-main/train/lora';
import { GOLDEN } from '../support/golden';

const REF = join(GOLDEN, 'tiny-lora', 'lora_ref.safetensors');
const LORA: LoraSpec = { r: 4, alpha: 8, dropout: 0, targets: ['query', 'value'], layers: 2 };
/** The first sequence of the reference batch (ubiquitin, 76 aa). */
const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';

function referenceTensors(): Map<string, Float32Array> {
  const table = openSafetensors(REF);
  return new Map([...table].filter(([, info]) => info.dtype === 'F32').map(([name, info]) => [name, Float32Array.from(readFloat32(info))]));
}

/** The reference batch's sequences (tiny-lora/manifest.json), in `pred` order. */
function manifestSequences(): string[] {
  const manifest = JSON.parse(readFileSync(join(GOLDEN, 'tiny-lora', 'manifest.json'), 'utf8')) as { sequences: { sequence: string }[] };
  return manifest.sequences.map((s) => s.sequence);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

describe('integrated gradients on the golden LoRA model', () => {
  let model: AttributionModel;
  let ref: Map<string, Float32Array>;
  let mergedDir: string;

  beforeAll(async () => {
    ref = referenceTensors();
    const root = mkdtempSync(join(tmpdir(), 'attributions-'));
    await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), join(root, 'base'), { appVersion: 'test' });
    const init = (prefix: string) => new Map([...ref].filter(([name]) => name.startsWith(`init.${prefix}`)).map(([name, data]) => [name.slice('init.'.length), data]));
    const head = { spec: { kind: 'linear' as const, pool: 'mean' as const }, task: { kind: 'regression' as const, outputs: 1 }, weights: init('head.') };
    mergedDir = join(root, 'merged');
    await writeMergedModel(join(root, 'base'), mergedDir, { lora: LORA, adapters: init('esm.'), head });
    model = await AttributionModel.open({ modelDir: mergedDir, head: head.spec, task: head.task, headWeights: head.weights });
  }, 120_000);

  afterAll(async () => {
    await model?.release();
  });

  it('predicts what the PyTorch reference predicted for the input', async () => {
    const { prediction } = await model.embed(model.tokenizer.encode(UBIQUITIN));
    expect(Math.abs(prediction[0]! - ref.get('pred')![0]!)).toBeLessThan(1e-4);
  });

  it('passes the completeness check on every reference sequence: attributions sum to f(x) − f(<mask> baseline) within 1 %', async () => {
    const sequences = manifestSequences();
    for (const [b, sequence] of sequences.entries()) {
      const result = await integratedGradients(model, sequence, { steps: 50 });
      expect(result.residues).toHaveLength(sequence.length);
      expect(Math.abs(result.prediction - ref.get('pred')![b]!)).toBeLessThan(1e-4);
      const difference = result.prediction - result.baselinePrediction;
      expect(Math.abs(difference)).toBeGreaterThan(1e-3); // the check means something only when the baseline differs
      const sum = result.residues.reduce((s, v) => s + v, 0);
      expect(Math.abs(sum - difference) / Math.abs(difference)).toBeLessThan(0.01);
      expect(result.completeness).toBeCloseTo(Math.abs(sum - difference) / Math.abs(difference), 6);
      expect(Math.max(...result.residues) - Math.min(...result.residues)).toBeGreaterThan(0);
    }
  }, 120_000);

  it('writes one CSV line per residue', async () => {
    const result = await integratedGradients(model, UBIQUITIN, { steps: 4 });
    const csv = attributionsCsv(UBIQUITIN, result).trim().split('\n');
    expect(csv[0]).toBe('position,residue,attribution');
    expect(csv[1]).toBe(`1,M,${result.residues[0]}`);
    expect(csv[76]).toBe(`76,G,${result.residues[75]}`);
    expect(csv).toHaveLength(UBIQUITIN.length + 1);
  }, 60_000);

  it('equal α steps miss the first LayerNorm\'s switch near the baseline (why the points crowd there)', async () => {
    const equal = await integratedGradients(model, UBIQUITIN, { steps: 50, spacing: 1 });
    const crowded = await integratedGradients(model, UBIQUITIN, { steps: 50 });
    expect(equal.completeness).toBeGreaterThan(0.1);
    expect(crowded.completeness).toBeLessThan(0.01);
  }, 60_000);

  it('ESM-2 zeroes <mask> embeddings, so the <mask> and zero baselines give the same attributions', async () => {
    const masked = await integratedGradients(model, UBIQUITIN, { steps: 10, baseline: 'mask' });
    const zero = await integratedGradients(model, UBIQUITIN, { steps: 10, baseline: 'zero' });
    expect(Math.abs(masked.baselinePrediction - zero.baselinePrediction)).toBeLessThan(1e-6);
    for (let i = 0; i < masked.residues.length; i++) expect(Math.abs(masked.residues[i]! - zero.residues[i]!)).toBeLessThan(1e-6);
  }, 60_000);

  it('explains a class probability of a classification head, by default the predicted class', async () => {
    // A 3-class linear head with fixed pseudo-random weights on the same merged model, mild enough
    // that no class's probability is ~0 at both ends (then f(x) − f(x′) is ~1e-6 and a relative check means nothing).
    let state = 99;
    const random = (n: number, scale: number) => Float32Array.from({ length: n }, () => (((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1) * scale);
    const headWeights = new Map([['head.weight', random(3 * 64, 0.3)], ['head.bias', random(3, 0.1)]]);
    const classifier = await AttributionModel.open({ modelDir: mergedDir, head: { kind: 'linear', pool: 'mean' }, task: { kind: 'classification', classes: 3 }, headWeights });
    try {
      const { prediction } = await classifier.embed(classifier.tokenizer.encode(UBIQUITIN));
      expect(prediction.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5); // probabilities
      const best = prediction.indexOf(Math.max(...prediction));
      const byDefault = await integratedGradients(classifier, UBIQUITIN);
      expect(byDefault.target).toBe(best);
      expect(byDefault.prediction).toBeCloseTo(prediction[best]!, 5);
      for (const target of [0, 1, 2]) {
        const result = await integratedGradients(classifier, UBIQUITIN, { target });
        expect(result.prediction).toBeCloseTo(prediction[target]!, 5);
        expect(Math.abs(result.prediction - result.baselinePrediction)).toBeGreaterThan(1e-3);
        expect(result.completeness).toBeLessThan(0.01);
      }
      await expect(integratedGradients(classifier, UBIQUITIN, { target: 3 })).rejects.toThrow('The explained output must be 0 to 2, got 3.');
    } finally {
      await classifier.release();
    }
  }, 60_000);

  it('works on an fp16 model (embeddings fed as float32, cast inside the graph), close to fp32', async () => {
    const root = mkdtempSync(join(tmpdir(), 'attributions-fp16-'));
    await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), join(root, 'base'), { appVersion: 'test', precision: 'fp16' });
    const init = (prefix: string) => new Map([...ref].filter(([name]) => name.startsWith(`init.${prefix}`)).map(([name, data]) => [name.slice('init.'.length), data]));
    const head = { spec: { kind: 'linear' as const, pool: 'mean' as const }, task: { kind: 'regression' as const, outputs: 1 }, weights: init('head.') };
    await writeMergedModel(join(root, 'base'), join(root, 'merged'), { lora: LORA, adapters: init('esm.'), head });
    const half = await AttributionModel.open({ modelDir: join(root, 'merged'), head: head.spec, task: head.task, headWeights: head.weights });
    try {
      const result = await integratedGradients(half, UBIQUITIN);
      const full = await integratedGradients(model, UBIQUITIN);
      expect(Math.abs(result.prediction - full.prediction)).toBeLessThan(5e-3);
      expect(result.completeness).toBeLessThan(0.01);
      const scale = Math.max(...full.residues.map(Math.abs));
      for (let i = 0; i < full.residues.length; i++) expect(Math.abs(result.residues[i]! - full.residues[i]!)).toBeLessThan(1e-2 * scale);
    } finally {
      await half.release();
    }
  }, 60_000);

  it('the gradient at an interpolation point matches a central finite difference of the forward pass', async () => {
    const ids = model.tokenizer.encode(UBIQUITIN);
    const { embeddings: x } = await model.embed(ids);
    const hidden = model.manifest.config.hiddenSize;
    // Halfway between the zero baseline (residue rows) and the input.
    const point = Float32Array.from(x, (v, j) => (j < hidden || j >= (ids.length - 1) * hidden ? v : 0.5 * v));
    const { gradients } = await model.evaluate(ids, point, 0);
    // Two directions: along the path, and a fixed pseudo-random one over every entry.
    let state = 12345;
    // Entries in ±0.1: the embeddings are of size ~0.1–1, so a step of 1e-2 stays where f is nearly linear.
    const random = Float32Array.from(x, () => (((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1) * 0.1);
    const along = Float32Array.from(x, (v, j) => (j < hidden || j >= (ids.length - 1) * hidden ? 0 : v));
    for (const direction of [along, random]) {
      const eps = 1e-2;
      const shifted = new Float32Array(2 * point.length);
      for (let j = 0; j < point.length; j++) {
        shifted[j] = point[j]! + eps * direction[j]!;
        shifted[point.length + j] = point[j]! - eps * direction[j]!;
      }
      const { predictions } = await model.evaluate(ids, shifted, 0);
      const finite = (predictions[0]! - predictions[1]!) / (2 * eps);
      const analytic = dot(gradients, direction);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
      expect(Math.abs(finite - analytic)).toBeLessThan(1e-3 * Math.abs(analytic) + 1e-5);
    }
  }, 60_000);
});
