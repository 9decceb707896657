/**
 * Prompt tuning and bottleneck adapters through `runFinetune` (the app's and the CLI's code path)
 * on the tiny golden ESM C, on a synthetic regression task with a known answer (the standardised
 * share of hydrophobic residues): the validation loss falls; the folder holds PEFT's prompt-tuning
 * files (PROMPT_TUNING, `prompt_embeddings`) or the documented BOTTLENECK layout; the saved run
 * predicts what training scored (its prediction.onnx carries the prompt or adapters over the
 * unchanged weights); the small files alone, re-merged or imported onto the model, predict the same;
 * a wrong folder is refused with the file and tensor named; and a run continues from its own
 * adapter folder. Merging a prompt into weights is refused with a reason; a checkpoint saved before
 * `peft` existed resumes as the LoRA run it was.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinetuneSettings } from '../../src-main/api/schemas';
import { openSafetensors } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint, readManifest } from '../../src-main/models/installed';
import { runFinetune, type FinetuneSummary } from '../../src-main/train/finetune';
import { importFinetuned } from '../../src-main/train/import';
import { checkImportable } from '../../src-main/train/importable';
import { writeMergedModel } from '../../src-main/train/merge';
import { predictFinetuned } from '../../src-main/train/predict';
import { checkResumable, runIdentity } from '../../src-main/train/resume-settings';
import { GOLDEN } from '../support/golden';

const CHECKPOINT = join(GOLDEN, 'esmc-tiny', 'checkpoint', 'esm', 'model.safetensors');
const EPOCHS = 5;
const HYDROPHOBIC = 'AILMFVW';

function syntheticTable(count: number, seed: number): { ids: string[]; sequences: string[]; y: number[] } {
  let state = seed;
  const random = (): number => (state = (state * 48271) % 2147483647) / 2147483647;
  const letters = 'ACDEFGHIKLMNPQRSTVWY';
  const sequences = Array.from({ length: count }, () => Array.from({ length: 20 + Math.floor(random() * 21) }, () => letters[Math.floor(random() * letters.length)]!).join(''));
  const share = sequences.map((s) => [...s].filter((c) => HYDROPHOBIC.includes(c)).length / s.length);
  const mean = share.reduce((s, v) => s + v, 0) / count;
  const sd = Math.sqrt(share.reduce((s, v) => s + (v - mean) ** 2, 0) / count);
  return { ids: sequences.map((_, i) => `p${i}`), sequences, y: share.map((v) => (v - mean) / sd) };
}

const mse = (predicted: readonly number[], target: readonly number[]): number => predicted.reduce((s, p, i) => s + (p - target[i]!) ** 2, 0) / predicted.length;
const data = syntheticTable(120, 11);
const table = { ids: data.ids, sequences: data.sequences, columns: [{ name: 'y', values: data.y }] };
const row = new Map(data.ids.map((id, i) => [id, i]));
let home: string;
let modelDir: string;

interface Run {
  outDir: string;
  summary: FinetuneSummary;
  valLosses: number[];
  validation: string[];
}

function settingsWith(peft: Record<string, unknown>, extra: Record<string, unknown> = {}): FinetuneSettings {
  return FinetuneSettings.parse({ task: 'regression', epochs: EPOCHS, lr: 1e-2, weightDecay: 0, batchTokens: 600, valFraction: 0.25, seed: 42, threads: 2, peft, ...extra });
}

async function finetune(name: string, peft: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Run> {
  const outDir = join(home, name);
  const summary = await runFinetune({ modelDir, outDir, table, settings: settingsWith(peft, extra) });
  const training = JSON.parse(readFileSync(join(outDir, 'training.json'), 'utf8')) as { history: { valLoss: number | null }[] };
  const split = JSON.parse(readFileSync(join(outDir, 'split.json'), 'utf8')) as { validation: string[] };
  return { outDir, summary, valLosses: training.history.map((h) => h.valLoss ?? NaN), validation: split.validation };
}

const sequencesOf = (ids: readonly string[]): string[] => ids.map((id) => data.sequences[row.get(id)!]!);
const targetsOf = (ids: readonly string[]): number[] => ids.map((id) => data.y[row.get(id)!]!);

let prompt: Run;
let adapter: Run;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'peft-finetune-'));
  modelDir = join(home, 'model');
  await convertCheckpoint(CHECKPOINT, modelDir, { appVersion: 'test' });
  prompt = await finetune('prompt', { method: 'prompt', prompt: { length: 4, layers: 'all' } });
  adapter = await finetune('adapter', { method: 'adapter', adapter: { size: 8, layers: 'all' } });
  console.log('ESM C val loss by epoch: prompt', prompt.valLosses.map((v) => v.toFixed(4)).join(' '), '| adapters', adapter.valLosses.map((v) => v.toFixed(4)).join(' '));
}, 300_000);

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('prompt tuning and bottleneck adapters through runFinetune', () => {
  it('both lower the validation loss', () => {
    for (const run of [prompt, adapter]) {
      expect(run.summary.epochsCompleted).toBe(EPOCHS);
      expect(run.valLosses.at(-1)!, `val losses ${run.valLosses.join(', ')}`).toBeLessThan(0.8 * run.valLosses[0]!);
    }
    expect(prompt.summary.peft).toBe('prompt');
    expect(adapter.summary.peft).toBe('adapter');
  });

  it("saves PEFT's prompt-tuning files and the documented adapter layout", () => {
    const { config } = readManifest(modelDir);
    const promptConfig = JSON.parse(readFileSync(join(prompt.outDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(promptConfig).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4, token_dim: config.hiddenSize, num_layers: config.numLayers, num_transformer_submodules: 1, esm_studio_prompt_layers: 'all' });
    const promptTensors = openSafetensors(join(prompt.outDir, 'adapter_model.safetensors'));
    expect([...promptTensors.keys()]).toEqual(['prompt_embeddings']);
    expect(promptTensors.get('prompt_embeddings')!.shape).toEqual([4 * config.numLayers, config.hiddenSize]);

    const adapterConfig = JSON.parse(readFileSync(join(adapter.outDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(adapterConfig).toMatchObject({ peft_type: 'BOTTLENECK', bottleneck_size: 8, non_linearity: 'gelu', layers_to_transform: [0, 1], target_modules: ['attn.out_proj', 'ffn.3'] });
    const names = [...openSafetensors(join(adapter.outDir, 'adapter_model.safetensors')).keys()];
    expect(names).toHaveLength(config.numLayers * 2 * 4);
    expect(names).toContain('base_model.model.transformer.blocks.1.ffn.3.adapter.up.weight');
    const headConfig = JSON.parse(readFileSync(join(adapter.outDir, 'head_config.json'), 'utf8')) as Record<string, unknown>;
    expect(headConfig).toMatchObject({ mode: 'lora', peft: 'adapter' });
  });

  it('the saved runs predict what training scored for the kept epoch', async () => {
    for (const run of [prompt, adapter]) {
      const predictions = await predictFinetuned(run.outDir, sequencesOf(run.validation), { threads: 2 });
      const scored = mse(predictions.rows.map((cells) => Number(cells[0])), targetsOf(run.validation));
      expect(Math.abs(scored - run.summary.bestMetric!) / run.summary.bestMetric!, run.summary.peft!).toBeLessThan(1e-3);
    }
  });

  it('the small files alone, merged again or imported onto the model, predict the same', { timeout: 120_000 }, async () => {
    const sequences = data.sequences.slice(0, 10);
    for (const run of [prompt, adapter]) {
      const expected = (await predictFinetuned(run.outDir, sequences)).rows;
      const shared = join(home, `${run.summary.peft}-shared`);
      mkdirSync(shared);
      for (const file of ['adapter_model.safetensors', 'adapter_config.json', 'head.safetensors', 'head_config.json']) copyFileSync(join(run.outDir, file), join(shared, file));
      await expect(predictFinetuned(shared, sequences)).rejects.toThrow(/give the base model it was trained on/);
      expect((await predictFinetuned(shared, sequences, { baseModelDir: modelDir })).rows).toEqual(expected);
      const imported = join(home, `${run.summary.peft}-imported`);
      expect(await importFinetuned(shared, imported, modelDir)).toMatchObject({ mode: 'lora', task: 'regression' });
      expect((await predictFinetuned(imported, sequences)).rows).toEqual(expected);
    }
  });

  it('refuses a prompt folder whose tensors do not fit, naming the file and tensor', () => {
    const broken = join(home, 'prompt-broken');
    mkdirSync(broken);
    for (const file of ['adapter_model.safetensors', 'head.safetensors', 'head_config.json']) copyFileSync(join(prompt.outDir, file), join(broken, file));
    const config = JSON.parse(readFileSync(join(prompt.outDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(broken, 'adapter_config.json'), JSON.stringify({ ...config, num_virtual_tokens: 5 }));
    expect(() => checkImportable(broken, modelDir)).toThrow(/adapter_model\.safetensors: tensor "prompt_embeddings": expected shape \[10, 64\], found \[8, 64\]/);
    writeFileSync(join(broken, 'adapter_config.json'), JSON.stringify({ ...config, token_dim: 320 }));
    expect(() => checkImportable(broken, modelDir)).toThrow(/adapter_config\.json: token_dim 320 does not match this model's hidden size 64/);
  });

  it('continues training from its own adapter folder, and refuses a folder of another method', async () => {
    const continued = await runFinetune({ modelDir, outDir: join(home, 'adapter-continued'), table, settings: settingsWith({ method: 'adapter', adapter: { size: 8, layers: 'all' } }, { epochs: 1 }), initAdapterDir: adapter.outDir });
    expect(continued.finalValLoss!).toBeLessThan(adapter.valLosses[0]!);
    await expect(runFinetune({ modelDir, outDir: join(home, 'wrong-method'), table, settings: settingsWith({ method: 'lora' }, { epochs: 1, loraTargets: ['qkv'] }), initAdapterDir: prompt.outDir })).rejects.toThrow(
      /holds prompt tuning, but this run trains LoRA; choose that method to continue training it/,
    );
  }, 120_000);

  it('refuses to fold a prompt into the weights without a head to carry it', async () => {
    await expect(writeMergedModel(modelDir, join(home, 'merged-prompt'), { lora: null, carried: { prompt: { length: 4, layers: 'all' }, adapter: null }, adapters: new Map() })).rejects.toThrow(
      /A soft prompt cannot be merged into the model's weights: only the prediction model \(with the head it was trained with\) can carry it/,
    );
  });

  it('a checkpoint saved before the PEFT choice existed resumes as the LoRA run it was', () => {
    const now = settingsWith({ method: 'lora' });
    const { peft: _, ...older } = now;
    void _;
    const identity = runIdentity(now, table);
    const checkpoint = { params: new Map(), optimizer: {} as never, position: {} as never, extra: { run: { ...identity, settings: older } } };
    expect(checkResumable(checkpoint, identity)).toEqual([]);
    expect(() => checkResumable(checkpoint, runIdentity(settingsWith({ method: 'prompt' }), table))).toThrow(/peft/);
  });
});
