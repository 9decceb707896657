/**
 * variants/tables — saturation maps as CSV, in the two shapes people use: long (one row per
 * mutant: position, wt, mut, score) and wide (one row per position, one column per amino acid),
 * and reading either back. Also the evaluation of scores against measured values (Spearman, and
 * AUROC for "measured above a threshold"). Pure: no model, no I/O.
 */
import { parse } from 'csv-parse/sync';
import { ApiError } from '../api/errors';
import { binaryAuroc } from '../learn/metrics';
import { spearman } from '../core/stats';
import { SATURATION_AMINO_ACIDS } from './score';

export interface SaturationMap {
  wildType: string;
  /** Number of the first residue minus 1, so positions print as the user numbers them. */
  offset: number;
  /** [L × 20] in SATURATION_AMINO_ACIDS order; the wild-type cell is 0. */
  scores: ArrayLike<number>;
}

const AA = SATURATION_AMINO_ACIDS;

/** Shortest text that reads back as the same float64. */
const number = (value: number): string => (Number.isFinite(value) ? String(value) : '');

export function saturationLongCsv(map: SaturationMap): string {
  const lines = ['position,wt,mut,score'];
  for (let p = 0; p < map.wildType.length; p++) {
    const wt = map.wildType[p]!;
    AA.forEach((mut, a) => {
      if (mut !== wt) lines.push(`${p + 1 + map.offset},${wt},${mut},${number(map.scores[p * AA.length + a]!)}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

export function saturationWideCsv(map: SaturationMap): string {
  const lines = [['position', 'wt', ...AA].join(',')];
  for (let p = 0; p < map.wildType.length; p++) {
    const row = AA.map((_, a) => number(map.scores[p * AA.length + a]!));
    lines.push([p + 1 + map.offset, map.wildType[p]!, ...row].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Reads a long or wide saturation CSV back into a map (the shape is told by the header). */
export function readSaturationCsv(fileName: string, text: string): SaturationMap {
  const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  if (rows.length === 0) throw new ApiError('invalid-input', `${fileName}: no rows.`);
  const header = Object.keys(rows[0]!);
  const wide = AA.every((aa) => header.includes(aa));
  if (!wide && !['position', 'wt', 'mut', 'score'].every((c) => header.includes(c))) {
    throw new ApiError('invalid-input', `${fileName}: expected columns position, wt, mut, score (long) or position, wt and one per amino acid (wide).`);
  }
  const positions = [...new Set(rows.map((r) => Number(r.position)))].sort((a, b) => a - b);
  const first = positions[0]!;
  const offset = first - 1;
  const wildType = new Array<string>(positions.length).fill('X');
  const scores = new Float64Array(positions.length * AA.length);
  rows.forEach((r, i) => {
    const p = Number(r.position) - 1 - offset;
    if (!Number.isInteger(p) || p < 0 || p >= positions.length) throw new ApiError('invalid-input', `${fileName}, row ${i + 2}: position "${r.position}" is not a whole number in sequence order.`);
    wildType[p] = r.wt!;
    if (wide) AA.forEach((aa, a) => (scores[p * AA.length + a] = r[aa] === '' ? NaN : Number(r[aa])));
    else scores[p * AA.length + AA.indexOf(r.mut!)] = r.score === '' ? NaN : Number(r.score);
  });
  return { wildType: wildType.join(''), offset, scores };
}

/** The mean score of the 19 mutants at each position (the row along the bottom of the map). */
export function positionMeans(map: SaturationMap): Float64Array {
  return Float64Array.from({ length: map.wildType.length }, (_, p) => {
    let sum = 0;
    let n = 0;
    AA.forEach((aa, a) => {
      const v = map.scores[p * AA.length + a]!;
      if (aa !== map.wildType[p] && Number.isFinite(v)) {
        sum += v;
        n += 1;
      }
    });
    return n > 0 ? sum / n : NaN;
  });
}

export interface Evaluation {
  /** Rows where both the score and the measured value are known. */
  n: number;
  spearman: number | null;
  /** AUROC of the score for "measured ≥ threshold", when a threshold is given and both classes occur. */
  auroc: number | null;
  positives: number;
}

/** Spearman ρ of score against measured, and AUROC for measured ≥ threshold, over rows with both. */
export function evaluateScores(scores: ArrayLike<number>, measured: readonly (number | null)[], threshold?: number | null): Evaluation {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < measured.length; i++) {
    const m = measured[i];
    const s = scores[i]!;
    if (m === null || m === undefined || !Number.isFinite(m) || !Number.isFinite(s)) continue;
    x.push(s);
    y.push(m);
  }
  const rho = x.length >= 3 ? spearman(x, y) : NaN;
  const positive = threshold === null || threshold === undefined ? null : y.map((v) => v >= threshold);
  return {
    n: x.length,
    spearman: Number.isFinite(rho) ? rho : null,
    auroc: positive ? binaryAuroc(positive, x) : null,
    positives: positive ? positive.filter(Boolean).length : 0,
  };
}
