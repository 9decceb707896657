/**
 * learn/linear, learn/ridge, learn/knn against scikit-learn: the reference numbers come from
 * test/reference/make_sklearn_reference.py (run with Debian's python3-sklearn), which also wrote
 * the fixture test/fixtures/learn/sparse_2000x320.npz. Every outer fold is rebuilt here the same
 * way (training rows in ascending order, StandardScaler fitted on them), so both sides fit
 * exactly the same numbers; the per-fold test R² must agree within 0.002.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EigenvalueDecomposition, Matrix as MlMatrix, solve as mlSolve } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { KNeighborsRegressor } from '../../src-main/learn/knn';
import { alphaGrid, ElasticNetCV, fitElasticNet, LassoCV, type FittedLinear } from '../../src-main/learn/linear';
import { symmetricEigen } from '../../src-main/learn/eigen';
import { createArena, jsKernels, simdAvailable } from '../../src-main/learn/kernels';
import { matrix, takeRows, type Matrix } from '../../src-main/learn/matrix';
import { RidgeCV } from '../../src-main/learn/ridge';
import { fitScaler } from '../../src-main/learn/scale';
import { decodeNpz } from '../../src-main/store/npy';
import { createRng } from '../../src-main/core/rng';
import { evaluateRegression } from '../../src-main/learn/evaluate';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'learn');

interface ReferenceFold {
  fold: number;
  lasso: { r2: number; alpha: number; alpha_max: number; alpha_min: number; n_nonzero: number; intercept: number; coef: number[]; mse_path_mean: number[] };
  ridge: { r2: number; alpha: number; best_score: number; intercept: number; coef: number[] };
  enet: { r2: number; alpha: number; l1_ratio: number; n_nonzero: number };
}
interface Reference {
  sklearn_version: string;
  wide: { rows: number; lasso: { r2: number; alpha: number; n_nonzero: number; coef: number[] }; ridge: { r2: number; alpha: number; best_score: number; coef: number[] } };
  lasso_params: { cv: number; n_alphas: number; eps: number; tol: number; max_iter: number };
  ridge_alphas: number[];
  enet_l1_ratios: number[];
  folds: ReferenceFold[];
}

const reference = JSON.parse(readFileSync(join(FIXTURES, 'sklearn_reference.json'), 'utf8')) as Reference;
const arrays = decodeNpz(readFileSync(join(FIXTURES, 'sparse_2000x320.npz')));
const [rows, cols] = arrays.X!.shape as [number, number];
const X = matrix(rows, cols, arrays.X!.data as Float32Array);
const y = arrays.y!.data as Float64Array;
const foldOf = Array.from(arrays.folds!.data as BigInt64Array, Number);

/** Outer fold k exactly as the reference script builds it (only the first `trainRows` training rows if given). */
function outerFold(k: number, trainRows?: number): { xTrain: Matrix; yTrain: Float64Array; xTest: Matrix; yTest: Float64Array } {
  const train = foldOf.flatMap((f, i) => (f !== k ? [i] : [])).slice(0, trainRows);
  const test = foldOf.flatMap((f, i) => (f === k ? [i] : []));
  const scaler = fitScaler(takeRows(X, train), 'standard');
  return {
    xTrain: scaler.transform(takeRows(X, train)),
    yTrain: Float64Array.from(train, (r) => y[r]!),
    xTest: scaler.transform(takeRows(X, test)),
    yTest: Float64Array.from(test, (r) => y[r]!),
  };
}

function r2(truth: Float64Array, predicted: Float64Array): number {
  const mean = truth.reduce((s, v) => s + v, 0) / truth.length;
  let res = 0;
  let tot = 0;
  truth.forEach((v, i) => {
    res += (v - predicted[i]!) ** 2;
    tot += (v - mean) ** 2;
  });
  return 1 - res / tot;
}

const lassoOptions = { cv: reference.lasso_params.cv, nAlphas: reference.lasso_params.n_alphas, eps: reference.lasso_params.eps, tol: reference.lasso_params.tol, maxIter: reference.lasso_params.max_iter };
const folds = reference.folds.map((f) => f.fold);
/** One grid step of the automatic α grid: alphas are "loosely" equal within it. */
const GRID_RATIO = 10 ** (3 / 99);

/** Fits are shared between tests (each LassoCV takes about a second). */
const lassoFits = new Map<number, FittedLinear>();
function lassoFit(k: number): FittedLinear {
  if (!lassoFits.has(k)) {
    const { xTrain, yTrain } = outerFold(k);
    lassoFits.set(k, new LassoCV(lassoOptions).fit(xTrain, yTrain));
  }
  return lassoFits.get(k)!;
}

/** The elastic-net duality gap (scikit-learn's units: the objective times n) from the data, independently of the solver. */
function dualityGap(Xc: Matrix, yc: Float64Array, w: Float64Array, alpha: number, l1Ratio: number): number {
  const n = Xc.rows;
  const l1 = alpha * l1Ratio * n;
  const l2 = alpha * (1 - l1Ratio) * n;
  const R = Float64Array.from(yc, (v, r) => v - w.reduce((s, wj, j) => s + wj * Xc.data[r * Xc.cols + j]!, 0));
  let dualNorm = 0;
  for (let j = 0; j < Xc.cols; j++) {
    let xr = 0;
    for (let r = 0; r < n; r++) xr += Xc.data[r * Xc.cols + j]! * R[r]!;
    dualNorm = Math.max(dualNorm, Math.abs(xr - l2 * w[j]!));
  }
  const rNorm2 = R.reduce((s, v) => s + v * v, 0);
  const rDotY = R.reduce((s, v, r) => s + v * yc[r]!, 0);
  const l1Norm = w.reduce((s, v) => s + Math.abs(v), 0);
  const wNorm2 = w.reduce((s, v) => s + v * v, 0);
  const scale = dualNorm > l1 ? l1 / dualNorm : 1;
  const gap = dualNorm > l1 ? 0.5 * rNorm2 * (1 + scale * scale) : rNorm2;
  return gap + l1 * l1Norm - scale * rDotY + 0.5 * l2 * (1 + scale * scale) * wNorm2;
}

function centred(m: Matrix, v: Float64Array): { Xc: Matrix; yc: Float64Array } {
  const means = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) for (let j = 0; j < m.cols; j++) means[j]! += m.data[r * m.cols + j]! / m.rows;
  const yMean = v.reduce((s, x) => s + x, 0) / v.length;
  return { Xc: matrix(m.rows, m.cols, m.data.map((x, i) => x - means[i % m.cols]!)), yc: v.map((x) => x - yMean) };
}

describe(`LassoCV against scikit-learn ${reference.sklearn_version}`, () => {
  it.each(folds)('outer fold %i: test R², chosen alpha, non-zeros and coefficients agree', (k) => {
    const ref = reference.folds[k]!.lasso;
    const { xTest, yTest } = outerFold(k);
    const model = lassoFit(k);
    expect(Math.abs(r2(yTest, model.predict(xTest)) - ref.r2)).toBeLessThan(0.002);
    expect(model.alpha / ref.alpha).toBeGreaterThan(1 / GRID_RATIO - 1e-9);
    expect(model.alpha / ref.alpha).toBeLessThan(GRID_RATIO + 1e-9);
    expect(Math.abs(model.nonZero() - ref.n_nonzero)).toBeLessThanOrEqual(2);
    // Same algorithm, same data: coefficients agree far below the solver tolerance.
    model.coef.forEach((c, j) => expect(Math.abs(c - ref.coef[j]!)).toBeLessThan(1e-3));
    expect(Math.abs(model.intercept - ref.intercept)).toBeLessThan(1e-3);
    expect(model.chosen).toEqual({ alpha: model.alpha });
  });

  it.each(folds)('outer fold %i: the alpha grid and the fold-averaged MSE path match', (k) => {
    const ref = reference.folds[k]!.lasso;
    const path = lassoFit(k).path![0]!;
    expect(path.alphas).toHaveLength(reference.lasso_params.n_alphas);
    expect(path.alphas[0]! / ref.alpha_max).toBeCloseTo(1, 12);
    expect(path.alphas[path.alphas.length - 1]! / ref.alpha_min).toBeCloseTo(1, 12);
    path.mse.forEach((mse, a) => expect(Math.abs(mse / ref.mse_path_mean[a]! - 1)).toBeLessThan(1e-4));
  });

  it.each(folds)('outer fold %i: the duality gap at the chosen alpha is below tol·‖y‖²', (k) => {
    const model = lassoFit(k);
    const { xTrain, yTrain } = outerFold(k);
    const { Xc, yc } = centred(xTrain, yTrain);
    const tolerance = reference.lasso_params.tol * yc.reduce((s, v) => s + v * v, 0);
    const gap = dualityGap(Xc, yc, model.coef, model.alpha, 1);
    expect(model.converged).toBe(true);
    expect(gap).toBeGreaterThanOrEqual(-1e-9 * tolerance);
    expect(gap).toBeLessThan(tolerance);
    // What the solver reports is the same gap, in scikit-learn's dual_gap_ units (÷ n).
    expect(model.dualGap * xTrain.rows).toBeCloseTo(gap, 6);
    expect(model.gapTolerance * xTrain.rows).toBeCloseTo(tolerance, 6);
  });

  it('solving on X instead of the Gram matrix (precompute: false, scikit-learn\'s path for n ≤ p) gives the same model', () => {
    const { xTrain, yTrain, xTest, yTest } = outerFold(0);
    const direct = new LassoCV({ ...lassoOptions, precompute: false }).fit(xTrain, yTrain);
    const gram = lassoFit(0);
    expect(direct.alpha).toBe(gram.alpha);
    expect(Math.abs(r2(yTest, direct.predict(xTest)) - reference.folds[0]!.lasso.r2)).toBeLessThan(0.002);
    direct.coef.forEach((c, j) => expect(Math.abs(c - gram.coef[j]!)).toBeLessThan(1e-6));
  });

  it(`fewer rows than features (${reference.wide.rows} × ${cols}, scikit-learn solves on X, we on the Gram matrix) agrees too`, () => {
    const ref = reference.wide.lasso;
    const { xTrain, yTrain, xTest, yTest } = outerFold(0, reference.wide.rows);
    const model = new LassoCV(lassoOptions).fit(xTrain, yTrain);
    expect(Math.abs(r2(yTest, model.predict(xTest)) - ref.r2)).toBeLessThan(0.002);
    expect(model.alpha / ref.alpha).toBeCloseTo(1, 9);
    expect(Math.abs(model.nonZero() - ref.n_nonzero)).toBeLessThanOrEqual(2);
    model.coef.forEach((c, j) => expect(Math.abs(c - ref.coef[j]!)).toBeLessThan(1e-3));
  });
});

describe('ElasticNetCV', () => {
  it('with l1Ratio 1 is LassoCV', () => {
    const { xTrain, yTrain } = outerFold(1);
    const enet = new ElasticNetCV({ ...lassoOptions, l1Ratio: 1 }).fit(xTrain, yTrain);
    const lasso = lassoFit(1);
    expect(enet.alpha).toBe(lasso.alpha);
    expect(Array.from(enet.coef)).toEqual(Array.from(lasso.coef));
    expect(enet.intercept).toBe(lasso.intercept);
    expect(enet.chosen).toEqual({ alpha: lasso.alpha, l1Ratio: 1 });
  });

  it.each(folds)(`outer fold %i: a list of l1 ratios ${JSON.stringify(reference.enet_l1_ratios)} picks scikit-learn's pair and R²`, (k) => {
    const ref = reference.folds[k]!.enet;
    const { xTrain, yTrain, xTest, yTest } = outerFold(k);
    const model = new ElasticNetCV({ ...lassoOptions, l1Ratio: reference.enet_l1_ratios }).fit(xTrain, yTrain);
    expect(model.l1Ratio).toBe(ref.l1_ratio);
    expect(model.alpha / ref.alpha).toBeCloseTo(1, 9);
    expect(Math.abs(r2(yTest, model.predict(xTest)) - ref.r2)).toBeLessThan(0.002);
    expect(Math.abs(model.nonZero() - ref.n_nonzero)).toBeLessThanOrEqual(2);
    expect(model.path).toHaveLength(reference.enet_l1_ratios.length);
  }, 60_000);
});

describe('coordinate descent on known problems', () => {
  /** Columns ±1 of a Hadamard matrix without its all-ones column: centred, XᵀX = n·I. */
  function orthogonalDesign(): Matrix {
    const n = 8;
    const data: number[] = [];
    for (let r = 0; r < n; r++) for (const c of [1, 2, 3, 4, 5]) data.push((-1) ** popcount(r & c));
    return matrix(n, 5, data);
  }
  function popcount(v: number): number {
    let count = 0;
    for (let x = v; x; x >>= 1) count += x & 1;
    return count;
  }
  const design = orthogonalDesign();
  const target = Float64Array.from([3.5, -1.25, 0.5, 2, -0.75, 1.5, 0.25, -2.5]);
  const xty = Array.from({ length: 5 }, (_, j) => target.reduce((s, v, r) => s + v * design.data[r * 5 + j]!, 0) / 8);
  const soft = (z: number, t: number): number => Math.sign(z) * Math.max(Math.abs(z) - t, 0);

  it.each([true, false])('an orthonormal lasso is soft-thresholding (precompute %s)', (precompute) => {
    for (const alpha of [0.05, 0.3, 0.9, 10]) {
      const model = fitElasticNet(design, target, { alpha, l1Ratio: 1, precompute, tol: 1e-12 });
      model.coef.forEach((c, j) => expect(c).toBeCloseTo(soft(xty[j]!, alpha), 12));
      expect(model.intercept).toBeCloseTo(target.reduce((s, v) => s + v, 0) / 8 - 0, 12);
    }
  });

  it('an orthonormal elastic net is soft-thresholding shrunk by 1 + α(1 − ρ)', () => {
    const alpha = 0.4;
    const l1Ratio = 0.3;
    const model = fitElasticNet(design, target, { alpha, l1Ratio, tol: 1e-12 });
    model.coef.forEach((c, j) => expect(c).toBeCloseTo(soft(xty[j]!, alpha * l1Ratio) / (1 + alpha * (1 - l1Ratio)), 12));
  });

  it('the alpha grid starts at the smallest alpha with an all-zero solution', () => {
    const maxCorrelation = Math.max(...xty.map(Math.abs));
    const grid = alphaGrid(Float64Array.from(xty, (v) => v * 8), 8, 1, 1e-3, 100);
    expect(grid[0]).toBeCloseTo(maxCorrelation, 14);
    expect(grid[99]).toBeCloseTo(maxCorrelation * 1e-3, 14);
    expect(fitElasticNet(design, target, { alpha: grid[0]!, l1Ratio: 1 }).nonZero()).toBe(0);
    expect(fitElasticNet(design, target, { alpha: grid[1]!, l1Ratio: 1 }).nonZero()).toBe(1);
  });

  it('a constant feature gets a zero coefficient and does not break the fit', () => {
    const withConstant = matrix(8, 6, Array.from({ length: 48 }, (_, i) => (i % 6 === 5 ? 7 : design.data[Math.floor(i / 6) * 5 + (i % 6)]!)));
    for (const precompute of [true, false]) {
      const model = fitElasticNet(withConstant, target, { alpha: 0.3, l1Ratio: 1, precompute, tol: 1e-12 });
      expect(model.coef[5]).toBe(0);
      expect(model.coef[0]).toBeCloseTo(soft(xty[0]!, 0.3), 12);
    }
  });

  it('refuses bad input', () => {
    expect(() => new LassoCV({ cv: 1 }).fit(design, target)).toThrow(/at least 2 folds/);
    expect(() => new LassoCV({ cv: 9 }).fit(design, target)).toThrow(/8 rows into 9 folds/);
    expect(() => new LassoCV().fit(design, target.subarray(0, 7))).toThrow(/8 rows but y has 7/);
    expect(() => new ElasticNetCV({ l1Ratio: 0 }).fit(design, target)).toThrow(/l1Ratio > 0/);
    expect(() => new LassoCV({ eps: 0 })).toThrow(/eps/);
    const nan = matrix(8, 5, design.data);
    nan.data[3] = Number.NaN;
    expect(() => new LassoCV().fit(nan, target)).toThrow(/non-finite/);
  });
});

describe(`RidgeCV against scikit-learn ${reference.sklearn_version}`, () => {
  it.each(folds)('outer fold %i: test R², chosen alpha and LOO score agree', (k) => {
    const ref = reference.folds[k]!.ridge;
    const { xTrain, yTrain, xTest, yTest } = outerFold(k);
    const model = new RidgeCV({ alphas: reference.ridge_alphas }).fit(xTrain, yTrain);
    expect(Math.abs(r2(yTest, model.predict(xTest)) - ref.r2)).toBeLessThan(0.002);
    expect(model.alpha).toBe(ref.alpha);
    expect(model.chosen).toEqual({ alpha: ref.alpha });
    // scikit-learn's best_score_ is minus the mean squared LOO error.
    expect(-Math.min(...model.looMse) / ref.best_score).toBeCloseTo(1, 9);
    model.coef.forEach((c, j) => expect(c).toBeCloseTo(ref.coef[j]!, 8));
    expect(model.intercept).toBeCloseTo(ref.intercept, 8);
  });

  it(`fewer rows than features (${reference.wide.rows} × ${cols}: XXᵀ is decomposed, as scikit-learn's 'eigen' mode) agrees too`, () => {
    const ref = reference.wide.ridge;
    const { xTrain, yTrain, xTest, yTest } = outerFold(0, reference.wide.rows);
    const model = new RidgeCV({ alphas: reference.ridge_alphas }).fit(xTrain, yTrain);
    expect(Math.abs(r2(yTest, model.predict(xTest)) - ref.r2)).toBeLessThan(0.002);
    expect(model.alpha).toBe(ref.alpha);
    expect(-Math.min(...model.looMse) / ref.best_score).toBeCloseTo(1, 9);
    model.coef.forEach((c, j) => expect(c).toBeCloseTo(ref.coef[j]!, 8));
  });

  /** Leave-one-out by brute force: n refits of (XᵀX + αI)w = Xᵀy on centred data. */
  function bruteLoo(m: Matrix, v: Float64Array, alpha: number): { mse: number; coef: number[] } {
    const fit = (rowsIn: number[]): { coef: number[]; b: number } => {
      const { Xc, yc } = centred(takeRows(m, rowsIn), Float64Array.from(rowsIn, (r) => v[r]!));
      const A = new MlMatrix(Array.from({ length: Xc.rows }, (_, r) => Array.from(Xc.data.subarray(r * Xc.cols, (r + 1) * Xc.cols))));
      const lhs = A.transpose().mmul(A).add(MlMatrix.eye(m.cols).mul(alpha));
      const coef = mlSolve(lhs, A.transpose().mmul(MlMatrix.columnVector(Array.from(yc)))).to1DArray();
      const xMean = Array.from({ length: m.cols }, (_, j) => rowsIn.reduce((s, r) => s + m.data[r * m.cols + j]!, 0) / rowsIn.length);
      const yMean = rowsIn.reduce((s, r) => s + v[r]!, 0) / rowsIn.length;
      return { coef, b: yMean - xMean.reduce((s, x, j) => s + x * coef[j]!, 0) };
    };
    let sum = 0;
    for (let i = 0; i < m.rows; i++) {
      const { coef, b } = fit(Array.from({ length: m.rows }, (_, r) => r).filter((r) => r !== i));
      const predicted = b + coef.reduce((s, c, j) => s + c * m.data[i * m.cols + j]!, 0);
      sum += (v[i]! - predicted) ** 2;
    }
    return { mse: sum / m.rows, coef: fit(Array.from({ length: m.rows }, (_, r) => r)).coef };
  }

  it.each([
    [30, 5],
    [12, 20],
  ])('n = %i, p = %i: the LOO error equals n refits and the coefficients the normal equations', (n, p) => {
    const rng = createRng(7);
    const random = (): number => rng.next() * 2 - 1;
    const m = matrix(n, p, Array.from({ length: n * p }, random));
    const v = Float64Array.from({ length: n }, (_, r) => 2 + m.data[r * p]! - 0.5 * m.data[r * p + 1]! + 0.1 * random());
    const alphas = [0.01, 0.3, 5];
    const model = new RidgeCV({ alphas }).fit(m, v);
    alphas.forEach((alpha, a) => expect(model.looMse[a]! / bruteLoo(m, v, alpha).mse).toBeCloseTo(1, 8));
    const best = bruteLoo(m, v, model.alpha);
    model.coef.forEach((c, j) => expect(c).toBeCloseTo(best.coef[j]!, 8));
  });
});

describe('numerical kernels', () => {
  const rng = createRng(11);
  const random = (): number => rng.next() * 2 - 1;

  it('WebAssembly SIMD is available here, and an arena too large for it falls back to plain arrays', () => {
    expect(simdAvailable()).toBe(true);
    expect(createArena(1000).simd).toBe(true);
    const huge = createArena(2 ** 29); // 4 GiB of float64: beyond 32-bit pointers
    expect(huge.simd).toBe(false);
    expect(huge.kernels).toBe(jsKernels);
  });

  it('the SIMD kernels equal the JS kernels, at odd lengths and offsets too', () => {
    const arena = createArena(200_000);
    const { kernels } = arena;
    const fill = (values: Float64Array): Float64Array => values.map(random);
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 1001]) {
      const a = fill(arena.alloc(n + 3));
      const b = fill(arena.alloc(n + 5));
      expect(kernels.dot(a, 1, b, 3, n)).toBeCloseTo(jsKernels.dot(a, 1, b, 3, n), 12);
      const [y1, y2] = [fill(arena.alloc(n + 2)), new Float64Array(n + 2)];
      y2.set(y1);
      kernels.axpy(n, 0.37, a, 2, y1, 1);
      jsKernels.axpy(n, 0.37, a, 2, y2, 1);
      expect(Array.from(y1)).toEqual(Array.from(y2)); // same operations in the same order: bit-identical
      const [x1, x2] = [fill(arena.alloc(n + 1)), new Float64Array(n + 1)];
      x2.set(x1);
      y2.set(y1);
      kernels.rot(n, 0.6, 0.8, x1, 1, y1, 2);
      jsKernels.rot(n, 0.6, 0.8, x2, 1, y2, 2);
      expect(Array.from(x1)).toEqual(Array.from(x2));
      expect(Array.from(y1)).toEqual(Array.from(y2));
    }
    for (const [count, stride, k0, k1] of [[1, 3, 0, 3], [5, 7, 1, 6], [9, 1030, 3, 1029], [4, 4, 0, 4]] as const) {
      const a = fill(arena.alloc(count * stride));
      const [g1, g2] = [arena.alloc(count * count), new Float64Array(count * count)];
      kernels.gramUpper(a, count, stride, k0, k1, g1);
      jsKernels.gramUpper(a, count, stride, k0, k1, g2);
      for (let i = 0; i < count; i++) for (let j = i; j < count; j++) expect(g1[i * count + j]).toBeCloseTo(g2[i * count + j]!, 11);
    }
    const [a, b] = [fill(arena.alloc(9 * 517)), fill(arena.alloc(6 * 517))];
    const [c1, c2] = [arena.alloc(54), new Float64Array(54)];
    kernels.crossProduct(a, 9, b, 6, 517, c1);
    jsKernels.crossProduct(a, 9, b, 6, 517, c2);
    c1.forEach((v, i) => expect(v).toBeCloseTo(c2[i]!, 11));
  });

  it.each([1, 2, 7, 60])('symmetricEigen (n = %i) agrees with ml-matrix and reconstructs the matrix', (n) => {
    // A Gram matrix with a repeated zero eigenvalue (rank n − 2) and, for n = 7, a zero row.
    const factor = Float64Array.from({ length: n * Math.max(1, n - 2) }, random);
    const r = Math.max(1, n - 2);
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < r; k++) g[i * n + j]! += factor[i * r + k]! * factor[j * r + k]!;
    if (n === 7) for (let j = 0; j < n; j++) g[3 * n + j] = g[j * n + 3] = 0;
    const { values, vectors } = symmetricEigen(g, n);
    const reference = new EigenvalueDecomposition(new MlMatrix(Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n)))), { assumeSymmetric: true });
    reference.realEigenvalues.forEach((v, k) => expect(values[k]).toBeCloseTo(v, 10));
    for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
    // G = Σ λ_k v_k v_kᵀ and the vectors are orthonormal.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rebuilt = 0;
        let inner = 0;
        for (let k = 0; k < n; k++) {
          rebuilt += values[k]! * vectors[k * n + i]! * vectors[k * n + j]!;
          inner += vectors[i * n + k]! * vectors[j * n + k]!;
        }
        expect(rebuilt).toBeCloseTo(g[i * n + j]!, 10);
        expect(inner).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });
});

describe('KNeighborsRegressor', () => {
  // One feature: rows at 0, 1, 2, 3 and 10.
  const points = matrix(5, 1, [0, 1, 2, 3, 10]);
  const targets = Float64Array.from([1, 2, 4, 8, 100]);

  it('predicts the mean target of the k nearest rows (uniform weights, Euclidean)', () => {
    const model = new KNeighborsRegressor({ nNeighbors: 2 }).fit(points, targets);
    expect(Array.from(model.predict(matrix(3, 1, [0.4, 2.9, 9])))).toEqual([1.5, 6, (8 + 100) / 2]);
    expect(model.chosen).toEqual({ k: 2 });
    expect(Array.from(new KNeighborsRegressor().fit(points, targets).predict(matrix(1, 1, [0])))).toEqual([23]);
  });

  it('reports no "non-zero coefficients": it has none, so a scan shows none for it', () => {
    const model = new KNeighborsRegressor({ nNeighbors: 2 }).fit(points, targets);
    expect(model.nonZero).toBeUndefined();
    const folds = [{ train: Int32Array.from([0, 1, 2]), test: Int32Array.from([3, 4]) }, { train: Int32Array.from([2, 3, 4]), test: Int32Array.from([0, 1]) }];
    const evaluation = evaluateRegression(new KNeighborsRegressor({ nNeighbors: 1 }), targets, { X: points, folds, scaling: 'none' });
    expect(Object.keys(evaluation.summary)).not.toContain('nonZero');
    expect(Object.keys(evaluateRegression(new RidgeCV({ alphas: [1] }), targets, { X: points, folds, scaling: 'none' }).summary)).toContain('nonZero');
  });

  it('uses all features in the distance and breaks exact ties by the lower training row', () => {
    const plane = matrix(4, 2, [0, 0, 3, 4, -3, -4, 0, 6]);
    const model = new KNeighborsRegressor({ nNeighbors: 1 }).fit(plane, Float64Array.from([1, 2, 3, 4]));
    // (0, 2.5) is 2.5 from (0, 0) but 3.5 from (0, 6); (0, 3) is 3 from both: row 0 wins the tie.
    expect(Array.from(model.predict(matrix(3, 2, [0, 2.5, 0, 3, 3, 4.1])))).toEqual([1, 1, 2]);
  });

  it('chooses k like GridSearchCV(cv=5) — mean R² over contiguous folds — and skips k larger than the training folds', () => {
    // 40 random points on a line and a step function of them; the expected scores are
    // scikit-learn 1.2.1's GridSearchCV(KNeighborsRegressor(), {'n_neighbors': [20, 5, 1, 3, 50]}, cv=5)
    // cv_results_['mean_test_score'] on the same data (k = 50 > 32 training rows: NaN).
    const x = [
      3.426, 9.472, 32.051, 23.286, 3.765, 17.325, 19.162, 6.39, 29.383, 4.547, 15.649, 20.67, 17.225, 23.472, 29.514, 38.251, 11.368, 25.942, 27.849, 11.709,
      0.06, 38.938, 11.936, 12.559, 35.668, 23.407, 18.852, 30.931, 1.214, 28.279, 14.97, 3.634, 26.42, 37.259, 8.288, 25.204, 11.927, 29.67, 28.887, 8.749,
    ];
    const values = Float64Array.from(x, (v) => (Math.floor(v / 8) % 2 === 0 ? 0 : 10));
    const model = new KNeighborsRegressor({ chooseK: [20, 5, 1, 3, 50] }).fit(matrix(40, 1, x), values);
    const sklearnScores = [-1.2476571428571428, 0.27055238095238093, 0.6647619047619048, 0.3718518518518518];
    sklearnScores.forEach((score, i) => expect(model.cvR2![i]).toBeCloseTo(score, 12));
    expect(Number.isNaN(model.cvR2![4]!)).toBe(true);
    expect(model.k).toBe(1);
    expect(model.chosen).toEqual({ k: 1 });
    expect(() => new KNeighborsRegressor({ nNeighbors: 9 }).fit(points, targets)).toThrow(/only 5 training rows/);
  });
});
