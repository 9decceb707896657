/**
 * datasets.annotate: GO terms from an annotation table become 0/1 label columns of a dataset
 * (propagated on the bundled tiny ontology, each column knowing its namespace and parents), and a
 * multi-label scan on those columns reports CAFA's scores per namespace. Bad files are refused
 * naming the file, line and field, and leave the dataset as it was.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset, Fit, Job, StoredJob } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost } from '../../src-main/services';
import { loadGolden } from '../support/golden';
import { labelledCsv } from '../support/scan-setup';
import { assertBuilt, ROOT } from '../support/serve';

const OBO = join(ROOT, 'test', 'fixtures', 'ontology', 'tiny-go.obo');

function hostAndHelpers() {
  assertBuilt();
  const host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-annotate-')), transport: 'cli', launcher: nodeComputeLauncher(join(ROOT, 'out', 'main', 'compute.js')) });
  const call = async <T>(method: string, input: unknown): Promise<T> => {
    const envelope = await host.dispatch(method, input);
    if (!envelope.ok) throw new Error(envelope.error.message);
    return envelope.value as T;
  };
  const waitFor = (id: number): Promise<StoredJob> =>
    new Promise((resolve) => {
      const finished = (job?: StoredJob): boolean => !!job && ['done', 'failed', 'cancelled'].includes(job.state);
      const now = host.store.jobs.get(id);
      if (finished(now)) return resolve(now!);
      const unsubscribe = host.events.subscribe((event) => {
        if (event.type === 'job' && event.job.id === id && finished(event.job)) {
          unsubscribe();
          resolve(event.job);
        }
      });
    });
  return { host, call, waitFor };
}

const share = (sequence: string, letters: string): number => [...sequence].filter((c) => letters.includes(c)).length / sequence.length;

describe('datasets.annotate', () => {
  it('adds propagated GO terms as label columns, and a scan on them reports Fmax and Smin per namespace', { timeout: 300_000 }, async () => {
    const { call, waitFor } = hostAndHelpers();
    const install = await call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('esm2-8M-random').checkpoint });
    expect((await waitFor(install.id)).state).toBe('done');
    const [model] = await call<{ id: number }[]>('models.list', {});
    const project = await call<{ id: number }>('projects.create', { name: 'GO' });
    const csv = labelledCsv(60);
    const { dataset } = await call<{ dataset: Dataset }>('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'set.csv', text: csv } });
    const rows = csv.trim().split('\n').slice(1).map((line) => ({ id: line.split(',')[0]!, sequence: line.split(',')[1]! }));
    const median = (letters: string): number => rows.map((r) => share(r.sequence, letters)).sort((a, b) => a - b)[30]!;
    const [oily, acidic, aromatic] = [median('AILMFVW'), median('DE'), median('FWY')];
    // Leaf terms only (hydrolase by its alt id); p59 is not annotated at all.
    const lines = rows.slice(0, 59).map((r) => {
      const terms = [share(r.sequence, 'AILMFVW') > oily ? 'GO:0016788' : '', share(r.sequence, 'DE') > acidic ? 'GO:0005488' : '', share(r.sequence, 'FWY') > aromatic ? 'GO:0009056' : ''];
      return `${r.id},${terms.filter(Boolean).join(';')}`;
    });
    const annotations = { kind: 'text', fileName: 'terms.csv', text: ['id,terms', ...lines].join('\n') };

    // An unknown term is refused where it was written, and nothing is added.
    const bad = { ...annotations, text: annotations.text.replace('p3,', 'p3,GO:7777777;') };
    await expect(call('datasets.annotate', { datasetId: dataset.id, annotations: bad, ontology: { kind: 'path', path: OBO }, minCount: 3 })).rejects.toThrow(
      /terms\.csv, line 5: GO:7777777 in field "terms" is not a term of tiny-go\.obo/,
    );
    expect((await call<Dataset[]>('datasets.list', { projectId: project.id }))[0]!.labelColumns.map((c) => c.name)).toEqual(['hydrophobic', 'group']);

    const result = await call<{ dataset: Dataset; terms: number; annotated: number; notices: string[] }>('datasets.annotate', {
      datasetId: dataset.id, annotations, ontology: { kind: 'text', fileName: 'tiny-go.obo', text: readFileSync(OBO, 'utf8') }, minCount: 3,
    });
    expect(result.terms).toBe(5);
    expect(result.annotated).toBe(59);
    expect(result.notices.join(' ')).toMatch(/1 dataset protein\(s\) have no annotations/);
    const termColumns = result.dataset.labelColumns.filter((c) => c.term);
    expect(termColumns.map((c) => [c.name, c.term!.namespace, c.term!.parents])).toEqual([
      ['GO:0008152', 'biological_process', []],
      ['GO:0009056', 'biological_process', ['GO:0008152']],
      ['GO:0003824', 'molecular_function', []],
      ['GO:0005488', 'molecular_function', []],
      ['GO:0016787', 'molecular_function', ['GO:0003824']],
    ]);
    const { rows: stored } = await call<{ rows: { seqId: string; labels: Record<string, number | null> }[] }>('datasets.sequences', { datasetId: dataset.id, limit: 60 });
    const p0 = rows[0]!;
    expect(stored[0]!.labels['GO:0016787']).toBe(share(p0.sequence, 'AILMFVW') > oily ? 1 : 0);
    expect(stored[0]!.labels['GO:0003824']).toBe(stored[0]!.labels['GO:0016787']); // propagated to catalytic activity
    expect(stored[59]!.labels['GO:0016787']).toBeNull(); // not annotated: unknown, left out
    expect(stored[0]!.labels.hydrophobic).toBeTypeOf('number'); // the imported columns stay

    const embed = await call<Job>('jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [model!.id], layers: [1], pool: ['mean'] });
    expect((await waitFor(embed.id)).state).toBe('done');
    const [matrix] = await call<{ id: number }[]>('embeddings.list', { projectId: project.id });
    const targets = termColumns.map((c) => c.name);
    const job = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: targets.join(','), targets, embeddingIds: [matrix!.id], learners: ['ovr-logreg'], split: { scheme: 'random', k: 3, seed: 1 },
    });
    const done = await waitFor(job.id);
    expect(done.error).toBeNull();
    const [fit] = await call<Fit[]>('fits.list', { runId: done.runId });
    expect(fit!.perFold).toHaveLength(3);
    expect(fit!.perFold[0]!.fmax).toBeGreaterThan(0);
    for (const key of ['fmaxMF', 'fmaxBP', 'sminMF', 'sminBP', 'smin', 'microAuprc', 'auprcMF']) expect(fit!.summary[key], key).toBeDefined();
    expect(fit!.summary.fmaxMF!.mean).toBeGreaterThan(0.5);

    // Annotating again replaces the term columns: molecular function alone drops the BP columns.
    const again = await call<{ dataset: Dataset }>('datasets.annotate', { datasetId: dataset.id, annotations, ontology: { kind: 'path', path: OBO }, minCount: 3, namespaces: ['molecular_function'] });
    expect(again.dataset.labelColumns.map((c) => c.name)).toEqual(['hydrophobic', 'group', 'GO:0003824', 'GO:0005488', 'GO:0016787']);
    const { rows: after } = await call<{ rows: { labels: Record<string, number | null> }[] }>('datasets.sequences', { datasetId: dataset.id, limit: 1 });
    expect(Object.keys(after[0]!.labels).sort()).toEqual(['GO:0003824', 'GO:0005488', 'GO:0016787', 'group', 'hydrophobic']);
  });
});
