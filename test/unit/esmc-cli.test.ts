/**
 * ESM C from the command line (the built bundle): `embed --model` takes the original `.pth` file and
 * the esm package's folder (no config.json) directly, converting once, and writes the golden mean
 * embeddings; `score` runs an ensemble that mixes an ESM C and an ESM-2 model. Before the CLI asked
 * the model families, both were refused as "neither a converted model nor a Hugging Face folder".
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src-main/store/npy';
import { GOLDEN, loadGolden, maxAbsDiff, seqKey } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const golden = loadGolden('esmc-tiny');
const PTH = join(golden.checkpoint, 'esm', 'data', 'weights', 'esmc_tiny_2024_12_v0.pth');

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('ESM C on the command line', () => {
  it('embeds from the .pth file and from the esm-package folder, with the golden mean embeddings', { timeout: 120_000 }, () => {
    assertBuilt();
    const home = mkdtempSync(join(tmpdir(), 'esmc-cli-'));
    const short = golden.sequences.filter((seq) => seq.has_pll);
    const fasta = join(home, 'short.fasta');
    writeFileSync(fasta, short.map((seq) => `>${seq.id}\n${seq.sequence}\n`).join(''));
    for (const model of [PTH, join(golden.checkpoint, 'esm')]) {
      const out = join(home, `out-${short.length}-${model.length}`);
      const run = cli(home, 'embed', '--model', model, '--fasta', fasta, '--out', out, '--pool', 'mean');
      expect(run.code, run.err).toBe(0);
      const means = readNpy(join(out, 'mean_layer2.npy'));
      expect(means.shape).toEqual([short.length, 64]);
      short.forEach((seq, row) => {
        const ours = (means.data as Float32Array).subarray(row * 64, (row + 1) * 64);
        expect(maxAbsDiff(ours, golden.array(seqKey(seq.index, 'mean_embedding')).data), `${model} ${seq.id}`).toBeLessThanOrEqual(1e-4);
      });
    }
  });

  it('fine-tunes with LoRA on the packed qkv when no --lora-targets is given (ESM C has no separate query/value)', { timeout: 180_000 }, () => {
    assertBuilt();
    const home = mkdtempSync(join(tmpdir(), 'esmc-cli-finetune-'));
    const rows = golden.sequences.map((seq, i) => `${seq.id},${seq.sequence},${(i % 5) / 4}`);
    writeFileSync(join(home, 'data.csv'), ['id,sequence,y', ...rows].join('\n'));
    const out = join(home, 'run');
    const run = cli(home, 'finetune', '--model', PTH, '--data', join(home, 'data.csv'), '--target', 'y', '--max-steps', '2', '--out', out);
    expect(run.code, run.err).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as { target_modules: string[] };
    expect(config.target_modules).toEqual(['attn.layernorm_qkv.1']);
  });

  it('scores mutations with an ensemble of an ESM C and an ESM-2 model', { timeout: 120_000 }, () => {
    assertBuilt();
    const home = mkdtempSync(join(tmpdir(), 'esmc-cli-score-'));
    const wildType = golden.sequences[0]!.sequence;
    writeFileSync(join(home, 'wt.fasta'), `>wt\n${wildType}\n`);
    const mutants = [2, 7, 12].map((p) => `${wildType[p - 1]}${p}${wildType[p - 1] === 'A' ? 'G' : 'A'}`);
    writeFileSync(join(home, 'v.csv'), `id,mutant\n${mutants.map((m, i) => `v${i},${m}`).join('\n')}\n`);
    const out = join(home, 'scores.csv');
    const run = cli(home, 'score', '--variants', join(home, 'v.csv'), '--wt', join(home, 'wt.fasta'), '--model', PTH, '--model', join(GOLDEN, 'tiny', 'checkpoint'), '--method', 'wt-marginal', '--out', out);
    expect(run.code, run.err).toBe(0);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toMatch(/^id,mutant,score_esmc_tiny_2024_12_v0_wt-marginal,score_.*_wt-marginal,score_ensemble_wt-marginal$/);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const [esmc, esm2, ensemble] = row.split(',').slice(2).map(Number) as [number, number, number];
      expect(ensemble).toBeCloseTo((esmc + esm2) / 2, 10);
    }
  });
});
