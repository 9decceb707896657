/**
 * learn/linear — sparse linear regression with a cross-validated penalty: LassoCV and
 * ElasticNetCV, mirroring scikit-learn 1.2's `LassoCV` / `ElasticNetCV`
 * (sklearn/linear_model/_coordinate_descent.py) and its coordinate descent solver
 * (sklearn/linear_model/_cd_fast.pyx: enet_coordinate_descent and enet_coordinate_descent_gram).
 *
 * The model minimises (1/(2n))·‖y − Xw − b‖² + α·ρ·‖w‖₁ + ½·α·(1 − ρ)·‖w‖² (ρ = l1Ratio; ρ = 1 is
 * the lasso). What is reproduced from scikit-learn, step for step:
 *  - the intercept by centering X and y on the rows of each fit (fitIntercept);
 *  - the alpha grid: α_max = max|Xᵀy| / (n·ρ) on the centred data given to fit(), then nAlphas
 *    values log-spaced from α_max down to eps·α_max, the same grid for every inner fold;
 *  - inner cross-validation with KFold(cv) — contiguous blocks, not shuffled;
 *  - per fold, the whole path with warm starts (each α starts from the previous solution);
 *  - cyclic coordinate descent with soft-thresholding, where the duality gap is computed only
 *    when the largest coefficient change of a sweep is below tol relative to the largest
 *    coefficient, and the solver stops once that gap is below tol·‖y_centred‖²;
 *  - the mean squared error of each α averaged over folds (unweighted), the first minimum wins
 *    (across l1 ratios, strictly smaller only), then a refit on all rows at that α from zero.
 * precompute='auto' solves a fold on its Gram matrix XᵀX (the "gram" variant) when it has more rows
 * than features, as scikit-learn does, and also with fewer rows up to GRAM_MAX_FEATURES features
 * (cheaper sweeps); otherwise on X itself. Both are the same algorithm in exact arithmetic.
 * Where scikit-learn's cyclic descent crawls — collinear data such as protein embeddings, where
 * it stops at max_iter unconverged for half the path — a Gram solve still unconverged after
 * PLAIN_SWEEPS sweeps restarts from the exact lasso path, followed by homotopy (see PathSolver);
 * the stopping rule stays the duality gap. Unlike scikit-learn, the Gram matrices of the inner
 * folds are assembled from per-block Gram matrices (each block computed once), and the final refit reuses them; this
 * changes nothing but rounding. The inner loops (Gram products, axpy, dot) run as WebAssembly
 * SIMD on arrays kept in one Arena per fit (learn/matrix).
 *
 * Pure numerics: no I/O.
 */
import { createArena, dot, mirrorUpper, type Arena, type Kernels } from './kernels';
import { checkXy, columnMeans, featureMajor, kFoldBounds, type FittedRegressor, type Matrix, type Regressor } from './matrix';

export type { FittedRegressor, Regressor } from './matrix';

export interface ElasticNetCVOptions {
  /** ρ in the penalty; 1 is the lasso. A list is searched like scikit-learn (best (ρ, α) pair). Default 0.5. */
  l1Ratio?: number | readonly number[];
  /** Length of the automatic α grid. Default 100. */
  nAlphas?: number;
  /** α_min / α_max of the automatic grid. Default 1e-3. */
  eps?: number;
  /** An explicit α grid instead of the automatic one (sorted descending, as scikit-learn does). */
  alphas?: readonly number[];
  /** Inner folds (KFold, contiguous). Default 5. */
  cv?: number;
  /** Duality-gap tolerance, relative to ‖y_centred‖². Default 1e-4. */
  tol?: number;
  /** Coordinate descent sweeps per α. Default 1000. */
  maxIter?: number;
  /** Fit an intercept by centering. Default true. */
  fitIntercept?: boolean;
  /** Solve on the Gram matrix: 'auto' (default) when a fold has more rows than features. */
  precompute?: 'auto' | boolean;
}

export type LassoCVOptions = Omit<ElasticNetCVOptions, 'l1Ratio'>;

/** What one coordinate descent solve reports, in scikit-learn's units (the objective times n). */
export interface CdResult {
  /** The duality gap at the returned coefficients. */
  gap: number;
  /** The gap it had to reach: tol·‖y‖² (y centred when fitting an intercept). */
  tol: number;
  /** Sweeps over the coordinates. */
  nIter: number;
  converged: boolean;
}

/**
 * One elastic-net problem as coordinate descent sees it (already centred when fitting an
 * intercept): either the Gram form (Q = XᵀX, q = Xᵀy, and ‖y‖²) or the data itself, feature-major.
 * H (= Qw) and R (= y − Xw) are the solver's scratch, allocated with the problem so that the
 * kernels can reach them, as is the homotopy's (LassoHomotopy: its correlations and their slope).
 */
type CdProblem =
  | { kind: 'gram'; n: number; p: number; Q: Float64Array; q: Float64Array; yNorm2: number; H: Float64Array; homotopyScratch: Float64Array; kernels: Kernels }
  | { kind: 'data'; n: number; p: number; Xt: Float64Array; y: Float64Array; colNorm2: Float64Array; R: Float64Array; kernels: Kernels };

/** A fitted elastic net (the CV estimators return this after their refit). */
export interface FittedLinear extends FittedRegressor {
  nonZero(): number;
  readonly coef: Float64Array;
  readonly intercept: number;
  readonly alpha: number;
  readonly l1Ratio: number;
  /** scikit-learn's dual_gap_: the final duality gap divided by n. */
  readonly dualGap: number;
  /** The gap the solver had to reach, in the same units: tol·‖y_centred‖² / n. */
  readonly gapTolerance: number;
  readonly nIter: number;
  readonly converged: boolean;
  /** CV estimators: the α grid of each l1 ratio (descending) and its fold-averaged test MSE. */
  readonly path?: { l1Ratio: number; alphas: Float64Array; mse: Float64Array }[];
}

const DEFAULTS = { nAlphas: 100, eps: 1e-3, cv: 5, tol: 1e-4, maxIter: 1000, fitIntercept: true, precompute: 'auto' as const };

/** numpy's finfo(float64).resolution: scikit-learn's floor for a degenerate α grid. */
const FLOAT_RESOLUTION = 1e-15;

/**
 * 'auto' solves on the Gram matrix up to this many features even with fewer rows than features
 * (see prefersGram): the widest embeddings (ESM-2 3B, ESM C 6B: 2,560) included. At 4,096 a Gram
 * matrix is 134 MB; on 500 × 2,560 collinear rows LassoCV takes 5.5 s CPU this way and did not
 * finish in 5 minutes on X.
 */
const GRAM_MAX_FEATURES = 4096;

/** Gram matrices of all inner blocks are kept while they fit in this many bytes. */
const GRAM_MEMORY_BUDGET = 768 * 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Estimators

/** Elastic net with α (and optionally ρ) chosen by inner cross-validation; scikit-learn's ElasticNetCV. */
export class ElasticNetCV implements Regressor {
  readonly name: string = 'ElasticNetCV';
  /** Whether `chosen` reports the l1 ratio besides α (not for the lasso, where it is fixed at 1). */
  protected readonly reportsL1Ratio: boolean = true;
  protected readonly options: Required<Omit<ElasticNetCVOptions, 'alphas' | 'l1Ratio'>> & { alphas?: readonly number[]; l1Ratios: number[] };

  constructor(options: ElasticNetCVOptions = {}) {
    const l1 = options.l1Ratio ?? 0.5;
    const l1Ratios = typeof l1 === 'number' ? [l1] : [...l1];
    const merged = { ...DEFAULTS, ...stripUndefined(options), l1Ratios };
    validateOptions(merged);
    this.options = merged;
  }

  fit(X: Matrix, y: Float64Array, onProgress?: (fraction: number) => void): FittedLinear {
    checkXy(X, y, this.name);
    return fitCV(this.name, X, y, this.options, this.reportsL1Ratio, onProgress);
  }
}

/** The lasso with α chosen by inner cross-validation; scikit-learn's LassoCV (ElasticNetCV with ρ = 1). */
export class LassoCV extends ElasticNetCV {
  override readonly name: string = 'LassoCV';
  protected override readonly reportsL1Ratio: boolean = false;

  constructor(options: LassoCVOptions = {}) {
    super({ ...options, l1Ratio: 1 });
  }
}

/** One elastic net at a fixed α (scikit-learn's ElasticNet / Lasso with ρ = 1). */
export function fitElasticNet(
  X: Matrix,
  y: Float64Array,
  options: { alpha: number; l1Ratio?: number; tol?: number; maxIter?: number; fitIntercept?: boolean; precompute?: 'auto' | boolean },
): FittedLinear {
  checkXy(X, y, 'ElasticNet');
  const l1Ratio = options.l1Ratio ?? 0.5;
  const { tol, maxIter, fitIntercept, precompute } = { ...DEFAULTS, ...stripUndefined(options) };
  if (!(options.alpha >= 0)) throw new RangeError(`alpha must be ≥ 0, got ${options.alpha}.`);
  const useGram = precompute === 'auto' ? prefersGram(X.rows, X.cols) : precompute;
  const { rows: n, cols: p } = X;
  const data = prepare(X, y, fitIntercept, createArena(n * p + n + (useGram ? 2 * p * p + 6 * p : n + p)));
  const problem = useGram ? gramProblem(data, fullMoments(data)) : dataProblem(data);
  const w = new Float64Array(X.cols);
  const result = new PathSolver(problem, l1Ratio, maxIter, tol).solve(w, options.alpha);
  return fitted('ElasticNet', data, w, options.alpha, l1Ratio, result, { alpha: options.alpha, l1Ratio });
}

/**
 * precompute='auto': scikit-learn uses the Gram form only with more rows than features. Here it is
 * also used up to GRAM_MAX_FEATURES features: a sweep then costs O(p) per coefficient that moves
 * instead of O(n) per feature, which on a sparse path is far less, and the Gram matrix (p² floats)
 * stays small. Same iterates in exact arithmetic.
 */
function prefersGram(rows: number, p: number): boolean {
  return rows > p || p <= GRAM_MAX_FEATURES;
}

// ---------------------------------------------------------------------------------------------
// Cross-validation along the path

type CVOptions = ElasticNetCV['options'];

function fitCV(name: string, X: Matrix, y: Float64Array, options: CVOptions, reportsL1Ratio: boolean, onProgress?: (fraction: number) => void): FittedLinear {
  const { cv, tol, maxIter, l1Ratios } = options;
  const blocks = kFoldBounds(X.rows, cv);
  const plan = planFolds(X.rows, X.cols, blocks, options.precompute);
  const data = prepare(X, y, options.fitIntercept, createArena(plan.arenaSize));
  const folds = new FoldProblems(data, blocks, plan);
  const fullXy = fullCorrelation(data);
  const steps = l1Ratios.length * cv + 1;
  let done = 0;

  const path = l1Ratios.map((l1Ratio) => {
    const alphas = options.alphas ? Float64Array.from(options.alphas).sort().reverse() : alphaGrid(fullXy, data.n, l1Ratio, options.eps, options.nAlphas);
    const mse = new Float64Array(alphas.length);
    for (let k = 0; k < cv; k++) {
      const mark = data.arena.mark(); // the fold's problem is scratch: reuse its space for the next
      const foldMse = foldPathMse(data, folds, k, alphas, l1Ratio, maxIter, tol);
      data.arena.release(mark);
      for (let a = 0; a < alphas.length; a++) mse[a]! += foldMse[a]! / cv;
      onProgress?.(++done / steps);
    }
    return { l1Ratio, alphas, mse };
  });

  const best = bestOnPath(path);
  // scikit-learn refits from zero at the chosen α (no warm start), on all rows.
  const w = new Float64Array(data.p);
  const result = new PathSolver(folds.full(), best.l1Ratio, maxIter, tol).solve(w, best.alpha);
  onProgress?.(1);
  const chosen: Record<string, number> = reportsL1Ratio ? { alpha: best.alpha, l1Ratio: best.l1Ratio } : { alpha: best.alpha };
  return fitted(name, data, w, best.alpha, best.l1Ratio, result, chosen, path, options);
}

/** The first α with the smallest mean MSE; a later l1 ratio wins only when strictly better (np.argmin + `<`). */
function bestOnPath(path: { l1Ratio: number; alphas: Float64Array; mse: Float64Array }[]): { alpha: number; l1Ratio: number } {
  let best = { alpha: Number.NaN, l1Ratio: Number.NaN, mse: Number.POSITIVE_INFINITY };
  for (const { l1Ratio, alphas, mse } of path) {
    let index = 0;
    for (let a = 1; a < mse.length; a++) if (mse[a]! < mse[index]!) index = a;
    if (mse[index]! < best.mse || Number.isNaN(best.alpha)) best = { alpha: alphas[index]!, l1Ratio, mse: mse[index]! };
  }
  return best;
}

/** Test MSE of every α of the path fitted on all blocks but k, with warm starts along the path. */
function foldPathMse(data: Prepared, folds: FoldProblems, k: number, alphas: Float64Array, l1Ratio: number, maxIter: number, tol: number): Float64Array {
  const { problem, xMean, yMean } = folds.fold(k);
  const [start, end] = folds.blocks[k]!;
  const m = end - start;
  const w = new Float64Array(data.p);
  const mse = new Float64Array(alphas.length);
  const prediction = data.arena.alloc(m);
  const { axpy } = data.arena.kernels;
  const solver = new PathSolver(problem, l1Ratio, maxIter, tol);
  alphas.forEach((alpha, a) => {
    solver.solve(w, alpha);
    // Predict the held-out block: ȳ_train + (x − x̄_train)·w, in the shifted coordinates of `data`.
    prediction.fill(yMean - dot(xMean, 0, w, 0, data.p));
    for (let j = 0; j < data.p; j++) if (w[j] !== 0) axpy(m, w[j]!, data.Xt, j * data.n + start, prediction, 0);
    let sum = 0;
    for (let r = 0; r < m; r++) sum += (data.y[start + r]! - prediction[r]!) ** 2;
    mse[a] = sum / m;
  });
  return mse;
}

/**
 * scikit-learn's _alpha_grid: α_max = max|Xᵀy| / (n·ρ) (the smallest α whose solution is all
 * zeros), then np.logspace(log10(eps·α_max), log10(α_max), nAlphas) reversed.
 */
export function alphaGrid(xy: Float64Array, n: number, l1Ratio: number, eps: number, nAlphas: number): Float64Array {
  if (l1Ratio === 0) throw new RangeError('An automatic alpha grid needs l1Ratio > 0; give `alphas` explicitly for l1Ratio = 0.');
  let maxAbs = 0;
  for (const v of xy) maxAbs = Math.max(maxAbs, Math.abs(v));
  const alphaMax = maxAbs / (n * l1Ratio);
  if (alphaMax <= FLOAT_RESOLUTION) return new Float64Array(nAlphas).fill(FLOAT_RESOLUTION);
  const start = Math.log10(alphaMax * eps);
  const stop = Math.log10(alphaMax);
  const grid = new Float64Array(nAlphas);
  if (nAlphas === 1) {
    grid[0] = 10 ** start; // np.logspace with num=1 gives the start
    return grid;
  }
  const step = (stop - start) / (nAlphas - 1);
  // np.linspace: start + i·step, the last point exactly `stop`; descending order as scikit-learn.
  for (let i = 0; i < nAlphas; i++) grid[nAlphas - 1 - i] = 10 ** (i === nAlphas - 1 ? stop : start + i * step);
  return grid;
}

// ---------------------------------------------------------------------------------------------
// The data, its blocks, and the problem of each fold

/** X and y as the solvers use them: X feature-major, both shifted by their means when fitting an intercept. */
interface Prepared {
  n: number;
  p: number;
  Xt: Float64Array;
  y: Float64Array;
  /** What was subtracted (zeros without an intercept). */
  xShift: Float64Array;
  yShift: number;
  fitIntercept: boolean;
  /** Where Xt, y and every problem's arrays live. */
  arena: Arena;
}

function prepare(X: Matrix, y: Float64Array, fitIntercept: boolean, arena: Arena): Prepared {
  const { rows: n, cols: p } = X;
  const xShift = fitIntercept ? columnMeans(X) : new Float64Array(p);
  let yShift = 0;
  if (fitIntercept) for (const v of y) yShift += v / n;
  // Shifting by the overall mean first keeps the later per-fold centering free of cancellation.
  const Xt = featureMajor(X, xShift, arena.alloc(n * p));
  const yc = arena.alloc(n);
  for (let r = 0; r < n; r++) yc[r] = y[r]! - yShift;
  return { n, p, Xt, y: yc, xShift, yShift, fitIntercept, arena };
}

/** Which folds are solved on a Gram matrix, whether the per-block Gram matrices are kept, and the arena that holds it all. */
interface FoldPlan {
  gramFold: boolean[];
  keepBlocks: boolean;
  arenaSize: number;
}

function planFolds(n: number, p: number, blocks: [number, number][], precompute: 'auto' | boolean): FoldPlan {
  const gramFold = blocks.map(([start, end]) => (precompute === 'auto' ? prefersGram(n - (end - start), p) : precompute));
  const anyGram = gramFold.some(Boolean);
  const keepBlocks = anyGram && (blocks.length + 2) * p * p * 8 <= GRAM_MEMORY_BUDGET;
  const largestTest = Math.max(...blocks.map(([start, end]) => end - start));
  // Float64 counts: X and y; the kept block Gram matrices; then one fold at a time (its Gram
  // problem, or its copy of the training rows, and the test predictions).
  const gramFoldSize = anyGram ? p * p + 6 * p + (keepBlocks ? 0 : p * p) : 0;
  const dataFoldSize = gramFold.every(Boolean) ? 0 : p * n + 2 * n + p;
  return { gramFold, keepBlocks, arenaSize: n * p + n + (keepBlocks ? blocks.length * p * p : 0) + Math.max(gramFoldSize, dataFoldSize) + largestTest + 64 };
}

/** Sums over a set of rows, from which any union of blocks gives its centred Gram problem. */
interface Moments {
  n: number;
  /** Σ xxᵀ, upper triangle (p × p). */
  gram: Float64Array;
  sumX: Float64Array;
  /** Σ x·y */
  xy: Float64Array;
  sumY: number;
  yy: number;
}

/** The sums of rows [start, end); the Gram part goes into `gram` (from the arena, so the SIMD kernel can fill it). */
function blockMoments(data: Prepared, start: number, end: number, gram = data.arena.alloc(data.p * data.p)): Moments {
  const { p, n, Xt, y } = data;
  data.arena.kernels.gramUpper(Xt, p, n, start, end, gram);
  const sumX = new Float64Array(p);
  const xy = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let r = start; r < end; r++) s += Xt[j * n + r]!;
    sumX[j] = s;
    xy[j] = data.arena.kernels.dot(Xt, j * n + start, y, start, end - start);
  }
  let sumY = 0;
  let yy = 0;
  for (let r = start; r < end; r++) {
    sumY += y[r]!;
    yy += y[r]! * y[r]!;
  }
  return { n: end - start, gram, sumX, xy, sumY, yy };
}

function addMoments(target: Moments, source: Moments): void {
  target.n += source.n;
  for (let i = 0; i < target.gram.length; i++) target.gram[i]! += source.gram[i]!;
  for (let j = 0; j < target.sumX.length; j++) {
    target.sumX[j]! += source.sumX[j]!;
    target.xy[j]! += source.xy[j]!;
  }
  target.sumY += source.sumY;
  target.yy += source.yy;
}

function emptyMoments(gram: Float64Array, p: number): Moments {
  return { n: 0, gram, sumX: new Float64Array(p), xy: new Float64Array(p), sumY: 0, yy: 0 };
}

function fullMoments(data: Prepared): Moments {
  return blockMoments(data, 0, data.n);
}

/** Means of the training rows (in the shifted coordinates of `data`; zeros without an intercept). */
interface Centering {
  xMean: Float64Array;
  yMean: number;
}

function centeringOf(data: Prepared, moments: Moments): Centering {
  const xMean = new Float64Array(data.p);
  if (!data.fitIntercept) return { xMean, yMean: 0 };
  for (let j = 0; j < data.p; j++) xMean[j] = moments.sumX[j]! / moments.n;
  return { xMean, yMean: moments.sumY / moments.n };
}

/**
 * The centred Gram problem of the rows summed in `moments`:
 * Q = Σxxᵀ − n·x̄x̄ᵀ, q = Σxy − n·x̄ȳ, ‖y‖² = Σy² − n·ȳ². The diagonal is recomputed directly from
 * the rows (`ranges`), so a feature constant on those rows gets exactly Q_jj = 0 and is skipped,
 * as scikit-learn skips a zero column.
 */
function gramProblem(data: Prepared, moments: Moments, ranges: [number, number][] = [[0, data.n]]): CdProblem & { kind: 'gram' } {
  const { p } = data;
  const { xMean, yMean } = centeringOf(data, moments);
  const n = moments.n;
  const Q = moments.gram; // the fold's own sum, centred in place
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) Q[i * p + j]! -= n * xMean[i]! * xMean[j]!;
  mirrorUpper(Q, p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (const [start, end] of ranges) for (let r = start; r < end; r++) s += (data.Xt[j * data.n + r]! - xMean[j]!) ** 2;
    Q[j * p + j] = s;
  }
  const q = new Float64Array(p);
  for (let j = 0; j < p; j++) q[j] = moments.xy[j]! - n * xMean[j]! * yMean;
  return { kind: 'gram', n, p, Q, q, yNorm2: moments.yy - n * yMean * yMean, H: data.arena.alloc(p), homotopyScratch: data.arena.alloc(2 * p), kernels: data.arena.kernels };
}

/**
 * The rows in `ranges`, centred on their own means, feature-major. All rows are `data` itself:
 * already centred on their mean by prepare(), as scikit-learn centres once before fitting.
 */
function dataProblem(data: Prepared, ranges: [number, number][] = [[0, data.n]]): CdProblem & { kind: 'data' } {
  const { p, arena } = data;
  const n = ranges.reduce((s, [a, b]) => s + b - a, 0);
  const whole = n === data.n;
  const Xt = whole ? data.Xt : arena.alloc(p * n);
  const y = whole ? data.y : arena.alloc(n);
  if (!whole) {
    let ySum = 0;
    for (const [start, end] of ranges) for (let r = start; r < end; r++) ySum += data.y[r]!;
    const yMean = data.fitIntercept ? ySum / n : 0; // summed as sumsOnly() does, so the prediction's centering matches
    let o = 0;
    for (const [start, end] of ranges) for (let r = start; r < end; r++) y[o++] = data.y[r]! - yMean;
    for (let j = 0; j < p; j++) copyCentredFeature(data, j, ranges, n, Xt);
  }
  const colNorm2 = Float64Array.from({ length: p }, (_, j) => arena.kernels.dot(Xt, j * n, Xt, j * n, n));
  return { kind: 'data', n, p, Xt, y, colNorm2, R: arena.alloc(n), kernels: arena.kernels };
}

/** Feature j of the rows in `ranges`, minus its mean on those rows, into row j of Xt (n per row). */
function copyCentredFeature(data: Prepared, j: number, ranges: [number, number][], n: number, Xt: Float64Array): void {
  const source = j * data.n;
  let sum = 0;
  for (const [start, end] of ranges) for (let r = start; r < end; r++) sum += data.Xt[source + r]!;
  const mean = data.fitIntercept ? sum / n : 0;
  let o = j * n;
  for (const [start, end] of ranges) for (let r = start; r < end; r++) Xt[o++] = data.Xt[source + r]! - mean;
}

/** Xᵀy on all rows (centred), for the α grid. */
function fullCorrelation(data: Prepared): Float64Array {
  const xy = new Float64Array(data.p);
  for (let j = 0; j < data.p; j++) xy[j] = data.arena.kernels.dot(data.Xt, j * data.n, data.y, 0, data.n);
  return xy;
}

/**
 * The problem of each inner fold and of the final refit. Gram problems are assembled from
 * per-block moments computed once (one pass of n·p²/2 multiply-adds in all), instead of one
 * Gram matrix per fold (cv − 1 passes); when those would not fit in memory, each fold's Gram
 * matrix is computed from its rows. A fold's arrays come from the arena: callers release them.
 */
class FoldProblems {
  private readonly blockMoments: Moments[] | undefined;

  constructor(
    private readonly data: Prepared,
    readonly blocks: [number, number][],
    private readonly plan: FoldPlan,
  ) {
    this.blockMoments = plan.keepBlocks ? blocks.map(([start, end]) => blockMoments(data, start, end)) : undefined;
  }

  fold(k: number): { problem: CdProblem } & Centering {
    const ranges = this.blocks.filter((_, b) => b !== k);
    if (!this.plan.gramFold[k]) return { problem: dataProblem(this.data, ranges), ...centeringOf(this.data, sumsOnly(this.data, ranges)) };
    const moments = this.gramMoments(ranges, k);
    return { problem: gramProblem(this.data, moments, ranges), ...centeringOf(this.data, moments) };
  }

  /** All rows: the Gram form when the folds used it, else the data form (as scikit-learn's refit). */
  full(): CdProblem {
    const all: [number, number][] = [[0, this.data.n]];
    return this.plan.gramFold.some(Boolean) ? gramProblem(this.data, this.gramMoments(all), all) : dataProblem(this.data, all);
  }

  /** The moments of the rows in `ranges` (whole blocks, all but `skip`), Gram part in fresh arena space. */
  private gramMoments(ranges: [number, number][], skip?: number): Moments {
    const total = emptyMoments(this.data.arena.alloc(this.data.p * this.data.p), this.data.p);
    if (this.blockMoments) {
      this.blockMoments.forEach((m, b) => b !== skip && addMoments(total, m));
      return total;
    }
    const scratch = this.data.arena.alloc(this.data.p * this.data.p);
    for (const [start, end] of ranges) {
      scratch.fill(0);
      addMoments(total, blockMoments(this.data, start, end, scratch));
    }
    return total;
  }
}

/** Moments without the Gram matrix (for centering only). */
function sumsOnly(data: Prepared, ranges: [number, number][]): Moments {
  const m: Moments = { n: 0, gram: new Float64Array(0), sumX: new Float64Array(data.p), xy: new Float64Array(data.p), sumY: 0, yy: 0 };
  for (const [start, end] of ranges) {
    m.n += end - start;
    for (let j = 0; j < data.p; j++) for (let r = start; r < end; r++) m.sumX[j]! += data.Xt[j * data.n + r]!;
    for (let r = start; r < end; r++) m.sumY += data.y[r]!;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Coordinate descent (sklearn/linear_model/_cd_fast.pyx)

/**
 * Solves one problem at a sequence of α (descending, each from the previous solution in `w`),
 * with scikit-learn's scaling: l1 = α·ρ·n and l2 = α·(1 − ρ)·n on the un-normalised objective
 * ½‖y − Xw‖² + l1‖w‖₁ + ½·l2‖w‖².
 *
 * A lasso on a Gram problem first runs PLAIN_SWEEPS sweeps of scikit-learn's coordinate descent
 * (the same iterates); most solves end there. One that does not is a collinear problem where
 * cyclic descent crawls (on embeddings scikit-learn stops at max_iter unconverged for about half
 * the path): it restarts from the exact solution of the homotopy path (LassoHomotopy, followed
 * once per problem as far down as needed), which coordinate descent then only has to confirm,
 * usually in one sweep; smaller α on the same path start there directly. The stopping rule stays
 * scikit-learn's (duality gap below tol·‖y‖²) and the sweeps of both phases count against
 * maxIter. The elastic net (ρ < 1) has no piecewise-linear path in α and runs plain coordinate
 * descent.
 */
class PathSolver {
  private homotopy: LassoHomotopy | undefined;

  constructor(
    private readonly problem: CdProblem,
    private readonly l1Ratio: number,
    private readonly maxIter: number,
    private readonly tol: number,
  ) {}

  solve(w: Float64Array, alpha: number): CdResult {
    const { problem, maxIter, tol } = this;
    const l1 = alpha * this.l1Ratio * problem.n;
    const l2 = alpha * (1 - this.l1Ratio) * problem.n;
    if (problem.kind === 'data') return cdData(problem, w, l1, l2, maxIter, tol);
    if (this.l1Ratio !== 1) return cdGram(problem, w, l1, l2, maxIter, tol);
    // Once the lasso path needed the homotopy, smaller α (harder still) start from it directly.
    const plainSweeps = this.homotopy ? 0 : Math.min(PLAIN_SWEEPS, maxIter);
    if (plainSweeps > 0) {
      const plain = cdGram(problem, w, l1, l2, plainSweeps, tol);
      if (plain.converged || plainSweeps === maxIter) return plain;
    }
    this.homotopy ??= new LassoHomotopy(problem);
    this.homotopy.solutionAt(l1, w);
    const rest = cdGram(problem, w, l1, l2, maxIter - plainSweeps, tol);
    return { ...rest, nIter: rest.nIter + plainSweeps };
  }
}

/** Sweeps of plain coordinate descent (scikit-learn's iterates) before a solve is accelerated. */
const PLAIN_SWEEPS = 40;

/** sign(z)·max(|z| − t, 0). */
function softThreshold(z: number, t: number): number {
  return z > t ? z - t : z < -t ? z + t : 0;
}

/**
 * enet_coordinate_descent_gram: H = Qw is kept up to date, so a coordinate update costs O(p)
 * only when its coefficient changes. `tmp` adds back the coordinate's own contribution, which is
 * scikit-learn's "H −= w_ii·Q[ii]" folded into one update.

 */
function cdGram(problem: CdProblem & { kind: 'gram' }, w: Float64Array, l1: number, l2: number, maxIter: number, tol: number): CdResult {
  const { p, Q, q, yNorm2, H } = problem;
  const { axpy } = problem.kernels;
  H.fill(0);
  for (let j = 0; j < p; j++) if (w[j] !== 0) axpy(p, w[j]!, Q, j * p, H, 0);
  const gapTol = tol * yNorm2;
  let gap = gapTol + 1;
  for (let iter = 0; iter < maxIter; iter++) {
    let wMax = 0;
    let dwMax = 0;
    for (let ii = 0; ii < p; ii++) {
      const qii = Q[ii * p + ii]!;
      if (qii === 0) continue;
      const wOld = w[ii]!;
      const wNew = softThreshold(q[ii]! - H[ii]! + wOld * qii, l1) / (qii + l2);
      if (wNew !== wOld) {
        axpy(p, wNew - wOld, Q, ii * p, H, 0);
        w[ii] = wNew;
      }
      dwMax = Math.max(dwMax, Math.abs(wNew - wOld));
      wMax = Math.max(wMax, Math.abs(wNew));
    }
    if (wMax === 0 || dwMax / wMax < tol || iter === maxIter - 1) {
      gap = gramGap(problem, w, H, l1, l2);
      if (gap < gapTol) return { gap, tol: gapTol, nIter: iter + 1, converged: true };
    }
  }
  return { gap, tol: gapTol, nIter: maxIter, converged: false };
}

/**
 * The exact lasso path by homotopy (LARS with the lasso modification; Osborne, Presnell & Turlach
 * 2000, Efron et al. 2004) on a Gram problem, followed from l1 = max|q| downwards. Between events
 * the solution moves linearly: on the active set A with signs s, w_A changes along (Q_AA)⁻¹s and
 * every correlation c = q − Qw along −Q_{:,A}(Q_AA)⁻¹s, while the active ones stay at ±l1. An
 * event is an inactive correlation reaching ±l1 (the feature enters) or an active coefficient
 * reaching zero (it leaves). (Q_AA)⁻¹ is updated in O(k²) per event. The cost does not depend on
 * how ill-conditioned Q is — which is what makes cyclic descent crawl on embeddings — so it gives
 * coordinate descent an exact start; rounding on a near-singular Q_AA is corrected by the
 * descent that follows, and the duality gap decides, as always. Features that would enter as
 * (numerically) linear combinations of the active ones are left out for the rest of the path.
 */
class LassoHomotopy {
  private readonly w: Float64Array;
  /** c = q − Qw. */
  private readonly c: Float64Array;
  private readonly active: number[] = [];
  private readonly signs: number[] = [];
  /** (Q_AA)⁻¹, k × k with row stride p. */
  private readonly inverse: Float64Array;
  private readonly excluded: Uint8Array;
  private lambda: number;
  /** The feature that changed at the last event: it may not trigger the next one (rounding ties). */
  private lastChanged = -1;
  private steps = 0;
  /** Scratch of one step: dw_A/dλ, dc/dλ (in the arena, for the SIMD axpy), and which features are active. */
  private readonly d: Float64Array;
  private readonly slope: Float64Array;
  private readonly isActive: Uint8Array;

  constructor(private readonly problem: CdProblem & { kind: 'gram' }) {
    const { p, Q, q } = problem;
    this.w = new Float64Array(p);
    this.c = problem.homotopyScratch.subarray(0, p);
    this.c.set(q);
    this.slope = problem.homotopyScratch.subarray(p, 2 * p);
    this.d = new Float64Array(p);
    this.isActive = new Uint8Array(p);
    this.inverse = new Float64Array(p * p);
    this.excluded = Uint8Array.from({ length: p }, (_, j) => (Q[j * p + j]! > 0 ? 0 : 1));
    this.lambda = 0;
    for (let j = 0; j < p; j++) if (!this.excluded[j]) this.lambda = Math.max(this.lambda, Math.abs(q[j]!));
  }

  /** Writes the path's coefficients at `l1` into `out`; calls must not increase l1. */
  solutionAt(l1: number, out: Float64Array): void {
    const maxSteps = 20 * this.problem.p;
    while (this.lambda > l1 && this.steps < maxSteps && this.step(l1)) this.steps++;
    out.set(this.w);
  }

  /** Moves to the next event or to `target`, whichever comes first; false when the path cannot go on. */
  private step(target: number): boolean {
    const { p, Q } = this.problem;
    const { active, signs, inverse, w, c, d, isActive, excluded } = this;
    if (active.length === 0) {
      const first = this.strongestInactive();
      if (first < 0 || !this.enter(first, Math.sign(c[first]!))) return false;
    }
    const k = active.length;
    // Per unit decrease of λ: w_A moves by d = (Q_AA)⁻¹s and the correlations by −a, a = Q_{:,A}·d.
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let m = 0; m < k; m++) s += inverse[i * p + m]! * signs[m]!;
      d[i] = s;
    }
    const a = this.slope;
    a.fill(0);
    for (let i = 0; i < k; i++) this.problem.kernels.axpy(p, d[i]!, Q, active[i]! * p, a, 0);
    let gamma = this.lambda - target;
    let entering = -1;
    let leaving = -1;
    for (let j = 0; j < p; j++) {
      if (isActive[j] || excluded[j] || j === this.lastChanged) continue;
      // c_j − γ·a_j reaches +(λ − γ) or −(λ − γ).
      const up = (this.lambda - c[j]!) / (1 - a[j]!);
      const down = (this.lambda + c[j]!) / (1 + a[j]!);
      if (a[j]! < 1 && up >= 0 && up < gamma) {
        gamma = up;
        entering = j;
      }
      if (a[j]! > -1 && down >= 0 && down < gamma) {
        gamma = down;
        entering = j;
      }
    }
    for (let i = 0; i < k; i++) {
      const j = active[i]!;
      if (j === this.lastChanged || d[i]! * w[j]! >= 0) continue;
      const g = -w[j]! / d[i]!;
      if (g < gamma) {
        gamma = g;
        leaving = i;
        entering = -1;
      }
    }
    for (let i = 0; i < k; i++) w[active[i]!]! += gamma * d[i]!;
    this.problem.kernels.axpy(p, -gamma, a, 0, c, 0);
    this.lambda -= gamma;
    this.lastChanged = -1;
    if (leaving >= 0) {
      const j = active[leaving]!;
      w[j] = 0;
      this.leave(leaving);
      this.lastChanged = j;
    } else if (entering >= 0) {
      if (this.enter(entering, Math.sign(c[entering]!))) this.lastChanged = entering;
      else excluded[entering] = 1;
    }
    if (this.steps % 16 === 15) this.refreshCorrelations();
    return true;
  }

  private strongestInactive(): number {
    let best = -1;
    for (let j = 0; j < this.problem.p; j++) if (!this.excluded[j] && (best < 0 || Math.abs(this.c[j]!) > Math.abs(this.c[best]!))) best = j;
    return best;
  }

  /** Adds feature j to A, bordering (Q_AA)⁻¹; false when Q_jj − bᵀ(Q_AA)⁻¹b shows j is (nearly) in the span of A. */
  private enter(j: number, sign: number): boolean {
    const { p, Q } = this.problem;
    const { active, inverse } = this;
    const k = active.length;
    const u = new Float64Array(k);
    let schur = Q[j * p + j]!;
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let m = 0; m < k; m++) s += inverse[i * p + m]! * Q[j * p + active[m]!]!;
      u[i] = s;
    }
    for (let i = 0; i < k; i++) schur -= Q[j * p + active[i]!]! * u[i]!;
    if (!(schur > 1e-10 * Q[j * p + j]!)) return false;
    for (let i = 0; i < k; i++) {
      for (let m = 0; m < k; m++) inverse[i * p + m]! += (u[i]! * u[m]!) / schur;
      inverse[i * p + k] = -u[i]! / schur;
      inverse[k * p + i] = -u[i]! / schur;
    }
    inverse[k * p + k] = 1 / schur;
    active.push(j);
    this.isActive[j] = 1;
    this.signs.push(sign);
    return true;
  }

  /** Removes the r-th active feature: the inverse of a principal submatrix from the full inverse. */
  private leave(r: number): void {
    const { p } = this.problem;
    const { active, inverse } = this;
    const k = active.length;
    const pivot = inverse[r * p + r]!;
    for (let i = 0; i < k; i++) {
      if (i === r) continue;
      const factor = inverse[i * p + r]! / pivot;
      for (let m = 0; m < k; m++) if (m !== r) inverse[i * p + m]! -= factor * inverse[r * p + m]!;
    }
    // Close the gap left by row and column r.
    for (let i = 0; i < k; i++) {
      if (i === r) continue;
      const target = i < r ? i : i - 1;
      for (let m = 0; m < k; m++) if (m !== r) inverse[target * p + (m < r ? m : m - 1)] = inverse[i * p + m]!;
    }
    this.isActive[active[r]!] = 0;
    active.splice(r, 1);
    this.signs.splice(r, 1);
  }

  /** c = q − Qw from scratch, so that rounding does not pile up along the path. */
  private refreshCorrelations(): void {
    const { p, Q, q } = this.problem;
    this.c.set(q);
    for (const j of this.active) this.problem.kernels.axpy(p, -this.w[j]!, Q, j * p, this.c, 0);
  }
}

/**
 * The duality gap of the Gram form (scikit-learn's formula): with R the residual,
 * ‖R‖² = ‖y‖² + wᵀQw − 2qᵀw, the dual point scaled so that ‖Xᵀθ − l2·w‖∞ ≤ l1.
 */
function gramGap(problem: CdProblem & { kind: 'gram' }, w: Float64Array, H: Float64Array, l1: number, l2: number): number {
  const { p, q, yNorm2 } = problem;
  let qDotW = 0;
  let wH = 0;
  let wNorm2 = 0;
  let l1Norm = 0;
  let dualNorm = 0;
  for (let j = 0; j < p; j++) {
    const wj = w[j]!;
    qDotW += wj * q[j]!;
    wH += wj * H[j]!;
    wNorm2 += wj * wj;
    l1Norm += Math.abs(wj);
    dualNorm = Math.max(dualNorm, Math.abs(q[j]! - H[j]! - l2 * wj));
  }
  const rNorm2 = yNorm2 + wH - 2 * qDotW;
  return gapFormula(rNorm2, dualNorm, l1, l2, l1Norm, wNorm2, yNorm2 - qDotW);
}

/** Shared tail of both gap computations; rDotY = Rᵀy. */
function gapFormula(rNorm2: number, dualNorm: number, l1: number, l2: number, l1Norm: number, wNorm2: number, rDotY: number): number {
  const scale = dualNorm > l1 ? l1 / dualNorm : 1;
  const gap = dualNorm > l1 ? 0.5 * (rNorm2 + rNorm2 * scale * scale) : rNorm2;
  return gap + l1 * l1Norm - scale * rDotY + 0.5 * l2 * (1 + scale * scale) * wNorm2;
}

/** enet_coordinate_descent: the residual R = y − Xw is kept up to date in place. */
function cdData(problem: CdProblem & { kind: 'data' }, w: Float64Array, l1: number, l2: number, maxIter: number, tol: number): CdResult {
  const { n, p, Xt, y, colNorm2, R } = problem;
  const { axpy, dot } = problem.kernels;
  R.set(y);
  for (let j = 0; j < p; j++) if (w[j] !== 0) axpy(n, -w[j]!, Xt, j * n, R, 0);
  const gapTol = tol * dot(y, 0, y, 0, n);
  let gap = gapTol + 1;
  for (let iter = 0; iter < maxIter; iter++) {
    let wMax = 0;
    let dwMax = 0;
    for (let ii = 0; ii < p; ii++) {
      const norm = colNorm2[ii]!;
      if (norm === 0) continue;
      const wOld = w[ii]!;
      const wNew = softThreshold(dot(Xt, ii * n, R, 0, n) + wOld * norm, l1) / (norm + l2);
      if (wNew !== wOld) {
        axpy(n, wOld - wNew, Xt, ii * n, R, 0);
        w[ii] = wNew;
      }
      dwMax = Math.max(dwMax, Math.abs(wNew - wOld));
      wMax = Math.max(wMax, Math.abs(wNew));
    }
    if (wMax === 0 || dwMax / wMax < tol || iter === maxIter - 1) {
      gap = dataGap(problem, w, R, l1, l2);
      if (gap < gapTol) return { gap, tol: gapTol, nIter: iter + 1, converged: true };
    }
  }
  return { gap, tol: gapTol, nIter: maxIter, converged: false };
}

function dataGap(problem: CdProblem & { kind: 'data' }, w: Float64Array, R: Float64Array, l1: number, l2: number): number {
  const { n, p, Xt, y } = problem;
  const { dot } = problem.kernels;
  let dualNorm = 0;
  let wNorm2 = 0;
  let l1Norm = 0;
  for (let j = 0; j < p; j++) {
    dualNorm = Math.max(dualNorm, Math.abs(dot(Xt, j * n, R, 0, n) - l2 * w[j]!));
    wNorm2 += w[j]! * w[j]!;
    l1Norm += Math.abs(w[j]!);
  }
  return gapFormula(dot(R, 0, R, 0, n), dualNorm, l1, l2, l1Norm, wNorm2, dot(R, 0, y, 0, n));
}

// ---------------------------------------------------------------------------------------------
// The fitted model

function fitted(
  type: string,
  data: Prepared,
  w: Float64Array,
  alpha: number,
  l1Ratio: number,
  result: CdResult,
  chosen: Record<string, number>,
  path?: { l1Ratio: number; alphas: Float64Array; mse: Float64Array }[],
  options?: CVOptions,
): FittedLinear {
  const coef = w;
  // The data were shifted by their means: b = ȳ − x̄·w in the original coordinates.
  const intercept = data.fitIntercept ? data.yShift - dot(data.xShift, 0, coef, 0, data.p) : 0;
  const support = Int32Array.from(coef.keys()).filter((j) => coef[j] !== 0);
  return {
    coef,
    intercept,
    alpha,
    l1Ratio,
    dualGap: result.gap / data.n,
    gapTolerance: result.tol / data.n,
    nIter: result.nIter,
    converged: result.converged,
    path,
    chosen,
    predict(X: Matrix): Float64Array {
      if (X.cols !== coef.length) throw new RangeError(`${type} was fitted on ${coef.length} features but got ${X.cols}.`);
      const out = new Float64Array(X.rows).fill(intercept);
      for (let r = 0; r < X.rows; r++) {
        let s = 0;
        for (const j of support) s += X.data[r * X.cols + j]! * coef[j]!;
        out[r]! += s;
      }
      return out;
    },
    nonZero: () => support.length,
    toJSON: () => ({
      type,
      alpha,
      l1Ratio,
      intercept,
      coef: Array.from(coef),
      nonZero: support.length,
      dualGap: result.gap / data.n,
      nIter: result.nIter,
      converged: result.converged,
      ...(options && { nAlphas: options.alphas?.length ?? options.nAlphas, eps: options.eps, cv: options.cv, tol: options.tol, maxIter: options.maxIter, l1Ratios: options.l1Ratios }),
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Options

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateOptions(o: CVOptions): void {
  const positiveInt = (v: number, what: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}.`);
  };
  positiveInt(o.nAlphas, 'nAlphas');
  positiveInt(o.maxIter, 'maxIter');
  positiveInt(o.cv, 'cv');
  if (!(o.eps > 0)) throw new RangeError(`eps must be > 0, got ${o.eps}.`);
  if (!(o.tol >= 0)) throw new RangeError(`tol must be ≥ 0, got ${o.tol}.`);
  if (o.l1Ratios.length === 0) throw new RangeError('l1Ratio needs at least one value.');
  for (const r of o.l1Ratios) if (!(r >= 0 && r <= 1)) throw new RangeError(`l1Ratio must be in [0, 1], got ${r}.`);
  if (o.alphas !== undefined) {
    if (o.alphas.length === 0) throw new RangeError('alphas needs at least one value.');
    for (const a of o.alphas) if (!(a >= 0)) throw new RangeError(`alphas must be ≥ 0, got ${a}.`);
  }
}
