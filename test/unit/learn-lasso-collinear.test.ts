/**
 * learn/linear's LassoCV on collinear, embedding-shaped data (456 × 320, singular values falling
 * ≈ 600× over 300 dimensions), against scikit-learn: test/reference/make_collinear_reference.py
 * (Debian's python3-sklearn) wrote the fixture test/fixtures/learn/collinear_456x320.npz and the
 * reference numbers. On this data scikit-learn's cyclic coordinate descent stops at max_iter
 * unconverged for about 140 of the 500 path solves of each outer fold; ours must still pick the
 * same α with the same test R² (± 0.005), and where scikit-learn stops unconverged ours must reach
 * scikit-learn's own stopping criterion (duality gap below tol·‖y_centred‖²), checked here from the
 * data, independently of the solver.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitElasticNet, LassoCV, type FittedLinear } from '../../src-main/learn/linear';
import { matrix, takeRows, type Matrix } from '../../src-main/learn/matrix';
import { createRng } from '../../src-main/core/rng';
import { fitScaler } from '../../src-main/learn/scale';
import { decodeNpz } from '../../src-main/store/npy';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'learn');

interface ReferenceFold {
  fold: number;
  r2: number;
  alpha: number;
  alpha_index: number;
  n_nonzero: number;
  unconverged_solves: number;
  mse_path_mean: number[];
}
interface Reference {
  sklearn_version: string;
  lasso_params: { cv: number; n_alphas: number; eps: number; tol: number; max_iter: number };
  folds: ReferenceFold[];
  smallest_alpha: { alpha: number; objective: number; dual_gap: number; gap_tolerance: number; n_iter: number };
}

const reference = JSON.parse(readFileSync(join(FIXTURES, 'collinear_reference.json'), 'utf8')) as Reference;
const arrays = decodeNpz(readFileSync(join(FIXTURES, 'collinear_456x320.npz')));
const [rows, cols] = arrays.X!.shape as [number, number];
const X = matrix(rows, cols, arrays.X!.data as Float32Array);
const y = arrays.y!.data as Float64Array;
const foldOf = Array.from(arrays.folds!.data as BigInt64Array, Number);
const { tol, max_iter: maxIter } = reference.lasso_params;
const lassoOptions = { cv: reference.lasso_params.cv, nAlphas: reference.lasso_params.n_alphas, eps: reference.lasso_params.eps, tol, maxIter };

/** Outer fold k as the reference script builds it: training rows in ascending order, StandardScaler fitted on them. */
function outerFold(k: number): { xTrain: Matrix; yTrain: Float64Array; xTest: Matrix; yTest: Float64Array } {
  const train = foldOf.flatMap((f, i) => (f !== k ? [i] : []));
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

/**
 * The lasso's objective (1/(2n))‖y − Xw − b‖² + α‖w‖₁ and its duality gap in scikit-learn's
 * dual_gap_ units (÷ n), from the data: the residual r of the centred problem, the dual point
 * r·min(1, nα/‖Xᵀr‖∞).
 */
function lassoCertificate(Xtrain: Matrix, yTrain: Float64Array, model: FittedLinear, alpha: number): { objective: number; gap: number; gapTolerance: number } {
  const n = Xtrain.rows;
  const residual = Float64Array.from(model.predict(Xtrain), (p, r) => yTrain[r]! - p);
  const yMean = yTrain.reduce((s, v) => s + v, 0) / n;
  const xMeans = new Float64Array(Xtrain.cols);
  for (let r = 0; r < n; r++) for (let j = 0; j < Xtrain.cols; j++) xMeans[j]! += Xtrain.data[r * Xtrain.cols + j]! / n;
  let dualNorm = 0;
  for (let j = 0; j < Xtrain.cols; j++) {
    let xr = 0;
    for (let r = 0; r < n; r++) xr += (Xtrain.data[r * Xtrain.cols + j]! - xMeans[j]!) * residual[r]!;
    dualNorm = Math.max(dualNorm, Math.abs(xr));
  }
  const rNorm2 = residual.reduce((s, v) => s + v * v, 0);
  const rDotY = residual.reduce((s, v, r) => s + v * (yTrain[r]! - yMean), 0);
  const l1Norm = model.coef.reduce((s, v) => s + Math.abs(v), 0);
  const l1 = alpha * n;
  const scale = dualNorm > l1 ? l1 / dualNorm : 1;
  const gap = 0.5 * rNorm2 * (1 + scale * scale) + l1 * l1Norm - scale * rDotY;
  const yCentred2 = yTrain.reduce((s, v) => s + (v - yMean) ** 2, 0);
  return { objective: rNorm2 / (2 * n) + alpha * l1Norm, gap: gap / n, gapTolerance: (tol * yCentred2) / n };
}

describe(`LassoCV on collinear embedding-shaped data (${rows} × ${cols}) against scikit-learn ${reference.sklearn_version}`, () => {
  it('the reference really is the hard case: scikit-learn left path solves unconverged in every fold', () => {
    for (const fold of reference.folds) expect(fold.unconverged_solves).toBeGreaterThan(50);
    expect(reference.smallest_alpha.dual_gap).toBeGreaterThan(reference.smallest_alpha.gap_tolerance);
  });

  it.each(reference.folds.map((f) => f.fold))(
    'outer fold %i: the same chosen alpha, test R² within 0.005, a converged refit and the MSE path up to the choice',
    (k) => {
      const ref = reference.folds[k]!;
      const { xTrain, yTrain, xTest, yTest } = outerFold(k);
      const model = new LassoCV(lassoOptions).fit(xTrain, yTrain);
      expect(model.alpha / ref.alpha).toBeCloseTo(1, 9);
      expect(Math.abs(r2(yTest, model.predict(xTest)) - ref.r2)).toBeLessThan(0.005);
      expect(Math.abs(model.nonZero() - ref.n_nonzero)).toBeLessThanOrEqual(3);
      const certificate = lassoCertificate(xTrain, yTrain, model, model.alpha);
      expect(model.converged).toBe(true);
      expect(certificate.gap).toBeLessThan(certificate.gapTolerance);
      // Down to the chosen α scikit-learn's descent converged, so both are solutions within tol.
      const mse = model.path![0]!.mse;
      for (let a = 0; a <= ref.alpha_index; a++) expect(Math.abs(mse[a]! / ref.mse_path_mean[a]! - 1)).toBeLessThan(1e-3);
    },
    60_000,
  );

  it('at the smallest alpha of the grid, where scikit-learn stops at max_iter, the lasso converges to a lower objective', () => {
    const small = reference.smallest_alpha;
    expect(small.n_iter).toBe(maxIter);
    const { xTrain, yTrain } = outerFold(0);
    const model = fitElasticNet(xTrain, yTrain, { alpha: small.alpha, l1Ratio: 1, tol, maxIter });
    const certificate = lassoCertificate(xTrain, yTrain, model, small.alpha);
    expect(model.converged).toBe(true);
    expect(model.nIter).toBeLessThan(maxIter);
    expect(certificate.gap).toBeGreaterThanOrEqual(-1e-9);
    expect(certificate.gap).toBeLessThan(certificate.gapTolerance);
    expect(certificate.objective).toBeLessThan(small.objective);
    // What the solver reports is that same gap.
    expect(model.dualGap).toBeCloseTo(certificate.gap, 8);
  }, 60_000);

  it.each([
    [15, 15, 5],
    [40, 200, 50],
  ])('%i rows × %i features with %i exactly collinear or constant columns: the same α and predictions as descent on X alone', (n, p, degenerate) => {
    const rng = createRng(5);
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const Xd = matrix(n, p);
    for (let r = 0; r < n; r++) for (let j = degenerate; j < p; j++) Xd.data[r * p + j] = normal();
    // Column 0 constant; columns 1..degenerate − 1 copies (×1) or multiples (×−2) of the last ones.
    for (let r = 0; r < n; r++) for (let j = 0; j < degenerate; j++) Xd.data[r * p + j] = j === 0 ? 3 : Xd.data[r * p + p - 1 - j]! * (j % 2 ? 1 : -2);
    const yd = Float64Array.from({ length: n }, (_, r) => Xd.data[r * p + p - 1]! - 2 * Xd.data[r * p + p - 2]! + 0.3 * normal());
    const gram = new LassoCV(lassoOptions).fit(Xd, yd);
    const direct = new LassoCV({ ...lassoOptions, precompute: false }).fit(Xd, yd);
    expect(gram.alpha).toBe(direct.alpha);
    expect(gram.converged).toBe(true);
    const certificate = lassoCertificate(Xd, yd, gram, gram.alpha);
    expect(certificate.gap).toBeLessThan(certificate.gapTolerance);
    const a = gram.predict(Xd);
    const b = direct.predict(Xd);
    const spread = Math.sqrt(yd.reduce((s, v) => s + v * v, 0) / n);
    a.forEach((v, r) => expect(Math.abs(v - b[r]!)).toBeLessThan(1e-2 * spread));
  });
});
