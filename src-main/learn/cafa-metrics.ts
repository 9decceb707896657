/**
 * learn/cafa-metrics — how CAFA scores function prediction (GO terms, EC numbers): the
 * protein-centric Fmax and Smin, and the term-centric macro AUPRC (mAP) and micro AUPRC, overall
 * and per namespace (MF, BP, CC, EC). The one home of Fmax in the app. Pure numerics.
 *
 * Definitions (Radivojac et al. 2013, Jiang et al. 2016 — CAFA2/3; the CAFA-evaluator agrees):
 *  - Thresholds τ = 0.01, 0.02, …, 1.00; a protein's predicted terms at τ are those with score ≥ τ.
 *  - Benchmark proteins: those with at least one true term among the columns scored (per
 *    namespace: at least one true term in that namespace). Other rows are not scored at all
 *    ("full mode": a benchmark protein without any prediction still counts in recall and Smin).
 *  - Fmax = max_τ 2·pr·rc / (pr + rc), where pr(τ) averages |P∩T|/|P| over the benchmark proteins
 *    with at least one prediction ≥ τ, and rc(τ) averages |P∩T|/|T| over all benchmark proteins.
 *    A τ at which no protein has a prediction is skipped (pr undefined); 0 when that is every τ
 *    (nothing predicted ≥ 0.01: recall is 0 throughout). NaN with no benchmark protein.
 *  - Smin = min_τ √(ru² + mi²), ru(τ) = (1/n) Σ_i Σ_{f ∈ T_i∖P_i(τ)} ic(f) (remaining
 *    uncertainty), mi(τ) = (1/n) Σ_i Σ_{f ∈ P_i(τ)∖T_i} ic(f) (misinformation), n benchmark proteins.
 *  - ic(f) = −log2 P(f | parents of f), counted on the training annotations:
 *    #(proteins with f and all its parents) / #(proteins with all its parents). A term without
 *    parents among the labels conditions on the proteins with any term of its namespace. A term
 *    no training protein has gets 0 (as CAFA's information-accretion files).
 *  - Macro AUPRC (mAP): the mean over terms with a positive of each term's average precision;
 *    micro AUPRC: average precision over all (protein, term) cells at once (scikit-learn's
 *    average='micro'). Both over all rows, as term-centric scores are.
 */
import type { Matrix } from './matrix';
import { averagePrecision } from './metrics';
import { mean } from '../core/stats';

export const THRESHOLD_STEPS = 100; // τ = 1/100 … 100/100

/** For each label: its namespace (e.g. 'molecular_function', 'ec') and its parents (label indices). */
export interface LabelStructure {
  namespaces: readonly string[];
  parents: readonly (readonly number[])[];
}

/** Largest k in 1..100 with p ≥ k/100 (the same k/100 doubles a loop over τ compares to); 0 when p < 0.01. */
function thresholdBucket(p: number): number {
  if (!(p >= 1 / THRESHOLD_STEPS)) return 0;
  let k = Math.min(THRESHOLD_STEPS, Math.floor(p * THRESHOLD_STEPS));
  // p·100 can round across an integer; nudge so that bucket k means exactly p ≥ k/100.
  while (k < THRESHOLD_STEPS && p >= (k + 1) / THRESHOLD_STEPS) k++;
  while (k > 1 && p < k / THRESHOLD_STEPS) k--;
  return k;
}

/** Per τ (index k = 1..100), the sums Fmax and Smin need, over the benchmark proteins. */
interface ThresholdSums {
  benchmark: number;
  precisionSum: Float64Array;
  predictedProteins: Float64Array;
  recallSum: Float64Array;
  /** Σ ic over true terms not predicted, and over predicted terms not true. */
  remaining: Float64Array;
  misinformation: Float64Array;
}

function thresholdSums(Y: Uint8Array, P: Matrix, columns: readonly number[], ic: Float64Array | null): ThresholdSums {
  const { rows: n, cols: l } = P;
  const size = THRESHOLD_STEPS + 1;
  const sums: ThresholdSums = {
    benchmark: 0,
    precisionSum: new Float64Array(size),
    predictedProteins: new Float64Array(size),
    recallSum: new Float64Array(size),
    remaining: new Float64Array(size),
    misinformation: new Float64Array(size),
  };
  // Per protein, bucket each term by the highest τ it passes, then suffix-sum: O(L + 100) per protein.
  const predAt = new Float64Array(size);
  const tpAt = new Float64Array(size);
  const predIcAt = new Float64Array(size);
  const tpIcAt = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    let nTrue = 0;
    let trueIc = 0;
    for (const j of columns) {
      if (Y[i * l + j] === 1) {
        nTrue++;
        trueIc += ic?.[j] ?? 0;
      }
    }
    if (nTrue === 0) continue; // not a benchmark protein
    sums.benchmark++;
    predAt.fill(0);
    tpAt.fill(0);
    predIcAt.fill(0);
    tpIcAt.fill(0);
    for (const j of columns) {
      const k = thresholdBucket(P.data[i * l + j]!);
      if (k === 0) continue;
      const w = ic?.[j] ?? 0;
      predAt[k]! += 1;
      predIcAt[k]! += w;
      if (Y[i * l + j] === 1) {
        tpAt[k]! += 1;
        tpIcAt[k]! += w;
      }
    }
    let nPred = 0;
    let tp = 0;
    let predIc = 0;
    let tpIc = 0;
    for (let k = THRESHOLD_STEPS; k >= 1; k--) {
      nPred += predAt[k]!;
      tp += tpAt[k]!;
      predIc += predIcAt[k]!;
      tpIc += tpIcAt[k]!;
      if (nPred > 0) {
        sums.precisionSum[k]! += tp / nPred;
        sums.predictedProteins[k]! += 1;
      }
      sums.recallSum[k]! += tp / nTrue;
      sums.remaining[k]! += trueIc - tpIc;
      sums.misinformation[k]! += predIc - tpIc;
    }
  }
  return sums;
}

const allColumns = (P: Matrix): number[] => Array.from({ length: P.cols }, (_, j) => j);

/** CAFA's protein-centric Fmax over `columns` (all labels when absent); see the header for the definition. */
export function fmax(Y: Uint8Array, P: Matrix, columns: readonly number[] = allColumns(P)): number {
  const s = thresholdSums(Y, P, columns, null);
  if (s.benchmark === 0) return NaN;
  let best = 0;
  for (let k = 1; k <= THRESHOLD_STEPS; k++) {
    if (s.predictedProteins[k] === 0) continue;
    const p = s.precisionSum[k]! / s.predictedProteins[k]!;
    const r = s.recallSum[k]! / s.benchmark;
    const f = p + r === 0 ? 0 : (2 * p * r) / (p + r);
    best = Math.max(best, f);
  }
  return best;
}

/** CAFA's Smin over `columns` with the information content `ic` of every label; NaN with no benchmark protein. */
export function smin(Y: Uint8Array, P: Matrix, ic: Float64Array, columns: readonly number[] = allColumns(P)): number {
  const s = thresholdSums(Y, P, columns, ic);
  if (s.benchmark === 0) return NaN;
  let best = Infinity;
  for (let k = 1; k <= THRESHOLD_STEPS; k++) best = Math.min(best, Math.hypot(s.remaining[k]! / s.benchmark, s.misinformation[k]! / s.benchmark));
  return best;
}

/**
 * ic(f) = −log2 P(f | parents) from the rows of Y (training annotations, rows × labels row-major).
 * Without a structure every label is a root of one namespace: ic = −log2 (share of annotated rows).
 */
export function informationContent(Y: Uint8Array, labels: number, structure?: LabelStructure): Float64Array {
  const rows = labels === 0 ? 0 : Y.length / labels;
  const namespaces = structure?.namespaces ?? Array<string>(labels).fill('');
  const inNamespace = new Map<string, number>();
  for (let i = 0; i < rows; i++) {
    const seen = new Set<string>();
    for (let j = 0; j < labels; j++) if (Y[i * labels + j] === 1) seen.add(namespaces[j]!);
    for (const ns of seen) inNamespace.set(ns, (inNamespace.get(ns) ?? 0) + 1);
  }
  const ic = new Float64Array(labels);
  for (let j = 0; j < labels; j++) {
    const parents = structure?.parents[j] ?? [];
    let withParents = 0;
    let withTerm = 0;
    for (let i = 0; i < rows; i++) {
      if (!parents.every((p) => Y[i * labels + p] === 1)) continue;
      withParents++;
      if (Y[i * labels + j] === 1) withTerm++;
    }
    const denominator = parents.length === 0 ? (inNamespace.get(namespaces[j]!) ?? 0) : withParents;
    ic[j] = withTerm === 0 || denominator === 0 ? 0 : Math.log2(denominator / withTerm); // = −log2 P, and +0 (not −0) when P = 1
  }
  return ic;
}

function columnOf(Y: Uint8Array, P: Matrix, j: number): { truth: Uint8Array; scores: Float64Array } {
  const { rows: n, cols: l } = P;
  return { truth: Uint8Array.from({ length: n }, (_, i) => Y[i * l + j]!), scores: Float64Array.from({ length: n }, (_, i) => P.data[i * l + j]!) };
}

/** mAP: the mean over the columns with a positive of each column's average precision; null when none has one. */
export function macroAuprc(Y: Uint8Array, P: Matrix, columns: readonly number[] = allColumns(P)): number | null {
  const aps = columns.flatMap((j) => {
    const { truth, scores } = columnOf(Y, P, j);
    const ap = averagePrecision(truth, scores);
    return ap === null ? [] : [ap];
  });
  return aps.length === 0 ? null : mean(aps);
}

/**
 * Average precision over every (row, column) cell of `columns` at once; null without a positive.
 * There are rows × terms cells (millions for GO), so instead of sorting an index array with a
 * comparator, the positive and the negative scores are sorted apart as typed arrays and merged
 * from the top, tied scores taken as one threshold — the same sum as learn/metrics' averagePrecision.
 */
export function microAuprc(Y: Uint8Array, P: Matrix, columns: readonly number[] = allColumns(P)): number | null {
  const { rows: n, cols: l } = P;
  let nPos = 0;
  for (let i = 0; i < n; i++) for (const j of columns) nPos += Y[i * l + j] === 1 ? 1 : 0;
  if (nPos === 0) return null;
  const positives = new Float64Array(nPos);
  const negatives = new Float64Array(n * columns.length - nPos);
  let p = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    for (const j of columns) {
      const score = P.data[i * l + j]!;
      const ranked = Number.isNaN(score) ? -Infinity : score; // a missing score ranks last (and cannot stall the merge)
      if (Y[i * l + j] === 1) positives[p++] = ranked;
      else negatives[q++] = ranked;
    }
  }
  return averagePrecisionOfSorted(positives.sort(), negatives.sort());
}

/** Step-wise AP from ascending positive and negative scores, walked from the highest score down. */
function averagePrecisionOfSorted(positives: Float64Array, negatives: Float64Array): number {
  let p = positives.length - 1;
  let q = negatives.length - 1;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  while (p >= 0) {
    const top = q >= 0 ? Math.max(positives[p]!, negatives[q]!) : positives[p]!;
    const before = tp;
    while (p >= 0 && positives[p] === top) {
      tp++;
      p--;
    }
    while (q >= 0 && negatives[q] === top) {
      fp++;
      q--;
    }
    // Recall rises by (tp − before)/|positives| at this threshold, at precision tp/(tp + fp).
    ap += ((tp - before) / positives.length) * (tp / (tp + fp));
  }
  return ap;
}

/** Short metric-key suffixes: molecular_function → MF, biological_process → BP, cellular_component → CC, ec → EC. */
export function namespaceKey(namespace: string): string {
  const known: Record<string, string> = { molecular_function: 'MF', biological_process: 'BP', cellular_component: 'CC', ec: 'EC' };
  return known[namespace] ?? namespace.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

export interface CafaOptions {
  /** Information content of each label, from the training rows (informationContent). */
  ic: Float64Array;
  /** Per-label namespaces; with two or more, every score is also reported per namespace (fmaxMF, sminBP, …). */
  namespaces?: readonly string[];
}

/**
 * fmax, smin, microAuprc over all labels, and per namespace fmax<NS>, smin<NS>, auprc<NS> (mAP),
 * microAuprc<NS>. (The all-label macro AUPRC is learn/metrics' `auprc`.)
 */
export function cafaMetrics(Y: Uint8Array, P: Matrix, options: CafaOptions): Record<string, number | null> {
  const out: Record<string, number | null> = { fmax: fmax(Y, P), smin: smin(Y, P, options.ic), microAuprc: microAuprc(Y, P) };
  const namespaces = options.namespaces ?? [];
  const distinct = [...new Set(namespaces)];
  if (distinct.length < 2) return out;
  for (const ns of distinct) {
    const columns = namespaces.flatMap((n, j) => (n === ns ? [j] : []));
    const key = namespaceKey(ns);
    out[`fmax${key}`] = fmax(Y, P, columns);
    out[`smin${key}`] = smin(Y, P, options.ic, columns);
    out[`auprc${key}`] = macroAuprc(Y, P, columns);
    out[`microAuprc${key}`] = microAuprc(Y, P, columns);
  }
  return out;
}
