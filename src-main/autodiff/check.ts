/**
 * autodiff/check — numerical gradient checks: central differences of a scalar function of one
 * parameter tensor, compared with an analytic gradient. The function is passed in (it usually
 * runs the forward graph in onnxruntime), so this file stays free of any runtime; tests of the
 * rules and of whole training graphs use it alike.
 */

export interface GradientCheck {
  /** The parameter's values; they are restored after each probe. */
  values: Float64Array | Float32Array;
  /** d(loss)/d(values) as computed by the backward graph. */
  analytic: ArrayLike<number>;
  /** The loss at the current `values`. */
  evaluate: () => Promise<number>;
  /** Finite-difference step. */
  step: number;
  /** 2: (f(x+h) − f(x−h)) / 2h, error O(h²); 4: the five-point stencil, error O(h⁴). */
  points?: 2 | 4;
  /** Elements to probe (all when omitted). */
  indices?: readonly number[];
  /** Errors are |analytic − numeric| / max(|numeric|, floor): relative, absolute near zero. */
  floor?: number;
}

export interface GradientCheckResult {
  /** The largest error over the probed elements. */
  worst: number;
  /** The element where it occurred, with both values. */
  at: { index: number; analytic: number; numeric: number };
  /** The numeric gradient of every probed element, in probe order. */
  numeric: number[];
}

/** Sets element `i` to `x + offset` and returns the offset actually stored (float32 rounds it). */
function shift(values: Float64Array | Float32Array, i: number, x: number, offset: number): number {
  values[i] = x + offset;
  return values[i]! - x;
}

async function derivative(check: GradientCheck, i: number): Promise<number> {
  const { values, evaluate, step } = check;
  const x = values[i]!;
  const at = async (offset: number): Promise<[number, number]> => {
    const stored = shift(values, i, x, offset);
    return [await evaluate(), stored];
  };
  try {
    const [[plus, hp], [minus, hm]] = [await at(step), await at(-step)];
    if (check.points !== 4) return (plus - minus) / (hp - hm);
    const [[plus2, hp2], [minus2, hm2]] = [await at(2 * step), await at(-2 * step)];
    // Richardson: (4·D(h) − D(2h)) / 3 cancels the h² term of the central difference.
    return (4 * ((plus - minus) / (hp - hm)) - (plus2 - minus2) / (hp2 - hm2)) / 3;
  } finally {
    values[i] = x;
  }
}

export async function checkGradient(check: GradientCheck): Promise<GradientCheckResult> {
  const indices = check.indices ?? Array.from({ length: check.values.length }, (_, i) => i);
  const floor = check.floor ?? 1;
  const result: GradientCheckResult = { worst: 0, at: { index: -1, analytic: NaN, numeric: NaN }, numeric: [] };
  for (const index of indices) {
    const numeric = await derivative(check, index);
    const analytic = check.analytic[index]!;
    const error = Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), floor);
    result.numeric.push(numeric);
    // NaN must fail the check, so it counts as the worst possible error.
    if (!(error <= result.worst)) Object.assign(result, { worst: Number.isNaN(error) ? Infinity : error, at: { index, analytic, numeric } });
  }
  return result;
}
