/**
 * bench/learn — LassoCV speed, ours next to scikit-learn's on the same folds, on three problems:
 *
 *  - embeddings: mean embeddings of a mutation scan, the strongly collinear case users wait on —
 *    456 single variants of TEM-1 β-lactamase (every 12th row of BLAT_ECOLX_Ostermeier2014.csv,
 *    target = its assay score) embedded with the golden random-weight ESM-2 8M checkpoint (320
 *    dimensions; converted and embedded in this process, ~20 s). Read from ../shared/data/dms and
 *    ../shared/golden/esm2-8M-random/checkpoint next to the repository, or $BENCH_DMS_DIR and
 *    $BENCH_ESM_CHECKPOINT. Without them a synthetic 456 × 320 matrix with the same spectrum is
 *    used instead, and labelled so.
 *  - collinear: a synthetic 2,000 × 1,280 (ESM-2 650M's width) matrix with an embedding-like
 *    spectrum: X = Z·diag(s)·Vᵀ + offsets, Z Gaussian, V orthogonal, s falling 300× log-linearly
 *    over the first 300 dimensions and on (floored at 1e-6), which standard scaling turns into the
 *    ≈ 600× fall of real embeddings; the target depends on the 20 leading latent directions.
 *  - ar1: 10,000 × 1,280 Gaussian features correlated along the feature axis (AR(1), ρ 0.5), 20
 *    non-zero true coefficients (--quick: 2,000 × 320) — a well-conditioned problem.
 *
 * Each: 5 outer folds (a seeded permutation), StandardScaler on the training rows, LassoCV with
 * scikit-learn's defaults (100 alphas, eps 1e-3, inner KFold(5), tol 1e-4, max_iter 1000), test
 * R². Ours (src-main/learn/linear.ts, one thread) runs twice in this process; scikit-learn
 * (`/usr/bin/python3`, or $BENCH_PYTHON; skipped with a line when it cannot import sklearn) runs
 * once in a subprocess on the same .npy files, n_jobs=1 with BLAS on one thread (like for like),
 * and for ar1 also with its defaults (all cores). CPU seconds (process CPU time) and wall seconds
 * are printed per fold with R² and chosen α side by side, and the load average: on a shared
 * machine wall time is pessimistic, CPU time is the fairer figure.
 *
 *   node --import tsx bench/learn.ts                     all three (a few minutes on 2 cores)
 *   node --import tsx bench/learn.ts --quick             ar1 at 2,000 × 320
 *   node --import tsx bench/learn.ts --case=embeddings   one problem (embeddings, collinear, ar1)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { kFold } from '../src-main/learn/cv';
import { LassoCV, type FittedLinear } from '../src-main/learn/linear';
import { createArena, jsKernels, type Kernels } from '../src-main/learn/kernels';
import { featureMajor, matrix, takeRows, type Matrix } from '../src-main/learn/matrix';
import { fitScaler } from '../src-main/learn/scale';
import { symmetricEigen } from '../src-main/learn/eigen';
import { createRng, type SeededRng } from '../src-main/core/rng';
import { encodeNpy } from '../src-main/store/npy';
import { Embedder } from '../src-main/engine/embed';
import { convertCheckpoint } from '../src-main/models/installed';
import { applyVariants } from '../src-main/variants/apply';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const ONLY = process.argv.find((a) => a.startsWith('--case='))?.slice('--case='.length).split(',');
const OUTER_FOLDS = 5;
const SEED = 20240601;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const SHARED = join(import.meta.dirname, '..', '..', 'shared');
const DMS_DIR = process.env.BENCH_DMS_DIR ?? join(SHARED, 'data', 'dms');
const ESM_CHECKPOINT = process.env.BENCH_ESM_CHECKPOINT ?? join(SHARED, 'golden', 'esm2-8M-random', 'checkpoint');
const SCAN = 'BLAT_ECOLX_Ostermeier2014';
/** Every 12th variant of the scan: 456 rows, the size of the case reported in issue 14. */
const SCAN_STRIDE = 12;

interface Problem {
  label: string;
  X: Matrix;
  y: Float64Array;
  /** The outer fold of every row. */
  fold: Int32Array;
  /** scikit-learn variants to time besides the like-for-like one. */
  sklearnDefaults: boolean;
}

interface FoldResult {
  cpuSeconds: number;
  seconds: number;
  r2: number;
  alpha: number;
  nonZero: number;
  /** scikit-learn only: path solves that stopped at max_iter (ConvergenceWarning). */
  unconverged?: number;
}

function gaussian(rng: SeededRng): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function outerFolds(rows: number): Int32Array {
  const fold = new Int32Array(rows);
  kFold(rows, OUTER_FOLDS, SEED).forEach((f, k) => f.test.forEach((row) => (fold[row] = k)));
  return fold;
}

function ar1Problem(): Problem {
  const rows = QUICK ? 2000 : 10_000;
  const features = QUICK ? 320 : 1280;
  const rng = createRng(SEED);
  const normal = gaussian(rng);
  const rho = 0.5;
  const X = matrix(rows, features);
  const latent = new Float64Array(features);
  const coef = new Float64Array(features);
  for (let i = 0; i < 20; i++) coef[rng.nextInt(features)] = (rng.next() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.next());
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let signal = 0;
    for (let j = 0; j < features; j++) {
      latent[j] = j === 0 ? normal() : rho * latent[j - 1]! + Math.sqrt(1 - rho * rho) * normal();
      const value = Math.fround(latent[j]!);
      X.data[r * features + j] = value;
      signal += coef[j]! * value;
    }
    y[r] = 1 + signal + 2 * normal();
  }
  return { label: `ar1: AR(1) Gaussian features, ${rows} × ${features}`, X, y, fold: outerFolds(rows), sklearnDefaults: true };
}

/** A Haar-random m × m orthogonal matrix (modified Gram–Schmidt on a Gaussian one), row-major. */
function randomOrthogonal(m: number, normal: () => number): Float64Array {
  const q = Float64Array.from({ length: m * m }, normal);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < i; k++) {
      let d = 0;
      for (let c = 0; c < m; c++) d += q[i * m + c]! * q[k * m + c]!;
      for (let c = 0; c < m; c++) q[i * m + c]! -= d * q[k * m + c]!;
    }
    let norm = 0;
    for (let c = 0; c < m; c++) norm += q[i * m + c]! ** 2;
    for (let c = 0; c < m; c++) q[i * m + c]! /= Math.sqrt(norm);
  }
  return q;
}

/**
 * X = Z·diag(s)·Vᵀ + offsets with V = V₁ ⊗ V₂ (two small random orthogonal matrices, m₁·m₂ = p):
 * exactly orthogonal, dense, and applied in O(p·(m₁ + m₂)) per row instead of O(p²).
 */
function spectrumProblem(label: string, rows: number, m1: number, m2: number): Problem {
  const p = m1 * m2;
  const rng = createRng(SEED + p);
  const normal = gaussian(rng);
  const s = Float64Array.from({ length: p }, (_, k) => Math.max(300 ** (-k / 299), 1e-6));
  const v1 = randomOrthogonal(m1, normal);
  const v2 = randomOrthogonal(m2, normal);
  const offset = Float64Array.from({ length: p }, normal);
  const signal = Float64Array.from({ length: 20 }, () => normal() / Math.sqrt(20));
  const X = matrix(rows, p);
  const y = new Float64Array(rows);
  const latent = new Float64Array(p);
  const half = new Float64Array(p);
  for (let r = 0; r < rows; r++) {
    let target = 2;
    for (let k = 0; k < p; k++) {
      const z = normal();
      latent[k] = z * s[k]!;
      if (k < signal.length) target += signal[k]! * z;
    }
    y[r] = target + normal();
    // Row r of X: V₁·L·V₂ᵀ with L the latent row as an m₁ × m₂ matrix.
    half.fill(0);
    for (let a = 0; a < m1; a++) for (let b = 0; b < m2; b++) for (let j = 0; j < m2; j++) half[a * m2 + j]! += latent[a * m2 + b]! * v2[j * m2 + b]!;
    for (let i = 0; i < m1; i++) {
      for (let j = 0; j < m2; j++) {
        let value = offset[i * m2 + j]!;
        for (let a = 0; a < m1; a++) value += v1[i * m1 + a]! * half[a * m2 + j]!;
        X.data[r * p + i * m2 + j] = Math.fround(value);
      }
    }
  }
  return { label, X, y, fold: outerFolds(rows), sklearnDefaults: false };
}

/** Mean last-layer embeddings of every SCAN_STRIDE-th variant of the scan, or undefined when the inputs are not there. */
async function embeddingProblem(): Promise<Problem | undefined> {
  const csv = join(DMS_DIR, `${SCAN}.csv`);
  if (!existsSync(csv) || !existsSync(join(ESM_CHECKPOINT, 'config.json'))) return undefined;
  const fasta = readFileSync(join(DMS_DIR, 'wild_types.fasta'), 'utf8');
  const wildType = fasta.split('>').find((record) => record.startsWith(SCAN))!.split('\n').slice(1).join('').trim();
  const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
  const picked = rows.filter((_, i) => i % SCAN_STRIDE === 0);
  const sequences = applyVariants(wildType, picked.map((row) => row[2]!)).sequences;
  if (sequences.some((s) => s === null)) throw new Error(`${csv}: some variants do not apply to the wild type.`);
  const folder = mkdtempSync(join(tmpdir(), 'esm-studio-bench-learn-model-'));
  try {
    const started = performance.now();
    await convertCheckpoint(ESM_CHECKPOINT, folder, { precision: 'fp32', appVersion: 'bench' });
    const embedder = Embedder.open(folder);
    const width = 320;
    const X = matrix(sequences.length, width);
    try {
      await embedder.run(sequences as string[], { layers: [-1], pool: ['mean'] }, (result) => {
        X.data.set([...result.pooled.values()][0]!, result.index * width);
      });
    } finally {
      await embedder.close();
    }
    console.log(`embedded ${sequences.length} variants of ${SCAN} (${wildType.length} aa) with ${ESM_CHECKPOINT} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const y = Float64Array.from(picked, (row) => Number(row[3]));
    return { label: `embeddings: ${sequences.length} ${SCAN} variants × 320, mean embeddings of random-weight ESM-2 8M`, X, y, fold: outerFolds(X.rows), sklearnDefaults: false };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
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
    const cpuBefore = process.cpuUsage();
    const model: FittedLinear = new LassoCV().fit(xTrain, yTrain);
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const predicted = model.predict(scaler.transform(takeRows(problem.X, test)));
    results.push({ cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds, r2: r2(Float64Array.from(test, (r) => problem.y[r]!), predicted), alpha: model.alpha, nonZero: model.nonZero() });
  }
  return results;
}

/** σ₁/σ₃₀₀ of the standard-scaled X (only computed up to 512 features: the eigensolver is O(p³)). */
function spectrumFall(X: Matrix): string {
  if (X.cols > 512 || X.cols < 300) return 'not measured';
  const Xs = fitScaler(X, 'standard').transform(X);
  const arena = createArena(X.rows * X.cols + X.cols * X.cols + 64);
  const Xt = featureMajor(Xs, undefined, arena.alloc(X.rows * X.cols));
  const gram = arena.alloc(X.cols * X.cols);
  arena.kernels.gramUpper(Xt, X.cols, X.rows, 0, X.rows, gram);
  for (let i = 0; i < X.cols; i++) for (let j = i + 1; j < X.cols; j++) gram[j * X.cols + i] = gram[i * X.cols + j]!;
  const values = Array.from(symmetricEigen(gram, X.cols).values).sort((a, b) => b - a);
  return `${Math.sqrt(values[0]! / values[299]!).toFixed(0)}×`;
}

/** Multiply-adds per second of the Gram product XᵀX of one outer training set, JS and SIMD kernels. */
function gramRates(problem: Problem): { js: number; simd: number | undefined } {
  const { rows, cols } = problem.X;
  const n = Math.round((rows * (OUTER_FOLDS - 1)) / OUTER_FOLDS);
  const arena = createArena(n * cols + cols * cols + 64);
  const Xt = featureMajor(takeRows(problem.X, Array.from({ length: n }, (_, r) => r)), undefined, arena.alloc(n * cols));
  const out = arena.alloc(cols * cols);
  const rate = (kernels: Kernels): number => {
    out.fill(0);
    const started = performance.now();
    kernels.gramUpper(Xt, cols, n, 0, n, out);
    return ((n * cols * (cols + 1)) / 2 / (performance.now() - started)) * 1000;
  };
  return { js: rate(jsKernels), simd: arena.simd ? rate(arena.kernels) : undefined };
}

const SKLEARN_SCRIPT = String.raw`
import json, sys, time, warnings
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always', ConvergenceWarning)
        started, cpu = time.perf_counter(), time.process_time()
        model = LassoCV(n_jobs=n_jobs).fit(x_train, y[train])
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    out.append(dict(seconds=seconds, cpuSeconds=cpu_seconds, r2=r2_score(y[test], model.predict(x_test)), alpha=float(model.alpha_), nonZero=int(np.count_nonzero(model.coef_)), unconverged=unconverged))
    print('  scikit-learn, outer fold %d: %.1f s CPU, %.1f s wall, R2 %.4f' % (k + 1, cpu_seconds, seconds, out[-1]['r2']), file=sys.stderr, flush=True)
print(json.dumps(dict(version=sklearn.__version__, folds=out)))
`;

function sklearnAvailable(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

function writeProblem(problem: Problem, folder: string): void {
  const { rows, cols } = problem.X;
  writeFileSync(join(folder, 'X.npy'), encodeNpy({ dtype: 'float32', shape: [rows, cols], data: Float32Array.from(problem.X.data) }));
  writeFileSync(join(folder, 'y.npy'), encodeNpy({ dtype: 'float64', shape: [rows], data: problem.y }));
  writeFileSync(join(folder, 'fold.npy'), encodeNpy({ dtype: 'int32', shape: [rows], data: problem.fold }));
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

const total = (results: FoldResult[], key: 'cpuSeconds' | 'seconds'): number => results.reduce((s, r) => s + r[key], 0);
const load = (): string => loadavg().map((v) => v.toFixed(1)).join(' ');

function benchProblem(problem: Problem, sklearnVersion: string | undefined): void {
  console.log(`\n### ${problem.label}`);
  console.log(`σ₁/σ₃₀₀ of the scaled X: ${spectrumFall(problem.X)}; load average before: ${load()} (${cpus().length} cores)`);
  if (problem.sklearnDefaults) {
    const rates = gramRates(problem);
    const simdRate = rates.simd === undefined ? 'WebAssembly SIMD unavailable' : `${(rates.simd / 1e9).toFixed(2)} with WebAssembly SIMD (used)`;
    console.log(`XᵀX kernel, G multiply-adds/s on one thread: ${(rates.js / 1e9).toFixed(2)} in plain JS, ${simdRate}`);
  }
  const ours = runOurs(problem);
  const again = runOurs(problem);
  console.log(`ours: ${figure(total(ours, 'cpuSeconds'))} s CPU / ${figure(total(ours, 'seconds'))} s wall; second run ${figure(total(again, 'cpuSeconds'))} s CPU / ${figure(total(again, 'seconds'))} s wall`);
  const best = bestRun(ours, again);
  let reference: FoldResult[] | undefined;
  const summaries: string[][] = [summaryRow('ESM Studio (1 thread), the faster of 2 runs', best, best)];
  if (sklearnVersion === undefined) {
    console.log(`${PYTHON} cannot import sklearn: scikit-learn not timed.`);
  } else {
    const folder = mkdtempSync(join(tmpdir(), 'esm-studio-bench-learn-'));
    try {
      writeProblem(problem, folder);
      const variants: [string, string, number | undefined][] = [[`scikit-learn ${sklearnVersion}, n_jobs=1, BLAS 1 thread`, '1', 1]];
      if (problem.sklearnDefaults) variants.push([`scikit-learn ${sklearnVersion}, defaults (n_jobs=None, BLAS all cores)`, 'None', undefined]);
      for (const [label, nJobs, threads] of variants) {
        console.log(`${label}:`);
        const result = runSklearn(folder, nJobs, threads);
        if (typeof result === 'string') summaries.push([label, `failed (${result})`, '', '', '', '', '']);
        else {
          reference ??= result;
          summaries.push(summaryRow(label, result, best));
        }
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }
  console.log();
  console.log(markdownTable(foldHeader(reference !== undefined), best.map((r, k) => foldRow(k, r, reference?.[k]))));
  console.log();
  console.log(markdownTable(['implementation', 'CPU s', 'wall s', 'CPU s / fold', 'mean test R²', 'max |ΔR²| vs ours', 'same α as ours'], summaries));
  if (reference) {
    const speedCpu = total(reference, 'cpuSeconds') / total(best, 'cpuSeconds');
    const speedWall = total(reference, 'seconds') / total(best, 'seconds');
    console.log(`\nours vs scikit-learn (like for like): ${speedCpu.toFixed(1)}× less CPU time, ${speedWall.toFixed(1)}× less wall time; load average after: ${load()}`);
  }
}

function bestRun(a: FoldResult[], b: FoldResult[]): FoldResult[] {
  return total(a, 'cpuSeconds') <= total(b, 'cpuSeconds') ? a : b;
}

function foldHeader(withReference: boolean): string[] {
  const ours = ['outer fold', 'ours CPU s', 'ours wall s', 'ours R²', 'ours α', 'ours non-zero'];
  return withReference ? [...ours, 'sklearn CPU s', 'sklearn wall s', 'sklearn R²', 'sklearn α', 'sklearn non-zero', 'sklearn unconverged solves'] : ours;
}

function foldRow(k: number, ours: FoldResult, reference: FoldResult | undefined): string[] {
  const cells = [String(k + 1), figure(ours.cpuSeconds), figure(ours.seconds), ours.r2.toFixed(4), ours.alpha.toPrecision(4), String(ours.nonZero)];
  if (!reference) return cells;
  return [...cells, figure(reference.cpuSeconds), figure(reference.seconds), reference.r2.toFixed(4), reference.alpha.toPrecision(4), String(reference.nonZero), `${reference.unconverged ?? '?'} of 500`];
}

function summaryRow(label: string, results: FoldResult[], ours: FoldResult[]): string[] {
  const meanR2 = results.reduce((s, r) => s + r.r2, 0) / results.length;
  const maxDelta = Math.max(...results.map((r, k) => Math.abs(r.r2 - ours[k]!.r2)));
  const sameAlpha = results.filter((r, k) => Math.abs(r.alpha / ours[k]!.alpha - 1) < 1e-9).length;
  const cpu = total(results, 'cpuSeconds');
  return [label, figure(cpu), figure(total(results, 'seconds')), figure(cpu / results.length), meanR2.toFixed(4), maxDelta.toExponential(1), `${sameAlpha} of ${results.length}`];
}

async function main(): Promise<void> {
  const wanted = (name: string): boolean => ONLY === undefined || ONLY.includes(name);
  console.log(`LassoCV: ${OUTER_FOLDS} outer folds × 100 alphas × inner KFold(5); ${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}); the machine may be shared`);
  const version = sklearnAvailable();
  if (wanted('embeddings')) {
    const embedded = await embeddingProblem();
    if (!embedded) console.log(`\n${DMS_DIR} or ${ESM_CHECKPOINT} missing: the embedding case uses a synthetic matrix with the same spectrum.`);
    benchProblem(embedded ?? spectrumProblem('embeddings (SYNTHETIC stand-in): 456 × 320 with an embedding-like spectrum', 456, 16, 20), version);
  }
  if (wanted('collinear')) benchProblem(spectrumProblem('collinear: synthetic 2,000 × 1,280 with an embedding-like spectrum', 2000, 32, 40), version);
  if (wanted('ar1')) benchProblem(ar1Problem(), version);
}

await main();
