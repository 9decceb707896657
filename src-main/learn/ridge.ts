/**
 * learn/ridge — ridge regression with α chosen by efficient leave-one-out cross-validation:
 * scikit-learn 1.2's RidgeCV with its default cv=None, i.e. `_RidgeGCV`
 * (sklearn/linear_model/_ridge.py), on an α grid (default [0.1, 1, 10, 100, 1000]; scikit-learn's
 * own default is (0.1, 1, 10)).
 *
 * One eigendecomposition per fit serves every α. With X centred (the intercept is not penalised)
 * and λ_k, u_k the non-zero spectrum of XXᵀ (λ_k = s_k², u_k the left singular vectors of X), the
 * ridge hat matrix is H = 11ᵀ/n + Σ_k u_k u_kᵀ·λ_k/(λ_k + α), and the leave-one-out residual of
 * row i is exactly (y_i − ŷ_i)/(1 − H_ii) — what scikit-learn computes as c_i / diag(G⁻¹)_i. As
 * in scikit-learn's gcv_mode='auto':
 *  - n > p ("svd" mode): eigendecomposition of XᵀX = V·diag(λ)·Vᵀ; with Z = XV (so u_k = z_k/√λ_k)
 *    H_ii = 1/n + Σ_k Z_ik²/(λ_k + α), no division by small λ;
 *  - n ≤ p ("eigen" mode): eigendecomposition of XXᵀ directly.
 * The α with the smallest mean squared LOO residual wins (the first on ties, as scikit-learn's
 * strict `>` on scores), then w = (XᵀX + αI)⁻¹Xᵀy from the same decomposition and
 * b = ȳ − x̄·w. Eigendecomposing the Gram matrix instead of the SVD of X squares the condition
 * number; the eigenvalues it blurs (≲ 1e-16·λ_max) weigh λ/(λ + α) ≈ 0 for any α in a usual grid.
 *
 * Pure numerics: no I/O.
 */
import { symmetricEigen } from './eigen';
import { createArena, dot, mirrorUpper } from './kernels';
import { checkXy, columnMeans, featureMajor, type FittedRegressor, type Matrix, type Regressor } from './matrix';

export interface RidgeCVOptions {
  /** Candidate penalties, tried in this order. Default [0.1, 1, 10, 100, 1000]. */
  alphas?: readonly number[];
  /** Fit an unpenalised intercept by centering. Default true. */
  fitIntercept?: boolean;
}

export const DEFAULT_RIDGE_ALPHAS: readonly number[] = [0.1, 1, 10, 100, 1000];

export interface FittedRidge extends FittedRegressor {
  nonZero(): number;
  readonly coef: Float64Array;
  readonly intercept: number;
  readonly alpha: number;
  /** Mean squared leave-one-out error of each candidate α, in the order of `alphas`. */
  readonly looMse: Float64Array;
  readonly alphas: readonly number[];
}

/** Ridge regression with α chosen by leave-one-out (generalised) cross-validation; scikit-learn's RidgeCV. */
export class RidgeCV implements Regressor {
  readonly name = 'RidgeCV';
  private readonly alphas: readonly number[];
  private readonly fitIntercept: boolean;

  constructor(options: RidgeCVOptions = {}) {
    this.alphas = [...(options.alphas ?? DEFAULT_RIDGE_ALPHAS)];
    this.fitIntercept = options.fitIntercept ?? true;
    if (this.alphas.length === 0) throw new RangeError('RidgeCV needs at least one alpha.');
    for (const a of this.alphas) if (!(a > 0)) throw new RangeError(`RidgeCV alphas must be > 0, got ${a}.`);
  }

  fit(X: Matrix, y: Float64Array, onProgress?: (fraction: number) => void): FittedRidge {
    checkXy(X, y, this.name);
    const { n, p } = { n: X.rows, p: X.cols };
    const xMean = this.fitIntercept ? columnMeans(X) : new Float64Array(p);
    const yMean = this.fitIntercept ? y.reduce((s, v) => s + v, 0) / n : 0;
    const yc = y.map((v) => v - yMean);
    const spectrum = n > p ? covarianceSpectrum(X, xMean) : gramSpectrum(X, xMean);
    onProgress?.(0.9);
    const hatBase = this.fitIntercept ? 1 / n : 0;
    const looMse = Float64Array.from(this.alphas, (alpha) => looMeanSquaredError(spectrum, yc, alpha, hatBase));
    let best = 0;
    for (let a = 1; a < looMse.length; a++) if (looMse[a]! < looMse[best]!) best = a;
    const alpha = this.alphas[best]!;
    const coef = spectrum.coefficients(yc, alpha);
    const intercept = yMean - dot(xMean, 0, coef, 0, p);
    onProgress?.(1);
    return fittedRidge(coef, intercept, alpha, looMse, this.alphas);
  }
}

/**
 * What every α needs: per row i and component k, the squared loading and its weight, so that
 * H_ii(α) = base + Σ_k rowLoad[i,k]·g_k(α) and ŷ(α) = Σ_k load_k·(load_kᵀy)·g_k(α).
 */
interface Spectrum {
  n: number;
  /** Number of components r. */
  r: number;
  /** n × r, row-major: the projections on each component (Z = XV, or the eigenvectors U of XXᵀ). */
  load: Float64Array;
  /** The weight of component k in the hat matrix at α. */
  weight(k: number, alpha: number): number;
  coefficients(yc: Float64Array, alpha: number): Float64Array;
}

/** n > p: eigendecomposition of XᵀX (p × p), loadings Z = XV; H = Σ z_k z_kᵀ / (λ_k + α). */
function covarianceSpectrum(X: Matrix, xMean: Float64Array): Spectrum {
  const { rows: n, cols: p } = X;
  // Peak: the centred rows, their transpose (released once XᵀX is formed), the eigenvectors, Z.
  const arena = createArena(2 * n * p + 2 * p * p + 64);
  const centred = centredRows(X, xMean, arena.alloc(n * p));
  const gram = arena.alloc(p * p);
  const mark = arena.mark();
  arena.kernels.gramUpper(featureMajor(X, xMean, arena.alloc(n * p)), p, n, 0, n, gram);
  arena.release(mark);
  mirrorUpper(gram, p);
  const { values, vectors: eigenvectors } = symmetricEigen(gram, p);
  const vectors = arena.alloc(p * p);
  vectors.set(eigenvectors);
  const lambda = values.map((v) => Math.max(v, 0));
  // Z = Xc·V: rows of Xc against the eigenvectors (rows of `vectors`).
  const load = arena.alloc(n * p);
  arena.kernels.crossProduct(centred, n, vectors, p, p, load);
  return {
    n,
    r: p,
    load,
    weight: (k, alpha) => 1 / (lambda[k]! + alpha),
    coefficients(yc, alpha) {
      // w = V·diag(1/(λ + α))·Zᵀy, since Xᵀy = V·Zᵀy.
      const coef = new Float64Array(p);
      const zy = loadingsDotY(load, n, p, yc);
      for (let k = 0; k < p; k++) {
        const c = zy[k]! / (lambda[k]! + alpha);
        if (c !== 0) for (let j = 0; j < p; j++) coef[j]! += c * vectors[k * p + j]!;
      }
      return coef;
    },
  };
}

/** n ≤ p: eigendecomposition of XXᵀ (n × n) with eigenvectors U; H = Σ u_k u_kᵀ·λ_k/(λ_k + α). */
function gramSpectrum(X: Matrix, xMean: Float64Array): Spectrum {
  const { rows: n, cols: p } = X;
  const arena = createArena(n * p + n * n + 64);
  const centred = centredRows(X, xMean, arena.alloc(n * p));
  const gram = arena.alloc(n * n);
  arena.kernels.gramUpper(centred, n, p, 0, p, gram);
  mirrorUpper(gram, n);
  const { values, vectors } = symmetricEigen(gram, n);
  const lambda = values.map((v) => Math.max(v, 0));
  // U as n × r row-major (row i holds component i of every eigenvector).
  const load = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) load[i * n + k] = vectors[k * n + i]!;
  return {
    n,
    r: n,
    load,
    weight: (k, alpha) => lambda[k]! / (lambda[k]! + alpha),
    coefficients(yc, alpha) {
      // w = Xᵀ(XXᵀ + αI)⁻¹y = Xᵀ·U·diag(1/(λ + α))·Uᵀy.
      const uy = loadingsDotY(load, n, n, yc);
      const dual = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const c = uy[k]! / (lambda[k]! + alpha);
        for (let i = 0; i < n; i++) dual[i]! += c * load[i * n + k]!;
      }
      const coef = new Float64Array(p);
      for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) coef[j]! += dual[i]! * centred[i * p + j]!;
      return coef;
    },
  };
}

/** X − x̄, row-major, into `out`. */
function centredRows(X: Matrix, xMean: Float64Array, out: Float64Array): Float64Array {
  const { rows: n, cols: p } = X;
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) out[i * p + j] = X.data[i * p + j]! - xMean[j]!;
  return out;
}

/** load_kᵀ·y for every component k of an n × r loading matrix. */
function loadingsDotY(load: Float64Array, n: number, r: number, y: Float64Array): Float64Array {
  const out = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    for (let k = 0; k < r; k++) out[k]! += load[i * r + k]! * yi;
  }
  return out;
}

/** Mean of ((y_i − ŷ_i)/(1 − H_ii))² at α: the exact leave-one-out error of ridge with a free intercept. */
function looMeanSquaredError(s: Spectrum, yc: Float64Array, alpha: number, hatBase: number): number {
  const { n, r, load } = s;
  const g = Float64Array.from({ length: r }, (_, k) => s.weight(k, alpha));
  const ly = loadingsDotY(load, n, r, yc);
  for (let k = 0; k < r; k++) ly[k]! *= g[k]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let fitted = 0;
    let h = hatBase;
    for (let k = 0; k < r; k++) {
      const l = load[i * r + k]!;
      fitted += l * ly[k]!;
      h += l * l * g[k]!;
    }
    sum += ((yc[i]! - fitted) / (1 - h)) ** 2;
  }
  return sum / n;
}

function fittedRidge(coef: Float64Array, intercept: number, alpha: number, looMse: Float64Array, alphas: readonly number[]): FittedRidge {
  return {
    coef,
    intercept,
    alpha,
    looMse,
    alphas,
    chosen: { alpha },
    predict(X: Matrix): Float64Array {
      if (X.cols !== coef.length) throw new RangeError(`RidgeCV was fitted on ${coef.length} features but got ${X.cols}.`);
      return Float64Array.from({ length: X.rows }, (_, r) => intercept + dot(X.data, r * X.cols, coef, 0, X.cols));
    },
    nonZero: () => coef.reduce((count, c) => count + (c !== 0 ? 1 : 0), 0),
    toJSON: () => ({ type: 'RidgeCV', alpha, alphas: [...alphas], looMse: Array.from(looMse), intercept, coef: Array.from(coef) }),
  };
}
