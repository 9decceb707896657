/** `esm-studio fit --split cluster:30` and `--split temporal:<column>:<date>` on files: folds, clusters.csv, intervals. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { writeNpyAtomic } from '../../src-main/store/npy';
import { plantedFamilies } from '../support/planted-families';
import { assertBuilt, ROOT } from '../support/serve';

function cli(home: string, ...args: string[]) {
  assertBuilt();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'esm-studio.js'), ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('esm-studio fit with similarity and temporal splits', () => {
  it('keeps planted families in one fold, writes clusters.csv, and splits by date', { timeout: 180_000 }, () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-split-'));
    const set = plantedFamilies(8, { families: 8, membersPerFamily: 5, length: 80, identityToAncestor: [0.75, 0.95], indelRate: 0.01 });
    const rng = createRng(2);
    const n = set.sequences.length;
    const ids = set.sequences.map((_, i) => `P${i}`);
    writeNpyAtomic(join(home, 'x.npy'), { dtype: 'float32', shape: [n, 2], data: Float32Array.from({ length: 2 * n }, (_, i) => set.family[i >> 1]! + rng.next()) });
    writeFileSync(join(home, 'ids.txt'), `${ids.join('\n')}\n`);
    const released = ids.map((_, i) => `${2015 + (i % 8)}-06-01`);
    writeFileSync(join(home, 'labels.csv'), ['id,sequence,y,released', ...ids.map((id, i) => `${id},${set.sequences[i]},${set.family[i]! + rng.next()},${released[i]}`)].join('\n') + '\n');
    const files = ['--embeddings', join(home, 'x.npy'), '--ids', join(home, 'ids.txt'), '--labels', join(home, 'labels.csv'), '--target', 'y', '--learner', 'ridgecv'];

    const cluster = cli(home, 'fit', ...files, '--cv', '4', '--split', 'cluster:30', '--out', join(home, 'fit'));
    expect(cluster.code, cluster.err).toBe(0);
    expect(cluster.out).toMatch(/group 40 sequences into 8 clusters \(largest 5\); the folds hold 10, 10, 10, 10 sequences/);
    expect(cluster.out).toMatch(/r2 -?\d\.\d{3} ± \d\.\d{3} \(-?\d\.\d{3}–-?\d\.\d{3}\)/);
    const clusters = parse(readFileSync(join(home, 'fit', 'clusters.csv'), 'utf8'), { columns: true }) as { id: string; cluster: string; fold: string }[];
    expect(clusters.length).toBe(n);
    const predictions = parse(readFileSync(join(home, 'fit', 'predictions.csv'), 'utf8'), { columns: true }) as { id: string; fold: string }[];
    for (let f = 0; f < 8; f++) {
      const members = ids.filter((_, i) => set.family[i] === f);
      expect(new Set(predictions.filter((p) => members.includes(p.id)).map((p) => p.fold)).size).toBe(1);
    }

    const temporal = cli(home, 'fit', ...files, '--split', 'temporal:released:2020-01-01', '--out', join(home, 'fit-time'));
    expect(temporal.code, temporal.err).toBe(0);
    // Training rows are listed with fold −1 (never predicted): the test rows are those dated 2020 or later.
    const rows = parse(readFileSync(join(home, 'fit-time', 'predictions.csv'), 'utf8'), { columns: true }) as { id: string; fold: string }[];
    const tested = rows.filter((p) => p.fold !== '-1').map((p) => p.id);
    expect(tested.sort()).toEqual(ids.filter((_, i) => released[i]! >= '2020').sort());

    const bad = cli(home, 'fit', ...files, '--split', 'temporal:released', '--out', join(home, 'bad'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('write temporal:<date column>:<YYYY-MM-DD>');
  });
});
