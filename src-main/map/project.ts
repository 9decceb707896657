/**
 * map/project — places the rows of an embedding matrix on a plane: PCA (the covariance matrix
 * accumulated here in blocks of rows with learn/kernels' SIMD Gram product, then only the
 * components wanted, by learn/eigen's top-k Krylov solver: ~1 s at D 1,280 where a full
 * decomposition took 89 s) and UMAP (umap-js, seeded, epoch by epoch). Every stage stops
 * between chunks of work when the user cancels. Pure numerics: no I/O, no job machinery; the
 * caller passes hooks for progress, cancelling and yielding.
 */
import { UMAP } from 'umap-js';
import { createRng } from '../core/rng';
import { topEigenpairsCancellable } from '../learn/eigen';
import { createArena, mirrorUpper } from '../learn/kernels';

export type MapMethod = 'pca' | 'umap';

export interface ProjectionSettings {
  method: MapMethod;
  /** UMAP: how many neighbours shape each point's neighbourhood (umap-learn's default 15). */
  nNeighbors: number;
  /** UMAP: how tightly points may pack (umap-learn's default 0.1). */
  minDist: number;
  /** UMAP: optimisation epochs; null lets umap-js choose (500 below 10,000 rows, else 200). */
  nEpochs: number | null;
  seed: number;
  /** UMAP: rows wider than this are first reduced to this many principal components (as scanpy does). */
  pcaDims: number;
}

export interface ProjectionHooks {
  progress(fraction: number, message: string): void;
  /** Throws when the user cancelled. */
  checkCancelled(): void;
  /** Lets queued messages (a cancel) through between chunks of work. */
  yieldNow(): Promise<void>;
}

export interface DenseMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface ProjectionResult {
  /** [rows, 2] row-major. */
  coords: Float32Array;
  /** PCA: the share of variance of the first two components. */
  explainedVariance: number[] | null;
}

/** A chunk of work is about this many multiply-adds between progress reports and cancel checks. */
const WORK_PER_CHUNK = 2e7;

export function checkMatrix(m: DenseMatrix): void {
  if (m.rows < 3) throw new Error(`A map needs at least 3 sequences; this matrix has ${m.rows}.`);
  if (m.data.length !== m.rows * m.cols) throw new Error(`The matrix holds ${m.data.length} values, not ${m.rows} × ${m.cols}.`);
  const bad = m.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`Row ${Math.floor(bad / m.cols) + 1} of the embeddings holds a value that is not a finite number.`);
}

function columnMeans(m: DenseMatrix): Float64Array {
  const means = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.cols;
    for (let c = 0; c < m.cols; c++) means[c]! += m.data[base + c]!;
  }
  for (let c = 0; c < m.cols; c++) means[c]! /= m.rows;
  return means;
}

/** Rows per block of the covariance: about 10 chunks of work each, and a few hundred at most. */
function rowsPerBlock(d: number): number {
  return Math.max(8, Math.min(512, Math.floor((10 * WORK_PER_CHUNK) / ((d * (d + 1)) / 2))));
}

/**
 * The sample covariance (divided by n − 1), d × d with both triangles filled. Blocks of centred
 * rows are laid out feature-major in a WebAssembly arena so that the Gram product runs as SIMD;
 * the user can cancel between blocks.
 */
async function covariance(m: DenseMatrix, means: Float64Array, hooks: ProjectionHooks, span: [number, number]): Promise<Float64Array> {
  const d = m.cols;
  const block = Math.min(m.rows, rowsPerBlock(d));
  const arena = createArena(d * d + d * block);
  const gram = arena.alloc(d * d);
  const centred = arena.alloc(d * block); // feature-major: centred[c * block + r]
  for (let r0 = 0; r0 < m.rows; r0 += block) {
    const count = Math.min(block, m.rows - r0);
    for (let r = 0; r < count; r++) {
      const base = (r0 + r) * d;
      for (let c = 0; c < d; c++) centred[c * block + r] = m.data[base + c]! - means[c]!;
    }
    arena.kernels.gramUpper(centred, d, block, 0, count, gram); // the samples of this block only
    hooks.checkCancelled();
    hooks.progress(span[0] + ((span[1] - span[0]) * (r0 + count)) / m.rows, `Covariance of ${d} dimensions: ${r0 + count} of ${m.rows} rows`);
    await hooks.yieldNow();
  }
  mirrorUpper(gram, d);
  const scale = 1 / (m.rows - 1);
  return Float64Array.from(gram, (value) => value * scale);
}

/**
 * The first `k` principal-component scores of every row ([rows, k] row-major, float64) and each
 * component's share of the total variance. Each component's sign is fixed so that its largest
 * loading is positive: the same data always gives the same picture, not a mirror image of it.
 */
export async function principalComponents(m: DenseMatrix, k: number, hooks: ProjectionHooks, span: [number, number] = [0, 1]): Promise<{ scores: Float64Array; explained: number[] }> {
  const means = columnMeans(m);
  const mid = span[0] + (span[1] - span[0]) * 0.85;
  const cov = await covariance(m, means, hooks, [span[0], mid]);
  const components = Math.min(k, m.cols);
  hooks.checkCancelled();
  hooks.progress(mid, `Eigen-decomposition of the covariance matrix: its ${components} leading components`);
  await hooks.yieldNow();
  const top = await topEigenpairsCancellable(cov, m.cols, components, async () => {
    hooks.checkCancelled();
    await hooks.yieldNow();
  });
  const loadings = top.vectors.map((vector) => orientedColumn(Array.from(vector)));
  const scores = new Float64Array(m.rows * components);
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.cols;
    for (let j = 0; j < components; j++) {
      const w = loadings[j]!;
      let s = 0;
      for (let c = 0; c < m.cols; c++) s += (m.data[base + c]! - means[c]!) * w[c]!;
      scores[r * components + j] = s;
    }
  }
  // The total variance is the trace: the sum of all eigenvalues, without computing them.
  let trace = 0;
  for (let c = 0; c < m.cols; c++) trace += cov[c * m.cols + c]!;
  hooks.progress(span[1], 'Principal components done');
  return { scores, explained: top.values.map((value) => (trace > 0 ? value / trace : 0)) };
}

function orientedColumn(column: number[]): number[] {
  let largest = 0;
  for (const v of column) if (Math.abs(v) > Math.abs(largest)) largest = v;
  return largest < 0 ? column.map((v) => -v) : column;
}

function rowsOf(values: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => values[r * cols + c]!));
}

/** umap-js needs fewer neighbours than rows. */
export function effectiveNeighbors(requested: number, rows: number): number {
  return Math.max(2, Math.min(requested, rows - 1));
}

async function umap(m: DenseMatrix, settings: ProjectionSettings, hooks: ProjectionHooks): Promise<Float32Array> {
  let input: number[][];
  let start = 0;
  if (m.cols > settings.pcaDims) {
    const reduced = await principalComponents(m, settings.pcaDims, hooks, [0, 0.2]);
    input = rowsOf(reduced.scores, m.rows, settings.pcaDims);
    start = 0.2;
  } else {
    input = rowsOf(m.data, m.rows, m.cols);
  }
  const rng = createRng(settings.seed);
  const model = new UMAP({
    nComponents: 2,
    nNeighbors: effectiveNeighbors(settings.nNeighbors, m.rows),
    minDist: settings.minDist,
    random: () => rng.next(),
    ...(settings.nEpochs ? { nEpochs: settings.nEpochs } : {}),
  });
  hooks.checkCancelled();
  hooks.progress(start, `Finding the ${effectiveNeighbors(settings.nNeighbors, m.rows)} nearest neighbours of ${m.rows} sequences`);
  await hooks.yieldNow();
  // One synchronous call (nearest-neighbour descent and the fuzzy graph); umap-js has no hook inside it.
  const epochs = model.initializeFit(input);
  const optimiseFrom = start + (1 - start) * 0.3;
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.step();
    if (epoch % 5 === 4 || epoch === epochs - 1) {
      hooks.checkCancelled();
      hooks.progress(optimiseFrom + ((1 - optimiseFrom) * (epoch + 1)) / epochs, `Optimising the layout: epoch ${epoch + 1} of ${epochs}`);
      await hooks.yieldNow();
    }
  }
  return Float32Array.from(model.getEmbedding().flat());
}

export async function project(m: DenseMatrix, settings: ProjectionSettings, hooks: ProjectionHooks): Promise<ProjectionResult> {
  checkMatrix(m);
  if (settings.method === 'pca') {
    const { scores, explained } = await principalComponents(m, 2, hooks);
    const coords = new Float32Array(m.rows * 2);
    const components = scores.length / m.rows;
    // A single-column matrix has one component: the second axis stays 0.
    for (let r = 0; r < m.rows; r++) {
      coords[r * 2] = scores[r * components]!;
      coords[r * 2 + 1] = components > 1 ? scores[r * components + 1]! : 0;
    }
    return { coords, explainedVariance: explained };
  }
  return { coords: await umap(m, settings, hooks), explainedVariance: null };
}
