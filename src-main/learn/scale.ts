/**
 * learn/scale — per-column feature scaling of embedding matrices (scikit-learn's StandardScaler
 * and MinMaxScaler). A scaler is fitted on training rows only and then applied unchanged to test
 * rows, so nothing about the test rows leaks into training. Serialisable with the model.
 * Pure numerics: no I/O.
 */
import type { Matrix } from './matrix';

export type Scaling = 'standard' | 'minmax' | 'none';

/** What a fitted scaler stores: transform(x) = (x − offset) / scale, column by column. */
// A type alias (not an interface) so it is assignable to Record<string, unknown> for storage.
export type ScalerJSON = {
  scaling: Scaling;
  offset: number[];
  scale: number[];
};

export interface Scaler {
  readonly scaling: Scaling;
  /** A new matrix; X must have the columns the scaler was fitted on. */
  transform(X: Matrix): Matrix;
  toJSON(): ScalerJSON;
}

/**
 * Fits on the rows given — pass the training rows only.
 *  - 'standard': (x − mean) / sd with the population sd (ddof 0, as StandardScaler). Constant
 *    columns get scale 1 (so they become 0), detected with sklearn's rounding-aware test so a
 *    column that is constant up to float noise is not blown up.
 *  - 'minmax': (x − min) / (max − min), mapping training rows to [0, 1]. Constant columns get
 *    range 1 (sklearn), so training rows become 0 and test rows are only shifted by the min.
 *  - 'none': identity (transform still returns a copy).
 */
export function fitScaler(X: Matrix, scaling: Scaling): Scaler {
  if (scaling !== 'none' && X.rows === 0) throw new RangeError('Cannot fit a scaler on zero rows.');
  const { offset, scale } = scaling === 'standard' ? standardParams(X) : scaling === 'minmax' ? minMaxParams(X) : identityParams(X.cols);
  return makeScaler(scaling, offset, scale);
}

function makeScaler(scaling: Scaling, offset: Float64Array, scale: Float64Array): Scaler {
  const cols = offset.length;
  return {
    scaling,
    transform(X: Matrix): Matrix {
      if (X.cols !== cols) throw new RangeError(`Scaler was fitted on ${cols} columns but got ${X.cols}.`);
      const data = new Float64Array(X.rows * cols);
      for (let r = 0; r < X.rows; r++) {
        for (let c = 0; c < cols; c++) data[r * cols + c] = (X.data[r * cols + c]! - offset[c]!) / scale[c]!;
      }
      return { data, rows: X.rows, cols };
    },
    toJSON: () => ({ scaling, offset: Array.from(offset), scale: Array.from(scale) }),
  };
}

function identityParams(cols: number): { offset: Float64Array; scale: Float64Array } {
  return { offset: new Float64Array(cols), scale: new Float64Array(cols).fill(1) };
}

function standardParams(X: Matrix): { offset: Float64Array; scale: Float64Array } {
  const { rows, cols } = X;
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c]! += X.data[r * cols + c]!;
  for (let c = 0; c < cols; c++) mean[c]! /= rows;
  const variance = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) variance[c]! += (X.data[r * cols + c]! - mean[c]!) ** 2;
  const scale = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    variance[c]! /= rows;
    scale[c] = isConstantFeature(variance[c]!, mean[c]!, rows) ? 1 : Math.sqrt(variance[c]!);
  }
  return { offset: mean, scale };
}

/**
 * sklearn's _is_constant_feature: a variance below the bound on its own rounding error means the
 * column is constant, whatever tiny non-zero value the arithmetic produced.
 */
function isConstantFeature(variance: number, mean: number, n: number): boolean {
  const eps = Number.EPSILON;
  return variance <= n * eps * variance + (n * mean * eps) ** 2;
}

function minMaxParams(X: Matrix): { offset: Float64Array; scale: Float64Array } {
  const { rows, cols } = X;
  const min = new Float64Array(cols).fill(Infinity);
  const max = new Float64Array(cols).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = X.data[r * cols + c]!;
      if (v < min[c]!) min[c] = v;
      if (v > max[c]!) max[c] = v;
    }
  }
  // sklearn's _handle_zeros_in_scale: a range below 10·eps counts as zero and becomes 1.
  const scale = Float64Array.from(min, (lo, c) => (max[c]! - lo < 10 * Number.EPSILON ? 1 : max[c]! - lo));
  return { offset: min, scale };
}
