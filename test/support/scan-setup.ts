/**
 * test/support/scan-setup — a project ready for a scan, built through the API (any transport):
 * two installed models, a dataset whose numeric label is the hydrophobic fraction of each
 * sequence, embeddings of layers 1 and last (mean, BOS, per-residue) and an iDCT compression.
 */
import type { Job, StoredJob } from '../../src-main/api/schemas';
import { loadGolden } from './golden';
import { createRng } from '../../src-main/core/rng';

export type Call = <T>(method: string, input: unknown) => Promise<T>;
export type WaitForJob = (id: number) => Promise<StoredJob>;

const HYDROPHOBIC = new Set('AILMFVWY');

export function labelledCsv(count: number, seed = 3): string {
  // The project's seeded generator: a hand-rolled LCG here lost its low bits to float
  // rounding and wrote only 8 of the 20 amino acids (never D or E, so an "acidic" label was 0 everywhere).
  const rng = createRng(seed);
  const letters = 'ACDEFGHIKLMNPQRSTVWY';
  const next = (): number => Math.floor(rng.next() * 2 ** 32);
  const lines = ['id,sequence,hydrophobic,group'];
  for (let i = 0; i < count; i++) {
    // Vary the hydrophobic share from protein to protein so the label has a real spread.
    const bias = (i % 10) / 10;
    const sequence = Array.from({ length: 30 + (next() % 50) }, () => (next() / 2 ** 32 < bias ? 'LIVFMAWY'[next() % 8] : letters[next() % 20])).join('');
    const fraction = [...sequence].filter((c) => HYDROPHOBIC.has(c)).length / sequence.length;
    lines.push(`p${i},${sequence},${fraction.toFixed(4)},${fraction > 0.5 ? 'oily' : 'polar'}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function setUpScanProject(call: Call, waitFor: WaitForJob, count = 60) {
  for (const name of ['tiny', 'esm2-8M-random'] as const) {
    const job = await call<Job>('jobs.start', { kind: 'model.install', path: loadGolden(name).checkpoint });
    const done = await waitFor(job.id);
    if (done.state !== 'done') throw new Error(`install ${name}: ${done.error}`);
  }
  const models = await call<{ id: number }[]>('models.list', {});
  const project = await call<{ id: number }>('projects.create', { name: `Scan ${Date.now()}` });
  const { dataset } = await call<{ dataset: { id: number } }>('datasets.import', {
    projectId: project.id,
    source: { kind: 'text', fileName: 'oily.csv', text: labelledCsv(count) },
  });
  const embed = await call<Job>('jobs.start', {
    kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: models.map((m) => m.id), layers: [1, -1], pool: ['mean', 'bos', 'per-token'],
  });
  if ((await waitFor(embed.id)).state !== 'done') throw new Error('embedding failed');
  const perToken = (await call<{ id: number; pooling: string }[]>('embeddings.list', { projectId: project.id })).filter((e) => e.pooling === 'per-token');
  for (const e of perToken) {
    const job = await call<Job>('jobs.start', { kind: 'embeddings.compress', embeddingId: e.id, compression: 'idct_3x8' });
    if ((await waitFor(job.id)).state !== 'done') throw new Error('compression failed');
  }
  const matrices = (await call<{ id: number; pooling: string }[]>('embeddings.list', { projectId: project.id })).filter((e) => e.pooling !== 'per-token');
  return { project, dataset, models, matrices };
}
