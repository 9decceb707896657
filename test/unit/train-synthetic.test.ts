/**
 * Fine-tuning end to end on a task with a known answer: the random esm2_t6_8M-shaped checkpoint
 * (test/fixtures/golden/esm2-8M-random) is converted, then `runFinetune` — the code path of the
 * app's job and of `esm-studio finetune` — trains LoRA (r 8 on query and value) and a linear
 * mean-pool head on 160 seeded random proteins whose target is their share of hydrophobic
 * residues (AILMFVW), standardised. The validation loss must fall epoch after epoch to far below
 * both where it started and the loss of always predicting the training mean (computed here from
 * the run's split.json), and the merged model's predictions must rank the validation proteins
 * as their targets do.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinetuneSettings } from '../../src-main/api/schemas';
import { convertCheckpoint } from '../../src-main/models/installed';
import { runFinetune, type FinetuneSummary } from '../../src-main/train/finetune';
import { predictFinetuned } from '../../src-main/train/predict';
import { GOLDEN } from '../support/golden';

const CHECKPOINT = join(GOLDEN, 'esm2-8M-random', 'checkpoint');
const EPOCHS = 6;
const HYDROPHOBIC = 'AILMFVW';

/** 160 proteins of 20–40 residues from a seeded generator; y = hydrophobic share, standardised. */
function syntheticTable(count: number, seed: number): { ids: string[]; sequences: string[]; y: number[] } {
  let state = seed;
  const random = (): number => (state = (state * 48271) % 2147483647) / 2147483647;
  const letters = 'ACDEFGHIKLMNPQRSTVWY';
  const ids: string[] = [];
  const sequences: string[] = [];
  const share: number[] = [];
  for (let i = 0; i < count; i++) {
    const length = 20 + Math.floor(random() * 21);
    const sequence = Array.from({ length }, () => letters[Math.floor(random() * letters.length)]!).join('');
    ids.push(`p${i}`);
    sequences.push(sequence);
    share.push([...sequence].filter((c) => HYDROPHOBIC.includes(c)).length / length);
  }
  const mean = share.reduce((s, v) => s + v, 0) / count;
  const sd = Math.sqrt(share.reduce((s, v) => s + (v - mean) ** 2, 0) / count);
  return { ids, sequences, y: share.map((v) => (v - mean) / sd) };
}

/** Ranks from 1, ties sharing their mean rank. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    for (let k = start; k <= end; k++) out[order[k]!.i] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return out;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((v, i) => {
    ab += (v - ma) * (b[i]! - mb);
    aa += (v - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  });
  return ab / Math.sqrt(aa * bb);
}

const spearman = (a: readonly number[], b: readonly number[]): number => pearson(ranks(a), ranks(b));
const mse = (predicted: readonly number[], target: readonly number[]): number => predicted.reduce((s, p, i) => s + (p - target[i]!) ** 2, 0) / predicted.length;

const data = syntheticTable(160, 7);
let home: string;
let outDir: string;
let summary: FinetuneSummary;
/** Validation loss after each epoch, from training.json's history. */
let valLosses: number[];
/** MSE on the validation set of always predicting the training targets' mean. */
let baseline: number;
let validationTargets: number[];
let validationPredictions: number[];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'esm-train-synthetic-'));
  const modelDir = join(home, 'model');
  await convertCheckpoint(CHECKPOINT, modelDir, { appVersion: 'test' });
  outDir = join(home, 'run');
  const settings = FinetuneSettings.parse({
    task: 'regression',
    loraR: 8,
    loraAlpha: 16,
    loraDropout: 0,
    loraTargets: ['query', 'value'],
    head: 'linear',
    pool: 'mean',
    epochs: EPOCHS,
    // 7e-4 with batches of ~600 tokens descends over all six epochs instead of in the first one.
    lr: 7e-4,
    optimizer: 'adamw',
    weightDecay: 0,
    schedule: 'constant',
    batchTokens: 600,
    valFraction: 0.25,
    seed: 42,
    threads: 2,
  });
  summary = await runFinetune({ modelDir, outDir, table: { ids: data.ids, sequences: data.sequences, columns: [{ name: 'y', values: data.y }] }, settings });

  const training = JSON.parse(readFileSync(join(outDir, 'training.json'), 'utf8')) as { history: { epoch: number; valLoss: number | null }[] };
  valLosses = training.history.map((h) => h.valLoss ?? NaN);
  const split = JSON.parse(readFileSync(join(outDir, 'split.json'), 'utf8')) as { train: string[]; validation: string[] };
  const row = new Map(data.ids.map((id, i) => [id, i]));
  const trainTargets = split.train.map((id) => data.y[row.get(id)!]!);
  validationTargets = split.validation.map((id) => data.y[row.get(id)!]!);
  const trainMean = trainTargets.reduce((s, v) => s + v, 0) / trainTargets.length;
  baseline = mse(validationTargets.map(() => trainMean), validationTargets);

  const predictions = await predictFinetuned(outDir, split.validation.map((id) => data.sequences[row.get(id)!]!), { threads: 2 });
  expect(predictions.columns).toEqual(['predicted_y']);
  validationPredictions = predictions.rows.map((cells) => Number(cells[0]));
  console.log('val loss by epoch', valLosses.map((v) => v.toFixed(4)).join(' '), '| predict-the-mean', baseline.toFixed(4), '| Spearman', spearman(validationPredictions, validationTargets).toFixed(4));
}, 180_000); // ~10 s on an idle 2-core machine; room for a loaded one

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('fine-tuning the 8M-shaped random model on a synthetic regression task', () => {
  it('trains every epoch on the 120/40 split of the 160 proteins', () => {
    expect(summary.examples).toBe(160);
    expect(summary.trainExamples).toBe(120);
    expect(summary.validationExamples).toBe(40);
    expect(summary.epochsCompleted).toBe(EPOCHS);
    expect(summary.stoppedEarly).toBe(false);
    expect(valLosses).toHaveLength(EPOCHS);
    for (const loss of valLosses) expect(Number.isFinite(loss)).toBe(true);
    // metrics.csv carries the same per-epoch validation losses as training.json.
    const rows = parse(readFileSync(join(outDir, 'metrics.csv'), 'utf8'), { columns: true }) as { step: string; name: string; value: string }[];
    const fromCsv = rows.filter((r) => r.name === 'val_loss').sort((a, b) => Number(a.step) - Number(b.step)).map((r) => Number(r.value));
    expect(fromCsv).toHaveLength(EPOCHS);
    fromCsv.forEach((v, k) => expect(v).toBeCloseTo(valLosses[k]!, 6));
  });

  it('lowers the validation loss steadily, epoch after epoch', () => {
    // "Steadily": the loss falls in at least 4 of the 5 epoch-to-epoch steps, and no step gives back
    // more than 5 % of the predict-the-mean loss. Near its floor the loss of 40 validation proteins
    // jitters by a few hundredths, so a bar relative to the previous epoch would fail on noise;
    // one tied to the task's scale does not. This run falls at every epoch (the smallest drop is
    // 13 %). Of 16 runs with other training seeds (1–12) and data seeds (3, 11, 19), 15 met this
    // bar (worst rise 0.037 where the bar allowed 0.051); the one that did not rose twice by 0.08.
    const changes = valLosses.slice(1).map((v, k) => v - valLosses[k]!);
    expect(changes.filter((d) => d < 0).length, `val losses ${valLosses.join(', ')}`).toBeGreaterThanOrEqual(EPOCHS - 2);
    for (const d of changes) expect(d, `val losses ${valLosses.join(', ')}`).toBeLessThanOrEqual(0.05 * baseline);
  });

  it('ends far below the first epoch and below predicting the training mean', () => {
    // Over the 15 runs above that fell steadily: last / first ≤ 0.19 and last / predict-the-mean
    // ≤ 0.19 (this run: 0.105 and 0.074).
    const last = valLosses.at(-1)!;
    expect(baseline).toBeGreaterThan(0.5); // standardised targets: the no-skill loss is ~1
    expect(last).toBeLessThan(0.3 * valLosses[0]!);
    expect(last).toBeLessThan(0.3 * baseline);
    expect(summary.finalValLoss).toBeCloseTo(last, 10);
  });

  it("the merged model's predictions rank the validation proteins by their targets", () => {
    // Spearman over the 16 runs: 0.89–0.97 (this run: 0.96).
    expect(validationPredictions).toHaveLength(40);
    expect(spearman(validationPredictions, validationTargets)).toBeGreaterThan(0.8);
    // The merged model (adapters folded into the weights, head baked in) scores what training's
    // evaluation scored for the saved (best) epoch.
    expect(summary.bestMetric).not.toBeNull();
    const merged = mse(validationPredictions, validationTargets);
    expect(Math.abs(merged - summary.bestMetric!) / summary.bestMetric!).toBeLessThan(1e-3);
  });

  it('names the best epoch as the user counts epochs (from 1, as the progress bar and the curves do)', () => {
    const rows = parse(readFileSync(join(outDir, 'metrics.csv'), 'utf8'), { columns: true }) as { step: string; name: string; value: string }[];
    const epochAt = new Map(rows.filter((r) => r.name === 'epoch').map((r) => [r.step, Number(r.value)]));
    const scored = rows.filter((r) => r.name === `val_${summary.metric}`).map((r) => ({ epoch: epochAt.get(r.step)!, value: Number(r.value) }));
    expect(scored.map((r) => r.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, k) => k + 1));
    const best = scored.reduce((a, b) => (Math.abs(b.value - summary.bestMetric!) < Math.abs(a.value - summary.bestMetric!) ? b : a));
    expect(summary.bestEpoch).toBe(best.epoch);
  });
});
