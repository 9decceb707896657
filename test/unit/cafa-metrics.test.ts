/**
 * CAFA's scores (learn/cafa-metrics) on a worked example computed by hand, a naive transcription
 * of the CAFA definitions on random data, and the per-fold wiring into the multi-label scan.
 *
 * The definitions (CAFA2/3, Jiang et al. 2016; CAFA-evaluator, Piovesan et al. 2024):
 *  - thresholds τ = 0.01, 0.02, …, 1.00 (0.01 steps; τ = 0 is not one); predicted = score ≥ τ;
 *  - benchmark proteins = those with ≥ 1 true term in the columns scored; no other row counts;
 *  - pr(τ) = mean over benchmark proteins with ≥ 1 prediction of |P∩T|/|P| (the coverage: proteins
 *    without any prediction are left out of precision), rc(τ) = mean over ALL benchmark proteins of
 *    |P∩T|/|T|; Fmax = max over τ of 2·pr·rc/(pr + rc);
 *  - ru(τ), mi(τ) = mean over all benchmark proteins of Σ ic over T∖P and over P∖T; Smin = min √(ru²+mi²);
 *  - ic(f) = −log2 P(f | all parents of f) on the training annotations (a root: given its namespace);
 *  - macro AUPRC = mean per-term average precision (terms with a positive), micro = AP over all cells.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cafaMetrics, fmax, informationContent, macroAuprc, microAuprc, smin } from '../../src-main/learn/cafa-metrics';
import { evaluateMultiLabel } from '../../src-main/learn/evaluate';
import type { Matrix } from '../../src-main/learn/matrix';
import { averagePrecision } from '../../src-main/learn/metrics';
import { createRng } from '../../src-main/core/rng';

const matrix = (rows: readonly (readonly number[])[]): Matrix => ({ data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0]?.length ?? 0 });

/*
 * Labels A (MF), B (MF, child of A), C (BP). Proteins:
 *   p0 true {A, B}  scores A .9  B .4  C .2
 *   p1 true {A, C}  scores A .6  B .7  C .05
 *   p2 true {C}     scores A .3  B 0   C .8
 *   p3 true {}      scores A .95 B .9  C .9   ← not a benchmark protein: ignored by Fmax and Smin
 */
const Y = Uint8Array.from([1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0]);
const P = matrix([
  [0.9, 0.4, 0.2],
  [0.6, 0.7, 0.05],
  [0.3, 0, 0.8],
  [0.95, 0.9, 0.9],
]);
const NAMESPACES = ['molecular_function', 'molecular_function', 'biological_process'];

describe('Fmax (protein-centric, CAFA)', () => {
  it('equals the hand-computed value on the worked example', () => {
    // τ ∈ (.8,.9]: p0 {A} pr 1 (1 protein), rc (½+0+0)/3 → F 2/7
    // τ ∈ (.7,.8]: + p2 {C}: pr 1, rc (½+0+1)/3 = ½ → ⅔
    // τ ∈ (.6,.7]: + p1 {B} (wrong): pr (1+0+1)/3 = ⅔, rc ½ → 4/7
    // τ ∈ (.4,.6]: p1 {A,B}: pr (1+½+1)/3 = 5/6, rc (½+½+1)/3 = ⅔ → 20/27
    // τ ∈ (.3,.4]: p0 {A,B}: pr 5/6, rc (1+½+1)/3 = 5/6 → 5/6   ← the maximum
    // τ ∈ (.2,.3]: p2 {A,C}: pr (1+½+½)/3 = ⅔, rc 5/6 → 20/27
    // τ ∈ (.05,.2]: p0 {A,B,C}: pr (⅔+½+½)/3 = 5/9, rc 5/6 → ⅔
    // τ ∈ (.01,.05]: p1 {A,B,C}: pr (⅔+⅔+½)/3 = 11/18, rc 1 → 22/29
    // Counting p3 in precision (it predicts A, B, C wrongly at .4) would give pr 5/8 there instead.
    expect(fmax(Y, P)).toBeCloseTo(5 / 6, 12);
  });

  it('per namespace: only that namespace\'s columns and its benchmark proteins', () => {
    // MF (A, B): benchmark p0, p1. τ ≤ .4: p0 {A,B} 1/1, p1 {A,B} ½/1 → pr ¾, rc 1 → 6/7.
    expect(fmax(Y, P, [0, 1])).toBeCloseTo(6 / 7, 12);
    // BP (C): benchmark p1 (C .05), p2 (C .8). τ ≤ .05: both right → 1.
    expect(fmax(Y, P, [2])).toBe(1);
  });

  it('uses the 0.01..1.00 grid: a score below 0.01 is never a prediction', () => {
    // With τ = 0 in the grid, p = 0.005 would be predicted: pr ½, rc 1 → ⅔. CAFA's grid starts at 0.01.
    expect(fmax(Uint8Array.from([1, 0]), matrix([[0.005, 0]]))).toBe(0);
    expect(fmax(Uint8Array.from([1, 0]), matrix([[0.01, 0.009]]))).toBe(1);
    expect(fmax(Uint8Array.from([0, 0]), matrix([[0.4, 0.9]]))).toBeNaN(); // no benchmark protein
  });
});

describe('information content and Smin', () => {
  it('ic = −log2 P(term | parents) on the training rows (hand-computed)', () => {
    // Labels A (MF root), B (MF, parent A), C (BP root), D (BP, parent C), E (MF, parent A, never seen).
    const train = Uint8Array.from([
      [1, 1, 0, 0, 0],
      [1, 0, 0, 0, 0],
      [1, 0, 1, 1, 0],
      [0, 0, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [0, 0, 0, 0, 0],
      [1, 0, 1, 1, 0],
    ].flat());
    const ic = informationContent(train, 5, { namespaces: ['MF', 'MF', 'BP', 'BP', 'MF'], parents: [[], [0], [], [2], [0]] });
    // A is on all 5 MF proteins → 0; B on 2 of the 5 with A → log2 2.5; C on all 4 BP → 0; D on 2 of 4 with C → 1; E unseen → 0.
    expect(Array.from(ic)).toEqual([0, expect.closeTo(Math.log2(2.5), 12), 0, 1, 0]);
    // Without a structure, every label is a root of one namespace: 6 annotated rows.
    const flat = informationContent(train, 5);
    expect(Array.from(flat)).toEqual([-Math.log2(5 / 6), Math.log2(3), -Math.log2(4 / 6), Math.log2(3), 0].map((v) => expect.closeTo(v, 12)));
  });

  it('Smin equals the hand-computed value on the worked example', () => {
    // ic A 1, B 2, C ½. True ic per benchmark protein: p0 3, p1 1.5, p2 ½; n = 3.
    // τ > .9: ru 5/3 · (.8,.9]: ru 4/3 · (.7,.8]: ru 7/6 · (.6,.7]: ru 7/6, mi ⅔ · (.4,.6]: ru 5/6, mi ⅔
    // (.3,.4]: ru 1/6, mi ⅔ → √17/6 ← the minimum · (.2,.3]: mi 1 · (.05,.2]: mi 7/6 · ≤ .05: ru 0, mi 7/6.
    const ic = Float64Array.from([1, 2, 0.5]);
    expect(smin(Y, P, ic)).toBeCloseTo(Math.sqrt(17) / 6, 12);
    // MF: p0 (3), p1 (1): τ ≤ .4: ru 0, mi (B of p1 = 2)/2 = 1. BP: both C found at τ ≤ .05 → 0.
    expect(smin(Y, P, ic, [0, 1])).toBeCloseTo(1, 12);
    expect(smin(Y, P, ic, [2])).toBe(0);
  });
});

describe('AUPRC, macro (mAP) and micro', () => {
  it('equal the hand-computed values on the worked example (all rows, p3 included)', () => {
    // A: ranks p3(−) p0(+) p1(+) p2(−) → ½·½ + ½·⅔ = 7/12. B: p3(−) p1(−) p0(+) → ⅓. C: p3(−) p2(+) p0(−) p1(+) → ½.
    expect(macroAuprc(Y, P)).toBeCloseTo((7 / 12 + 1 / 3 + 1 / 2) / 3, 12);
    // 12 cells, 5 positives; the .9 tie {p0A +, p3B −, p3C −} is one threshold:
    // .2·¼ + .2·⅖ + .2·3/7 + .2·½ + .2·5/11 = 3131/7700.
    expect(microAuprc(Y, P)).toBeCloseTo(3131 / 7700, 12);
    expect(macroAuprc(Y, P, [0, 1])).toBeCloseTo(11 / 24, 12);
    expect(microAuprc(Y, P, [0, 1])).toBeCloseTo(37 / 90, 12); // 1/9 + 2/15 + 1/6
    expect(microAuprc(new Uint8Array(4), matrix([[0.1, 0.2], [0.3, 0.4]]))).toBeNull();
  });

  it('cafaMetrics reports every score overall and per namespace', () => {
    const m = cafaMetrics(Y, P, { ic: Float64Array.from([1, 2, 0.5]), namespaces: NAMESPACES });
    expect(m).toEqual({
      fmax: expect.closeTo(5 / 6, 12),
      smin: expect.closeTo(Math.sqrt(17) / 6, 12),
      microAuprc: expect.closeTo(3131 / 7700, 12),
      fmaxMF: expect.closeTo(6 / 7, 12),
      sminMF: expect.closeTo(1, 12),
      auprcMF: expect.closeTo(11 / 24, 12),
      microAuprcMF: expect.closeTo(37 / 90, 12),
      fmaxBP: 1,
      sminBP: 0,
      auprcBP: expect.closeTo(1 / 2, 12),
      microAuprcBP: expect.closeTo(1 / 2, 12),
    });
    // One namespace: no per-namespace copies of the same numbers.
    expect(Object.keys(cafaMetrics(Y, P, { ic: new Float64Array(3) }))).toEqual(['fmax', 'smin', 'microAuprc']);
  });
});

describe('micro AUPRC at scale', () => {
  it('equals learn/metrics\' averagePrecision over the flattened cells, ties and NaN included', () => {
    const random = createRng(11);
    for (let trial = 0; trial < 10; trial++) {
      const n = 40;
      const l = 7;
      const truth = Uint8Array.from({ length: n * l }, () => (random.next() < 0.25 ? 1 : 0));
      // Coarse scores (many ties across rows and columns), and the odd NaN.
      const data = Float64Array.from({ length: n * l }, () => (random.next() < 0.02 ? NaN : Math.round(random.next() * 20) / 20));
      const P = { rows: n, cols: l, data };
      const ranked = Float64Array.from(data, (v) => (Number.isNaN(v) ? -Infinity : v));
      expect(microAuprc(truth, P)).toBeCloseTo(averagePrecision(truth, ranked)!, 12);
      const columns = [1, 4, 5];
      const cells = (m: ArrayLike<number>): number[] => Array.from({ length: n }, (_, i) => columns.map((j) => m[i * l + j]!)).flat();
      expect(microAuprc(truth, P, columns)).toBeCloseTo(averagePrecision(cells(truth), cells(ranked))!, 12);
    }
  });
});

/** scikit-learn, where it is installed ($SKLEARN_PYTHON, else Debian's /usr/bin/python3); CI has none, so the test says it skipped. */
const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';
const sklearn = spawnSync(PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' }).status === 0;
if (!sklearn) console.log(`${PYTHON} cannot import sklearn: the AUPRC comparison with scikit-learn is skipped.`);

describe.skipIf(!sklearn)('AUPRC against scikit-learn', () => {
  it('macro and micro equal average_precision_score on random multi-label data', () => {
    const random = createRng(5);
    const n = 50;
    const l = 6;
    const truth = Array.from({ length: n }, () => Array.from({ length: l }, () => (random.next() < 0.3 ? 1 : 0)));
    const scores = Array.from({ length: n }, () => Array.from({ length: l }, () => Math.round(random.next() * 50) / 50));
    const script = [
      'import json, sys, numpy as np',
      'from sklearn.metrics import average_precision_score as ap',
      'd = json.load(sys.stdin); y = np.array(d["y"]); p = np.array(d["p"])',
      'keep = y.sum(axis=0) > 0',
      'print(json.dumps([ap(y[:, keep], p[:, keep], average="macro"), ap(y, p, average="micro")]))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify({ y: truth, p: scores }), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const [macro, micro] = JSON.parse(run.stdout) as [number, number];
    const Y = Uint8Array.from(truth.flat());
    const P = matrix(scores);
    expect(macroAuprc(Y, P)).toBeCloseTo(macro, 12);
    expect(microAuprc(Y, P)).toBeCloseTo(micro, 12);
  });
});

/** The CAFA definitions transcribed literally: a loop over τ, sets per protein. Slow and obvious. */
function naiveCafa(Y: Uint8Array, P: Matrix, ic: Float64Array): { fmax: number; smin: number } {
  const { rows: n, cols: l } = P;
  const truth = Array.from({ length: n }, (_, i) => new Set(Array.from({ length: l }, (_, j) => j).filter((j) => Y[i * l + j] === 1)));
  const benchmark = Array.from({ length: n }, (_, i) => i).filter((i) => truth[i]!.size > 0);
  let best = 0;
  let least = Infinity;
  for (let k = 1; k <= 100; k++) {
    const tau = k / 100;
    const precisions: number[] = [];
    let recall = 0;
    let ru = 0;
    let mi = 0;
    for (const i of benchmark) {
      const predicted = Array.from({ length: l }, (_, j) => j).filter((j) => P.data[i * l + j]! >= tau);
      const hits = predicted.filter((j) => truth[i]!.has(j));
      if (predicted.length > 0) precisions.push(hits.length / predicted.length);
      recall += hits.length / truth[i]!.size;
      for (const j of truth[i]!) if (!predicted.includes(j)) ru += ic[j]!;
      for (const j of predicted) if (!truth[i]!.has(j)) mi += ic[j]!;
    }
    least = Math.min(least, Math.hypot(ru / benchmark.length, mi / benchmark.length));
    if (precisions.length === 0) continue;
    const pr = precisions.reduce((a, b) => a + b, 0) / precisions.length;
    const rc = recall / benchmark.length;
    if (pr + rc > 0) best = Math.max(best, (2 * pr * rc) / (pr + rc));
  }
  return { fmax: best, smin: least };
}

describe('against a literal transcription of the CAFA definitions', () => {
  it('agrees on random predictions, with scores on the grid and between it', () => {
    const random = createRng(7);
    const rng = (): number => random.next();
    for (let trial = 0; trial < 20; trial++) {
      const n = 15;
      const l = 6;
      const truth = Uint8Array.from({ length: n * l }, () => (rng() < 0.3 ? 1 : 0));
      // Half the scores sit exactly on the grid (k/100), where ≥ must hold with floating point.
      const P = { rows: n, cols: l, data: Float64Array.from({ length: n * l }, () => (rng() < 0.5 ? Math.floor(rng() * 101) / 100 : rng())) };
      const ic = Float64Array.from({ length: l }, () => rng() * 3);
      const expected = naiveCafa(truth, P, ic);
      expect(fmax(truth, P)).toBeCloseTo(expected.fmax, 12);
      expect(smin(truth, P, ic)).toBeCloseTo(expected.smin, 12);
    }
  });
});

describe('the multi-label scan reports CAFA scores per fold', () => {
  it('computes Smin with information content from each fold\'s training rows, and per-namespace scores', () => {
    // A learner that predicts each label's frequency in the training rows; the test recomputes each
    // fold's scores from the fold's own rows, so IC from the wrong rows (all, or test) would show.
    const Y6 = Uint8Array.from([1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1]);
    const X = matrix(Array.from({ length: 6 }, (_, i) => [i]));
    const folds = [
      { train: Int32Array.from([0, 1, 2]), test: Int32Array.from([3, 4, 5]) },
      { train: Int32Array.from([3, 4, 5]), test: Int32Array.from([0, 1, 2]) },
    ];
    const frequencyLearner = {
      fit: (_X: Matrix, Ytrain: Uint8Array, labels: readonly string[]) => {
        const L = labels.length;
        const rows = Ytrain.length / L;
        const freq = Array.from({ length: L }, (_, j) => Array.from({ length: rows }, (_, i) => Ytrain[i * L + j]!).reduce((a, b) => a + b, 0) / rows);
        return {
          labels,
          thresholds: new Float64Array(L).fill(0.5),
          predictProba: (Xt: Matrix): Matrix => ({ rows: Xt.rows, cols: L, data: Float64Array.from({ length: Xt.rows * L }, (_, c) => freq[c % L]!) }),
          predict: (Xt: Matrix): Uint8Array => new Uint8Array(Xt.rows * L),
          toJSON: () => ({}),
        };
      },
    };
    const structure = { namespaces: NAMESPACES, parents: [[], [0], []] };
    const result = evaluateMultiLabel(frequencyLearner as never, Y6, ['A', 'B', 'C'], { X, folds, scaling: 'none', structure });
    folds.forEach((f, k) => {
      const take = (rows: Int32Array): Uint8Array => Uint8Array.from(Array.from(rows).flatMap((r) => Array.from(Y6.subarray(r * 3, r * 3 + 3))));
      const ic = informationContent(take(f.train), 3, structure);
      const proba = frequencyLearner.fit(X, take(f.train), ['A', 'B', 'C']).predictProba(matrix(Array.from(f.test, () => [0])));
      expect(result.perFold[k]!.smin).toBeCloseTo(smin(take(f.test), proba, ic), 12);
      expect(result.perFold[k]!.fmaxMF).toBeCloseTo(fmax(take(f.test), proba, [0, 1]), 12);
    });
    for (const key of ['fmax', 'smin', 'microAuprc', 'auprc', 'fmaxMF', 'sminBP', 'auprcMF', 'microAuprcBP', 'macroF1']) expect(result.summary).toHaveProperty(key);
  });
});
