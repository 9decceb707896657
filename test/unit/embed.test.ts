/**
 * The embedding engine and the `esm-studio embed` command: files and shapes as documented,
 * values equal to the golden references, batches in input order, duplicates computed once,
 * long sequences windowed or truncated.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Embedder, type SequenceResult } from '../../src-main/engine/embed';
import { convertCheckpoint } from '../../src-main/models/installed';
import { readNpy } from '../../src-main/store/npy';
import { block, loadGolden, maxAbsDiff, seqKey } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';
import { createRng } from '../../src-main/core/rng';
import { randomProtein } from '../support/random-proteins';

const scratch = () => mkdtempSync(join(tmpdir(), 'esm-embed-'));
const golden8M = loadGolden('esm2-8M-random');
const tiny = loadGolden('tiny');
let model8M: string;
let modelTiny: string;

beforeAll(async () => {
  model8M = join(scratch(), 'm8');
  modelTiny = join(scratch(), 'tiny');
  await convertCheckpoint(golden8M.checkpoint, model8M, { appVersion: 'test' });
  await convertCheckpoint(tiny.checkpoint, modelTiny, { appVersion: 'test' });
});

function cli(...args: string[]) {
  assertBuilt();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'esm-studio.js'), ...args], {
    env: { ...process.env, ESM_STUDIO_HOME: scratch() },
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

async function collect(modelDir: string, sequences: string[], options: Parameters<Embedder['run']>[1]): Promise<SequenceResult[]> {
  const embedder = Embedder.open(modelDir);
  const results: SequenceResult[] = [];
  await embedder.run(sequences, options, (r) => void results.push(r));
  await embedder.close();
  return results.sort((a, b) => a.index - b.index);
}

describe('esm-studio embed', () => {
  it('writes the documented files, equal to the golden references', () => {
    const out = scratch();
    const fasta = join(ROOT, 'test', 'fixtures', 'golden', 'short.fasta');
    const run = cli('embed', '--model', model8M, '--fasta', fasta, '--layers', '0,-1', '--pool', 'mean,bos,max,per-token', '--logits', '--contacts', '--attention', '6', '--out', out);
    expect(run.code, run.err).toBe(0);
    const ids = readFileSync(join(out, 'ids.txt'), 'utf8').trim().split('\n');
    expect(ids).toEqual(golden8M.sequences.map((s) => s.id));
    const D = 320;
    const mean6 = readNpy(join(out, 'mean_layer6.npy'));
    expect(mean6.shape).toEqual([4, D]);
    expect(readNpy(join(out, 'max_layer0.npy')).shape).toEqual([4, D]);
    for (const seq of golden8M.sequences) {
      const i = seq.index;
      const L = seq.length;
      const T = L + 2;
      const refMean = golden8M.array(seqKey(i, 'mean_embedding')).data;
      const refBos = golden8M.array(seqKey(i, 'bos_embedding')).data;
      expect(maxAbsDiff((mean6.data as Float32Array).subarray(i * D, (i + 1) * D), refMean.subarray(6 * D, 7 * D))).toBeLessThan(1e-4);
      expect(maxAbsDiff((readNpy(join(out, 'bos_layer0.npy')).data as Float32Array).subarray(i * D, (i + 1) * D), refBos.subarray(0, D))).toBeLessThan(1e-4);
      // Per-residue rows of every sequence in one matrix; sequence i is rows offsets[i]..offsets[i+1].
      const offsets = readNpy(join(out, 'per_token_offsets.npy')).data as BigInt64Array;
      const all = readNpy(join(out, 'per_token_layer6.npy'));
      expect(Number(offsets[i + 1]! - offsets[i]!)).toBe(L);
      const perToken = { data: (all.data as Float32Array).subarray(Number(offsets[i]!) * D, Number(offsets[i + 1]!) * D) };
      const states = golden8M.array(seqKey(i, 'hidden_states')).data.subarray(6 * T * D, 7 * T * D);
      expect(maxAbsDiff(perToken.data as Float32Array, block(states, D, 1, L + 1, 0, D))).toBeLessThan(1e-4);
      const logits = readNpy(join(out, 'logits', `${i}.npy`));
      expect(logits.shape).toEqual([T, 33]);
      expect(maxAbsDiff(logits.data as Float32Array, golden8M.array(seqKey(i, 'logits')).data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(readNpy(join(out, 'contacts', `${i}.npy`)).data as Float32Array, golden8M.array(seqKey(i, 'contacts')).data)).toBeLessThan(1e-4);
      const attention = readNpy(join(out, 'attention', `${i}_layer6.npy`));
      expect(attention.shape).toEqual([20, T, T]);
      expect(maxAbsDiff(attention.data as Float32Array, golden8M.array(seqKey(i, 'attn_last')).data)).toBeLessThan(1e-4);
    }
    const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { options: { layers: number[]; device: { used: string } }; model: { sourceChecksum: string } };
    expect(record.options.layers).toEqual([0, 6]);
    expect(record.options.device.used).toBe('cpu');
    expect(record.model.sourceChecksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a FASTA with bad records and layers that do not exist, writing nothing', () => {
    const dir = scratch();
    const fasta = join(dir, 'bad.fasta');
    writeFileSync(fasta, '>a\nMKV\n>b\nMK1V\n');
    const bad = cli('embed', '--model', model8M, '--fasta', fasta, '--out', join(dir, 'out'));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('line 4');
    writeFileSync(fasta, '>a\nMKV\n');
    const layer = cli('embed', '--model', model8M, '--fasta', fasta, '--layers', '9', '--out', join(dir, 'out'));
    expect(layer.code).toBe(2);
    expect(layer.err).toContain('Layer 9 does not exist: this model has layers 0 to 6');
    expect(existsSync(join(dir, 'out', 'run.json'))).toBe(false);
  });

  it('converts a Hugging Face folder on the fly when given one', () => {
    const dir = scratch();
    const fasta = join(dir, 'one.fasta');
    writeFileSync(fasta, '>a\nMKTAYIAKQR\n');
    const run = cli('embed', '--model', tiny.checkpoint, '--fasta', fasta, '--out', join(dir, 'out'));
    expect(run.code, run.err).toBe(0);
    expect(readNpy(join(dir, 'out', 'mean_layer2.npy')).shape).toEqual([1, 64]);
  });
});

describe('Embedder', () => {
  const sequences = tiny.sequences.map((s) => s.sequence);

  it('gives the same results in input order whatever the batch size, and computes duplicates once', async () => {
    const options = { layers: [-1], pool: ['mean' as const, 'per-token' as const], logits: true };
    const small = await collect(modelTiny, sequences, { ...options, batchTokens: 1 });
    const withDuplicates = [...sequences, sequences[2]!];
    const large = await collect(modelTiny, withDuplicates, { ...options, batchTokens: 100_000 });
    expect(large.map((r) => r.index)).toEqual(withDuplicates.map((_, i) => i));
    for (const [i, seq] of tiny.sequences.entries()) {
      expect(small[i]!.residues).toBe(seq.length);
      expect(maxAbsDiff(small[i]!.pooled.get('mean_2')!, large[i]!.pooled.get('mean_2')!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(small[i]!.logits!, tiny.array(seqKey(seq.index, 'logits')).data)).toBeLessThan(1e-4);
    }
    expect(large[sequences.length]!.pooled.get('mean_2')).toEqual(large[2]!.pooled.get('mean_2'));
  });

  it('windows a long sequence: covers every residue, agrees with a single window where only one covers', async () => {
    const long = randomProtein(createRng(11), 1500);
    const options = { layers: [-1], pool: ['per-token' as const, 'mean' as const, 'bos' as const], logits: true, contacts: true };
    const [windowed] = await collect(modelTiny, [long], { ...options, long: 'window' });
    const [truncated] = await collect(modelTiny, [long], { ...options, long: 'truncate' });
    expect(windowed!.handling).toBe('window');
    expect(windowed!.residues).toBe(1500);
    expect(truncated!.handling).toBe('truncate');
    expect(truncated!.residues).toBe(1022);
    const D = 64;
    const rows = windowed!.perToken.get(2)!;
    expect(rows.length).toBe(1500 * D);
    expect(rows.every(Number.isFinite)).toBe(true);
    // Residues 0..477 lie only in the first window, which is exactly the truncated sequence.
    expect(maxAbsDiff(rows.subarray(0, 478 * D), truncated!.perToken.get(2)!.subarray(0, 478 * D))).toBeLessThan(1e-5);
    expect(maxAbsDiff(windowed!.pooled.get('bos_2')!, truncated!.pooled.get('bos_2')!)).toBeLessThan(1e-5);
    // The mean of the blended rows is the pooled mean.
    const mean = new Float64Array(D);
    for (let r = 0; r < 1500; r++) for (let c = 0; c < D; c++) mean[c]! += rows[r * D + c]! / 1500;
    expect(maxAbsDiff(windowed!.pooled.get('mean_2')!, mean)).toBeLessThan(1e-5);
    expect(windowed!.logits!.length).toBe(1502 * 33);
    expect(windowed!.contacts!.length).toBe(1500 * 1500);
  });
});
