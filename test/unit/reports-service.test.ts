/**
 * services/reports over a real store (no compute process): a report of a run is written into the
 * project's exports folder with the dataset, model checksum (from the model's manifest.json),
 * curves and out-of-fold predictions; reports are listed; paths outside the folder are refused;
 * PDF printing is refused without a printer and uses the host's printer when there is one.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { assertBuilt, ROOT } from '../support/serve';

let host: Host | undefined;
afterEach(() => host?.close());

async function setUp(printPdf?: (html: string, pdf: string) => Promise<void>) {
  const home = mkdtempSync(join(tmpdir(), 'esm-reports-'));
  host = createHost({ home, transport: 'cli', printPdf });
  const h = host;
  const call = async <T>(method: string, input: unknown): Promise<T> => {
    const envelope = await h.dispatch(method, input);
    if (!envelope.ok) throw new Error(envelope.error.message);
    return envelope.value as T;
  };
  const project = await call<{ id: number }>('projects.create', { name: 'Reports' });
  const csv = 'id,sequence,score\na,MKTAYIAK,1.5\nb,MKV,2\nc,MKTAYIAKQRQISFVKSHFSRQ,3\n';
  const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', { projectId: project.id, name: '<script>x</script>', source: { kind: 'text', fileName: 's.csv', text: csv } });
  const modelDir = join(home, 'models', 'tiny');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify({ source: { checksum: 'sha256:feedface' } }));
  const modelId = h.store.models.insert({ name: 'tiny', family: 'ESM-2', catalogId: null, layers: 2, hiddenSize: 8, precision: 'fp32', sizeBytes: 4000, source: 'test', path: modelDir });
  return { home, call, project, dataset, modelId, h };
}

describe('reports of runs', () => {
  it('writes a report with the dataset, model checksum and curves, and lists it', async () => {
    const { call, project, dataset, home, h } = await setUp();
    // A fine-tuning run keeps its model's folder, not its id: the report finds the model by it.
    const settings = { task: 'regression', lr: 0.001, epochs: 3, loraR: 8, split: { scheme: 'random', k: 5 } };
    const params = { datasetId: dataset.id, modelDir: join(home, 'models', 'tiny'), modelName: 'tiny', runDir: 'runs/1', settings, device: 'cuda' };
    const runId = h.store.runs.insert({ projectId: project.id, kind: 'train.finetune', title: 'LoRA on score', params });
    h.store.runs.addMetrics(runId, [1, 2, 3].flatMap((step) => [{ step, name: 'loss', value: 2 / step }, { step, name: 'val_loss', value: 2.5 / step }]));
    const events: string[] = [];
    h.events.subscribe((e) => events.push(e.type));

    const report = await call<{ name: string; path: string; runId: number; pdf: string | null }>('reports.create', { runId });
    expect(report.name).toMatch(new RegExp(`^report-run${runId}-\\d{8}-\\d{6}\\.html$`));
    expect(report.runId).toBe(runId);
    expect(report.pdf).toBeNull();
    expect(events).toContain('runs');
    const html = readFileSync(report.path, 'utf8');
    expect(html).toContain('sha256:feedface');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).toContain('min 3, median 8, mean 11, max 22'); // lengths 3, 8, 22
    // Parameters in words: the settings one per row, nested values without braces, no internal names.
    expect(html).toContain('<td>Epochs</td><td>3</td>');
    expect(html).toContain('<td>Learning rate</td><td>0.001</td>');
    expect(html).toContain('<td>LoRA rank</td><td>8</td>');
    expect(html).toContain('<td>Cross-validation</td><td>scheme random · folds 5</td>');
    const parameterCells = /<table class="parameters">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(parameterCells).not.toMatch(/[{}]/);
    expect(html).not.toContain('train.finetune');
    expect(html).toContain('Fine-tuning run');
    expect(html).toMatch(/<td>tiny<\/td><td>ESM-2<\/td>/);
    expect(html).toContain('<dt>Device</dt><dd>cuda</dd>');
    expect(html.match(/<svg /g)).toHaveLength(2); // loss per step; validation loss

    const listed = await call<{ name: string }[]>('reports.list', { projectId: project.id });
    expect(listed.map((r) => r.name)).toEqual([report.name]);
    const exportsList = await call<{ name: string }[]>('exports.list', { projectId: project.id });
    expect(exportsList.map((f) => f.name)).toContain(report.name);
  });

  it('reads a fit\'s out-of-fold predictions and reports the runs with metric series', async () => {
    const { home, call, project, dataset, h } = await setUp();
    const runId = h.store.runs.insert({ projectId: project.id, kind: 'learn.scan', title: 'Scan', params: { datasetId: dataset.id, target: 'score' } });
    const folder = h.store.projects.folderOf(project.id)!;
    mkdirSync(join(folder, 'runs', String(runId)), { recursive: true });
    writeFileSync(join(folder, 'runs', String(runId), '1-ridgecv-predictions.csv'), 'id,fold,y,yhat\na,0,1.5,1.4\nb,1,2,2.25\n"c,3",0,3,2.5\n');
    h.store.fits.upsert({
      runId, embeddingId: null, modelName: 'tiny', modelFamily: 'ESM-2', modelParameters: 1000, layer: -1, pooling: 'mean', learner: 'ridgecv', task: 'regression', target: 'score',
      summary: { r2: { mean: 0.5, sd: 0.1, n: 2 } }, perFold: [], predictionsPath: `runs/${runId}/1-ridgecv-predictions.csv`, modelsPath: 'x.json',
    });
    const fitId = h.store.fits.list(runId)[0]!.id;
    const predictions = await call<{ ids: string[]; measured: number[]; predicted: number[]; folds: number[] }>('fits.predictions', { fitId });
    expect(predictions.ids).toEqual(['a', 'b', 'c,3']);
    expect(predictions.measured).toEqual([1.5, 2, 3]);
    expect(predictions.predicted).toEqual([1.4, 2.25, 2.5]);
    expect(predictions.folds).toEqual([0, 1, 0]);

    const report = await call<{ path: string }>('reports.create', { runId });
    const html = readFileSync(report.path, 'utf8');
    expect(html).toContain('<table class="metrics">');
    expect(html).toMatch(/data-n="3"/);

    const other = h.store.runs.insert({ projectId: project.id, kind: 'finetune', title: 'ft', params: {} });
    h.store.runs.addMetrics(other, [{ step: 4, name: 'loss', value: 1 }, { step: 9, name: 'lr', value: 0.1 }]);
    expect(await call('runs.withMetrics', { projectId: project.id })).toEqual([{ runId: other, names: ['loss', 'lr'], points: 2, lastStep: 9 }]);
    void home;
  });

  it('refuses names outside the exports folder, and prints a PDF only where the host can', async () => {
    const printed: string[] = [];
    const { call, project, h } = await setUp(async (html, pdf) => {
      printed.push(html);
      writeFileSync(pdf, '%PDF-1.4 test');
    });
    const runId = h.store.runs.insert({ projectId: project.id, kind: 'system.benchmark', title: 'Bench', params: { seconds: 1 } });
    const report = await call<{ name: string; path: string }>('reports.create', { runId });
    expect(() => h.reports.reportPath(project.id, '../esm-studio.sqlite')).toThrow(/not found/);
    expect(() => h.reports.reportPath(project.id, 'report-run1-x.npy')).toThrow(/not found/);
    const withPdf = await call<{ pdf: string | null }>('reports.pdf', { projectId: project.id, name: report.name });
    expect(printed).toEqual([report.path]);
    expect(withPdf.pdf).toBe(report.name.replace(/\.html$/, '.pdf'));
    // The PDF lies beside the report but is not listed as a report of its own.
    expect((await call<unknown[]>('reports.list', { projectId: project.id })).length).toBe(1);
    host!.close();

    const plain = await setUp();
    const id = plain.h.store.runs.insert({ projectId: plain.project.id, kind: 'system.benchmark', title: 'Bench', params: {} });
    const made = await plain.call<{ name: string }>('reports.create', { runId: id });
    await expect(plain.call('reports.pdf', { projectId: plain.project.id, name: made.name })).rejects.toThrow(/desktop app/);
  });

  it('announces new metric values of a running job, and reports them as curves', async () => {
    assertBuilt();
    host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-reports-live-')), transport: 'cli', launcher: nodeComputeLauncher(join(ROOT, 'out', 'main', 'compute.js')) });
    const h = host;
    const project = h.projects.create('Live');
    const announced: { projectId: number; runId: number }[] = [];
    h.events.subscribe((event) => {
      if (event.type === 'metrics') announced.push({ projectId: event.projectId, runId: event.runId });
    });
    const envelope = await h.dispatch('jobs.start', { kind: 'system.benchmark', projectId: project.id, seconds: 1, size: 32 });
    if (!envelope.ok) throw new Error(envelope.error.message);
    const job = envelope.value as Job;
    await new Promise<void>((resolve) => {
      const unsubscribe = h.events.subscribe((event) => {
        if (event.type === 'job' && event.job.id === job.id && event.job.state === 'done') {
          unsubscribe();
          resolve();
        }
      });
    });
    const runId = h.store.jobs.get(job.id)!.runId!;
    const recorded = h.store.runs.metrics(runId);
    expect(recorded.length).toBeGreaterThan(0);
    expect(announced.length).toBeGreaterThan(0);
    expect(announced.every((a) => a.projectId === project.id && a.runId === runId)).toBe(true);
    const envelopeReport = await h.dispatch('reports.create', { runId });
    if (!envelopeReport.ok) throw new Error(envelopeReport.error.message);
    const html = readFileSync((envelopeReport.value as { path: string }).path, 'utf8');
    expect(html).toContain('<section id="curves">');
    for (const name of new Set(recorded.map((m) => m.name))) expect(html).toContain(`<td>${name}</td>`);
  });
});
