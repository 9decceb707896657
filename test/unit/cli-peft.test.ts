/**
 * `esm-studio finetune --peft prompt|adapter` (the built CLI) on the tiny golden ESM-2: a regression
 * run saves PEFT's prompt-tuning files or the bottleneck layout and `predict` reads the run back;
 * `--task signal-peptide --peft adapter` trains the PEFT-SP task with adapters; bad values exit 2
 * naming the flag; `--help` documents the choice.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const CHECKPOINT = join(GOLDEN, 'tiny', 'checkpoint');
const SIGNALP = join(GOLDEN, 'signalp-tiny', 'data.fasta');

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

let home: string;
let dataCsv: string;
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

beforeAll(() => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'cli-peft-'));
  dataCsv = join(home, 'data.csv');
  const letters = 'ACDEFGHIKLMNPQRSTVWY';
  const rows = Array.from({ length: 16 }, (_, i) => {
    const sequence = Array.from({ length: 12 + (i % 7) }, (_, j) => letters[(i * 7 + j * 3) % 20]).join('');
    return `p${i},${sequence},${((i % 5) - 2) / 2}`;
  });
  writeFileSync(dataCsv, ['id,sequence,y', ...rows].join('\n'));
});

describe('finetune --peft', () => {
  it('--peft prompt saves a PROMPT_TUNING adapter and predict reads the run back', { timeout: 180_000 }, () => {
    const out = join(home, 'prompt');
    const run = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--peft', 'prompt', '--prompt-length', '3', '--prompt-layers', 'all', '--epochs', '2', '--threads', '2', '--out', out);
    expect(run.code, run.err).toBe(0);
    expect(json(join(out, 'adapter_config.json'))).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: 3, esm_studio_prompt_layers: 'all' });
    expect((json(join(out, 'training.json')).settings as { peft: unknown }).peft).toEqual({ method: 'prompt', prompt: { length: 3, layers: 'all' }, adapter: { size: 64, layers: 'all' } });
    const predictions = join(home, 'prompt.csv');
    const predict = cli(home, 'predict', '--finetuned', out, '--data', dataCsv, '--out', predictions);
    expect(predict.code, predict.err).toBe(0);
    const rows = parse(readFileSync(predictions, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(16);
    expect(rows.every((r) => Number.isFinite(Number(r.predicted_y)))).toBe(true);
  });

  it('--peft adapter saves the BOTTLENECK layout on the top K layers', { timeout: 180_000 }, () => {
    const out = join(home, 'adapter');
    const run = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--peft', 'adapter', '--adapter-size', '4', '--adapter-layers', '1', '--epochs', '1', '--threads', '2', '--out', out);
    expect(run.code, run.err).toBe(0);
    expect(json(join(out, 'adapter_config.json'))).toMatchObject({ peft_type: 'BOTTLENECK', bottleneck_size: 4, layers_to_transform: [1], target_modules: ['attention.output.dense', 'output.dense'] });
  });

  it('--task signal-peptide --peft adapter trains the CRF task with bottleneck adapters', { timeout: 300_000 }, () => {
    const out = join(home, 'signal-peptide');
    const run = cli(home, 'finetune', '--task', 'signal-peptide', '--model', CHECKPOINT, '--data', SIGNALP, '--peft', 'adapter', '--adapter-size', '8', '--epochs', '1', '--test-partitions', '', '--threads', '2', '--out', out);
    expect(run.code, run.err).toBe(0);
    expect(json(join(out, 'adapter_config.json'))).toMatchObject({ peft_type: 'BOTTLENECK', bottleneck_size: 8 });
    expect((json(join(out, 'training.json')).settings as { peft: { method: string } }).peft.method).toBe('adapter');
  });

  it('refuses values that cannot work, naming the flag, and documents the choice', () => {
    const bad = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--peft', 'prompt', '--prompt-layers', 'deep', '--out', join(home, 'bad'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--prompt-layers must be input, all or a whole number of top layers, got "deep"/);
    const zero = cli(home, 'finetune', '--model', CHECKPOINT, '--data', dataCsv, '--target', 'y', '--peft', 'adapter', '--adapter-size', '0', '--out', join(home, 'bad'));
    expect(zero.code).toBe(2);
    expect(zero.err).toMatch(/--adapter-size: /);
    const help = cli(home, 'finetune', '--help');
    const text = help.out.replace(/\s+/g, ' '); // however the help is wrapped
    expect(text).toContain('--peft <method> how the frozen model is adapted: lora (low-rank updates, --lora-*), prompt (learned virtual tokens before <cls>');
    expect(text).toContain('--prompt-layers <input|all|K>');
  });
});
