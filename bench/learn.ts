/**
 * bench/learn — LassoCV speed on a protein-embedding-sized problem: 10,000 rows × 1,280 features
 * (ESM-2 650M's width), 5 outer folds, each a LassoCV with scikit-learn's defaults (100 alphas,
 * eps 1e-3, inner KFold(5), tol 1e-4, max_iter 1000) on standard-scaled training rows, scored by
 * test R². Ours (src-main/learn/linear.ts, one thread, WebAssembly SIMD kernels) is timed in this
 * process, after a measurement of the Gram-matrix kernel (plain JS vs SIMD). Then, when
 * `/usr/bin/python3 -c 'import sklearn'` works (override with $BENCH_PYTHON), the same problem is
 * written as .npy files and scikit-learn's LassoCV is timed on it in a Python subprocess on the
 * same machine, twice: n_jobs=1 with its BLAS held to one thread (like for like), and with the
 * defaults (n_jobs=None, BLAS on every core). The R² of every fold is compared with ours.
 *
 * The data: rows of Gaussian features correlated along the feature axis (AR(1), ρ 0.5), rounded
 * to float32 (what embeddings are stored as) so both sides fit exactly the same numbers, 20
 * non-zero true coefficients and Gaussian noise; folds are contiguous blocks of a seeded
 * permutation.
 *
 *   node --import tsx bench/learn.ts           full run (a few minutes on 2 cores)
 *   node --import tsx bench/learn.ts --quick   2,000 × 320, for a quick check
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { kFold } from '../src-main/learn/cv';
import { LassoCV, type FittedLinear } from '../src-main/learn/linear';
import { createArena, jsKernels, type Kernels } from '../src-main/learn/kernels';
import { featureMajor, matrix, takeRows, type Matrix } from '../src-main/learn/matrix';
import { fitScaler } from '../src-main/learn/scale';
import { createRng } from '../src-main/core/rng';
import { encodeNpy } from '../src-main/store/npy';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const ROWS = QUICK ? 2000 : 10_000;
const FEATURES = QUICK ? 320 : 1280;
const TRUE_NONZERO = 20;
const OUTER_FOLDS = 5;
const SEED = 20240601;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

interface Problem {
  X: Matrix;
  y: Float64Array;
  /** The outer fold of every row. */
  fold: Int32Array;
}

interface FoldResult {
  seconds: number;
  r2: number;
  alpha: number;
  nonZero: number;
}

function makeProblem(): Problem {
  const rng = createRng(SEED);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const rho = 0.5;
  const X = matrix(ROWS, FEATURES);
  const latent = new Float64Array(FEATURES);
  const coef = new Float64Array(FEATURES);
  for (let i = 0; i < TRUE_NONZERO; i++) coef[rng.nextInt(FEATURES)] = (rng.next() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.next());
  const y = new Float64Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    let signal = 0;
    for (let j = 0; j < FEATURES; j++) {
      latent[j] = j === 0 ? normal() : rho * latent[j - 1]! + Math.sqrt(1 - rho * rho) * normal();
      const value = Math.fround(latent[j]!);
      X.data[r * FEATURES + j] = value;
      signal += coef[j]! * value;
    }
    y[r] = 1 + signal + 2 * normal();
  }
  const fold = new Int32Array(ROWS);
  kFold(ROWS, OUTER_FOLDS, SEED).forEach((f, k) => f.test.forEach((row) => (fold[row] = k)));
  return { X, y, fold };
}

function rowsOf(fold: Int32Array, k: number, test: boolean): number[] {
  const rows: number[] = [];
  fold.forEach((f, r) => {
    if ((f === k) === test) rows.push(r);
  });
  return rows;
}

function r2(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < truth.length; i++) mean += truth[i]! / truth.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < truth.length; i++) {
    res += (truth[i]! - predicted[i]!) ** 2;
    tot += (truth[i]! - mean) ** 2;
  }
  return 1 - res / tot;
}

function runOurs(problem: Problem): FoldResult[] {
  const results: FoldResult[] = [];
  for (let k = 0; k < OUTER_FOLDS; k++) {
    const train = rowsOf(problem.fold, k, false);
    const test = rowsOf(problem.fold, k, true);
    const scaler = fitScaler(takeRows(problem.X, train), 'standard');
    const xTrain = scaler.transform(takeRows(problem.X, train));
    const yTrain = Float64Array.from(train, (r) => problem.y[r]!);
    const started = performance.now();
    const model: FittedLinear = new LassoCV().fit(xTrain, yTrain);
    const seconds = (performance.now() - started) / 1000;
    const predicted = model.predict(scaler.transform(takeRows(problem.X, test)));
    results.push({ seconds, r2: r2(Float64Array.from(test, (r) => problem.y[r]!), predicted), alpha: model.alpha, nonZero: model.nonZero() });
    console.log(`  ours, outer fold ${k + 1}: ${seconds.toFixed(1)} s, R² ${results[k]!.r2.toFixed(4)}, alpha ${model.alpha.toPrecision(4)}, ${model.nonZero()} non-zero`);
  }
  return results;
}

/** Multiply-adds per second of the Gram product XᵀX of one outer training set (the dominant cost), JS and SIMD kernels. */
function gramRates(problem: Problem): { js: number; simd: number | undefined } {
  const n = Math.round((ROWS * (OUTER_FOLDS - 1)) / OUTER_FOLDS);
  const arena = createArena(n * FEATURES + FEATURES * FEATURES + 64);
  const Xt = featureMajor(takeRows(problem.X, Array.from({ length: n }, (_, r) => r)), undefined, arena.alloc(n * FEATURES));
  const out = arena.alloc(FEATURES * FEATURES);
  const rate = (kernels: Kernels): number => {
    out.fill(0);
    const started = performance.now();
    kernels.gramUpper(Xt, FEATURES, n, 0, n, out);
    return ((n * FEATURES * (FEATURES + 1)) / 2 / (performance.now() - started)) * 1000;
  };
  return { js: rate(jsKernels), simd: arena.simd ? rate(arena.kernels) : undefined };
}

const SKLEARN_SCRIPT = String.raw`
import json, sys, time
import numpy as np
import sklearn
from sklearn.linear_model import LassoCV
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler
folder, n_jobs = sys.argv[1], (None if sys.argv[2] == 'None' else int(sys.argv[2]))
X = np.load(folder + '/X.npy').astype(np.float64)
y = np.load(folder + '/y.npy')
fold = np.load(folder + '/fold.npy')
out = []
for k in range(int(fold.max()) + 1):
    train, test = np.where(fold != k)[0], np.where(fold == k)[0]
    scaler = StandardScaler().fit(X[train])
    x_train, x_test = scaler.transform(X[train]), scaler.transform(X[test])
    started = time.perf_counter()
    model = LassoCV(n_jobs=n_jobs).fit(x_train, y[train])
    seconds = time.perf_counter() - started
    out.append(dict(seconds=seconds, r2=r2_score(y[test], model.predict(x_test)), alpha=float(model.alpha_), nonZero=int(np.count_nonzero(model.coef_))))
    print('  scikit-learn, outer fold %d: %.1f s, R2 %.4f' % (k + 1, seconds, out[-1]['r2']), file=sys.stderr, flush=True)
print(json.dumps(dict(version=sklearn.__version__, folds=out)))
`;

function sklearnAvailable(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

function writeProblem(problem: Problem, folder: string): void {
  writeFileSync(join(folder, 'X.npy'), encodeNpy({ dtype: 'float32', shape: [ROWS, FEATURES], data: Float32Array.from(problem.X.data) }));
  writeFileSync(join(folder, 'y.npy'), encodeNpy({ dtype: 'float64', shape: [ROWS], data: problem.y }));
  writeFileSync(join(folder, 'fold.npy'), encodeNpy({ dtype: 'int32', shape: [ROWS], data: problem.fold }));
  writeFileSync(join(folder, 'lasso_cv.py'), SKLEARN_SCRIPT);
}

function runSklearn(folder: string, nJobs: string, blasThreads: number | undefined): FoldResult[] | string {
  const threadVars = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'BLIS_NUM_THREADS'];
  const env = { ...process.env };
  for (const name of threadVars) {
    if (blasThreads === undefined) delete env[name];
    else env[name] = String(blasThreads);
  }
  const child = spawnSync(PYTHON, [join(folder, 'lasso_cv.py'), folder, nJobs], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 2 ** 24 });
  if (child.status !== 0) return `exit ${child.status ?? child.signal}`;
  return (JSON.parse(child.stdout) as { folds: FoldResult[] }).folds;
}

function main(): void {
  console.log(`LassoCV, ${ROWS} × ${FEATURES}, ${OUTER_FOLDS} outer folds × 100 alphas × inner KFold(5); ${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'})`);
  const problem = makeProblem();
  const rates = gramRates(problem);
  const simdRate = rates.simd === undefined ? 'WebAssembly SIMD unavailable' : `${(rates.simd / 1e9).toFixed(2)} with WebAssembly SIMD (used)`;
  console.log(`XᵀX kernel, G multiply-adds/s on one thread: ${(rates.js / 1e9).toFixed(2)} in plain JS, ${simdRate}`);
  const ours = runOurs(problem);
  const rows: string[][] = [summaryRow('ESM Studio (TypeScript + WebAssembly SIMD, 1 thread)', ours, ours)];

  const version = sklearnAvailable();
  if (version === undefined) {
    console.log(`\n${PYTHON} cannot import sklearn: scikit-learn not timed.`);
  } else {
    const folder = mkdtempSync(join(tmpdir(), 'esm-studio-bench-learn-'));
    try {
      writeProblem(problem, folder);
      for (const [label, nJobs, threads] of [
        [`scikit-learn ${version}, n_jobs=1, BLAS 1 thread`, '1', 1],
        [`scikit-learn ${version}, defaults (n_jobs=None, BLAS all cores)`, 'None', undefined],
      ] as const) {
        console.log(`${label}:`);
        const result = runSklearn(folder, nJobs, threads);
        rows.push(typeof result === 'string' ? [label, `failed (${result})`, '', '', '', ''] : summaryRow(label, result, ours));
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }
  console.log();
  console.log(markdownTable(['implementation', 'total s', 's / outer fold', 'mean test R²', 'max |ΔR²| vs ours', 'alphas (per fold)'], rows));
}

function summaryRow(label: string, results: FoldResult[], ours: FoldResult[]): string[] {
  const total = results.reduce((s, r) => s + r.seconds, 0);
  const meanR2 = results.reduce((s, r) => s + r.r2, 0) / results.length;
  const maxDelta = Math.max(...results.map((r, k) => Math.abs(r.r2 - ours[k]!.r2)));
  return [label, figure(total), figure(total / results.length), meanR2.toFixed(4), maxDelta.toExponential(1), results.map((r) => r.alpha.toPrecision(3)).join(' ')];
}

main();
