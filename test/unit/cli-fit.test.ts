/** `esm-studio fit` on files and on a project run: outputs as documented, real signal recovered. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Fit, Job } from '../../src-main/api/schemas';
import { openAppHost } from '../support/app-host';
import { loadGolden } from '../support/golden';
import { labelledCsv } from '../support/scan-setup';
import { assertBuilt, ROOT } from '../support/serve';

function cli(home: string, ...args: string[]) {
  assertBuilt();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'esm-studio.js'), ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('esm-studio fit', () => {
  it('cross-validates on files and writes predictions, metrics and models', () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-'));
    const csv = labelledCsv(60);
    writeFileSync(join(home, 'labels.csv'), csv);
    const rows = parse(csv, { columns: true }) as { id: string; sequence: string }[];
    writeFileSync(join(home, 'set.fasta'), rows.map((r) => `>${r.id}\n${r.sequence}\n`).join(''));
    const checkpoint = loadGolden('esm2-8M-random').checkpoint;
    expect(cli(home, 'embed', '--model', checkpoint, '--fasta', join(home, 'set.fasta'), '--layers', '1', '--out', join(home, 'emb')).code).toBe(0);

    const fit = cli(home, 'fit', '--embeddings', join(home, 'emb', 'mean_layer1.npy'), '--ids', join(home, 'emb', 'ids.txt'), '--labels', join(home, 'labels.csv'),
      '--id-col', 'id', '--target', 'hydrophobic', '--learner', 'ridgecv', '--cv', '5', '--split', 'random', '--seed', '42', '--out', join(home, 'fit'));
    expect(fit.code, fit.err).toBe(0);
    const predictions = parse(readFileSync(join(home, 'fit', 'predictions.csv'), 'utf8'), { columns: true }) as { id: string; fold: string; y: string; yhat: string }[];
    expect(predictions.length).toBe(60);
    expect(new Set(predictions.map((p) => p.fold))).toEqual(new Set(['0', '1', '2', '3', '4']));
    const metrics = JSON.parse(readFileSync(join(home, 'fit', 'metrics.json'), 'utf8')) as { perFold: { r2: number }[]; mean: { r2: { mean: number } } };
    expect(metrics.perFold.length).toBe(5);
    expect(metrics.mean.r2.mean).toBeGreaterThan(0.5);
    const models = JSON.parse(readFileSync(join(home, 'fit', 'models.json'), 'utf8')) as { folds: unknown[] };
    expect(models.folds.length).toBe(5);

    const classes = cli(home, 'fit', '--embeddings', join(home, 'emb', 'mean_layer1.npy'), '--ids', join(home, 'emb', 'ids.txt'), '--labels', join(home, 'labels.csv'),
      '--target', 'group', '--learner', 'logreg', '--split', 'stratified', '--out', join(home, 'fit2'));
    expect(classes.code, classes.err).toBe(0);
    expect(classes.out).toMatch(/balancedAccuracy/);

    const wrong = cli(home, 'fit', '--embeddings', join(home, 'emb', 'mean_layer1.npy'), '--ids', join(home, 'emb', 'ids.txt'), '--labels', join(home, 'labels.csv'), '--target', 'group', '--learner', 'ridgecv', '--out', join(home, 'fit3'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('Row 1 (p0): "polar" in column "group" is not a number');
  });

  it('uses a project run instead of files', () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-'));
    writeFileSync(join(home, 'set.csv'), labelledCsv(40));
    expect(cli(home, 'import', '--project', 'P', '--csv', join(home, 'set.csv')).code).toBe(0);
    const embed = cli(home, 'embed', '--project', 'P', '--dataset', 'set', '--model', loadGolden('tiny').checkpoint, '--layers', '1');
    expect(embed.code, embed.err).toBe(0);
    const run = /Run (\d+)/.exec(embed.out)![1]!;
    const fit = cli(home, 'fit', '--project', 'P', '--run', run, '--target', 'hydrophobic', '--learner', 'knn', '--cv', '4', '--out', join(home, 'fit'));
    expect(fit.code, fit.err).toBe(0);
    expect(JSON.parse(readFileSync(join(home, 'fit', 'metrics.json'), 'utf8')).perFold.length).toBe(4);
    // Progress, fold by fold (stderr is not a terminal here: one line per step of 10 %).
    expect(fit.err).toMatch(/^\s*\d+%\s+fold 1 of 4 done$/m);
    expect(fit.err).toMatch(/^100%\s+fold 4 of 4 done$/m);

    // `runs` lists the run with its id; a wrong id, layer or pooling is named with what there is.
    const runs = cli(home, 'runs', '--project', 'P');
    expect(runs.code, runs.err).toBe(0);
    const lines = runs.out.trim().split('\n').map((line) => line.split('\t'));
    expect(lines[0]).toEqual(['id', 'kind', 'state', 'created', 'title']);
    expect(lines.slice(1).map((l) => [l[0], l[1], l[2]])).toEqual([[run, 'embed.dataset', 'done']]);
    expect(lines[1]![3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(lines[1]![4]).toMatch(/^Embeddings of set with /);
    const args = ['--target', 'hydrophobic', '--learner', 'knn', '--out', join(home, 'never')];
    const missing = cli(home, 'fit', '--project', 'P', '--run', '99', ...args);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`Project "P" has no run 99. Its embedding runs: ${run} (Embeddings of set with`);
    expect(missing.err).not.toContain('Infinity');
    const layer = cli(home, 'fit', '--project', 'P', '--run', run, '--layer', '5', ...args);
    expect(layer.err).toContain(`Run ${run} of "P" has no "mean" matrix of layer 5; it has mean_layer1.`);
    const pool = cli(home, 'fit', '--project', 'P', '--run', run, '--pool', 'bos', ...args);
    expect(pool.err).toContain(`Run ${run} of "P" has no "bos" matrix; it has mean_layer1.`);
  });

  it('writes the same predictions and fold models as the app\'s scan of the same embedding (one fitting path)', { timeout: 300_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-same-'));
    writeFileSync(join(home, 'set.csv'), labelledCsv(50));
    expect(cli(home, 'import', '--project', 'P', '--csv', join(home, 'set.csv')).code).toBe(0);
    const embed = cli(home, 'embed', '--project', 'P', '--dataset', 'set', '--model', loadGolden('tiny').checkpoint, '--layers', '2');
    expect(embed.code, embed.err).toBe(0);
    const run = /Run (\d+)/.exec(embed.out)![1]!;
    const fit = cli(home, 'fit', '--project', 'P', '--run', run, '--target', 'hydrophobic', '--learner', 'ridgecv', '--cv', '5', '--split', 'random', '--seed', '7', '--out', join(home, 'fit'));
    expect(fit.code, fit.err).toBe(0);

    const { host, call, finished, close } = openAppHost(home);
    try {
      const project = host.store.projects.findByName('P')!;
      const [dataset] = host.store.datasets.list(project.id);
      const embedding = host.store.embeddings.list(project.id, Number(run)).find((e) => e.pooling === 'mean')!;
      const job = await call<Job>('jobs.start', {
        kind: 'learn.scan', projectId: project.id, datasetId: dataset!.id, target: 'hydrophobic', embeddingIds: [embedding.id], learners: ['ridgecv'], split: { scheme: 'random', k: 5, seed: 7 },
      });
      const ended = await finished(job.id);
      expect(ended.error).toBeNull();
      const [appFit] = await call<Fit[]>('fits.list', { runId: job.runId });
      const folder = host.store.projects.folderOf(project.id)!;
      expect(readFileSync(join(folder, appFit!.predictionsPath), 'utf8')).toBe(readFileSync(join(home, 'fit', 'predictions.csv'), 'utf8'));
      const appModels = host.store.fits.get(appFit!.id)!.modelsPath;
      expect(JSON.parse(readFileSync(join(folder, appModels), 'utf8'))).toEqual(JSON.parse(readFileSync(join(home, 'fit', 'models.json'), 'utf8')));
      expect(JSON.parse(readFileSync(join(home, 'fit', 'metrics.json'), 'utf8')).perFold).toEqual(appFit!.perFold);
    } finally {
      close();
    }
  });

  it('fits several 0/1 columns at once with --learner ovr-logreg (multi-label), scored by Fmax', { timeout: 300_000 }, () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-multi-'));
    const rows = parse(labelledCsv(60), { columns: true }) as { id: string; sequence: string; hydrophobic: string; group: string }[];
    writeFileSync(join(home, 'set.fasta'), rows.map((r) => `>${r.id}\n${r.sequence}\n`).join(''));
    const labels = ['id,oily,over40,over60', ...rows.map((r) => `${r.id},${r.group === 'oily' ? 1 : 0},${Number(r.hydrophobic) > 0.4 ? 1 : 0},${Number(r.hydrophobic) > 0.6 ? 1 : 0}`)];
    writeFileSync(join(home, 'labels.csv'), labels.join('\n'));
    expect(cli(home, 'embed', '--model', loadGolden('esm2-8M-random').checkpoint, '--fasta', join(home, 'set.fasta'), '--layers', '1', '--out', join(home, 'emb')).code).toBe(0);
    const args = ['fit', '--embeddings', join(home, 'emb', 'mean_layer1.npy'), '--ids', join(home, 'emb', 'ids.txt'), '--labels', join(home, 'labels.csv'), '--learner', 'ovr-logreg', '--cv', '3'];
    const one = cli(home, ...args, '--target', 'oily', '--out', join(home, 'one'));
    expect(one.code).toBe(2);
    expect(one.err).toContain('two or more 0/1 columns');
    const fit = cli(home, ...args, '--target', 'oily,over40,over60', '--out', join(home, 'fit'));
    expect(fit.code, fit.err).toBe(0);
    expect(fit.out).toMatch(/^fmax 0\.\d+ ± /m);
    const metrics = JSON.parse(readFileSync(join(home, 'fit', 'metrics.json'), 'utf8')) as { task: string; perFold: { fmax: number }[]; mean: { auroc: { mean: number } } };
    expect(metrics.task).toBe('multilabel');
    expect(metrics.perFold).toHaveLength(3);
    expect(metrics.mean.auroc.mean).toBeGreaterThan(0.75);
    const predictions = parse(readFileSync(join(home, 'fit', 'predictions.csv'), 'utf8'), { columns: true }) as { id: string; y: string }[];
    const first = rows.find((r) => r.id === predictions[0]!.id)!;
    const expected = [first.group === 'oily' ? 'oily' : '', Number(first.hydrophobic) > 0.4 ? 'over40' : '', Number(first.hydrophobic) > 0.6 ? 'over60' : ''].filter(Boolean).join(';');
    expect(predictions[0]!.y).toBe(expected);
  });
});
