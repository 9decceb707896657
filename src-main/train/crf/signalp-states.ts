/**
 * train/crf/signalp-states — SignalP 6.0's 37 region states as PEFT-SP uses them: their names, which
 * type each belongs to, the allowed transitions/starts/ends (`--constrain_crf`), and the groups the
 * decoder and the region regulariser read (cleavage-site states; n, h and c regions). Data only.
 */
import { SIGNALP_TYPES } from '../../datasets/signalp';

export const SIGNALP_STATE_COUNT = 37;

export const SIGNALP_STATES = [
  'NO_SP_I', 'NO_SP_M', 'NO_SP_O',
  'SP_N', 'SP_H', 'SP_C', 'SP_I', 'SP_M', 'SP_O',
  'LIPO_N', 'LIPO_H', 'LIPO_CS', 'LIPO_C1', 'LIPO_I', 'LIPO_M', 'LIPO_O',
  'TAT_N', 'TAT_RR', 'TAT_H', 'TAT_C', 'TAT_I', 'TAT_M', 'TAT_O',
  'TATLIPO_N', 'TATLIPO_RR', 'TATLIPO_H', 'TATLIPO_CS', 'TATLIPO_C1', 'TATLIPO_I', 'TATLIPO_M', 'TATLIPO_O',
  'PILIN_P', 'PILIN_CS', 'PILIN_H', 'PILIN_I', 'PILIN_M', 'PILIN_O',
] as const;
export type SignalpState = (typeof SIGNALP_STATES)[number];

/** State id by name. */
export const STATE: Record<SignalpState, number> = Object.fromEntries(SIGNALP_STATES.map((name, id) => [name, id])) as Record<SignalpState, number>;

/** [first, last] state id of each type, in `SIGNALP_TYPES` order. */
export const TYPE_STATE_RANGES: readonly (readonly [number, number])[] = [[0, 2], [3, 8], [9, 15], [16, 22], [23, 30], [31, 36]];

/** Type id (index into SIGNALP_TYPES) of every state. */
export const STATE_TYPE: Int32Array = Int32Array.from(SIGNALP_STATES, (_, state) => TYPE_STATE_RANGES.findIndex(([a, b]) => state >= a && state <= b));

/** The last step of the Viterbi path in one of these states is the predicted cleavage site. */
export const CLEAVAGE_STATES: readonly number[] = [STATE.SP_C, STATE.LIPO_CS, STATE.TAT_C, STATE.TATLIPO_CS, STATE.PILIN_P];

/** Region groups of the regulariser: n, h and c regions over all types. */
export const N_REGION_STATES: readonly number[] = [STATE.SP_N, STATE.LIPO_N, STATE.TAT_N, STATE.TATLIPO_N];
export const H_REGION_STATES: readonly number[] = [STATE.SP_H, STATE.LIPO_H, STATE.TAT_H, STATE.TATLIPO_H, STATE.PILIN_H];
export const C_REGION_STATES: readonly number[] = [STATE.SP_C, STATE.TAT_C];

/** The transitions a type's states allow besides self-loops (C1 has none: the lipobox Cys is one residue). */
const TYPE_PATHS: Record<(typeof SIGNALP_TYPES)[number], readonly (readonly [SignalpState, SignalpState])[]> = {
  NO_SP: topology('NO_SP'),
  SP: [['SP_N', 'SP_H'], ['SP_H', 'SP_C'], ['SP_C', 'SP_O'], ...topology('SP')],
  LIPO: [['LIPO_N', 'LIPO_H'], ['LIPO_H', 'LIPO_CS'], ['LIPO_CS', 'LIPO_C1'], ['LIPO_C1', 'LIPO_O'], ...topology('LIPO')],
  TAT: [['TAT_N', 'TAT_RR'], ['TAT_RR', 'TAT_N'], ['TAT_N', 'TAT_H'], ['TAT_H', 'TAT_C'], ['TAT_C', 'TAT_O'], ...topology('TAT')],
  TATLIPO: [
    ['TATLIPO_N', 'TATLIPO_RR'], ['TATLIPO_RR', 'TATLIPO_N'], ['TATLIPO_N', 'TATLIPO_H'], ['TATLIPO_H', 'TATLIPO_CS'],
    ['TATLIPO_CS', 'TATLIPO_C1'], ['TATLIPO_C1', 'TATLIPO_O'], ...topology('TATLIPO'),
  ],
  PILIN: [['PILIN_P', 'PILIN_CS'], ['PILIN_CS', 'PILIN_H'], ['PILIN_H', 'PILIN_O'], ...topology('PILIN')],
};

/** The mature protein's topology: outside ↔ membrane ↔ inside, never inside ↔ outside directly. */
function topology(type: string): [SignalpState, SignalpState][] {
  const state = (region: string): SignalpState => `${type}_${region}` as SignalpState;
  return [[state('I'), state('M')], [state('M'), state('I')], [state('M'), state('O')], [state('O'), state('M')]];
}

const NO_SELF_LOOP: readonly number[] = [STATE.LIPO_C1, STATE.TATLIPO_C1];

/** Allowed first states: any type's first region, or the mature states of NO_SP (I and O). */
export const ALLOWED_START_STATES: readonly number[] = [STATE.NO_SP_I, STATE.NO_SP_O, STATE.SP_N, STATE.LIPO_N, STATE.TAT_N, STATE.TATLIPO_N, STATE.PILIN_P];

/**
 * Allowed last states: the mature I/M/O states — except SP_I/M/O, left out by SignalP 6.0 itself. We keep
 * that quirk (faithful to the trained models); it only matters because the constraint is soft.
 */
export const ALLOWED_END_STATES: readonly number[] = [0, 1, 2, 13, 14, 15, 20, 21, 22, 28, 29, 30, 34, 35, 36];

export interface CrfConstraints {
  states: number;
  /** [from * states + to] = 1 where the transition is allowed. */
  transitions: Uint8Array;
  start: Uint8Array;
  end: Uint8Array;
}

export function signalpConstraints(): CrfConstraints {
  const s = SIGNALP_STATE_COUNT;
  const transitions = new Uint8Array(s * s);
  for (let state = 0; state < s; state++) if (!NO_SELF_LOOP.includes(state)) transitions[state * s + state] = 1;
  for (const type of SIGNALP_TYPES) for (const [from, to] of TYPE_PATHS[type]) transitions[STATE[from] * s + STATE[to]] = 1;
  const start = new Uint8Array(s);
  for (const state of ALLOWED_START_STATES) start[state] = 1;
  const end = new Uint8Array(s);
  for (const state of ALLOWED_END_STATES) end[state] = 1;
  return { states: s, transitions, start, end };
}
