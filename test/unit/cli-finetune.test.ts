/**
 * `esm-studio finetune` and `esm-studio predict` against the PyTorch LoRA reference
 * (test/fixtures/golden/tiny-lora): starting from the reference's initial adapter and head, one
 * SGD step with lr 1 saves exactly init − grad; three AdamW steps follow the reference's losses
 * and end at its tensors; the merged model predicts the reference's `pred`. Then a run killed
 * with SIGKILL continues from its last checkpoint to the same adapter as an uninterrupted run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32, readTensorBytes } from '../../src-main/models/formats/safetensors';
import { tokenToResidue } from '../../src-main/models/esm2/tokenizer';
import { readPeftAdapter, writePeftAdapter } from '../../src-main/train/peft';
import { GOLDEN, maxAbsDiff } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const REF = join(GOLDEN, 'tiny-lora', 'lora_ref.safetensors');
const CHECKPOINT = join(GOLDEN, 'tiny', 'checkpoint');
const TOLERANCE = 1e-4;

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const ref = openSafetensors(REF);
const float = (name: string): Float32Array => {
  const entry = ref.get(name);
  if (!entry) throw new Error(`no reference array ${name}`);
  return Float32Array.from(readFloat32(entry));
};
const ints = (name: string): Int32Array => {
  const bytes = readTensorBytes(ref.get(name)!);
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const shape = (name: string): number[] => ref.get(name)!.shape;

/** max |Δ| / max |ref|. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  return maxAbsDiff(actual, expected) / (scale || 1);
}

const PARAMS = [...ref.keys()].filter((n) => n.startsWith('init.')).map((n) => n.slice('init.'.length));

let home: string;
let dataCsv: string;
let initDir: string;

/** The reference's 4 sequences (decoded from its padded tokens) and targets as a CSV. */
function writeReferenceData(file: string): void {
  const [B, T] = shape('tokens') as [number, number];
  const tokens = ints('tokens');
  const lengths = ints('lengths');
  const targets = float('targets');
  const lines = ['id,sequence,y'];
  for (let b = 0; b < B; b++) {
    const residues = Array.from(tokens.subarray(b * T + 1, b * T + 1 + lengths[b]!), tokenToResidue).join('');
    lines.push(`s${b},${residues},${targets[b]}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** The reference's initial tensors as a PEFT adapter folder (the --init-adapter of the runs). */
function writeInitAdapter(dir: string): void {
  const tensor = (name: string) => ({ shape: shape(`init.${name}`), data: float(`init.${name}`) });
  const lora = new Map(PARAMS.filter((n) => !n.startsWith('head.')).map((n) => [n, tensor(n)]));
  const head = new Map(PARAMS.filter((n) => n.startsWith('head.')).map((n) => [n, tensor(n)]));
  const settings = { baseModel: 'tiny', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['query', 'value'], layersToTransform: [0, 1], taskType: 'SEQ_CLS' };
  writePeftAdapter(dir, { settings, lora, head, headConfig: null });
}

/** Flags every golden run shares: the reference's batch of 4, in order, no dropout, no validation. */
const GOLDEN_FLAGS = () => [
  'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--task', 'regression',
  '--init-adapter', initDir, '--lora-dropout', '0', '--no-shuffle', '--val-fraction', '0', '--batch-tokens', '100000', '--weight-decay', '0',
];

/** Every trained tensor of an output folder: the adapter's LoRA matrices and the head. */
function trained(dir: string): Map<string, Float32Array> {
  const adapter = readPeftAdapter(dir);
  return new Map([...adapter.lora, ...adapter.head].map(([name, t]) => [name, t.data]));
}

beforeAll(() => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'esm-cli-finetune-'));
  dataCsv = join(home, 'data.csv');
  initDir = join(home, 'init-adapter');
  writeReferenceData(dataCsv);
  writeInitAdapter(initDir);
});

describe('esm-studio finetune against tiny-lora', () => {
  it('one SGD step with lr 1 saves init − grad, for every adapter matrix and the head', () => {
    const out = join(home, 'sgd');
    const run = cli(home, ...GOLDEN_FLAGS(), '--optimizer', 'sgd', '--momentum', '0', '--lr', '1', '--max-steps', '1', '--epochs', '1', '--out', out);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/Trained 1 steps \(4 training, 0 validation/);
    const got = trained(out);
    expect([...got.keys()].sort()).toEqual([...PARAMS].sort());
    const worst: Record<string, number> = {};
    for (const name of PARAMS) {
      const init = float(`init.${name}`);
      const grad = float(`grad.${name}`);
      const expected = init.map((v, i) => v - grad[i]!);
      worst[name] = relativeError(got.get(name)!, expected);
      // The step really moved the tensor (so the comparison is not init against init).
      expect(maxAbsDiff(got.get(name)!, init), name).toBeGreaterThan(0);
    }
    console.log('SGD step vs init − grad, relative error:', worst);
    for (const [name, error] of Object.entries(worst)) expect(error, name).toBeLessThanOrEqual(TOLERANCE);
    // The first step's loss is the reference loss at init.
    const metrics = parse(readFileSync(join(out, 'metrics.csv'), 'utf8'), { columns: true }) as { step: string; name: string; value: string }[];
    const loss = Number(metrics.find((m) => m.name === 'train_loss' && m.step === '1')!.value);
    expect(Math.abs(loss - float('loss')[0]!) / float('loss')[0]!).toBeLessThanOrEqual(TOLERANCE);
  });

  it('three AdamW steps follow the reference losses and end at its tensors', () => {
    const out = join(home, 'adamw');
    const run = cli(home, ...GOLDEN_FLAGS(), '--optimizer', 'adamw', '--lr', '0.001', '--max-steps', '3', '--epochs', '3', '--out', out);
    expect(run.code, run.err).toBe(0);
    const metrics = parse(readFileSync(join(out, 'metrics.csv'), 'utf8'), { columns: true }) as { step: string; name: string; value: string }[];
    const losses = [1, 2, 3].map((step) => Number(metrics.find((m) => m.name === 'train_loss' && m.step === String(step))!.value));
    const expected = Array.from(float('adam.losses')).slice(0, 3); // losses[k] is before step k + 1
    console.log('AdamW losses', losses, 'reference', expected);
    losses.forEach((loss, k) => expect(Math.abs(loss - expected[k]!) / expected[k]!, `step ${k + 1}`).toBeLessThanOrEqual(TOLERANCE));
    const got = trained(out);
    for (const name of PARAMS) expect(relativeError(got.get(name)!, float(`adam.final.${name}`)), name).toBeLessThanOrEqual(TOLERANCE);
  });

  it('the merged model predicts the reference predictions (adapter and head folded in)', () => {
    // A step too small to change float32 values keeps the reference's init: predictions must be `pred`.
    const out = join(home, 'unchanged');
    const run = cli(home, ...GOLDEN_FLAGS(), '--optimizer', 'sgd', '--momentum', '0', '--lr', '1e-30', '--max-steps', '1', '--epochs', '1', '--out', out);
    expect(run.code, run.err).toBe(0);
    const csv = join(home, 'pred.csv');
    const predicted = cli(home, 'predict', '--finetuned', out, '--data', dataCsv, '--out', csv);
    expect(predicted.code, predicted.err).toBe(0);
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['id', 'predicted_y']);
    expect(rows.map((r) => r.id)).toEqual(['s0', 's1', 's2', 's3']);
    const values = rows.map((r) => Number(r.predicted_y));
    expect(relativeError(values, float('pred'))).toBeLessThanOrEqual(TOLERANCE);
  });

  it('predicts with an adapter and head shared without merged/, building the merged model from --model', () => {
    const run = join(home, 'adamw'); // the previous test's output
    const shared = join(home, 'shared-adapter');
    mkdirSync(shared);
    for (const file of ['adapter_model.safetensors', 'adapter_config.json', 'head.safetensors', 'head_config.json']) copyFileSync(join(run, file), join(shared, file));
    const original = join(home, 'adamw-pred.csv');
    expect(cli(home, 'predict', '--finetuned', run, '--data', dataCsv, '--out', original).code).toBe(0);

    const refused = cli(home, 'predict', '--finetuned', shared, '--data', dataCsv, '--out', join(home, 'no.csv'));
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/has an adapter but no merged model.*--model/);
    expect(existsSync(join(home, 'no.csv'))).toBe(false);

    const csv = join(home, 'shared-pred.csv');
    const predicted = cli(home, 'predict', '--finetuned', shared, '--model', CHECKPOINT, '--data', dataCsv, '--out', csv);
    expect(predicted.code, predicted.err).toBe(0);
    expect(existsSync(join(shared, 'merged', 'prediction.onnx'))).toBe(true);
    const values = (file: string) => (parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[]).map((r) => Number(r.predicted_y));
    expect(maxAbsDiff(values(csv), values(original))).toBeLessThanOrEqual(1e-6);
  });

  it('refuses to continue an adapter of another model size, naming the tensor', () => {
    const other = join(home, 'wrong-size');
    mkdirSync(other);
    const settings = { baseModel: 'other', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['query', 'value'], layersToTransform: [0, 1], taskType: 'SEQ_CLS' };
    const tensor = (shape: number[]) => ({ shape, data: new Float32Array(shape[0]! * shape[1]!) });
    const lora = new Map(PARAMS.filter((n) => !n.startsWith('head.')).map((n) => [n, tensor(n.includes('lora_A') ? [4, 32] : [32, 4])]));
    writePeftAdapter(other, { settings, lora, head: new Map(), headConfig: null });
    const run = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--init-adapter', other, '--out', join(home, 'never'));
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--init-adapter: .*lora_A\.weight/);
    expect(existsSync(join(home, 'never', 'adapter_model.safetensors'))).toBe(false);
  });

  it('--head-only trains the head alone and predicts with it: no adapter, the head on the stored vectors', () => {
    const out = join(home, 'head-only');
    const flags = GOLDEN_FLAGS().filter((_, i, all) => all[i] !== '--init-adapter' && all[i - 1] !== '--init-adapter');
    const run = cli(home, ...flags, '--head-only', '--optimizer', 'adamw', '--lr', '0.01', '--max-steps', '3', '--epochs', '3', '--out', out);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/Trained 3 steps .* head \(head\.safetensors, head\.onnx\)/);
    // It announces only what it writes: no adapter and no merged model, in the result or the progress.
    expect(run.out).not.toMatch(/adapter|merged/i);
    expect(run.err).not.toMatch(/adapter|merged/i);
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(false);
    const csv = join(home, 'head-only.csv');
    const predicted = cli(home, 'predict', '--finetuned', out, '--data', dataCsv, '--out', csv);
    expect(predicted.code, predicted.err).toBe(0);
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.id)).toEqual(['s0', 's1', 's2', 's3']);
    // The head's own arithmetic (x Wᵀ + b) on the vectors the run stored (row i: sequence i);
    // train-head-only.test.ts checks those vectors against the reference implementation.
    const head = openSafetensors(join(out, 'head.safetensors'));
    const weight = readFloat32(head.get('head.weight')!);
    const bias = readFloat32(head.get('head.bias')!)[0]!;
    const bytes = readFileSync(join(out, 'embeddings.f32'));
    const stored = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const dim = weight.length;
    expect(stored.length).toBe(4 * dim);
    const expected = [0, 1, 2, 3].map((b) => stored.subarray(b * dim, (b + 1) * dim).reduce((sum, x, k) => sum + x * weight[k]!, bias));
    expect(relativeError(rows.map((r) => Number(r.predicted_y)), expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('continues a run with a higher --max-steps (to the adapter of a run given that limit at once), and names the settings that may not change', () => {
    const flags = (out: string, ...more: string[]) => ['finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--val-fraction', '0', '--epochs', '4', ...more, '--out', out];
    const clean = join(home, 'steps-clean');
    expect(cli(home, ...flags(clean, '--max-steps', '4')).code).toBe(0);

    const out = join(home, 'steps-more');
    const first = cli(home, ...flags(out, '--max-steps', '2'));
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/Trained 2 steps/);
    const more = cli(home, ...flags(out, '--max-steps', '4'));
    expect(more.code, more.err).toBe(0);
    expect(more.out).toContain('Continued from the checkpoint at step 2, with --max-steps 4 (was 2).');
    expect(more.out).toMatch(/Trained 4 steps/);
    for (const [name, data] of trained(clean)) expect(maxAbsDiff(trained(out).get(name)!, data), name).toBe(0);

    const changed = cli(home, ...flags(out, '--max-steps', '4', '--lr', '0.01', '--lora-r', '4', '--no-shuffle'));
    expect(changed.code).toBe(2);
    expect(changed.err).toContain(`${out} holds a run started with other settings; it cannot be continued with these:`);
    expect(changed.err).toContain('--lr: 0.001 before, 0.01 now');
    expect(changed.err).toContain('--lora-r: 8 before, 4 now');
    expect(changed.err).toContain('--no-shuffle: not given before, given now');
    expect(changed.err).not.toContain('--max-steps:');
    const fewer = cli(home, ...flags(out, '--max-steps', '4').map((f, i, all) => (all[i - 1] === '--epochs' ? '3' : f)));
    expect(fewer.code).toBe(2);
    expect(fewer.err).toContain('--epochs: 4 before, 3 now');
  });

  it('refuses settings that cannot work, naming the flag', () => {
    const run = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--lora-r', '0', '--out', join(home, 'bad'));
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--lora-r/);
    const missing = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'activity', '--out', join(home, 'bad'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no column "activity"/);
  });

  it('refuses LoRA on an int8 model before training (its merge would fail at the end), and trains the head only', () => {
    const int8 = join(home, 'tiny-int8');
    expect(cli(home, 'convert', CHECKPOINT, '--int8', '--out', int8).code).toBe(0);
    const lora = cli(home, 'finetune', '--model', int8, '--data', dataCsv, '--target', 'y', '--max-steps', '2', '--out', join(home, 'int8-lora'));
    expect(lora.code).toBe(1);
    expect(lora.err).toMatch(/installed in int8, .* Install the model in fp32 \(or fp16\) to fine-tune it with LoRA, or train the head only/);
    expect(existsSync(join(home, 'int8-lora', 'adapter_model.safetensors'))).toBe(false);
    const head = cli(home, 'finetune', '--model', int8, '--data', dataCsv, '--target', 'y', '--max-steps', '2', '--head-only', '--out', join(home, 'int8-head'));
    expect(head.code, head.err).toBe(0);
    expect(existsSync(join(home, 'int8-head', 'head.onnx'))).toBe(true);
  });
});

describe('esm-studio finetune after kill -9', () => {
  /** 48 sequences whose target is their share of hydrophobic residues. */
  function syntheticData(file: string): void {
    let seed = 1;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const letters = 'ACDEFGHIKLMNPQRSTVWY';
    const lines = ['id,sequence,y'];
    for (let i = 0; i < 48; i++) {
      const length = 30 + Math.floor(random() * 30);
      const sequence = Array.from({ length }, () => letters[Math.floor(random() * 20)]).join('');
      lines.push(`p${i},${sequence},${[...sequence].filter((c) => 'AILMFVW'.includes(c)).length / length}`);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
  }

  it('continues from the last checkpoint, optimizer state included, to the adapter of an uninterrupted run', { timeout: 600_000 }, async () => {
    const data = join(home, 'synthetic.csv');
    syntheticData(data);
    // Shuffling and LoRA dropout stay on: both must resume exactly too.
    const flags = (out: string) => ['finetune', '--model', CHECKPOINT, '--data', data, '--target', 'y', '--lora-r', '4', '--lora-dropout', '0.1', '--batch-tokens', '300', '--epochs', '4', '--lr', '0.005', '--out', out];
    const clean = join(home, 'clean');
    const reference = cli(home, ...flags(clean));
    expect(reference.code, reference.err).toBe(0);

    const out = join(home, 'killed');
    const child = spawn(process.execPath, [BIN, ...flags(out)], { env: { ...process.env, ESM_STUDIO_HOME: home }, stdio: 'ignore' });
    const lastJson = join(out, 'checkpoints', 'last.json');
    const checkpointStep = (): number => (existsSync(lastJson) ? (JSON.parse(readFileSync(lastJson, 'utf8')) as { step: number }).step : 0);
    // Waits on the run's checkpoints, however busy the machine is (the test's timeout is the limit).
    while (checkpointStep() < 10 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killedAt = checkpointStep();
    expect(killedAt).toBeGreaterThanOrEqual(10);
    expect(existsSync(join(out, 'adapter_model.safetensors')), 'killed before the end').toBe(false);

    const resumed = cli(home, ...flags(out));
    expect(resumed.code, resumed.err).toBe(0);
    const from = Number(/Continued from the checkpoint at step (\d+)/.exec(resumed.out)?.[1]);
    expect(from).toBeGreaterThanOrEqual(killedAt);
    const expected = trained(clean);
    const got = trained(out);
    for (const [name, data] of expected) expect(maxAbsDiff(got.get(name)!, data), name).toBe(0);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8')).toBe(readFileSync(join(clean, 'metrics.csv'), 'utf8'));
  });
});
