/**
 * Head-only fine-tuning (train/head-only, through runFinetune and predictFinetuned): the stored
 * vectors are the reference implementation's final-layer mean and <cls> embeddings
 * (test/fixtures/golden/tiny); head.onnx gives what the head's own arithmetic gives on them; a
 * head trained on a target that depends on sequence content learns it; no adapter or merged model
 * is written; its three files imported elsewhere predict the same; a stopped run continues from
 * its checkpoint without pooling again, to the same head.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FinetuneSettings } from '../../src-main/api/schemas';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint } from '../../src-main/models/installed';
import { encode } from '../../src-main/models/esm2/tokenizer';
import { runFinetune, type FinetuneSummary } from '../../src-main/train/finetune';
import type { FinetuneTable } from '../../src-main/train/finetune-data';
import { HEAD_GRAPH_FILE } from '../../src-main/train/head-config';
import { EMBEDDINGS_FILE, poolSequences } from '../../src-main/train/head-only';
import { importFinetuned } from '../../src-main/train/import';
import { checkImportable } from '../../src-main/train/importable';
import { predictFinetuned } from '../../src-main/train/predict';
import { block, loadGolden, maxAbsDiff, seqKey } from '../support/golden';

const golden = loadGolden('tiny');
const AMINO = 'ACDEFGHIKLMNPQRSTVWY';
const HYDROPHOBIC = new Set('AILMFVW');

let modelDir: string;
let table: FinetuneTable;

/** A seeded generator of protein sequences (a linear congruential one: reproducible, no library needed). */
function randomSequences(count: number, seed: number): string[] {
  let state = seed >>> 0;
  const next = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => {
    const length = 20 + Math.floor(next() * 21);
    // A per-sequence bias towards hydrophobic residues, so the target spreads widely.
    const bias = next();
    return Array.from({ length }, () => {
      const alphabet = next() < bias * 0.6 ? 'AILMFVW' : AMINO;
      return alphabet[Math.floor(next() * alphabet.length)]!;
    }).join('');
  });
}

const hydrophobicFraction = (sequence: string): number => [...sequence].filter((c) => HYDROPHOBIC.has(c)).length / sequence.length;

function settings(overrides: Partial<FinetuneSettings> = {}): FinetuneSettings {
  return FinetuneSettings.parse({ task: 'regression', headOnly: true, epochs: 30, lr: 0.02, weightDecay: 0, batchTokens: 400, valFraction: 0.25, seed: 5, shuffle: true, ...overrides });
}

beforeAll(async () => {
  modelDir = join(mkdtempSync(join(tmpdir(), 'esm-head-only-')), 'model');
  await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
  const sequences = randomSequences(160, 17);
  const fractions = sequences.map(hydrophobicFraction);
  const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
  const sd = Math.sqrt(fractions.reduce((a, b) => a + (b - mean) ** 2, 0) / fractions.length);
  table = {
    ids: sequences.map((_, i) => `p${i}`),
    sequences,
    columns: [{ name: 'hydrophobic', values: fractions.map((f) => (f - mean) / sd) }],
  };
}, 60_000);

describe('head-only fine-tuning', () => {
  it('stores the final layer’s mean and <cls> vectors of the reference implementation', async () => {
    const picked = golden.sequences.slice(0, 4);
    const tokens = picked.map((s) => encode(s.sequence));
    const layers = golden.array(seqKey(0, 'mean_embedding')).shape[0]!;
    for (const pool of ['mean', 'bos'] as const) {
      const pooled = await poolSequences(modelDir, tokens, { kind: 'linear', pool }, { kind: 'regression', outputs: 1 }, { batchTokens: 200 });
      picked.forEach((s, row) => {
        const reference = golden.array(seqKey(s.index, pool === 'mean' ? 'mean_embedding' : 'bos_embedding'));
        const expected = block(reference.data, pooled.dim, layers - 1, layers, 0, pooled.dim);
        const actual = pooled.data.subarray(row * pooled.dim, (row + 1) * pooled.dim);
        expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-4);
      });
    }
  });

  let outDir: string;
  let summary: FinetuneSummary;

  it('learns a target that depends on sequence content, writing the head and no adapter or merged model', async () => {
    outDir = join(mkdtempSync(join(tmpdir(), 'esm-head-only-run-')), 'run');
    summary = await runFinetune({ modelDir, outDir, table, settings: settings() });
    expect(summary.mode).toBe('head-only');
    expect(summary.files).toMatchObject({ adapter: null, merged: null, headGraph: HEAD_GRAPH_FILE });
    for (const file of ['head.safetensors', 'head_config.json', HEAD_GRAPH_FILE, EMBEDDINGS_FILE, 'metrics.csv']) expect(existsSync(join(outDir, file))).toBe(true);
    expect(existsSync(join(outDir, 'adapter_model.safetensors'))).toBe(false);
    expect(existsSync(join(outDir, 'merged'))).toBe(false);

    // Independent baseline: the validation loss of predicting the training mean.
    const split = JSON.parse(readFileSync(join(outDir, 'split.json'), 'utf8')) as { train: string[]; validation: string[] };
    const target = new Map(table.ids.map((id, i) => [id, table.columns[0]!.values[i] as number]));
    const trainMean = split.train.reduce((a, id) => a + target.get(id)!, 0) / split.train.length;
    const baseline = split.validation.reduce((a, id) => a + (target.get(id)! - trainMean) ** 2, 0) / split.validation.length;
    const history = (JSON.parse(readFileSync(join(outDir, 'training.json'), 'utf8')) as { history: { valLoss: number }[] }).history;
    const first = history[0]!.valLoss;
    const best = Math.min(...history.map((h) => h.valLoss));
    expect(best).toBeLessThan(0.5 * first);
    expect(best).toBeLessThan(0.6 * baseline);
  }, 60_000);

  it('predicts with head.onnx what the saved head computes on the stored vectors', async () => {
    const head = openSafetensors(join(outDir, 'head.safetensors'));
    const weight = readFloat32(head.get('head.weight')!);
    const bias = readFloat32(head.get('head.bias')!)[0]!;
    const bytes = readFileSync(join(outDir, EMBEDDINGS_FILE));
    const stored = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const dim = weight.length;
    // The table's first rows are its first examples (no row was skipped), so stored row i is sequence i.
    const count = 12;
    const expected = Array.from({ length: count }, (_, i) => stored.subarray(i * dim, (i + 1) * dim).reduce((sum, x, k) => sum + x * weight[k]!, bias));
    const predictions = await predictFinetuned(outDir, table.sequences.slice(0, count));
    expect(predictions.columns).toEqual(['predicted_hydrophobic']);
    expect(maxAbsDiff(predictions.rows.map((cells) => Number(cells[0])), expected)).toBeLessThan(1e-4);
  });

  it('imports into another folder from its three files, predicts the same there, and refuses a model of another width', async () => {
    const source = join(mkdtempSync(join(tmpdir(), 'esm-head-only-shared-')), 'shared');
    mkdirSync(source);
    for (const file of ['head.safetensors', 'head_config.json', HEAD_GRAPH_FILE]) copyFileSync(join(outDir, file), join(source, file));
    const runDir = join(mkdtempSync(join(tmpdir(), 'esm-head-only-imported-')), 'run');
    const summary = await importFinetuned(source, runDir, modelDir);
    expect(summary).toMatchObject({ mode: 'head-only', task: 'regression', targets: ['hydrophobic'] });
    const sequences = table.sequences.slice(0, 8);
    expect((await predictFinetuned(runDir, sequences)).rows).toEqual((await predictFinetuned(outDir, sequences)).rows);

    const wide = join(mkdtempSync(join(tmpdir(), 'esm-head-only-8m-')), 'model');
    await convertCheckpoint(loadGolden('esm2-8M-random').checkpoint, wide, { appVersion: 'test' });
    expect(() => checkImportable(source, wide)).toThrow(/reads 64-wide vectors, but .* gives 320/);
    expect(() => checkImportable(join(source, 'missing'), modelDir)).toThrow(/There is no folder/);
  }, 60_000);

  it('continues a stopped run from its checkpoint without pooling again, to the same head', async () => {
    const short = settings({ epochs: 6 });
    const straight = join(mkdtempSync(join(tmpdir(), 'esm-head-only-a-')), 'run');
    await runFinetune({ modelDir, outDir: straight, table, settings: short });

    const stopped = join(mkdtempSync(join(tmpdir(), 'esm-head-only-b-')), 'run');
    const controller = new AbortController();
    await expect(
      runFinetune({ modelDir, outDir: stopped, table, settings: short, signal: controller.signal, checkpointEvery: 1, onStep: (step) => step === 9 && controller.abort() }),
    ).rejects.toThrow();
    const pooledAt = statSync(join(stopped, EMBEDDINGS_FILE)).mtimeMs;
    const resumed = await runFinetune({ modelDir, outDir: stopped, table, settings: short });
    expect(resumed.resumedFromStep).toBeGreaterThanOrEqual(9);
    expect(statSync(join(stopped, EMBEDDINGS_FILE)).mtimeMs).toBe(pooledAt);
    expect(readFileSync(join(stopped, 'head.safetensors')).equals(readFileSync(join(straight, 'head.safetensors')))).toBe(true);
  }, 60_000);

  it('refuses the per-residue task and a starting adapter, saying why', async () => {
    const tokenTable: FinetuneTable = { ids: ['a'], sequences: ['ACDE'], columns: [{ name: 'ss', values: ['HHEE'] }] };
    const outDir = join(mkdtempSync(join(tmpdir(), 'esm-head-only-no-')), 'run');
    await expect(runFinetune({ modelDir, outDir, table: tokenTable, settings: settings({ task: 'token', valFraction: 0 }) })).rejects.toThrow(/cannot label residues/);
    await expect(runFinetune({ modelDir, outDir, table, settings: settings(), initAdapterDir: outDir })).rejects.toThrow(/cannot start from an adapter/);
  });
});
