/**
 * train/crf/signalp-head — what PEFT-SP does with the 37-state CRF around the emissions: the training
 * loss (bitmap-restricted NLL + the region regulariser, with gradients for the emissions and the CRF's
 * parameters) and the decoding (type from the averaged marginals, cleavage site from the Viterbi path
 * under the re-imposed −20 constraints). The CRF itself is linear-chain.ts (why it runs outside the
 * ONNX graph is explained there).
 */
import { SIGNALP_TYPES } from '../../datasets/signalp';
import {
  constrainedParameters,
  crfLoss,
  crfMarginals,
  crfMarginalsVjp,
  crfViterbi,
  type CrfGradients,
  type CrfLoss,
  type CrfParameters,
  type EmissionBatch,
} from './linear-chain';
import {
  CLEAVAGE_STATES,
  C_REGION_STATES,
  H_REGION_STATES,
  N_REGION_STATES,
  STATE_TYPE,
  TYPE_STATE_RANGES,
  signalpConstraints,
} from './signalp-states';

const TYPE_COUNT = SIGNALP_TYPES.length;

/** PEFT-SP's `--region_regularization_alpha` default. */
export const REGION_REGULARIZATION_ALPHA = 0.5;

/**
 * ESM token ids whose residues the regulariser counts. PEFT-SP counts ids 5..24 (A G V S E R T I D P K
 * Q N F Y M H W C X), which leaves leucine (4) out — a slip we keep by default so trained models match;
 * `STANDARD_AMINO_ACID_TOKENS` (4..23, the 20 standard residues) is the corrected choice.
 */
export const PEFTSP_REGULARIZED_TOKENS = { first: 5, last: 24 } as const;
export const STANDARD_AMINO_ACID_TOKENS = { first: 4, last: 23 } as const;

export interface RegionRegularizerOptions {
  alpha?: number;
  tokens?: { first: number; last: number };
}

export interface RegionRegularizer {
  /** cos(n, h) per sequence; 0 unless the true type is Sec/SPI or Sec/SPII. */
  cosNH: Float64Array;
  /** cos(h, c) per sequence; 0 unless the true type is Sec/SPI or Tat/SPI. */
  cosHC: Float64Array;
  /** alpha · mean(cosNH) + alpha · mean(cosHC). */
  loss: number;
  /** d loss / d marginals [batch, steps, states]. */
  dMarginals: Float64Array;
}

/** n/h and h/c cosine terms apply only to the types whose signal peptides have both regions. */
const HAS_NH_TERM: readonly boolean[] = [false, true, true, false, false, false];
const HAS_HC_TERM: readonly boolean[] = [false, true, false, true, false, false];

/**
 * PEFT-SP's region regulariser: per sequence, the marginals of the n, h and c regions summed per amino
 * acid into composition profiles; penalising the cosine between n and h, and between h and c, pushes
 * the regions to differ in composition (n positive, h hydrophobic, c small), as real ones do.
 */
export function regionRegularizer(
  batch: EmissionBatch,
  marginals: Float64Array,
  aaTokens: ArrayLike<number>,
  trueTypes: ArrayLike<number>,
  options: RegionRegularizerOptions = {},
): RegionRegularizer {
  const alpha = options.alpha ?? REGION_REGULARIZATION_ALPHA;
  const tokens = options.tokens ?? PEFTSP_REGULARIZED_TOKENS;
  const { steps, states } = batch;
  const bins = tokens.last - tokens.first + 1;
  const size = batch.batch;
  const cosNH = new Float64Array(size);
  const cosHC = new Float64Array(size);
  const dMarginals = new Float64Array(marginals.length);
  for (let b = 0; b < size; b++) {
    const nh = HAS_NH_TERM[trueTypes[b]!] ?? false;
    const hc = HAS_HC_TERM[trueTypes[b]!] ?? false;
    if (!nh && !hc) continue;
    const binOf = (t: number): number => {
      const token = aaTokens[b * steps + t]!;
      return token >= tokens.first && token <= tokens.last ? token - tokens.first : -1;
    };
    const regionMass = (t: number, group: readonly number[]): number => group.reduce((sum, state) => sum + marginals[(b * steps + t) * states + state]!, 0);
    const profile = (group: readonly number[]): Float64Array => {
      const counts = new Float64Array(bins);
      for (let t = 0; t < batch.lengths[b]!; t++) {
        const bin = binOf(t);
        if (bin >= 0) counts[bin]! += regionMass(t, group);
      }
      return counts;
    };
    const n = profile(N_REGION_STATES);
    const h = profile(H_REGION_STATES);
    const c = profile(C_REGION_STATES);
    // The cosine does not change when a profile is normalised to sum 1, so raw counts give the same
    // value and a simpler gradient.
    const dProfiles = { n: new Float64Array(bins), h: new Float64Array(bins), c: new Float64Array(bins) };
    if (nh) cosNH[b] = cosineWithGradients(n, h, alpha / size, dProfiles.n, dProfiles.h);
    if (hc) cosHC[b] = cosineWithGradients(h, c, alpha / size, dProfiles.h, dProfiles.c);
    for (let t = 0; t < batch.lengths[b]!; t++) {
      const bin = binOf(t);
      if (bin < 0) continue;
      const row = (b * steps + t) * states;
      for (const state of N_REGION_STATES) dMarginals[row + state]! += dProfiles.n[bin]!;
      for (const state of H_REGION_STATES) dMarginals[row + state]! += dProfiles.h[bin]!;
      for (const state of C_REGION_STATES) dMarginals[row + state]! += dProfiles.c[bin]!;
    }
  }
  const mean = (values: Float64Array): number => values.reduce((sum, value) => sum + value, 0) / size;
  return { cosNH, cosHC, loss: alpha * mean(cosNH) + alpha * mean(cosHC), dMarginals };
}

/** cos(x, y); adds scale · d cos / dx into dx and scale · d cos / dy into dy. */
function cosineWithGradients(x: Float64Array, y: Float64Array, scale: number, dx: Float64Array, dy: Float64Array): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let k = 0; k < x.length; k++) {
    xy += x[k]! * y[k]!;
    xx += x[k]! * x[k]!;
    yy += y[k]! * y[k]!;
  }
  const norms = Math.sqrt(xx * yy);
  if (norms === 0) return 0;
  const cos = xy / norms;
  for (let k = 0; k < x.length; k++) {
    dx[k]! += scale * (y[k]! / norms - (cos * x[k]!) / xx);
    dy[k]! += scale * (x[k]! / norms - (cos * y[k]!) / yy);
  }
  return cos;
}

export interface SignalpTrainingLoss extends CrfLoss {
  regularizer: RegionRegularizer;
  /** nll + the regulariser's loss. */
  total: number;
  /** d total / d(emissions, CRF parameters): what the backward graph and the CRF's optimizer receive. */
  gradTotal: CrfGradients;
}

/** PEFT-SP's training loss on one batch: bitmap NLL plus the region regulariser, and its gradients. */
export function signalpTrainingLoss(
  batch: EmissionBatch,
  params: CrfParameters,
  bitmap: ArrayLike<number>,
  aaTokens: ArrayLike<number>,
  trueTypes: ArrayLike<number>,
  options: RegionRegularizerOptions = {},
): SignalpTrainingLoss {
  const loss = crfLoss(batch, params, bitmap);
  const regularizer = regionRegularizer(batch, loss.marginals, aaTokens, trueTypes, options);
  const throughMarginals = crfMarginalsVjp(batch, params, regularizer.dMarginals);
  const add = (a: Float64Array, b: Float64Array): Float64Array => a.map((value, i) => value + b[i]!);
  return {
    ...loss,
    regularizer,
    total: loss.nll + regularizer.loss,
    gradTotal: {
      emissions: add(loss.grad.emissions, throughMarginals.emissions),
      transitions: add(loss.grad.transitions, throughMarginals.transitions),
      start: add(loss.grad.start, throughMarginals.start),
      end: add(loss.grad.end, throughMarginals.end),
    },
  };
}

/** [batch, 6]: the marginals averaged over the real steps and summed per type. */
export function typeProbabilities(batch: EmissionBatch, marginals: Float64Array): Float64Array {
  const { steps, states } = batch;
  const out = new Float64Array(batch.batch * TYPE_COUNT);
  for (let b = 0; b < batch.batch; b++) {
    const length = batch.lengths[b]!;
    for (let t = 0; t < length; t++) {
      for (let s = 0; s < states; s++) out[b * TYPE_COUNT + STATE_TYPE[s]!]! += marginals[(b * steps + t) * states + s]! / length;
    }
  }
  return out;
}

/** Arg-max type per sequence (the first on ties). */
export function predictedTypes(probabilities: Float64Array): Int32Array {
  const out = new Int32Array(probabilities.length / TYPE_COUNT);
  for (let b = 0; b < out.length; b++) {
    let best = 0;
    for (let k = 1; k < TYPE_COUNT; k++) if (probabilities[b * TYPE_COUNT + k]! > probabilities[b * TYPE_COUNT + best]!) best = k;
    out[b] = best;
  }
  return out;
}

/** 1-based position of the last step of each path in a cleavage-site state; −1 when there is none. */
export function cleavageSites(paths: Int32Array, batch: Pick<EmissionBatch, 'batch' | 'steps'>): Int32Array {
  const out = new Int32Array(batch.batch).fill(-1);
  for (let b = 0; b < batch.batch; b++) {
    for (let t = batch.steps - 1; t >= 0; t--) {
      if (CLEAVAGE_STATES.includes(paths[b * batch.steps + t]!)) {
        out[b] = t + 1;
        break;
      }
    }
  }
  return out;
}

/** Viterbi with SignalP 6.0's constraints re-imposed (−20 on every disallowed entry, whatever was learned). */
export function signalpViterbi(batch: EmissionBatch, params: CrfParameters): ReturnType<typeof crfViterbi> {
  return crfViterbi(batch, constrainedParameters(params, signalpConstraints()));
}

export interface SignalPeptidePredictions {
  /** [batch, 6] type probabilities; `types` is their arg-max. */
  typeProbabilities: Float64Array;
  types: Int32Array;
  /** 1-based cleavage site (last residue of the signal peptide) per sequence, −1 for none. */
  cleavageSites: Int32Array;
  /** [batch, steps] Viterbi states, −1 at padding: the regions a view colours. */
  paths: Int32Array;
  /** [batch, steps, 37] per-residue state probabilities: SignalP's region plot. */
  marginals: Float64Array;
}

/** Everything PEFT-SP reads off the CRF for a batch of emissions. */
export function predictSignalPeptides(batch: EmissionBatch, params: CrfParameters): SignalPeptidePredictions {
  const { marginals } = crfMarginals(batch, params);
  const probabilities = typeProbabilities(batch, marginals);
  const { paths } = signalpViterbi(batch, params);
  return { typeProbabilities: probabilities, types: predictedTypes(probabilities), cleavageSites: cleavageSites(paths, batch), paths, marginals };
}

/** States of one type, for views that colour regions. */
export function statesOfType(type: number): number[] {
  const [first, last] = TYPE_STATE_RANGES[type]!;
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}
