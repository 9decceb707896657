/**
 * Balanced class weights (train/class-weights) and their way into a run: the weights counted on
 * the training examples only, and a run's first loss equal to the class-weighted cross-entropy
 * computed here by hand from its stored vectors and saved head (a head-only run whose single SGD
 * step is too small to move float32 values, so the saved head is the one the loss was taken with).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { FinetuneSettings } from '../../src-main/api/schemas';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint } from '../../src-main/models/installed';
import { weightedTask } from '../../src-main/train/class-weights';
import { runFinetune } from '../../src-main/train/finetune';
import { EMBEDDINGS_FILE } from '../../src-main/train/head-only';
import { loadGolden } from '../support/golden';

describe('balanced class weights', () => {
  it('are n / (k · n_class) over the training members only; an absent class gets 1', () => {
    const targets = { kind: 'classification' as const, labels: Int32Array.from([0, 0, 0, 1, 1, 2]), classes: ['a', 'b', 'c'] };
    const task = { kind: 'classification' as const, classes: 3 };
    // Members 0–3: three of class 0, one of class 1, none of class 2 (example 4 and 5 are validation).
    expect(weightedTask(task, targets, [0, 1, 2, 3], 'balanced')).toEqual({ ...task, classWeights: [4 / (2 * 3), 4 / (2 * 1), 1] });
    expect(weightedTask(task, targets, [0, 1, 2, 3], 'none')).toBe(task);
  });

  it('count labelled residues for the token task, and give pos_weight = negatives / positives for multi-label', () => {
    const token = { kind: 'token' as const, labels: [Int32Array.from([0, 0, -1, 1]), Int32Array.from([0, 1, 1, 1])], classes: ['H', 'E'] };
    expect(weightedTask({ kind: 'token', classes: 2 }, token, [0, 1], 'balanced')).toEqual({ kind: 'token', classes: 2, classWeights: [7 / (2 * 3), 7 / (2 * 4)] });
    // 4 examples × 2 labels: label 0 positive once, label 1 positive three times.
    const multi = { kind: 'multilabel' as const, values: Float32Array.from([1, 1, 0, 1, 0, 1, 0, 0]), labels: ['x', 'y'] };
    expect(weightedTask({ kind: 'multilabel', labels: 2 }, multi, [0, 1, 2, 3], 'balanced')).toEqual({ kind: 'multilabel', labels: 2, posWeight: [3, 1 / 3] });
  });

  let modelDir: string;
  beforeAll(async () => {
    modelDir = join(mkdtempSync(join(tmpdir(), 'esm-class-weights-')), 'model');
    await convertCheckpoint(loadGolden('tiny').checkpoint, modelDir, { appVersion: 'test' });
  }, 60_000);

  it('weigh a run’s loss: its first loss is the weighted cross-entropy of its stored vectors and head', async () => {
    // 30 proteins, 25 of class "common" and 5 of class "rare".
    const sequences = Array.from({ length: 30 }, (_, i) => 'ACDEFGHIKLMNPQRSTVWY'.repeat(2).slice(i % 17, (i % 17) + 12 + (i % 5)));
    const labels = sequences.map((_, i) => (i % 6 === 0 ? 'rare' : 'common'));
    const table = { ids: sequences.map((_, i) => `s${i}`), sequences, columns: [{ name: 'kind', values: labels }] };
    const settings = FinetuneSettings.parse({
      task: 'classification', headOnly: true, classWeight: 'balanced', optimizer: 'sgd', momentum: 0, lr: 1e-30, weightDecay: 0,
      maxSteps: 1, epochs: 1, batchTokens: 100_000, shuffle: false, valFraction: 0.2, seed: 3,
    });
    const outDir = join(mkdtempSync(join(tmpdir(), 'esm-class-weights-run-')), 'run');
    await runFinetune({ modelDir, outDir, table, settings });

    const split = JSON.parse(readFileSync(join(outDir, 'split.json'), 'utf8')) as { train: string[] };
    const labelOf = new Map(table.ids.map((id, i) => [id, labels[i]!]));
    const classes = ['common', 'rare']; // sorted by name
    const counts = classes.map((c) => split.train.filter((id) => labelOf.get(id) === c).length);
    const weights = counts.map((n) => split.train.length / (2 * n));
    const config = JSON.parse(readFileSync(join(outDir, 'head_config.json'), 'utf8')) as { task: { classWeights: number[] } };
    expect(config.task.classWeights).toEqual(weights);

    // By hand: logits = x Wᵀ + b on the stored vectors; loss = Σ w_y · nll / Σ w_y over the training examples.
    const head = openSafetensors(join(outDir, 'head.safetensors'));
    const weight = readFloat32(head.get('head.weight')!);
    const bias = readFloat32(head.get('head.bias')!);
    const bytes = readFileSync(join(outDir, EMBEDDINGS_FILE));
    const stored = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const dim = weight.length / 2;
    let weighted = 0;
    let total = 0;
    for (const id of split.train) {
      const row = table.ids.indexOf(id); // no row was skipped: example i is table row i
      const x = stored.subarray(row * dim, (row + 1) * dim);
      const logits = [0, 1].map((c) => x.reduce((sum, v, k) => sum + v * weight[c * dim + k]!, bias[c]!));
      const top = Math.max(...logits);
      const logSum = top + Math.log(logits.reduce((sum, l) => sum + Math.exp(l - top), 0));
      const y = classes.indexOf(labelOf.get(id)!);
      weighted += weights[y]! * (logSum - logits[y]!);
      total += weights[y]!;
    }
    const metrics = parse(readFileSync(join(outDir, 'metrics.csv'), 'utf8'), { columns: true }) as { step: string; name: string; value: string }[];
    const loss = Number(metrics.find((m) => m.name === 'train_loss' && m.step === '1')!.value);
    expect(Math.abs(loss - weighted / total) / (weighted / total)).toBeLessThan(1e-5);
  }, 60_000);
});
