/**
 * `esm-studio finetune --task signal-peptide` (issue 16): the 8M golden model (a Hugging Face
 * checkpoint folder, converted by the command) on the signalp-tiny SignalP 6.0 file, without
 * --target; PEFT-SP's defaults (recorded in training.json), per-epoch validation printed, the
 * adapter, emission head and CRF written, the third partition predicted as SignalP 6.0 writes it;
 * `predict` on the run folder for new sequences. A file with a broken label line is refused naming it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'golden');
const CHECKPOINT = join(FIXTURES, 'esm2-8M-random', 'checkpoint');
const DATA = join(FIXTURES, 'signalp-tiny', 'data.fasta');

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('esm-studio finetune --task signal-peptide', () => {
  let home: string;
  beforeAll(() => {
    assertBuilt();
    home = mkdtempSync(join(tmpdir(), 'cli-signal-peptide-'));
  });

  it('trains LoRA + emission head + CRF with PEFT-SP defaults and writes the files', () => {
    const out = join(home, 'run');
    const run = cli(home, 'finetune', '--model', CHECKPOINT, '--data', DATA, '--task', 'signal-peptide', '--epochs', '2', '--lora-layers', '2', '--out', out);
    expect(run.err + run.out).toContain('Trained 4 steps (39 training, 39 validation proteins)');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/epoch 2 {2}step 4 {2}train loss \d/);
    const training = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8')) as { settings: { lora: { dropout: number; targets: string[] }; maxGradNorm: number; batchSize: number }; history: { epoch: number; valLoss: number }[] };
    expect(training.settings.lora.dropout).toBe(0.1);
    expect(training.settings.lora.targets).toEqual(['query', 'key', 'value', 'attention-output']);
    expect(training.settings.maxGradNorm).toBe(0.25);
    expect(training.settings.batchSize).toBe(20);
    expect(training.history.map((e) => e.epoch)).toEqual([0, 1, 2]);
    const crf = openSafetensors(join(out, 'crf.safetensors'));
    expect(crf.get('crf.transitions')!.shape).toEqual([37, 37]);
    expect(openSafetensors(join(out, 'head.safetensors')).get('head.weight')!.shape).toEqual([37, 320]);
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
    // Partition 2 (neither trained nor validated on) is predicted and written as SignalP 6.0 does.
    expect(run.out).toContain('Predicted the 39 test proteins (partition 2): prediction_results.txt, region_output.gff3, predictions.csv.');
    const summary = readFileSync(join(out, 'prediction_results.txt'), 'utf8').trimEnd().split('\n');
    expect(summary[1]).toBe('# ID\tPrediction\tOTHER\tSP(Sec/SPI)\tLIPO(Sec/SPII)\tTAT(Tat/SPI)\tTATLIPO(Tat/SPII)\tPILIN(Sec/SPIII)\tCS Position');
    expect(summary).toHaveLength(2 + 39);
    expect(readFileSync(join(out, 'region_output.gff3'), 'utf8').startsWith('##gff-version 3\n')).toBe(true);
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(40);
  }, 300_000);

  it('predicts new sequences with the trained run (predict --finetuned on a signal-peptide run)', () => {
    const fasta = join(home, 'new.fasta');
    writeFileSync(fasta, '>new1 secreted?\nMKKLLLALAVLLSAVAQAAEFTQQWYVKDRE\n>new2\nMSTEIIKQLAEKAGVSPEEAQKLLDELGLRKGDMSTEIIKQLAEKAGVSPEEAQKLLDELGLRKGDMSTEIIKQLAEK\n');
    const out = join(home, 'new-predictions');
    const run = cli(home, 'predict', '--finetuned', join(home, 'run'), '--fasta', fasta, '--out', out);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('1 protein(s) longer than 70 residues were predicted on their first 70');
    expect(run.out).toContain('Predicted signal peptides of 2 proteins');
    const lines = readFileSync(join(out, 'prediction_results.txt'), 'utf8').trimEnd().split('\n');
    expect(lines.slice(2).map((l) => l.split('\t')[0])).toEqual(['new1', 'new2']);
    expect(lines[2]!.split('\t')).toHaveLength(9);
    const csv = readFileSync(join(out, 'predictions.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[2]!.startsWith('new2,,,1,,,')).toBe(true);
    const bad = cli(home, 'predict', '--finetuned', join(home, 'run'), '--fasta', fasta, '--kingdom', 'PLANTS', '--out', join(home, 'never'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--kingdom: one of EUKARYA, POSITIVE, NEGATIVE, ARCHAEA, got "PLANTS"');
  }, 120_000);

  it('refuses a label line of the wrong length, naming the file and line', () => {
    const lines = readFileSync(DATA, 'utf8').split('\n');
    lines[2] = lines[2]!.slice(0, -3);
    const bad = join(home, 'bad.fasta');
    writeFileSync(bad, lines.join('\n'));
    const run = cli(home, 'finetune', '--model', CHECKPOINT, '--data', bad, '--task', 'signal-peptide', '--out', join(home, 'never'));
    expect(run.code).toBe(1);
    expect(run.err).toContain('bad.fasta');
    expect(run.err).toMatch(/line 3/);
    expect(existsSync(join(home, 'never', 'training.json'))).toBe(false);
  }, 120_000);
});
