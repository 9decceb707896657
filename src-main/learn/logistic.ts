/**
 * learn/logistic — L2-penalised logistic regression whose strength C is chosen by inner
 * cross-validation, mirroring scikit-learn's
 *   LogisticRegressionCV(Cs=10, cv=5, penalty='l2', solver='lbfgs', scoring=None, refit=True):
 *  - two classes: one sigmoid (coefficients for the second class); more: one multinomial softmax;
 *  - objective at strength C: C·Σᵢ sᵢ·lossᵢ + ½‖W‖², the intercepts not penalised (we minimise it
 *    divided by C, which has the same minimiser);
 *  - class_weight='balanced': row weights sᵢ = n / (k · count of yᵢ's class), computed once on all
 *    the rows given to fit and reused on every inner fold (as sklearn does);
 *  - C is picked by mean inner-fold accuracy (sklearn's default scoring; `scoring: 'log_loss'`
 *    is available). Each fold walks the C grid upwards, warm-starting every fit from the previous
 *    solution; the final refit on all rows starts from the mean of the fold solutions.
 * Also owns the Classifier / FittedClassifier contract that prototype.ts and forest.ts implement,
 * and a compact L-BFGS solver. Pure numerics: no I/O.
 *
 * Departures from sklearn, on purpose: accuracy ties are broken by the lower mean log-loss, not
 * by taking the smallest C (see chooseC); inner folds are stratified *and shuffled* with a seed
 * (sklearn does not shuffle; our outer training rows arrive in sorted order); the solver runs to a
 * gradient 1e-6 of its size at zero (sklearn stops at 100 iterations / pgtol 1e-4); with fewer
 * than 2 examples of some class there is no inner CV and C = 1 (LogisticRegression's default); a
 * class absent from the training rows gets probability 0 instead of an error.
 */
import { stratifiedKFold, type Fold } from './cv';
import { axpy, crossProduct, dot } from './kernels';
import { checkXy, matrix, takeRows, type Matrix } from './matrix';

// ---------------------------------------------------------------------------------------------
// The classifier contract (shared by logistic, prototype and forest)

export interface FitOptions {
  /** 'balanced': weight each row n / (k · count of its class), as sklearn's class_weight. */
  classWeight?: 'balanced' | null;
  /** Called with the fraction done, 0..1, as fitting progresses. */
  onProgress?: (fraction: number) => void;
}

export interface FittedClassifier {
  readonly classes: readonly string[];
  /** rows × classes; each row sums to 1. */
  predictProba(X: Matrix): Matrix;
  /** Class index (into `classes`) of the most probable class, the first one on ties. */
  predict(X: Matrix): Int32Array;
  toJSON(): Record<string, unknown>;
  /** The hyperparameters inner cross-validation chose, e.g. { C: 0.046 }. */
  chosen: Record<string, number>;
}

export interface Classifier {
  readonly name: string;
  /** y holds class indices into `classes`. */
  fit(X: Matrix, y: Int32Array, classes: readonly string[], options?: FitOptions): FittedClassifier;
}

// ---------------------------------------------------------------------------------------------
// Options and public helpers

export type LogisticScoring = 'accuracy' | 'log_loss';

export interface LogisticRegressionCVOptions {
  /** A count → that many values log-spaced over 1e-4..1e4 (sklearn's Cs=10); or the values. */
  Cs?: number | readonly number[];
  /** Inner folds (default 5), reduced to the size of the smallest class when that is smaller. */
  folds?: number;
  /** How inner CV scores a C: 'accuracy' (default, as sklearn) or 'log_loss'. */
  scoring?: LogisticScoring;
  /** Seed of the inner fold shuffle (default 0). */
  seed?: number;
  /** Stop when ‖gradient‖∞ ≤ tol · ‖gradient at zero‖∞ (default 1e-6). */
  tol?: number;
  /** L-BFGS iteration cap per fit (default 1000). */
  maxIter?: number;
}

const DEFAULT_C = 1; // LogisticRegression's default, used when inner CV is impossible

/** sklearn's Cs=count grid: 10^linspace(-4, 4, count). */
export function logSpacedCs(count: number): Float64Array {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`Cs must be a whole number ≥ 1, got ${count}.`);
  if (count === 1) return Float64Array.of(1e-4);
  // 1 / 10^4 rather than 10^-4: V8's pow gives 0.00009999999999999999, numpy's logspace 1e-4.
  const power = (e: number) => (e < 0 ? 1 / 10 ** -e : 10 ** e);
  return Float64Array.from({ length: count }, (_, i) => power(-4 + (8 * i) / (count - 1)));
}

/**
 * sklearn's compute_class_weight('balanced') as per-row weights: n / (k · count_c), where k counts
 * the classes present, so every present class carries the same total weight n / k.
 */
export function balancedSampleWeights(y: Int32Array, nClasses: number): Float64Array {
  const counts = classCounts(y, nClasses);
  const present = counts.filter((c) => c > 0).length;
  return Float64Array.from(y, (c) => y.length / (present * counts[c]!));
}

// ---------------------------------------------------------------------------------------------
// The classifier

export class LogisticRegressionCV implements Classifier {
  readonly name = 'logistic_regression';
  private readonly options: Required<LogisticRegressionCVOptions>;

  constructor(options: LogisticRegressionCVOptions = {}) {
    this.options = { Cs: 10, folds: 5, scoring: 'accuracy', seed: 0, tol: 1e-6, maxIter: 1000, ...options };
    if (!Number.isInteger(this.options.folds) || this.options.folds < 2) throw new RangeError(`Inner folds must be a whole number ≥ 2, got ${this.options.folds}.`);
  }

  fit(X: Matrix, y: Int32Array, classes: readonly string[], options: FitOptions = {}): FittedLogistic {
    checkClassifierInputs(X, y, classes, 'Logistic regression');
    const Cs = this.grid();
    const present = presentClasses(y, classes.length);
    const target = Int32Array.from(y, (c) => present.indexOf(c));
    const weights = options.classWeight === 'balanced' ? balancedSampleWeights(target, present.length) : new Float64Array(y.length).fill(1);
    const K = present.length === 1 ? 0 : present.length === 2 ? 1 : present.length;
    const problem: Problem = { X, target, weights, K, solver: { tol: this.options.tol, maxIter: this.options.maxIter } };
    const folds = this.innerFolds(target, present.length, Cs.length);
    const done = (model: LinearModel, chosen: Record<string, number>, outOfFold: Matrix | null, cv: CvInfo['scores']): FittedLogistic => {
      options.onProgress?.(1);
      const cvInfo: CvInfo = { Cs: Array.from(Cs), scoring: this.options.scoring, folds: folds?.length ?? 0, scores: cv };
      return new FittedLogistic(classes, present, model, chosen, outOfFold && expandColumns(outOfFold, present, classes.length), cvInfo);
    };
    if (K === 0) return done({ K, d: X.cols, theta: new Float64Array(0), converged: true }, {}, null, null);
    if (folds === null) {
      const C = Cs.length === 1 ? Cs[0]! : DEFAULT_C;
      return done(fitFixedC(problem, C, null), { C }, null, null);
    }
    const steps = folds.length * Cs.length + 1; // the refit is the last step
    const path = crossValidatePath(problem, Cs, folds, (f) => options.onProgress?.((f * (steps - 1)) / steps));
    const best = chooseC(path, this.options.scoring);
    // sklearn's refit starts from the mean of the fold solutions at the chosen C.
    const model = fitFixedC(problem, Cs[best]!, meanOf(path.solutions.map((perC) => perC[best]!)));
    return done(model, { C: Cs[best]! }, path.outOfFold[best]!, { accuracy: Array.from(path.accuracy), logLoss: Array.from(path.logLoss) });
  }

  /** The C values, ascending (the path warm-starts upwards and ties go to the smaller C). */
  private grid(): Float64Array {
    const { Cs } = this.options;
    const grid = (typeof Cs === 'number' ? logSpacedCs(Cs) : Float64Array.from(Cs)).sort();
    if (grid.length === 0 || grid.some((c) => !(c > 0) || !Number.isFinite(c))) throw new RangeError('Every C must be a positive finite number.');
    return grid;
  }

  /** Stratified, shuffled inner folds; null when there is one C or too few examples of a class. */
  private innerFolds(target: Int32Array, nPresent: number, nCs: number): Fold[] | null {
    const k = Math.min(this.options.folds, ...classCounts(target, nPresent));
    if (nCs === 1 || k < 2) return null;
    return stratifiedKFold(target, k, this.options.seed);
  }
}

interface CvInfo {
  Cs: number[];
  scoring: LogisticScoring;
  /** Inner folds used; 0 when CV was skipped. */
  folds: number;
  /** Mean inner-fold accuracy and log-loss per C; null when CV was skipped. */
  scores: { accuracy: number[]; logLoss: number[] } | null;
}

/** A fitted model. `coef` / `intercept` are sklearn's coef_ / intercept_ over the classes seen. */
export class FittedLogistic implements FittedClassifier {
  /** K × d: one row (the second seen class's log-odds) for two classes, else one per seen class. */
  readonly coef: Matrix;
  readonly intercept: Float64Array;

  constructor(
    readonly classes: readonly string[],
    /** Indices (into classes) of the classes present in the training rows, ascending. */
    readonly fittedClasses: Int32Array,
    private readonly model: LinearModel,
    readonly chosen: Record<string, number>,
    /**
     * Inner-CV out-of-fold probabilities of the training rows at the chosen C (rows × classes),
     * from models that never saw the row; null when CV was skipped. multilabel.ts tunes
     * thresholds on these.
     */
    readonly outOfFold: Matrix | null,
    private readonly cv: CvInfo,
  ) {
    const { K, d, theta } = model;
    this.coef = { data: theta.slice(0, K * d), rows: K, cols: d };
    this.intercept = theta.slice(K * d);
  }

  predictProba(X: Matrix): Matrix {
    if (X.cols !== this.model.d) throw new RangeError(`Model was fitted on ${this.model.d} columns but got ${X.cols}.`);
    const local = this.model.K === 0 ? constantProba(X.rows) : probabilities(this.model, X);
    return expandColumns(local, this.fittedClasses, this.classes.length);
  }

  predict(X: Matrix): Int32Array {
    return argmaxRows(this.predictProba(X));
  }

  toJSON(): Record<string, unknown> {
    return {
      model: 'logistic_regression',
      classes: [...this.classes],
      fittedClasses: Array.from(this.fittedClasses),
      chosen: { ...this.chosen },
      features: this.model.d,
      coef: rowsOf(this.coef),
      intercept: Array.from(this.intercept),
      converged: this.model.converged,
      cv: this.cv,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The model and its loss

/**
 * theta = [W (K × d, row-major), b (K)]. K = 1: binary, P(second class) = σ(x·w + b). K ≥ 3:
 * multinomial softmax. K = 0: only one class was seen (constant prediction; d still checked).
 */
interface LinearModel {
  K: number;
  d: number;
  theta: Float64Array;
  /** False when L-BFGS hit maxIter first (sklearn's ConvergenceWarning). */
  converged: boolean;
}

interface Problem {
  X: Matrix;
  /** Class of each row as an index into the present classes. */
  target: Int32Array;
  weights: Float64Array;
  K: number;
  solver: { tol: number; maxIter: number };
}

/** Fits at one C from `init` (zeros when null); the stopping rule is relative to the gradient at zero. */
function fitFixedC(problem: Problem, C: number, init: Float64Array | null): LinearModel {
  const { X, K } = problem;
  const size = K * (X.cols + 1);
  const fg = objective(problem, C);
  const zeroGradient = new Float64Array(size);
  fg(new Float64Array(size), zeroGradient);
  const result = minimizeLbfgs(fg, init ?? new Float64Array(size), {
    gtol: problem.solver.tol * maxAbs(zeroGradient),
    maxIter: problem.solver.maxIter,
  });
  return { K, d: X.cols, theta: result.x, converged: result.converged };
}

type ObjectiveFn = (theta: Float64Array, gradient: Float64Array) => number;

/** Σᵢ sᵢ·lossᵢ + ‖W‖²/(2C) and its gradient (written into `gradient`). */
function objective(problem: Problem, C: number): ObjectiveFn {
  const { X, target, weights, K } = problem;
  const { rows: n, cols: d } = X;
  const z = new Float64Array(K);
  return (theta, gradient) => {
    gradient.fill(0);
    const scores = crossProduct(X.data, n, theta, K, d); // X·Wᵀ (reads only the W part of theta)
    let loss = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) z[k] = scores[i * K + k]! + theta[K * d + k]!;
      const s = weights[i]!;
      // z becomes the residual p − onehot(target); the loss comes from the log-partition, stably.
      loss += s * (K === 1 ? binaryResidual(z, target[i]!) : softmaxResidual(z, target[i]!));
      for (let k = 0; k < K; k++) {
        const r = s * z[k]!;
        if (r === 0) continue;
        axpy(d, r, X.data, i * d, gradient, k * d);
        gradient[K * d + k]! += r;
      }
    }
    let penalty = 0;
    for (let j = 0; j < K * d; j++) {
      penalty += theta[j]! * theta[j]!;
      gradient[j]! += theta[j]! / C;
    }
    return loss + penalty / (2 * C);
  };
}

/** z_k = b_k + W_k · x for the row of `data` starting at `row`. */
function linearScores(theta: Float64Array, K: number, d: number, data: Float64Array, row: number, z: Float64Array): void {
  for (let k = 0; k < K; k++) z[k] = theta[K * d + k]! + dot(theta, k * d, data, row, d);
}

/** Binary log-loss of score z[0] for target t ∈ {0, 1}; overwrites z[0] with σ(z) − t. */
function binaryResidual(z: Float64Array, t: number): number {
  const score = z[0]!;
  z[0] = sigmoid(score) - t;
  return softplus(t === 1 ? -score : score);
}

/** Multinomial log-loss of scores z for target t; overwrites z with softmax(z) − onehot(t). */
function softmaxResidual(z: Float64Array, t: number): number {
  const lse = logSumExp(z);
  const loss = lse - z[t]!;
  for (let k = 0; k < z.length; k++) z[k] = Math.exp(z[k]! - lse) - (k === t ? 1 : 0);
  return loss;
}

/** Probabilities over the present classes (rows × max(K, 2)). */
function probabilities(model: LinearModel, X: Matrix): Matrix {
  const { K, d, theta } = model;
  const cols = K === 1 ? 2 : K;
  const out = matrix(X.rows, cols);
  const z = new Float64Array(K);
  for (let i = 0; i < X.rows; i++) {
    linearScores(theta, K, d, X.data, i * d, z);
    if (K === 1) {
      out.data[i * 2] = sigmoid(-z[0]!); // not 1 − p, which rounds to 0 once p is within 1e-17 of 1
      out.data[i * 2 + 1] = sigmoid(z[0]!);
      continue;
    }
    const lse = logSumExp(z);
    for (let k = 0; k < K; k++) out.data[i * K + k] = Math.exp(z[k]! - lse);
  }
  return out;
}

function constantProba(rows: number): Matrix {
  const out = matrix(rows, 1);
  out.data.fill(1);
  return out;
}

function sigmoid(z: number): number {
  // Two forms so that exp never overflows.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + eˣ) without overflow or loss of precision for large |x|. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function logSumExp(z: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) if (z[k]! > max) max = z[k]!;
  let sum = 0;
  for (let k = 0; k < z.length; k++) sum += Math.exp(z[k]! - max);
  return max + Math.log(sum);
}

// ---------------------------------------------------------------------------------------------
// Inner cross-validation along the C path

interface PathResult {
  /** Mean over folds, per C, of the fold's accuracy and log-loss. */
  accuracy: Float64Array;
  logLoss: Float64Array;
  /** solutions[fold][c]: the fitted theta of that fold at Cs[c]. */
  solutions: Float64Array[][];
  /** outOfFold[c]: every row's probabilities (rows × present classes) from the fold that held it out. */
  outOfFold: Matrix[];
}

function crossValidatePath(problem: Problem, Cs: Float64Array, folds: Fold[], onProgress: (f: number) => void): PathResult {
  const { X, target, weights, K } = problem;
  const nClasses = K === 1 ? 2 : K;
  const accuracy = new Float64Array(Cs.length);
  const logLoss = new Float64Array(Cs.length);
  const outOfFold = Array.from(Cs, () => matrix(X.rows, nClasses));
  const solutions: Float64Array[][] = [];
  let done = 0;
  for (const fold of folds) {
    const train: Problem = { ...problem, X: takeRows(X, fold.train), target: pick(target, fold.train), weights: pick(weights, fold.train) };
    const test = takeRows(X, fold.test);
    const testTarget = pick(target, fold.test);
    let theta: Float64Array | null = null;
    const perC: Float64Array[] = [];
    Cs.forEach((C, c) => {
      const model = fitFixedC(train, C, theta); // warm start from the previous (smaller) C
      theta = model.theta;
      perC.push(theta);
      const proba = probabilities(model, test);
      // sklearn averages the per-fold scores (folds weigh the same whatever their size).
      accuracy[c]! += accuracyOf(proba, testTarget) / folds.length;
      logLoss[c]! += logLossOf(proba, testTarget) / folds.length;
      fold.test.forEach((row, j) => outOfFold[c]!.data.set(proba.data.subarray(j * nClasses, (j + 1) * nClasses), row * nClasses));
      onProgress(++done / (folds.length * Cs.length));
    });
    solutions.push(perC);
  }
  return { accuracy, logLoss, solutions, outOfFold };
}

/** Unweighted accuracy, as sklearn's default scorer (class weights shape the fit, not the score). */
function accuracyOf(proba: Matrix, target: Int32Array): number {
  return argmaxRows(proba).reduce((hits, p, i) => hits + (p === target[i] ? 1 : 0), 0) / target.length;
}

/** Mean log-loss, probabilities clipped at machine epsilon as sklearn's log_loss. */
function logLossOf(proba: Matrix, target: Int32Array): number {
  let loss = 0;
  target.forEach((t, i) => (loss -= Math.log(Math.max(proba.data[i * proba.cols + t]!, Number.EPSILON))));
  return loss / target.length;
}

/**
 * Index of the chosen C. 'log_loss': the lowest mean log-loss. 'accuracy': the highest mean
 * accuracy, as sklearn — but sklearn then takes the smallest tied C, and on separable data (common
 * with 1000-dimensional embeddings) every C ties at accuracy 1, so it would always pick 1e-4 and
 * predict probabilities barely off the base rate. Ties are broken by the lower mean log-loss
 * instead, then by the smaller C. Values within 1e-12 count as equal (float noise in the means).
 */
function chooseC(path: PathResult, scoring: LogisticScoring): number {
  const EQUAL = 1e-12;
  let candidates = Array.from(path.logLoss.keys());
  if (scoring === 'accuracy') {
    const top = Math.max(...path.accuracy);
    candidates = candidates.filter((c) => path.accuracy[c]! >= top - EQUAL);
  }
  const lowest = Math.min(...candidates.map((c) => path.logLoss[c]!));
  return candidates.find((c) => path.logLoss[c]! <= lowest + EQUAL)!;
}

// ---------------------------------------------------------------------------------------------
// L-BFGS

export interface LbfgsOptions {
  /** Converged when ‖gradient‖∞ ≤ gtol. */
  gtol: number;
  maxIter: number;
  /** Correction pairs kept (default 10, as scipy's L-BFGS-B). */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

/**
 * Minimises a smooth function with limited-memory BFGS: two-loop recursion for the direction,
 * scaled by γ = sᵀy / yᵀy, and a backtracking Armijo line search (safeguarded quadratic
 * interpolation). Pairs with sᵀy ≤ 0 are skipped so the inverse-Hessian estimate stays positive
 * definite. Stops at ‖g‖∞ ≤ gtol, at maxIter, or when no step can lower f any more (the
 * round-off floor). `fg(x, g)` returns f(x) and writes ∇f(x) into g.
 */
export function minimizeLbfgs(fg: ObjectiveFn, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const size = x0.length;
  const memory = options.memory ?? 10;
  let x: Float64Array = Float64Array.from(x0);
  let g: Float64Array = new Float64Array(size);
  let f = fg(x, g);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  let iterations = 0;
  while (maxAbs(g) > options.gtol) {
    if (iterations >= options.maxIter) return { x, f, iterations, converged: false };
    iterations++;
    let direction = twoLoopDirection(g, ss, ys);
    let slope = inner(direction, g);
    if (!(slope < 0)) {
      // Not a descent direction (round-off in the curvature pairs): restart from steepest descent.
      ss.length = 0;
      ys.length = 0;
      direction = g.map((v) => -v);
      slope = inner(direction, g);
    }
    const initialStep = ss.length === 0 ? Math.min(1, 1 / maxAbs(g)) : 1;
    const step = backtrack(fg, x, f, direction, slope, initialStep);
    // No step lowers f, or the decrease is at round-off level: as close as float64 allows.
    if (step === null) return { x, f, iterations, converged: true };
    const stalled = f - step.f <= 1e-15 * Math.max(1, Math.abs(f));
    const s = direction.map((v) => v * step.alpha);
    const y = step.g.map((v, j) => v - g[j]!);
    if (inner(s, y) > 1e-12 * inner(y, y)) {
      ss.push(s);
      ys.push(y);
      if (ss.length > memory) {
        ss.shift();
        ys.shift();
      }
    }
    x = step.x;
    g = step.g;
    f = step.f;
    if (stalled) return { x, f, iterations, converged: true };
  }
  return { x, f, iterations, converged: true };
}

/** H·(−g) by the two-loop recursion over the stored pairs (steepest descent when there are none). */
function twoLoopDirection(g: Float64Array, ss: Float64Array[], ys: Float64Array[]): Float64Array {
  const q = g.map((v) => -v);
  const alphas = new Float64Array(ss.length);
  for (let i = ss.length - 1; i >= 0; i--) {
    const rho = 1 / inner(ys[i]!, ss[i]!);
    alphas[i] = rho * inner(ss[i]!, q);
    axpy(q.length, -alphas[i]!, ys[i]!, 0, q, 0);
  }
  if (ss.length > 0) {
    const last = ss.length - 1;
    const gamma = inner(ss[last]!, ys[last]!) / inner(ys[last]!, ys[last]!);
    for (let j = 0; j < q.length; j++) q[j]! *= gamma;
  }
  for (let i = 0; i < ss.length; i++) {
    const rho = 1 / inner(ys[i]!, ss[i]!);
    const beta = rho * inner(ys[i]!, q);
    axpy(q.length, alphas[i]! - beta, ss[i]!, 0, q, 0);
  }
  return q;
}

/** Armijo backtracking (c₁ = 1e-4); null when even tiny steps do not lower f (converged to round-off). */
function backtrack(
  fg: ObjectiveFn,
  x: Float64Array,
  f: number,
  direction: Float64Array,
  slope: number,
  initialStep: number,
): { alpha: number; x: Float64Array; f: number; g: Float64Array } | null {
  const trial = new Float64Array(x.length);
  const g = new Float64Array(x.length);
  let alpha = initialStep;
  for (let attempt = 0; attempt < 50; attempt++) {
    for (let j = 0; j < x.length; j++) trial[j] = x[j]! + alpha * direction[j]!;
    const fTrial = fg(trial, g);
    if (fTrial <= f + 1e-4 * alpha * slope) return { alpha, x: trial, f: fTrial, g };
    // Minimiser of the quadratic through f, slope and fTrial, kept within [0.1, 0.5]·alpha.
    const quadratic = (-slope * alpha * alpha) / (2 * (fTrial - f - slope * alpha));
    alpha = Number.isFinite(quadratic) ? Math.min(0.5 * alpha, Math.max(0.1 * alpha, quadratic)) : 0.5 * alpha;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Small shared helpers

/** Shared by every classifier's fit: finite X matching y, ≥ 2 classes, labels indexing them. */
export function checkClassifierInputs(X: Matrix, y: Int32Array, classes: readonly string[], what: string): void {
  if (classes.length < 2) throw new RangeError(`${what}: a classifier needs at least 2 classes, got ${classes.length}.`);
  checkXy(X, y, what);
  for (const c of y) {
    if (!Number.isInteger(c) || c < 0 || c >= classes.length) throw new RangeError(`Label ${c} is not a class index in 0..${classes.length - 1}.`);
  }
}

export function classCounts(y: Int32Array, nClasses: number): Int32Array {
  const counts = new Int32Array(nClasses);
  for (const c of y) counts[c]!++;
  return counts;
}

/** Class indices that occur in y, ascending. */
export function presentClasses(y: Int32Array, nClasses: number): Int32Array {
  const counts = classCounts(y, nClasses);
  return Int32Array.from(counts.keys()).filter((c) => counts[c]! > 0);
}

/** Spreads probabilities over the present classes into all `nClasses` columns (absent classes get 0). */
export function expandColumns(local: Matrix, present: Int32Array, nClasses: number): Matrix {
  const out = matrix(local.rows, nClasses);
  for (let i = 0; i < local.rows; i++) {
    for (let k = 0; k < present.length; k++) out.data[i * nClasses + present[k]!] = local.data[i * local.cols + k]!;
  }
  return out;
}

/** Column of each row's maximum, the first on ties (numpy's argmax). */
export function argmaxRows(P: Matrix): Int32Array {
  const out = new Int32Array(P.rows);
  for (let i = 0; i < P.rows; i++) {
    let best = 0;
    for (let k = 1; k < P.cols; k++) if (P.data[i * P.cols + k]! > P.data[i * P.cols + best]!) best = k;
    out[i] = best;
  }
  return out;
}

export function rowsOf(M: Matrix): number[][] {
  return Array.from({ length: M.rows }, (_, i) => Array.from(M.data.subarray(i * M.cols, (i + 1) * M.cols)));
}

function pick(values: Float64Array, rows: Int32Array): Float64Array;
function pick(values: Int32Array, rows: Int32Array): Int32Array;
function pick(values: Float64Array | Int32Array, rows: Int32Array): Float64Array | Int32Array {
  return values instanceof Float64Array ? Float64Array.from(rows, (r) => values[r]!) : Int32Array.from(rows, (r) => values[r]!);
}

function meanOf(vectors: Float64Array[]): Float64Array {
  const out = new Float64Array(vectors[0]!.length);
  for (const v of vectors) for (let j = 0; j < v.length; j++) out[j]! += v[j]! / vectors.length;
  return out;
}

function inner(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!;
  return sum;
}

function maxAbs(a: Float64Array): number {
  let max = 0;
  for (let j = 0; j < a.length; j++) max = Math.max(max, Math.abs(a[j]!));
  return max;
}
