/**
 * test/support/map-setup — a project ready for the Map page without running a model: a dataset
 * of `count` short sequences with a categorical label (family) and a numeric one (score), and a
 * stored embedding matrix in which each family is a cluster and the score a direction inside
 * it. Written through the services and the store before serve starts (the projection itself is
 * then a real job). Shared by test/e2e/map.test.ts and bench/map.ts.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createRng } from '../../src-main/core/rng';
import { createHost } from '../../src-main/services';
import { writeNpyAtomic } from '../../src-main/store/npy';

export const FAMILIES = ['alpha', 'beta', 'gamma', 'delta'] as const;

export interface MapProject {
  projectId: number;
  datasetId: number;
  embeddingId: number;
  /** The family and score of each row, as written. */
  family: string[];
  score: number[];
}

function gaussian(rng: ReturnType<typeof createRng>): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function syntheticRows(count: number, seed: number): { csv: string; family: string[]; score: number[] } {
  const rng = createRng(seed);
  const letters = 'ACDEFGHIKLMNPQRSTVWY';
  const lines = ['id,sequence,family,score'];
  const family: string[] = [];
  const score: number[] = [];
  for (let i = 0; i < count; i++) {
    const f = FAMILIES[rng.nextInt(FAMILIES.length)]!;
    const s = Math.round(rng.next() * 1000) / 100;
    const sequence = Array.from({ length: 12 + rng.nextInt(20) }, () => letters[rng.nextInt(20)]).join('');
    family.push(f);
    score.push(s);
    lines.push(`s${i},${sequence},${f},${s}`);
  }
  return { csv: `${lines.join('\n')}\n`, family, score };
}

/** Family f is a cluster around 8 · e_f; the score moves points along the last axis. */
function syntheticMatrix(family: string[], score: number[], dims: number, seed: number): Float32Array {
  const rng = createRng(seed + 1);
  const data = new Float32Array(family.length * dims);
  family.forEach((f, i) => {
    const centre = FAMILIES.indexOf(f as (typeof FAMILIES)[number]);
    for (let d = 0; d < dims; d++) data[i * dims + d] = (d === centre ? 8 : 0) + gaussian(rng);
    data[i * dims + dims - 1] = score[i]! / 2 + 0.3 * gaussian(rng);
  });
  return data;
}

export function seedMapProject(home: string, count: number, dims = 16, seed = 5): MapProject {
  const host = createHost({ home, transport: 'cli' });
  try {
    const project = host.projects.create('Map study');
    const rows = syntheticRows(count, seed);
    const { dataset } = host.datasets.import({ projectId: project.id, name: 'families', source: { kind: 'text', fileName: 'families.csv', text: rows.csv }, options: {}, accept: false });
    const { store } = host;
    const runId = store.runs.insert({ projectId: project.id, kind: 'embed.dataset', title: `Synthetic embeddings of families`, params: { datasetId: dataset.id } });
    store.runs.setState(runId, 'done');
    const path = `runs/${runId}/synthetic/mean_layer6.npy`;
    writeNpyAtomic(join(store.projects.folderOf(project.id)!, path), { dtype: 'float32', shape: [count, dims], data: syntheticMatrix(rows.family, rows.score, dims, seed) });
    const embeddingId = store.embeddings.upsert({ runId, datasetId: dataset.id, modelId: null, modelName: 'synthetic', layer: 6, pooling: 'mean', path, offsetsPath: null, rows: count, cols: dims, checksum: 'synthetic' });
    return { projectId: project.id, datasetId: dataset.id, embeddingId, family: rows.family, score: rows.score };
  } finally {
    host.close();
  }
}

/**
 * Pixels of the map's WebGL canvas (its drawing buffer is preserved) that differ from its
 * background (the top-left pixel), and how many distinct colours (4 bits a channel) they have.
 */
export function mapCanvasPixels(page: Page): Promise<{ painted: number; colours: number }> {
  return page.getByTestId('map-canvas').evaluate((canvas: HTMLCanvasElement) => {
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const context = copy.getContext('2d')!;
    context.drawImage(canvas, 0, 0);
    const { data } = context.getImageData(0, 0, copy.width, copy.height);
    const [r0, g0, b0] = [data[0]!, data[1]!, data[2]!];
    let painted = 0;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i]! - r0) + Math.abs(data[i + 1]! - g0) + Math.abs(data[i + 2]! - b0) > 30) {
        painted++;
        colours.add(((data[i]! >> 4) << 8) | ((data[i + 1]! >> 4) << 4) | (data[i + 2]! >> 4));
      }
    }
    return { painted, colours: colours.size };
  });
}
