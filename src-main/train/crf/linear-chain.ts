/**
 * train/crf/linear-chain — a linear-chain CRF in float64, as PEFT-SP and SignalP 6.0 use it (a
 * torchcrf-style CRF: start, transition and end scores; padding at the right, masked out).
 *
 * Why the CRF lives here, in TypeScript, and not in the ONNX graph: the graph ends at the emissions
 * (Linear(hidden, 37) on the last layer); the loss needs forward–backward over a bitmap-restricted
 * lattice, its gradient with respect to the emissions has a closed form (marginals minus restricted
 * marginals), and Viterbi is a discrete argmax — none of which ONNX expresses without a Loop whose
 * backward our autodiff would have to learn. At 37 states × ≤ 72 steps it is a few hundred thousand
 * multiply-adds per sequence, negligible next to the transformer. So the training step runs the
 * graph forward to get emissions, computes loss and dLoss/dEmissions here, feeds that gradient into
 * the backward graph, and updates the CRF's own 37×37 + 2×37 parameters here with the same optimizer.
 * Float64 keeps the soft −20 constraints and the float32-min bitmap masking exact.
 *
 * Conventions: emissions [batch, steps, states] row-major; transitions[from * states + to]; a path's
 * score is start[y0] + Σt E[t, yt] + Σ_{t≥1} A[y_{t−1}, y_t] + end[y_{L−1}].
 */

export interface CrfParameters {
  states: number;
  /** [from * states + to]. */
  transitions: ArrayLike<number>;
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

export interface EmissionBatch {
  batch: number;
  steps: number;
  states: number;
  /** [batch, steps, states]. */
  emissions: ArrayLike<number>;
  /** Real steps per sequence (≥ 1); the steps after them are padding and ignored. */
  lengths: ArrayLike<number>;
}

export interface CrfGradients {
  emissions: Float64Array;
  transitions: Float64Array;
  start: Float64Array;
  end: Float64Array;
}

export interface CrfLoss {
  /** Mean over the batch of logZ − logZ_bitmap. */
  nll: number;
  nllPerSequence: Float64Array;
  logZ: Float64Array;
  logZBitmap: Float64Array;
  /** Posterior P(y_t = s) [batch, steps, states], 0 at padding. */
  marginals: Float64Array;
  bitmapMarginals: Float64Array;
  /** d nll / d(emissions, transitions, start, end). */
  grad: CrfGradients;
}

export interface ViterbiResult {
  /** [batch, steps], −1 at padding. */
  paths: Int32Array;
  scores: Float64Array;
}

/** Real lengths from a right-padded mask [batch, steps]; a mask with a gap or an empty sequence is refused. */
export function lengthsFromMask(mask: ArrayLike<number>, batch: number, steps: number): Int32Array {
  const lengths = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let length = 0;
    while (length < steps && mask[b * steps + length]) length += 1;
    for (let t = length; t < steps; t++) {
      if (mask[b * steps + t]) throw new RangeError(`Sequence ${b}: the mask has a gap at step ${length}; padding must be at the right.`);
    }
    if (length === 0) throw new RangeError(`Sequence ${b} has no real step; every sequence needs at least one.`);
    lengths[b] = length;
  }
  return lengths;
}

/** A one-hot bitmap [batch, steps, states] from one target path per sequence (padding: all states). */
export function tagsToBitmap(tags: ArrayLike<number>, batch: EmissionBatch): Uint8Array {
  const { steps, states } = batch;
  const bitmap = new Uint8Array(batch.batch * steps * states);
  for (let b = 0; b < batch.batch; b++) {
    for (let t = 0; t < steps; t++) {
      const row = (b * steps + t) * states;
      if (t < batch.lengths[b]!) bitmap[row + tags[b * steps + t]!] = 1;
      else bitmap.fill(1, row, row + states);
    }
  }
  return bitmap;
}

/** The bitmap-restricted log-partition loss, its gradients and both sets of marginals. */
export function crfLoss(batch: EmissionBatch, params: CrfParameters, bitmap: ArrayLike<number>): CrfLoss {
  checkShapes(batch, params);
  const { steps, states } = batch;
  const size = batch.batch;
  const full = newGradients(batch);
  const restricted = newGradients(batch);
  const logZ = new Float64Array(size);
  const logZBitmap = new Float64Array(size);
  for (let b = 0; b < size; b++) {
    const lattice = sequenceLattice(batch, b, params, null);
    logZ[b] = accumulateExpectations(lattice, params, full, b * steps * states);
    const restrictedLattice = sequenceLattice(batch, b, params, bitmap);
    logZBitmap[b] = accumulateExpectations(restrictedLattice, params, restricted, b * steps * states);
    if (!Number.isFinite(logZBitmap[b]!)) {
      throw new RangeError(`Sequence ${b}: the target bitmap allows no state at some real step, so no path fits it.`);
    }
  }
  const nllPerSequence = logZ.map((z, b) => z - logZBitmap[b]!);
  const grad = newGradients(batch);
  for (const key of ['emissions', 'transitions', 'start', 'end'] as const) {
    const out = grad[key];
    for (let i = 0; i < out.length; i++) out[i] = (full[key][i]! - restricted[key][i]!) / size;
  }
  return {
    nll: nllPerSequence.reduce((sum, value) => sum + value, 0) / size,
    nllPerSequence,
    logZ,
    logZBitmap,
    marginals: full.emissions,
    bitmapMarginals: restricted.emissions,
    grad,
  };
}

/** Posterior marginals P(y_t = s) [batch, steps, states] and log Z per sequence. */
export function crfMarginals(batch: EmissionBatch, params: CrfParameters): { marginals: Float64Array; logZ: Float64Array } {
  checkShapes(batch, params);
  const expectations = newGradients(batch);
  const logZ = new Float64Array(batch.batch);
  for (let b = 0; b < batch.batch; b++) {
    logZ[b] = accumulateExpectations(sequenceLattice(batch, b, params, null), params, expectations, b * batch.steps * batch.states);
  }
  return { marginals: expectations.emissions, logZ };
}

/**
 * The gradient of Σ direction · marginals with respect to the emissions and the CRF parameters: how a
 * loss on the marginals (the region regulariser) reaches them. The marginals are the gradient of log Z,
 * so this is a Hessian-vector product, computed exactly by forward-mode differentiation of
 * forward–backward along the emissions direction (the Hessian is symmetric, so that tangent is the
 * gradient we want; the mixed derivatives give the parameters').
 */
export function crfMarginalsVjp(batch: EmissionBatch, params: CrfParameters, direction: ArrayLike<number>): CrfGradients {
  checkShapes(batch, params);
  const grad = newGradients(batch);
  for (let b = 0; b < batch.batch; b++) {
    const lattice = sequenceLattice(batch, b, params, null);
    accumulateTangents(lattice, params, direction, grad, b * batch.steps * batch.states);
  }
  return grad;
}

/** Best path per sequence under `params` (apply `constrainedParameters` first to re-impose the constraints). */
export function crfViterbi(batch: EmissionBatch, params: CrfParameters): ViterbiResult {
  checkShapes(batch, params);
  const { steps, states: s } = batch;
  const paths = new Int32Array(batch.batch * steps).fill(-1);
  const scores = new Float64Array(batch.batch);
  for (let b = 0; b < batch.batch; b++) {
    const length = batch.lengths[b]!;
    const e = (t: number, j: number): number => batch.emissions[(b * steps + t) * s + j]!;
    let score = Float64Array.from({ length: s }, (_, j) => params.start[j]! + e(0, j));
    const backpointers = new Int32Array(length * s);
    for (let t = 1; t < length; t++) {
      const next = new Float64Array(s);
      for (let j = 0; j < s; j++) {
        let best = -Infinity;
        let arg = 0;
        for (let i = 0; i < s; i++) {
          const candidate = score[i]! + params.transitions[i * s + j]!;
          if (candidate > best) {
            best = candidate;
            arg = i;
          }
        }
        next[j] = best + e(t, j);
        backpointers[t * s + j] = arg;
      }
      score = next;
    }
    let last = 0;
    for (let j = 1; j < s; j++) if (score[j]! + params.end[j]! > score[last]! + params.end[last]!) last = j;
    scores[b] = score[last]! + params.end[last]!;
    for (let t = length - 1; t >= 0; t--) {
      paths[b * steps + t] = last;
      last = backpointers[t * s + last]!;
    }
  }
  return { paths, scores };
}

export interface ConstraintMasks {
  /** [from * states + to], 1 = allowed. */
  transitions: ArrayLike<number>;
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

/** SignalP 6.0's soft constraint: disallowed transitions, starts and ends score −20 (never −∞). */
export const DISALLOWED_SCORE = -20;

/** A copy of `params` with every disallowed entry set to `score` (at init, and again before Viterbi). */
export function constrainedParameters(params: CrfParameters, masks: ConstraintMasks, score = DISALLOWED_SCORE): CrfParameters {
  const apply = (values: ArrayLike<number>, allowed: ArrayLike<number>): Float64Array =>
    Float64Array.from(values, (value, i) => (allowed[i] ? value : score));
  return {
    states: params.states,
    transitions: apply(params.transitions, masks.transitions),
    start: apply(params.start, masks.start),
    end: apply(params.end, masks.end),
  };
}

// ---------------------------------------------------------------------------------------------
// One sequence: forward–backward in log space.

interface Lattice {
  length: number;
  states: number;
  /** Emissions of the real steps [length, states]; −∞ where a bitmap excludes the state. */
  emissions: Float64Array;
  alpha: Float64Array;
  beta: Float64Array;
  logZ: number;
}

function sequenceLattice(batch: EmissionBatch, b: number, params: CrfParameters, bitmap: ArrayLike<number> | null): Lattice {
  const { steps, states: s } = batch;
  const length = batch.lengths[b]!;
  const emissions = new Float64Array(length * s);
  for (let t = 0; t < length; t++) {
    for (let j = 0; j < s; j++) {
      const index = (b * steps + t) * s + j;
      emissions[t * s + j] = bitmap && !bitmap[index] ? -Infinity : batch.emissions[index]!;
    }
  }
  const alpha = forward(emissions, length, s, params);
  const beta = backward(emissions, length, s, params);
  const logZ = logSumExp(s, (j) => alpha[(length - 1) * s + j]! + params.end[j]!);
  return { length, states: s, emissions, alpha, beta, logZ };
}

function forward(e: Float64Array, length: number, s: number, params: CrfParameters): Float64Array {
  const alpha = new Float64Array(length * s);
  for (let j = 0; j < s; j++) alpha[j] = params.start[j]! + e[j]!;
  for (let t = 1; t < length; t++) {
    for (let j = 0; j < s; j++) {
      alpha[t * s + j] = logSumExp(s, (i) => alpha[(t - 1) * s + i]! + params.transitions[i * s + j]!) + e[t * s + j]!;
    }
  }
  return alpha;
}

function backward(e: Float64Array, length: number, s: number, params: CrfParameters): Float64Array {
  const beta = new Float64Array(length * s);
  for (let i = 0; i < s; i++) beta[(length - 1) * s + i] = params.end[i]!;
  for (let t = length - 2; t >= 0; t--) {
    for (let i = 0; i < s; i++) {
      beta[t * s + i] = logSumExp(s, (j) => params.transitions[i * s + j]! + e[(t + 1) * s + j]! + beta[(t + 1) * s + j]!);
    }
  }
  return beta;
}

/**
 * Adds this sequence's expected feature counts (the gradient of its log Z) into `into`: marginals at
 * `emissionOffset`, expected transition counts, start and end marginals. Returns log Z.
 */
function accumulateExpectations(lattice: Lattice, params: CrfParameters, into: CrfGradients, emissionOffset: number): number {
  const { length, states: s, emissions: e, alpha, beta, logZ } = lattice;
  for (let t = 0; t < length; t++) {
    for (let j = 0; j < s; j++) {
      const p = probability(alpha[t * s + j]! + beta[t * s + j]! - logZ);
      into.emissions[emissionOffset + t * s + j]! += p;
      if (t === 0) into.start[j]! += p;
      if (t === length - 1) into.end[j]! += p;
    }
  }
  for (let t = 1; t < length; t++) {
    for (let i = 0; i < s; i++) {
      const from = alpha[(t - 1) * s + i]!;
      if (from === -Infinity) continue;
      for (let j = 0; j < s; j++) {
        into.transitions[i * s + j]! += probability(from + params.transitions[i * s + j]! + e[t * s + j]! + beta[t * s + j]! - logZ);
      }
    }
  }
  return logZ;
}

/** Forward-mode derivative of the expectations along emissions + ε·direction, added into `into`. */
function accumulateTangents(lattice: Lattice, params: CrfParameters, direction: ArrayLike<number>, into: CrfGradients, offset: number): void {
  const { length, states: s, emissions: e, alpha, beta, logZ } = lattice;
  const v = (t: number, j: number): number => direction[offset + t * s + j]!;
  const alphaDot = new Float64Array(length * s);
  for (let j = 0; j < s; j++) alphaDot[j] = v(0, j);
  for (let t = 1; t < length; t++) {
    for (let j = 0; j < s; j++) {
      const incoming = alpha[t * s + j]! - e[t * s + j]!;
      let sum = 0;
      for (let i = 0; i < s; i++) sum += probability(alpha[(t - 1) * s + i]! + params.transitions[i * s + j]! - incoming) * alphaDot[(t - 1) * s + i]!;
      alphaDot[t * s + j] = sum + v(t, j);
    }
  }
  const betaDot = new Float64Array(length * s);
  for (let t = length - 2; t >= 0; t--) {
    for (let i = 0; i < s; i++) {
      let sum = 0;
      for (let j = 0; j < s; j++) {
        const weight = probability(params.transitions[i * s + j]! + e[(t + 1) * s + j]! + beta[(t + 1) * s + j]! - beta[t * s + i]!);
        sum += weight * (v(t + 1, j) + betaDot[(t + 1) * s + j]!);
      }
      betaDot[t * s + i] = sum;
    }
  }
  let logZDot = 0;
  for (let j = 0; j < s; j++) logZDot += probability(alpha[(length - 1) * s + j]! + params.end[j]! - logZ) * alphaDot[(length - 1) * s + j]!;
  for (let t = 0; t < length; t++) {
    for (let j = 0; j < s; j++) {
      const k = t * s + j;
      const tangent = probability(alpha[k]! + beta[k]! - logZ) * (alphaDot[k]! + betaDot[k]! - logZDot);
      into.emissions[offset + k]! += tangent;
      if (t === 0) into.start[j]! += tangent;
      if (t === length - 1) into.end[j]! += tangent;
    }
  }
  for (let t = 1; t < length; t++) {
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        const pair = probability(alpha[(t - 1) * s + i]! + params.transitions[i * s + j]! + e[t * s + j]! + beta[t * s + j]! - logZ);
        into.transitions[i * s + j]! += pair * (alphaDot[(t - 1) * s + i]! + v(t, j) + betaDot[t * s + j]! - logZDot);
      }
    }
  }
}

function logSumExp(count: number, term: (k: number) => number): number {
  let max = -Infinity;
  for (let k = 0; k < count; k++) max = Math.max(max, term(k));
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let k = 0; k < count; k++) sum += Math.exp(term(k) - max);
  return max + Math.log(sum);
}

/** exp of a log-probability; −∞ (an excluded state) and NaN from −∞ − −∞ give 0. */
function probability(logP: number): number {
  return logP > -Infinity ? Math.exp(logP) : 0;
}

function newGradients(batch: EmissionBatch): CrfGradients {
  const s = batch.states;
  return {
    emissions: new Float64Array(batch.batch * batch.steps * s),
    transitions: new Float64Array(s * s),
    start: new Float64Array(s),
    end: new Float64Array(s),
  };
}

function checkShapes(batch: EmissionBatch, params: CrfParameters): void {
  const s = batch.states;
  if (params.states !== s) throw new RangeError(`The CRF has ${params.states} states but the emissions have ${s}.`);
  if (batch.emissions.length !== batch.batch * batch.steps * s) throw new RangeError(`Emissions hold ${batch.emissions.length} numbers, not batch × steps × states = ${batch.batch * batch.steps * s}.`);
  if (params.transitions.length !== s * s || params.start.length !== s || params.end.length !== s) throw new RangeError(`CRF parameters do not match ${s} states.`);
  for (let b = 0; b < batch.batch; b++) {
    const length = batch.lengths[b]!;
    if (!Number.isInteger(length) || length < 1 || length > batch.steps) throw new RangeError(`Sequence ${b} has length ${length}; it must be 1 … ${batch.steps}.`);
  }
}
