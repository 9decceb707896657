/**
 * `esm-studio explain` on the golden LoRA model (test/fixtures/golden/tiny-lora): the reference's
 * adapter and head as a shared adapter folder (no merged/, so --model builds it), explained for
 * ubiquitin. The printed prediction is PyTorch's `pred`; the CSV's attributions sum to it minus
 * the printed baseline prediction within 1 %; wrong input is refused with a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { writePeftAdapter } from '../../src-main/train/peft';
import { GOLDEN } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const CHECKPOINT = join(GOLDEN, 'tiny', 'checkpoint');
const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const ref = openSafetensors(join(GOLDEN, 'tiny-lora', 'lora_ref.safetensors'));
const tensor = (name: string) => ({ shape: ref.get(`init.${name}`)!.shape, data: Float32Array.from(readFloat32(ref.get(`init.${name}`)!)) });
const PARAMS = [...ref.keys()].filter((n) => n.startsWith('init.')).map((n) => n.slice('init.'.length));

/** The reference's initial adapter and head as the files a LoRA run shares (no merged/). */
function writeRun(dir: string): void {
  const lora = new Map(PARAMS.filter((n) => !n.startsWith('head.')).map((n) => [n, tensor(n)]));
  const head = new Map(PARAMS.filter((n) => n.startsWith('head.')).map((n) => [n, tensor(n)]));
  const settings = { baseModel: 'tiny', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['query', 'value'], layersToTransform: [0, 1], taskType: 'SEQ_CLS' };
  writePeftAdapter(dir, { settings, lora, head, headConfig: null });
  const headConfig = { task: { kind: 'regression', outputs: 1 }, taskKind: 'regression', targets: ['y'], classes: null, head: { kind: 'linear', pool: 'mean' }, hiddenSize: 64, mode: 'lora', peft: 'lora' };
  writeFileSync(join(dir, 'head_config.json'), JSON.stringify(headConfig));
}

describe('esm-studio explain', () => {
  let home: string;
  let run: string;

  beforeAll(() => {
    assertBuilt();
    home = mkdtempSync(join(tmpdir(), 'esm-cli-explain-'));
    run = join(home, 'run');
    writeRun(run);
  });

  it('writes per-residue attributions that add up to the prediction minus the baseline', () => {
    const csv = join(home, 'ubiquitin.csv');
    const explained = cli(home, 'explain', '--finetuned', run, '--model', CHECKPOINT, '--sequence', UBIQUITIN, '--out', csv);
    expect(explained.code, explained.err).toBe(0);
    expect(existsSync(join(run, 'merged', 'prediction.onnx'))).toBe(true);
    const [, prediction, baseline] = /output 0 = (\S+) \(all-<mask> baseline: (\S+)\)/.exec(explained.out) ?? [];
    expect(Math.abs(Number(prediction) - readFloat32(ref.get('pred')!)[0]!)).toBeLessThan(1e-4);
    expect(explained.out).toMatch(/Strongest residues: [A-Z]\d+ /);
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as { position: string; residue: string; attribution: string }[];
    expect(rows).toHaveLength(UBIQUITIN.length);
    expect(rows.map((r) => r.residue).join('')).toBe(UBIQUITIN);
    const sum = rows.reduce((s, r) => s + Number(r.attribution), 0);
    const difference = Number(prediction) - Number(baseline);
    expect(Math.abs(sum - difference) / Math.abs(difference)).toBeLessThan(0.01);
  }, 120_000);

  it('refuses a missing protein, a bad --steps and a folder that is not a run, saying what to do', () => {
    const none = cli(home, 'explain', '--finetuned', run, '--out', join(home, 'x.csv'));
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--sequence <residues> or --fasta <file>/);
    const steps = cli(home, 'explain', '--finetuned', run, '--sequence', 'MKV', '--steps', '0', '--out', join(home, 'x.csv'));
    expect(steps.code).toBe(2);
    expect(steps.err).toMatch(/--steps must be a whole number of at least 1/);
    const notRun = cli(home, 'explain', '--finetuned', home, '--sequence', 'MKV', '--out', join(home, 'x.csv'));
    expect(notRun.code).toBe(1);
    expect(notRun.err).toMatch(/not a finished fine-tuning run/);
    expect(existsSync(join(home, 'x.csv'))).toBe(false);
  }, 60_000);
});
