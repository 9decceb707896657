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
 * Float64 throughout. The bitmap restriction leaves excluded states out of the lattice, which is what
 * PEFT-SP's float32-min emissions amount to (their paths weigh exactly 0), without the overflow risk.
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
  const scores = expScores(params);
  for (let b = 0; b < size; b++) {
    logZ[b] = accumulateExpectations(sequenceLattice(batch, b, scores, null), scores, full, b * steps * states);
    logZBitmap[b] = accumulateExpectations(sequenceLattice(batch, b, scores, bitmap), scores, restricted, b * steps * states);
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
  const scores = expScores(params);
  for (let b = 0; b < batch.batch; b++) {
    logZ[b] = accumulateExpectations(sequenceLattice(batch, b, scores, null), scores, expectations, b * batch.steps * batch.states);
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
  const scores = expScores(params);
  for (let b = 0; b < batch.batch; b++) {
    accumulateTangents(sequenceLattice(batch, b, scores, null), scores, direction, grad, b * batch.steps * batch.states);
  }
  return grad;
}

/** Best path per sequence under `params` (apply `constrainedParameters` first to re-impose the constraints). */
export function crfViterbi(batch: EmissionBatch, params: CrfParameters): ViterbiResult {
  checkShapes(batch, params);
  const { steps, states: s } = batch;
  const paths = new Int32Array(batch.batch * steps).fill(-1);
  const scores = new Float64Array(batch.batch);
  let score = new Float64Array(s);
  let next = new Float64Array(s);
  for (let b = 0; b < batch.batch; b++) {
    const length = batch.lengths[b]!;
    const row = (t: number): number => (b * steps + t) * s;
    for (let j = 0; j < s; j++) score[j] = params.start[j]! + batch.emissions[row(0) + j]!;
    const backpointers = new Int32Array(length * s);
    for (let t = 1; t < length; t++) {
      const emissionRow = row(t);
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
        next[j] = best + batch.emissions[emissionRow + j]!;
        backpointers[t * s + j] = arg;
      }
      [score, next] = [next, score];
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
// One sequence: forward–backward in scaled probability space. Each step's emissions are shifted by
// their maximum before exp and each step's forward/backward vector is normalised, so nothing
// overflows or underflows in practice, and the inner loops are multiply-adds instead of
// log-sum-exps (about ten times faster than log space). Marginals are normalised per step, so the
// scales cancel; log Z adds the forward scales back.

/** exp of the CRF scores, computed once per call. */
interface ExpScores {
  transitions: Float64Array;
  start: Float64Array;
  end: Float64Array;
}

function expScores(params: CrfParameters): ExpScores {
  return { transitions: Float64Array.from(params.transitions, Math.exp), start: Float64Array.from(params.start, Math.exp), end: Float64Array.from(params.end, Math.exp) };
}

interface Lattice {
  length: number;
  states: number;
  /** exp(emission − the step's maximum) [length, states]; 0 where a bitmap excludes the state. */
  psi: Float64Array;
  /** Forward and backward vectors, each step normalised to sum 1. */
  forward: Float64Array;
  backward: Float64Array;
  logZ: number;
}

function sequenceLattice(batch: EmissionBatch, b: number, scores: ExpScores, bitmap: ArrayLike<number> | null): Lattice {
  const { steps, states: s } = batch;
  const length = batch.lengths[b]!;
  const psi = new Float64Array(length * s);
  const shifts = new Float64Array(length);
  for (let t = 0; t < length; t++) {
    const row = (b * steps + t) * s;
    let max = -Infinity;
    for (let j = 0; j < s; j++) if (!(bitmap && !bitmap[row + j])) max = Math.max(max, batch.emissions[row + j]!);
    shifts[t] = max;
    if (max === -Infinity) continue;
    for (let j = 0; j < s; j++) psi[t * s + j] = bitmap && !bitmap[row + j] ? 0 : Math.exp(batch.emissions[row + j]! - max);
  }
  const forward = new Float64Array(length * s);
  let logScale = 0;
  for (let t = 0; t < length; t++) {
    const here = t * s;
    if (t === 0) {
      for (let j = 0; j < s; j++) forward[j] = scores.start[j]! * psi[j]!;
    } else {
      const previous = here - s;
      for (let i = 0; i < s; i++) {
        const from = forward[previous + i]!;
        if (from === 0) continue;
        for (let j = 0; j < s; j++) forward[here + j]! += from * scores.transitions[i * s + j]!;
      }
      for (let j = 0; j < s; j++) forward[here + j]! *= psi[here + j]!;
    }
    const total = normalise(forward, here, s);
    if (total === 0) return { length, states: s, psi, forward, backward: new Float64Array(length * s), logZ: -Infinity };
    logScale += Math.log(total) + shifts[t]!;
  }
  let last = 0;
  for (let j = 0; j < s; j++) last += forward[(length - 1) * s + j]! * scores.end[j]!;
  const backward = new Float64Array(length * s);
  for (let i = 0; i < s; i++) backward[(length - 1) * s + i] = scores.end[i]!;
  normalise(backward, (length - 1) * s, s);
  const weighted = new Float64Array(s);
  for (let t = length - 2; t >= 0; t--) {
    const next = (t + 1) * s;
    for (let j = 0; j < s; j++) weighted[j] = psi[next + j]! * backward[next + j]!;
    for (let i = 0; i < s; i++) {
      let sum = 0;
      for (let j = 0; j < s; j++) sum += scores.transitions[i * s + j]! * weighted[j]!;
      backward[t * s + i] = sum;
    }
    normalise(backward, t * s, s);
  }
  return { length, states: s, psi, forward, backward, logZ: logScale + Math.log(last) };
}

/** Divides values[offset, offset + count) by their sum (left as is when the sum is 0); returns the sum. */
function normalise(values: Float64Array, offset: number, count: number): number {
  let total = 0;
  for (let k = offset; k < offset + count; k++) total += values[k]!;
  if (total > 0) for (let k = offset; k < offset + count; k++) values[k]! /= total;
  return total;
}

/** P(y_t = j) for every step [length, states]. */
function stepMarginals(lattice: Lattice): Float64Array {
  const { length, states: s, forward, backward } = lattice;
  const marginals = new Float64Array(length * s);
  for (let t = 0; t < length; t++) {
    for (let j = 0; j < s; j++) marginals[t * s + j] = forward[t * s + j]! * backward[t * s + j]!;
    normalise(marginals, t * s, s);
  }
  return marginals;
}

/**
 * Calls visit(i, j, P(y_{t−1} = i, y_t = j)) for every step t ≥ 1 and pair with a non-zero probability.
 * `weighted[j]` = psi_t(j) · backward_t(j), so P ∝ forward_{t−1}(i) · exp(A_ij) · weighted[j].
 */
function forEachPair(lattice: Lattice, scores: ExpScores, visit: (t: number, i: number, j: number, p: number) => void): void {
  const { length, states: s, psi, forward, backward } = lattice;
  const weighted = new Float64Array(s);
  const reach = new Float64Array(s);
  for (let t = 1; t < length; t++) {
    for (let j = 0; j < s; j++) weighted[j] = psi[t * s + j]! * backward[t * s + j]!;
    let total = 0;
    for (let i = 0; i < s; i++) {
      let sum = 0;
      for (let j = 0; j < s; j++) sum += scores.transitions[i * s + j]! * weighted[j]!;
      reach[i] = sum;
      total += forward[(t - 1) * s + i]! * sum;
    }
    if (total === 0) continue;
    for (let i = 0; i < s; i++) {
      const coefficient = forward[(t - 1) * s + i]! / total;
      if (coefficient === 0) continue;
      for (let j = 0; j < s; j++) {
        const p = coefficient * scores.transitions[i * s + j]! * weighted[j]!;
        if (p !== 0) visit(t, i, j, p);
      }
    }
  }
}

/**
 * Adds this sequence's expected feature counts (the gradient of its log Z) into `into`: marginals at
 * `emissionOffset`, expected transition counts, start and end marginals. Returns log Z.
 */
function accumulateExpectations(lattice: Lattice, scores: ExpScores, into: CrfGradients, emissionOffset: number): number {
  const { length, states: s } = lattice;
  if (lattice.logZ === -Infinity) return -Infinity;
  const marginals = stepMarginals(lattice);
  for (let k = 0; k < length * s; k++) into.emissions[emissionOffset + k]! += marginals[k]!;
  for (let j = 0; j < s; j++) {
    into.start[j]! += marginals[j]!;
    into.end[j]! += marginals[(length - 1) * s + j]!;
  }
  forEachPair(lattice, scores, (_, i, j, p) => {
    into.transitions[i * s + j]! += p;
  });
  return lattice.logZ;
}

/**
 * Forward-mode derivative of the expectations along emissions + ε·direction, added into `into`.
 * Tangents of log forward/backward: α̇_t(j) = v_t(j) + E[α̇_{t−1}(y_{t−1}) | y_t = j] under the forward
 * weights, β̇ likewise backwards, and d log Z; then μ̇ = μ(α̇ + β̇ − Ż) and ξ̇ = ξ(α̇ + v + β̇ − Ż).
 */
function accumulateTangents(lattice: Lattice, scores: ExpScores, direction: ArrayLike<number>, into: CrfGradients, offset: number): void {
  const { length, states: s, psi, forward, backward } = lattice;
  const v = (t: number, j: number): number => direction[offset + t * s + j]!;
  const alphaDot = new Float64Array(length * s);
  for (let j = 0; j < s; j++) alphaDot[j] = v(0, j);
  const weight = new Float64Array(s);
  const carried = new Float64Array(s);
  for (let t = 1; t < length; t++) {
    weight.fill(0);
    carried.fill(0);
    for (let i = 0; i < s; i++) {
      const from = forward[(t - 1) * s + i]!;
      if (from === 0) continue;
      const tangent = alphaDot[(t - 1) * s + i]!;
      for (let j = 0; j < s; j++) {
        const w = from * scores.transitions[i * s + j]!;
        weight[j]! += w;
        carried[j]! += w * tangent;
      }
    }
    for (let j = 0; j < s; j++) alphaDot[t * s + j] = v(t, j) + (weight[j]! > 0 ? carried[j]! / weight[j]! : 0);
  }
  const betaDot = new Float64Array(length * s);
  const weighted = new Float64Array(s);
  const tangentNext = new Float64Array(s);
  for (let t = length - 2; t >= 0; t--) {
    const next = (t + 1) * s;
    for (let j = 0; j < s; j++) {
      weighted[j] = psi[next + j]! * backward[next + j]!;
      tangentNext[j] = v(t + 1, j) + betaDot[next + j]!;
    }
    for (let i = 0; i < s; i++) {
      let total = 0;
      let sum = 0;
      for (let j = 0; j < s; j++) {
        const w = scores.transitions[i * s + j]! * weighted[j]!;
        total += w;
        sum += w * tangentNext[j]!;
      }
      betaDot[t * s + i] = total > 0 ? sum / total : 0;
    }
  }
  let endTotal = 0;
  let logZDot = 0;
  for (let j = 0; j < s; j++) {
    const w = forward[(length - 1) * s + j]! * scores.end[j]!;
    endTotal += w;
    logZDot += w * alphaDot[(length - 1) * s + j]!;
  }
  logZDot /= endTotal;
  const marginals = stepMarginals(lattice);
  for (let t = 0; t < length; t++) {
    for (let j = 0; j < s; j++) {
      const k = t * s + j;
      const tangent = marginals[k]! * (alphaDot[k]! + betaDot[k]! - logZDot);
      into.emissions[offset + k]! += tangent;
      if (t === 0) into.start[j]! += tangent;
      if (t === length - 1) into.end[j]! += tangent;
    }
  }
  forEachPair(lattice, scores, (t, i, j, p) => {
    into.transitions[i * s + j]! += p * (alphaDot[(t - 1) * s + i]! + v(t, j) + betaDot[t * s + j]! - logZDot);
  });
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
    for (let k = b * batch.steps * s; k < (b * batch.steps + length) * s; k++) {
      if (!Number.isFinite(batch.emissions[k]!)) {
        const step = Math.floor(k / s) - b * batch.steps;
        throw new RangeError(`Sequence ${b}, step ${step + 1}: an emission is ${batch.emissions[k]}; the model's outputs have diverged (lower the learning rate).`);
      }
    }
  }
}
