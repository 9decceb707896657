/**
 * `esm-studio fit --annotations … --ontology …`: GO terms from an annotation table, propagated on
 * the bundled tiny ontology (test/fixtures/ontology), fitted as multi-label targets and scored by
 * CAFA's Fmax and Smin per namespace; an unknown term stops the fit naming the file, line and field.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { encodeNpy } from '../../src-main/store/npy';
import { assertBuilt, ROOT } from '../support/serve';

const OBO = join(ROOT, 'test', 'fixtures', 'ontology', 'tiny-go.obo');

function cli(home: string, ...args: string[]) {
  assertBuilt();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'esm-studio.js'), ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** 60 proteins with 6 features; hydrolase iff x0 > 0, binding iff x1 > 0, catabolic iff x2 > 0 (leaf terms only). */
function writeInputs(home: string): void {
  const random = createRng(3);
  const n = 60;
  const d = 6;
  const x = Float32Array.from({ length: n * d }, () => random.next() * 2 - 1);
  const ids = Array.from({ length: n }, (_, i) => `P${i}`);
  writeFileSync(join(home, 'emb.npy'), encodeNpy({ dtype: 'float32', shape: [n, d], data: x }));
  writeFileSync(join(home, 'ids.txt'), `${ids.join('\n')}\n`);
  const rows = ids.map((id, i) => {
    const terms = [x[i * d]! > 0 ? 'GO:0016788' : '', x[i * d + 1]! > 0 ? 'GO:0005488' : '', x[i * d + 2]! > 0 ? 'GO:0009056' : ''].filter(Boolean);
    return `${id},${terms.join(';')}`;
  });
  writeFileSync(join(home, 'annotations.csv'), ['id,go_terms', ...rows].join('\n'));
}

describe('esm-studio fit --annotations', () => {
  it('fits propagated GO terms and reports Fmax and Smin per namespace', { timeout: 300_000 }, () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-go-'));
    writeInputs(home);
    const args = ['fit', '--embeddings', join(home, 'emb.npy'), '--ids', join(home, 'ids.txt'), '--learner', 'ovr-logreg', '--cv', '3'];
    const fit = cli(home, ...args, '--annotations', join(home, 'annotations.csv'), '--ontology', OBO, '--min-count', '5', '--out', join(home, 'fit'));
    expect(fit.code, fit.err).toBe(0);
    expect(fit.out).toMatch(/^fmax 0\.\d+ ± \d\.\d+, smin \d\.\d+ ± \d\.\d+, fmaxBP [01]\.\d+ ± \d\.\d+, fmaxMF [01]\.\d+/m);
    const metrics = JSON.parse(readFileSync(join(home, 'fit', 'metrics.json'), 'utf8')) as {
      target: string;
      terms: { id: string; namespace: string }[];
      perFold: Record<string, number>[];
      mean: Record<string, { mean: number }>;
    };
    // alt id GO:0016788 → hydrolase; propagated: catalytic activity, metabolic process. Roots are not labels.
    expect(metrics.terms.map((t) => t.id)).toEqual(['GO:0008152', 'GO:0009056', 'GO:0003824', 'GO:0005488', 'GO:0016787']);
    expect(metrics.target).toBe('5 terms of annotations.csv');
    expect(metrics.perFold).toHaveLength(3);
    // The features decide the terms, so a linear model ranks them well.
    expect(metrics.mean.fmax!.mean).toBeGreaterThan(0.7);
    expect(metrics.mean.fmaxMF!.mean).toBeGreaterThan(0.7);
    for (const key of ['smin', 'sminMF', 'sminBP', 'microAuprc', 'auprcMF', 'microAuprcBP']) expect(metrics.mean[key], key).toBeDefined();

    const wrongLearner = cli(home, ...args.slice(0, -4), '--learner', 'logreg', '--annotations', join(home, 'annotations.csv'), '--ontology', OBO, '--out', join(home, 'x'));
    expect(wrongLearner.code).toBe(2);
    expect(wrongLearner.err).toContain('use a multi-label learner (ovr-logreg)');
  });

  it('stops on a term the ontology does not know, naming the file, line and field', () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-fit-go-'));
    writeInputs(home);
    const text = readFileSync(join(home, 'annotations.csv'), 'utf8').split('\n');
    text[3] = 'P2,GO:0016787;GO:1234567';
    writeFileSync(join(home, 'annotations.csv'), text.join('\n'));
    const fit = cli(home, 'fit', '--embeddings', join(home, 'emb.npy'), '--ids', join(home, 'ids.txt'), '--learner', 'ovr-logreg',
      '--annotations', join(home, 'annotations.csv'), '--ontology', OBO, '--out', join(home, 'fit'));
    expect(fit.code).toBe(1);
    expect(fit.err).toContain('annotations.csv, line 4: GO:1234567 in field "go_terms" is not a term of tiny-go.obo');
  });
});
