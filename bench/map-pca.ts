/**
 * bench/map-pca — the Map page's PCA at ESM-2 650M's width: D 1,280 columns, 10,000 rows
 * (--quick: 2,000), through map/project's principalComponents (covariance by learn/kernels' SIMD
 * Gram product in blocks of rows, then the top-2 eigenvectors by learn/eigen's Krylov solver).
 * Prints the time of each stage (from the progress messages) and the total, and how often the
 * computation offered to stop (cancel checks) while finding the eigenvectors. Before issue 13 the
 * eigen step was ml-pca's full O(D³) decomposition: 89 s at D 1,280 on the reference machine,
 * with no way to cancel.
 *
 *   node --import tsx bench/map-pca.ts           10,000 × 1,280
 *   node --import tsx bench/map-pca.ts --quick   2,000 × 1,280
 */
import { cpus } from 'node:os';
import { createRng } from '../src-main/core/rng';
import { principalComponents, type DenseMatrix, type ProjectionHooks } from '../src-main/map/project';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const ROWS = QUICK ? 2000 : 10_000;
const COLS = 1280;

/** Rows along 8 planted directions of decreasing spread, plus noise in every dimension (float32, like embeddings). */
function embeddingLike(): DenseMatrix {
  const rng = createRng(1280);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const directions = Array.from({ length: 8 }, () => Float64Array.from({ length: COLS }, normal));
  const data = new Float32Array(ROWS * COLS);
  for (let r = 0; r < ROWS; r++) {
    const weights = directions.map((_, k) => (8 - k) * normal());
    for (let c = 0; c < COLS; c++) {
      let value = 0.3 * normal();
      for (let k = 0; k < directions.length; k++) value += weights[k]! * directions[k]![c]!;
      data[r * COLS + c] = value;
    }
  }
  return { data, rows: ROWS, cols: COLS };
}

async function main(): Promise<void> {
  const m = embeddingLike();
  let stage = 'covariance';
  let stageStart = performance.now();
  const stages: [string, number][] = [];
  let checksWhileSolving = 0;
  const hooks: ProjectionHooks = {
    progress: (_fraction, message) => {
      const next = /Eigen-decomposition/.test(message) ? 'top-2 eigenvectors and scores' : /done/.test(message) ? 'end' : stage;
      if (next === stage) return;
      stages.push([stage, (performance.now() - stageStart) / 1000]);
      stage = next;
      stageStart = performance.now();
    },
    checkCancelled: () => {
      if (stage !== 'covariance') checksWhileSolving++;
    },
    yieldNow: () => new Promise((resolve) => setImmediate(resolve)),
  };
  const start = performance.now();
  const { explained } = await principalComponents(m, 2, hooks);
  const total = (performance.now() - start) / 1000;
  console.log(`Map PCA, ${ROWS} × ${COLS} float32, top 2 components; ${cpus().length} CPU cores (${cpus()[0]?.model.trim() ?? 'unknown'})`);
  console.log(
    markdownTable(
      ['stage', 'seconds'],
      [...stages.map(([name, seconds]) => [name, figure(seconds)]), ['total', figure(total)]],
    ),
  );
  console.log(`explained variance: ${explained.map((v) => v.toFixed(4)).join(', ')}; cancel checks while solving: ${checksWhileSolving}`);
}

await main();
