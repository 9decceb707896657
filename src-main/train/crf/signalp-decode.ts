/**
 * train/crf/signalp-decode — what a person reads off the 37-state CRF for one protein, as SignalP
 * 6.0 shows it: the per-residue probability of each region (n, h, c, twin-arginine motif, lipobox,
 * pilin leader, other — sums of state marginals), the probability that the signal peptide ends at
 * each residue (cleavage right after it, from the pairwise marginals), and the Viterbi path as
 * contiguous region segments. Pure float64; the type and cleavage site themselves come from
 * signalp-head (averaged marginals, Viterbi), unchanged.
 */
import type { CrfParameters, EmissionBatch } from './linear-chain';
import { CLEAVAGE_STATES, STATE } from './signalp-states';

/** Track names in the order of api/signal-peptide's SignalPeptideTrackName. */
export const SIGNALP_TRACKS = ['n', 'h', 'c', 'rr', 'lipobox', 'pilin', 'other'] as const;
export type SignalpTrack = (typeof SIGNALP_TRACKS)[number];

/** Which track each state's probability adds to. The lipidated Cys (C1) and the pilin's post-cleavage CS state count as other. */
const TRACK_STATES: Record<Exclude<SignalpTrack, 'other'>, readonly number[]> = {
  n: [STATE.SP_N, STATE.LIPO_N, STATE.TAT_N, STATE.TATLIPO_N],
  h: [STATE.SP_H, STATE.LIPO_H, STATE.TAT_H, STATE.TATLIPO_H, STATE.PILIN_H],
  c: [STATE.SP_C, STATE.TAT_C],
  rr: [STATE.TAT_RR, STATE.TATLIPO_RR],
  lipobox: [STATE.LIPO_CS, STATE.TATLIPO_CS],
  pilin: [STATE.PILIN_P],
};

/** Track index of every state. */
export const STATE_TRACK: Int32Array = (() => {
  const out = new Int32Array(37).fill(SIGNALP_TRACKS.indexOf('other'));
  SIGNALP_TRACKS.forEach((track, index) => {
    if (track !== 'other') for (const state of TRACK_STATES[track]) out[state] = index;
  });
  return out;
})();

/** Regions of the Viterbi path, in the order of api/signal-peptide's SignalPeptideRegionName. */
export type SignalpRegion = 'n' | 'h' | 'c' | 'rr' | 'lipobox' | 'pilin' | 'cys' | 'inside' | 'membrane' | 'outside';

/** The region a Viterbi state is drawn as (I/M/O of every type: the mature protein's topology). */
export function stateRegion(state: number): SignalpRegion {
  const track = SIGNALP_TRACKS[STATE_TRACK[state]!]!;
  if (track !== 'other') return track;
  if (state === STATE.LIPO_C1 || state === STATE.TATLIPO_C1) return 'cys';
  if (state === STATE.PILIN_CS) return 'outside';
  // Inside, membrane, outside are the last three states of every type (NO_SP: all three).
  const name = ['NO_SP_I', 'SP_I', 'LIPO_I', 'TAT_I', 'TATLIPO_I', 'PILIN_I'].map((n) => STATE[n as keyof typeof STATE]);
  if (name.includes(state)) return 'inside';
  if (name.map((s) => s + 1).includes(state)) return 'membrane';
  return 'outside';
}

export interface SignalpSegment {
  region: SignalpRegion;
  /** 1-based, inclusive. */
  start: number;
  end: number;
}

/** A Viterbi path (−1 at padding) as runs of the same region, 1-based inclusive. */
export function viterbiSegments(path: ArrayLike<number>, length: number): SignalpSegment[] {
  const segments: SignalpSegment[] = [];
  for (let t = 0; t < length; t++) {
    const region = stateRegion(path[t]!);
    const last = segments.at(-1);
    if (last && last.region === region) last.end = t + 1;
    else segments.push({ region, start: t + 1, end: t + 1 });
  }
  return segments;
}

/** Per-residue region probabilities [tracks][length] from one sequence's marginals [length, 37]. */
export function regionTracks(marginals: ArrayLike<number>, offset: number, length: number, states = 37): Float64Array[] {
  const tracks = SIGNALP_TRACKS.map(() => new Float64Array(length));
  for (let t = 0; t < length; t++) {
    for (let s = 0; s < states; s++) tracks[STATE_TRACK[s]!]![t]! += marginals[offset + t * states + s]!;
  }
  return tracks;
}

/**
 * P(the signal peptide ends at residue t) for each t of sequence `b`: the pairwise marginal of a
 * cleavage-site state at t followed by any other state (or the end of the sequence). Uses the
 * stored parameters, as the marginals do; scaled forward–backward, so long sequences cannot underflow.
 */
export function cleavageProbabilities(batch: EmissionBatch, b: number, params: CrfParameters): Float64Array {
  const { steps, states: s } = batch;
  const length = batch.lengths[b]!;
  const isCleavage = new Uint8Array(s);
  for (const state of CLEAVAGE_STATES) isCleavage[state] = 1;
  const transitions = Float64Array.from(params.transitions, Math.exp);
  const psi = new Float64Array(length * s);
  for (let t = 0; t < length; t++) {
    const row = (b * steps + t) * s;
    let max = -Infinity;
    for (let j = 0; j < s; j++) max = Math.max(max, batch.emissions[row + j]!);
    for (let j = 0; j < s; j++) psi[t * s + j] = Math.exp(batch.emissions[row + j]! - max);
  }
  const normalise = (v: Float64Array, from: number): void => {
    let sum = 0;
    for (let j = 0; j < s; j++) sum += v[from + j]!;
    for (let j = 0; j < s; j++) v[from + j]! /= sum;
  };
  const forward = new Float64Array(length * s);
  for (let j = 0; j < s; j++) forward[j] = Math.exp(params.start[j]!) * psi[j]!;
  normalise(forward, 0);
  for (let t = 1; t < length; t++) {
    for (let i = 0; i < s; i++) {
      const from = forward[(t - 1) * s + i]!;
      for (let j = 0; j < s; j++) forward[t * s + j]! += from * transitions[i * s + j]!;
    }
    for (let j = 0; j < s; j++) forward[t * s + j]! *= psi[t * s + j]!;
    normalise(forward, t * s);
  }
  const backward = new Float64Array(length * s);
  for (let j = 0; j < s; j++) backward[(length - 1) * s + j] = Math.exp(params.end[j]!);
  normalise(backward, (length - 1) * s);
  for (let t = length - 2; t >= 0; t--) {
    for (let i = 0; i < s; i++) {
      let sum = 0;
      for (let j = 0; j < s; j++) sum += transitions[i * s + j]! * psi[(t + 1) * s + j]! * backward[(t + 1) * s + j]!;
      backward[t * s + i] = sum;
    }
    normalise(backward, t * s);
  }
  const out = new Float64Array(length);
  for (let t = 0; t < length - 1; t++) {
    // Pairwise marginals at (t, t+1) sum to 1: normalise the unnormalised products directly.
    let total = 0;
    let ending = 0;
    for (let i = 0; i < s; i++) {
      const a = forward[t * s + i]!;
      if (a === 0) continue;
      for (let j = 0; j < s; j++) {
        const p = a * transitions[i * s + j]! * psi[(t + 1) * s + j]! * backward[(t + 1) * s + j]!;
        total += p;
        if (isCleavage[i] && !isCleavage[j]) ending += p;
      }
    }
    out[t] = total > 0 ? ending / total : 0;
  }
  let total = 0;
  let ending = 0;
  for (let i = 0; i < s; i++) {
    const p = forward[(length - 1) * s + i]! * Math.exp(params.end[i]!);
    total += p;
    if (isCleavage[i]) ending += p;
  }
  out[length - 1] = total > 0 ? ending / total : 0;
  return out;
}
