/**
 * `esm-studio saturate` and `esm-studio score` on the golden tiny model: the saturation CSV has the
 * 570 single mutants of a 30-residue protein with the golden masked-marginal values and reads back
 * to the same map; `score` keeps the input columns, adds `score`, and stops on wrong wild-type
 * residues unless told to skip them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { residueToken, VOCAB_SIZE } from '../../src-main/models/esm2/tokenizer';
import { readSaturationCsv, saturationLongCsv, saturationWideCsv } from '../../src-main/variants/tables';
import type { Job } from '../../src-main/api/schemas';
import { openAppHost } from '../support/app-host';
import { loadGolden, seqKey, type Golden, type GoldenSequence } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');

function cli(home: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

let golden: Golden;
let protein: GoldenSequence;
let home: string;
let wtFile: string;

/** Masked-marginal score of `wt pos mut` from the golden pll_log_probs (position 1-based). */
function goldenMasked(position: number, wt: string, mut: string): number {
  const lp = golden.array(seqKey(protein.index, 'pll_log_probs')).data;
  return lp[(position - 1) * VOCAB_SIZE + residueToken(mut)]! - lp[(position - 1) * VOCAB_SIZE + residueToken(wt)]!;
}

beforeAll(() => {
  assertBuilt();
  golden = loadGolden('tiny');
  protein = golden.sequences.find((s) => s.length === 30)!;
  home = mkdtempSync(join(tmpdir(), 'esm-cli-variants-'));
  wtFile = join(home, 'wt.fasta');
  writeFileSync(wtFile, `>${protein.id}\n${protein.sequence}\n`);
});

describe('esm-studio saturate', () => {
  it('writes the 570 single mutants with golden masked-marginal scores, and the CSV round-trips', () => {
    const out = join(home, 'saturation.csv');
    const run = cli(home, 'saturate', '--model', golden.checkpoint, '--wt', wtFile, '--method', 'masked-marginal', '--offset', '100', '--out', out);
    expect(run.code, run.err).toBe(0);
    const text = readFileSync(out, 'utf8');
    const rows = parse(text, { columns: true }) as { position: string; wt: string; mut: string; score: string }[];
    expect(rows.length).toBe(570);
    expect(Object.keys(rows[0]!)).toEqual(['position', 'wt', 'mut', 'score']);
    let worst = 0;
    for (const row of rows) {
      const position = Number(row.position) - 100;
      expect(row.wt).toBe(protein.sequence[position - 1]);
      worst = Math.max(worst, Math.abs(Number(row.score) - goldenMasked(position, row.wt, row.mut)));
    }
    expect(worst).toBeLessThan(1e-4);
    const map = readSaturationCsv('saturation.csv', text);
    expect(map.wildType).toBe(protein.sequence);
    expect(map.offset).toBe(100);
    expect(saturationLongCsv(map)).toBe(text);
    expect(readSaturationCsv('wide.csv', saturationWideCsv(map))).toEqual(map);
  });
});

describe('esm-studio score', () => {
  const seq = (): string => protein.sequence;
  const table = (rows: string[]): string => ['name,mutant,fitness', ...rows].join('\n');

  it('stops on wrong wild-type residues with the list, and scores the rest with --skip-mismatches', () => {
    const good = [`a,${seq()[0]}1A,0.5`, `b,"${seq()[4]}5W:${seq()[9]}10G",-1`];
    const wrong = seq()[2] === 'W' ? 'Y' : 'W';
    const file = join(home, 'variants.csv');
    writeFileSync(file, table([...good, `c,${wrong}3A,2`]));
    const out = join(home, 'scored.csv');
    const base = ['score', '--model', golden.checkpoint, '--wt', wtFile, '--variants', file, '--mutation-col', 'mutant', '--method', 'masked-marginal', '--out', out];
    const refused = cli(home, ...base);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`Row 3, ${wrong}3A: the wild type has ${seq()[2]} at position 3, not ${wrong}.`);
    const run = cli(home, ...base, '--skip-mismatches');
    expect(run.code, run.err).toBe(0);
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    // The app's export layout: id (here the "name" column), mutant, the measured columns, score_<model>_<method>.
    const score = Object.keys(rows[0]!).find((name) => name.startsWith('score_'))!;
    expect(Object.keys(rows[0]!)).toEqual(['id', 'mutant', 'fitness', score]);
    expect(score).toMatch(/_masked-marginal$/);
    expect(rows.map((r) => [r.id, r.mutant, r.fitness])).toEqual([
      ['a', `${seq()[0]}1A`, '0.5'],
      ['b', `${seq()[4]}5W:${seq()[9]}10G`, '-1'],
      ['c', `${wrong}3A`, '2'],
    ]);
    expect(Math.abs(Number(rows[0]![score]) - goldenMasked(1, seq()[0]!, 'A'))).toBeLessThan(1e-4);
    expect(Math.abs(Number(rows[1]![score]) - goldenMasked(5, seq()[4]!, 'W') - goldenMasked(10, seq()[9]!, 'G'))).toBeLessThan(1e-4);
    expect(rows[2]![score]).toBe('');
  });

  it('an ensemble of two copies of a model equals the model', () => {
    const file = join(home, 'one.csv');
    writeFileSync(file, table([`a,${seq()[0]}1A,0.5`]));
    const one = join(home, 'one-model.csv');
    const two = join(home, 'two-models.csv');
    const common = ['--wt', wtFile, '--variants', file, '--method', 'wt-marginal'];
    expect(cli(home, 'score', '--model', golden.checkpoint, ...common, '--out', one).code).toBe(0);
    expect(cli(home, 'score', '--model', golden.checkpoint, '--model', golden.checkpoint, ...common, '--out', two).code).toBe(0);
    // Two models: a column each and the ensemble's; the ensemble of two copies is the model.
    const [singleHeader, singleRow] = parse(readFileSync(one, 'utf8')) as string[][];
    const [pairHeader, pairRow] = parse(readFileSync(two, 'utf8')) as string[][];
    const modelColumn = singleHeader!.at(-1)!;
    expect(modelColumn).toMatch(/^score_.+_wt-marginal$/);
    expect(pairHeader).toEqual([...singleHeader!, modelColumn, 'score_ensemble_wt-marginal']);
    expect(pairRow).toEqual([...singleRow!, singleRow!.at(-1), singleRow!.at(-1)]);
  });
});

describe('esm-studio score and the app', () => {
  it('give the same scores for the same mutations (one scoring task, one ensemble)', { timeout: 300_000 }, async () => {
    const seq = protein.sequence;
    const rows = [`a,${seq[0]}1A,0.5`, `b,${seq[4]}5W:${seq[9]}10G,-1`, `c,${seq[2]}3C,2`, `d,${seq[6]}7D,1`];
    const file = join(home, 'same.csv');
    writeFileSync(file, ['id,mutant,fitness', ...rows].join('\n'));
    const out = join(home, 'same-scored.csv');
    const run = cli(home, 'score', '--model', golden.checkpoint, '--model', golden.checkpoint, '--wt', wtFile, '--variants', file, '--method', 'masked-marginal', '--out', out);
    expect(run.code, run.err).toBe(0);

    const { call, finished, close } = openAppHost();
    try {
      await finished((await call<Job>('jobs.start', { kind: 'model.install', path: golden.checkpoint })).id);
      const [model] = await call<{ id: number }[]>('models.list', {});
      const project = await call<{ id: number }>('projects.create', { name: 'Scores' });
      const text = readFileSync(file, 'utf8');
      const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', {
        projectId: project.id,
        source: { kind: 'text', fileName: 'same.csv', text },
        options: { mutations: { wildType: `>${protein.id}\n${seq}\n` } },
      });
      const job = await call<Job>('jobs.start', { kind: 'variants.score', projectId: project.id, datasetId: dataset.id, modelIds: [model!.id, model!.id], methods: ['masked-marginal'] });
      expect((await finished(job.id)).error).toBeNull();
      // The command's CSV is the app's export of the same scan, byte for byte (ids, measured column, each model's and the ensemble's scores).
      const exported = await call<{ path: string }>('variants.export', { runId: job.runId });
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(exported.path, 'utf8'));
    } finally {
      close();
    }
  });
});

describe('esm-studio import --wild-type', () => {
  it('lists the wrong wild-type residues and imports the other rows with --accept', () => {
    const wt = protein.sequence;
    const wrong = wt[5] === 'W' ? 'Y' : 'W';
    const file = join(home, 'scan.csv');
    writeFileSync(file, ['mutant,fitness', `${wt[0]}1A,1`, `${wrong}6A,2`, `${wt[7]}8C,3`].join('\n'));
    const refused = cli(home, 'import', '--project', 'DMS', '--csv', file, '--wild-type', wtFile);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`line 3: Row 2 ("${wrong}6A", line 3): ${wrong}6A expects ${wrong} at position 6, but the wild type has ${wt[5]}.`);
    expect(refused.out).toContain(`Mutation scan of ${protein.id} (30 residues), mutations in column "mutant"`);
    const accepted = cli(home, 'import', '--project', 'DMS', '--csv', file, '--wild-type', wtFile, '--accept');
    expect(accepted.code, accepted.err).toBe(0);
    expect(accepted.out).toContain('Imported 2 sequences into dataset "scan"');
  });
});
