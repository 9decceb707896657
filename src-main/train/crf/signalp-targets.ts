/**
 * train/crf/signalp-targets — per-residue labels (S T L P I M O) → the 37-state target bitmap SignalP 6.0
 * trains on. The labels only mark where the signal peptide is; its regions are not annotated, so several
 * states are allowed at one residue (the n/h and h/c borders overlap) and the CRF's bitmap-restricted
 * loss lets the model place the borders. The borders come from sequence heuristics: the most
 * hydrophobic 7-residue window (h-region), the twin-arginine motif (Tat), the lipobox Cys (Sec/SPII,
 * Tat/SPII) and the 5 residues after a pilin's cleavage site.
 */
import type { SignalpType } from '../../datasets/signalp';
import { SIGNAL_PEPTIDE_LETTER } from '../../datasets/signalp';
import { SIGNALP_STATE_COUNT, STATE } from './signalp-states';

/** Kyte–Doolittle hydropathy; residues it does not list (X, B, Z, U, O) count 0. */
const KYTE_DOOLITTLE: Readonly<Record<string, number>> = {
  A: 1.8, R: -4.5, N: -3.5, D: -3.5, C: 2.5, Q: -3.5, E: -3.5, G: -0.4, H: -3.2, I: 4.5,
  L: 3.8, K: -3.9, M: 1.9, F: 2.8, P: -1.6, S: -0.8, T: -0.7, W: -0.9, Y: -1.3, V: 4.2,
};

const HYDROPHOBIC_WINDOW = 7;
/** Residues after a pilin's cleavage site that may also be its CS state. */
const PILIN_CS_SPAN = 5;

/** Mature-protein states (inside, membrane, outside) of each type. */
const MATURE_STATES: Record<SignalpType, { I: number; M: number; O: number }> = {
  NO_SP: { I: STATE.NO_SP_I, M: STATE.NO_SP_M, O: STATE.NO_SP_O },
  SP: { I: STATE.SP_I, M: STATE.SP_M, O: STATE.SP_O },
  LIPO: { I: STATE.LIPO_I, M: STATE.LIPO_M, O: STATE.LIPO_O },
  TAT: { I: STATE.TAT_I, M: STATE.TAT_M, O: STATE.TAT_O },
  TATLIPO: { I: STATE.TATLIPO_I, M: STATE.TATLIPO_M, O: STATE.TATLIPO_O },
  PILIN: { I: STATE.PILIN_I, M: STATE.PILIN_M, O: STATE.PILIN_O },
};

export interface LabelledSequence {
  sequence: string;
  labels: string;
  type: SignalpType;
}

/** The target bitmap of one record: [length × 37], 1 where the state is allowed at that residue. */
export function signalpTargetBitmap(record: LabelledSequence): Uint8Array {
  const { sequence, labels, type } = record;
  const length = labels.length;
  const bitmap = new Uint8Array(length * SIGNALP_STATE_COUNT);
  const allow = (position: number, state: number): void => {
    if (position >= 0 && position < length) bitmap[position * SIGNALP_STATE_COUNT + state] = 1;
  };
  const allowRange = (from: number, to: number, state: number): void => {
    for (let position = Math.max(0, from); position < Math.min(to, length); position++) allow(position, state);
  };
  const only = (position: number, state: number): void => {
    if (position < 0 || position >= length) return;
    bitmap.fill(0, position * SIGNALP_STATE_COUNT, (position + 1) * SIGNALP_STATE_COUNT);
    allow(position, state);
  };

  const mature = MATURE_STATES[type];
  for (let position = 0; position < length; position++) {
    const letter = labels[position]!;
    if (letter === 'I' || letter === 'M' || letter === 'O') allow(position, mature[letter]);
  }
  const letter = SIGNAL_PEPTIDE_LETTER[type];
  if (letter === null) return bitmap;
  const last = labels.lastIndexOf(letter);
  const signalPeptide = sequence.slice(0, last + 1);
  const hp = hydrophobicCoreCentre(signalPeptide);

  switch (type) {
    case 'SP':
      allowRange(0, hp, STATE.SP_N);
      allowRange(2, Math.max(last - 2, hp + 1), STATE.SP_H);
      allowRange(hp + 1, last + 1, STATE.SP_C);
      break;
    case 'LIPO':
      allowRange(0, hp, STATE.LIPO_N);
      allowRange(2, last - 1, STATE.LIPO_H);
      allowRange(last - 1, last + 1, STATE.LIPO_CS);
      only(last + 1, STATE.LIPO_C1);
      break;
    case 'TAT':
    case 'TATLIPO': {
      const tat = type === 'TAT'
        ? { n: STATE.TAT_N, rr: STATE.TAT_RR, h: STATE.TAT_H }
        : { n: STATE.TATLIPO_N, rr: STATE.TATLIPO_RR, h: STATE.TATLIPO_H };
      const rr = twinArginineStart(signalPeptide);
      allowRange(0, rr, tat.n);
      allow(rr + 2, tat.n);
      allowRange(rr, rr + 2, tat.rr);
      allowRange(rr + 3, last - 1, tat.h);
      if (type === 'TAT') {
        allowRange(hp + 1, last + 1, STATE.TAT_C);
      } else {
        allowRange(last - 1, last + 1, STATE.TATLIPO_CS);
        only(last + 1, STATE.TATLIPO_C1);
      }
      break;
    }
    case 'PILIN':
      allowRange(0, last + 1, STATE.PILIN_P);
      allowRange(last + 1, last + 1 + PILIN_CS_SPAN, STATE.PILIN_CS);
      allowRange(last + 1 + PILIN_CS_SPAN, labels.lastIndexOf('M'), STATE.PILIN_H);
      break;
  }
  return bitmap;
}

/**
 * Start + 4 of the first most hydrophobic 7-residue window of the signal peptide (window starts
 * 0 … length − 8, as SignalP 6.0); 0 when the peptide is too short for any window.
 */
export function hydrophobicCoreCentre(signalPeptide: string): number {
  let best = -Infinity;
  let bestStart = 0;
  for (let start = 0; start <= signalPeptide.length - HYDROPHOBIC_WINDOW - 1; start++) {
    let sum = 0;
    for (let k = start; k < start + HYDROPHOBIC_WINDOW; k++) sum += KYTE_DOOLITTLE[signalPeptide[k]!] ?? 0;
    if (sum > best) {
      best = sum;
      bestStart = start;
    }
  }
  return bestStart + 4;
}

/**
 * 0-based start of the twin-arginine motif: the last "RR" of the signal peptide, else the last "KR",
 * else the residue before the last R (0 when there is no R at all, so the regions stay in the peptide).
 */
export function twinArginineStart(signalPeptide: string): number {
  const rr = signalPeptide.lastIndexOf('RR');
  if (rr >= 0) return rr;
  const kr = signalPeptide.lastIndexOf('KR');
  if (kr >= 0) return kr;
  return Math.max(0, signalPeptide.lastIndexOf('R') - 1);
}
