/**
 * The built `esm-studio` command on inputs a scientist can get wrong: every command that reads
 * sequences refuses a letter that is not an amino acid (naming file, row, position and letter);
 * `fit` and `finetune` read missing target values (NA, NaN, empty…) by the import's rule and say
 * how many rows they left out, and refuse infinities naming the row and column; a several-record
 * wild-type FASTA is chosen by the scan's name or refused; `score` refuses empty mutation cells and
 * its summary accounts for every row it writes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeNpyAtomic } from '../../src-main/store/npy';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const BIN = join(ROOT, 'bin', 'esm-studio.js');
const CHECKPOINT = join(ROOT, 'test', 'fixtures', 'golden', 'tiny', 'checkpoint');
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/datasets/${name}`, import.meta.url));

let home: string;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: home, env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function file(name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'esm-cli-inputs-'));
});

describe('one residue check for every command', () => {
  const table = ['id,sequence,y', 'P1,MKTAYIAKQR,1.0', 'P2,MKTAYIAKQL,2.0', 'P123,MKTAJIAKQE,0.5'].join('\n');
  const refusal = (path: string): string[] => [
    `${path}: 1 row cannot be used:`,
    '  Row 3 ("P123", line 4): character "J" at residue 5 is not an amino acid (allowed: 20 standard + X B U Z O).',
    'Nothing was run. Fix or remove that row and run again.',
  ];

  it('finetune --data refuses a letter that is not an amino acid instead of training on <unk>', () => {
    const data = file('new.csv', table);
    const out = join(home, 'ft-refused');
    const run = cli('finetune', '--model', CHECKPOINT, '--data', data, '--target', 'y', '--out', out);
    expect(run.code, run.out).toBe(1);
    expect(run.err.trim().split('\n')).toEqual(refusal(data));
    expect(existsSync(out)).toBe(false);
  });

  it('predict --data and --fasta refuse it the same way, before any model is opened', () => {
    const data = file('predict.csv', table);
    const byTable = cli('predict', '--finetuned', join(home, 'no-such-run'), '--data', data, '--out', join(home, 'p.csv'));
    expect(byTable.code).toBe(1);
    expect(byTable.err.trim().split('\n')).toEqual(refusal(data));
    const fasta = file('predict.fasta', '>ok\nMKV\n>P9\nMKVBJ\n');
    const byFasta = cli('predict', '--finetuned', join(home, 'no-such-run'), '--fasta', fasta, '--out', join(home, 'p.csv'));
    expect(byFasta.code).toBe(1);
    expect(byFasta.err).toContain(`${fasta}: 1 record cannot be used:\n  Record 2 ("P9", line 4): character "J" at residue 5 is not an amino acid`);
  });

  it('finetune refuses an infinite target naming the row and column, and a regression target that holds text', () => {
    const infinite = file('inf.csv', ['id,sequence,y', 'a,MKTAYIAKQR,1', 'b,MKTAYIAKQL,-Infinity'].join('\n'));
    const run = cli('finetune', '--model', CHECKPOINT, '--data', infinite, '--target', 'y', '--out', join(home, 'ft-inf'));
    expect(run.code).toBe(1);
    expect(run.err).toContain('Row 2 ("b", line 3): "-Infinity" in column "y" is infinite');
    const text = file('text.csv', ['id,sequence,y', 'a,MKTAYIAKQR,1', 'b,MKTAYIAKQL,high'].join('\n'));
    const words = cli('finetune', '--model', CHECKPOINT, '--data', text, '--target', 'y', '--out', join(home, 'ft-text'));
    expect(words.code).toBe(1);
    expect(words.err).toContain(`${text}: column "y" holds text (row 2, id b: "high"), not numbers`);
  });
});

describe('fit: missing numbers by the import rule', () => {
  /** 12 rows, 4 features; y = first feature, so the fit has a real signal. */
  function inputs(values: string[]): { npy: string; ids: string; labels: string } {
    const n = values.length;
    const data = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) data[i * 4 + j] = j === 0 ? i : ((i * 7 + j * 3) % 5) / 5;
    const npy = join(home, 'x.npy');
    writeNpyAtomic(npy, { dtype: 'float32', shape: [n, 4], data });
    const ids = file('ids.txt', `${values.map((_, i) => `p${i}`).join('\n')}\n`);
    const labels = file('labels.csv', ['id,y', ...values.map((v, i) => `p${i},${v}`)].join('\n'));
    return { npy, ids, labels };
  }
  const fit = (files: ReturnType<typeof inputs>, out: string) =>
    cli('fit', '--embeddings', files.npy, '--ids', files.ids, '--labels', files.labels, '--target', 'y', '--learner', 'ridgecv', '--cv', '3', '--out', join(home, out));

  it('leaves rows with NA, NaN, None or no value out and says how many', () => {
    const values = ['0', 'NA', '2', '3', 'NaN', '5', '6', '', '8', '9', 'None', '11'];
    const run = fit(inputs(values), 'fit-missing');
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('4 of 12 rows have no value in "y" and were left out.');
    const predictions = parse(readFileSync(join(home, 'fit-missing', 'predictions.csv'), 'utf8'), { columns: true }) as { id: string }[];
    expect(predictions.map((p) => p.id).sort()).toEqual(['p0', 'p2', 'p3', 'p5', 'p6', 'p8', 'p9', 'p11'].sort());
  });

  it('refuses an infinity naming the row and column', () => {
    const values = ['0', '1', '2', 'inf', '4', '5'];
    const run = fit(inputs(values), 'fit-inf');
    expect(run.code).toBe(1);
    expect(run.err).toContain('labels.csv, row 4 (id p3, line 5): "inf" in column "y" is infinite');
  });
});

describe('import and score with a several-record wild-type FASTA', () => {
  it('import takes the record the scan is named after, refuses otherwise, and takes --wild-type-record', () => {
    const wildTypes = fixture('two_wild_types.fasta');
    const named = cli('import', '--project', 'DMS', '--csv', fixture('TOYA_HUMAN_Smith2020.csv'), '--wild-type', wildTypes);
    expect(named.code, named.err).toBe(0);
    expect(named.out).toContain('Mutation scan of TOYA_HUMAN (33 residues)');
    expect(named.out).toContain('Label columns: row_index (row index), mutant (category), score (number, 1 missing)');
    expect(named.out).toContain('Column "score" has no value in 1 row (row 6)');

    const scan = join(home, 'scan.csv');
    copyFileSync(fixture('TOYA_HUMAN_Smith2020.csv'), scan);
    const refused = cli('import', '--project', 'DMS', '--csv', scan, '--wild-type', wildTypes);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('The wild-type FASTA has 2 records ("TOYA_HUMAN", "sp|P99999|TOYB_ECOLI") and none is named like scan.csv.');
    const chosen = cli('import', '--project', 'DMS', '--csv', scan, '--wild-type', wildTypes, '--wild-type-record', 'TOYA_HUMAN', '--name', 'chosen');
    expect(chosen.code, chosen.err).toBe(0);
    expect(chosen.out).toContain('Imported 6 sequences into dataset "chosen"');
  });

  it('import says which offset would match when most rows do not', () => {
    const run = cli('import', '--project', 'DMS', '--csv', fixture('TOYA_HUMAN_Smith2020.csv'), '--wild-type', fixture('two_wild_types.fasta'), '--offset', '2');
    expect(run.code).toBe(1);
    expect(run.out).toContain('With offset 0 (the wild type\'s first residue numbered 1), 6 of 6 stated wild-type residues match: set the numbering offset to 0.');
  });

  it('score refuses an empty mutation cell naming the row, and its summary counts every row it lists', () => {
    const protein = loadGolden('tiny').sequences.find((s) => s.length === 30)!;
    const wt = file('wt.fasta', `>other\nMKV\n>${protein.id}\n${protein.sequence}\n`);
    const s = protein.sequence;
    const variants = file(`${protein.id}_scan.csv`, ['name,mutant,fitness', `a,${s[0]}1A,0.5`, 'b,,1', `c,${s[2]}3*,2`, `d,${s[3]}4C,3`].join('\n'));
    const out = join(home, 'scored.csv');
    const base = ['score', '--model', CHECKPOINT, '--wt', wt, '--variants', variants, '--method', 'wt-marginal', '--out', out];
    const refused = cli(...base);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('Row 2 (line 3): the mutation cell is empty.');
    expect(existsSync(out)).toBe(false);

    const run = cli(...base, '--skip-mismatches');
    expect(run.code, run.err).toBe(0);
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    const score = Object.keys(rows[0]!).find((name) => name.startsWith('score_'))!;
    expect(rows.map((r) => [r.id, r[score] !== ''])).toEqual([['a', true], ['b', false], ['c', false], ['d', true]]);
    expect(run.out).toContain('Scored 2 of the 4 rows listed (wt-marginal)');
    expect(run.out).toContain('2 rows are left unscored (empty score cell): 1 has no readable mutation, 1 has a stop (ESM-2 has no stop token).');
  });
});
