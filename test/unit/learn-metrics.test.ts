// Metrics and the statistics under them, checked against values worked out by hand (the
// working is in the comments) on cases small enough to verify on paper.
import { describe, expect, it } from 'vitest';
import type { Matrix } from '../../src-main/learn/matrix';
import {
  averagePrecision,
  binaryAuroc,
  classificationMetrics,
  multiLabelMetrics,
  regressionMetrics,
  summarize,
  type RegressionMetrics,
} from '../../src-main/learn/metrics';
import { fmax } from '../../src-main/learn/cafa-metrics';
import { createRng } from '../../src-main/core/rng';
import { cosineSimilarity, mean, pearson, ranks, sd, spearman } from '../../src-main/core/stats';

const matrix = (rows: readonly (readonly number[])[]): Matrix => ({
  data: Float64Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]?.length ?? 0,
});

/** Two-class probabilities [1 − p, p] from the scores of class 1. */
const binaryProba = (p: readonly number[]): Matrix => matrix(p.map((v) => [1 - v, v]));

describe('stats', () => {
  it('gives tied values the mean of the ranks they span', () => {
    expect(Array.from(ranks([10, 20, 20, 30]))).toEqual([1, 2.5, 2.5, 4]);
    expect(Array.from(ranks([3, 1, 3, 3]))).toEqual([3, 1, 3, 3]); // the three 3s share ranks 2,3,4
  });

  it('gives the cosine of the angle between two vectors, whatever their lengths', () => {
    expect(cosineSimilarity([1, 0], [0, 3])).toBe(0);
    expect(cosineSimilarity([2, 2], [5, 5])).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 2, 3], [-2, -4, -6])).toBeCloseTo(-1, 15);
    // (1·4 + 2·5 + 3·6) / (√14 · √77) = 32 / √1078.
    expect(cosineSimilarity([1, 2, 3], [4, 5, 6])).toBeCloseTo(32 / Math.sqrt(1078), 15);
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow();
  });

  it('computes mean, sample sd (n − 1) and population sd', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // Squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5.
    expect(sd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(sd([1, 2, 3, 4], 0)).toBeCloseTo(Math.sqrt(5 / 4), 12);
    expect(sd([7])).toBeNaN();
    expect(mean([])).toBeNaN();
  });

  it('has a seeded PRNG that repeats for a seed, stays in [0, 1) and shuffles into a permutation', () => {
    const a = createRng(7);
    const b = createRng(7);
    const first = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(first);
    expect(first.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Array.from({ length: 5 }, () => createRng(8).next())).not.toEqual(first.slice(0, 5));
    const shuffled = createRng(1).shuffle(Array.from({ length: 20 }, (_, i) => i));
    expect([...shuffled].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(shuffled).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('returns NaN for correlations of constant input, even constant up to float rounding', () => {
    expect(pearson([1, 2, 3], [2, 2, 2])).toBeNaN();
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(pearson([1, 2, 3], [0.1, 0.1, 0.1])).toBeNaN();
  });
});

describe('regressionMetrics', () => {
  it('matches hand-computed values, with a tie in the predictions', () => {
    // y = [1,2,3,4], ŷ = [2,2,3,5]; errors −1, 0, 0, −1.
    // SS_res = 2, SS_tot = 2.25+0.25+0.25+2.25 = 5 → R² = 0.6; RMSE = √(2/4); MAE = 0.5.
    // Pearson: dx = [−1.5,−0.5,0.5,1.5], dŷ = [−1,−1,0,2]: Σdxdŷ = 5, Σdx² = 5, Σdŷ² = 6 → 5/√30.
    // Spearman: ranks(ŷ) = [1.5,1.5,3,4], deviations [−1,−1,0.5,1.5]: Σ = 1.5+0.5+0.25+2.25 = 4.5,
    // Σdr² = 4.5, Σdx² = 5 → ρ = 4.5/√(5·4.5) = √0.9.
    const m = regressionMetrics([1, 2, 3, 4], [2, 2, 3, 5]);
    expect(m.r2).toBeCloseTo(0.6, 12);
    expect(m.rmse).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.pearson).toBeCloseTo(5 / Math.sqrt(30), 12);
    expect(m.spearman).toBeCloseTo(Math.sqrt(0.9), 12);
    expect(m.nonZero).toBeUndefined();
  });

  it('handles ties in both inputs for Spearman', () => {
    // ranks(y) = [1,2.5,2.5,4], ranks(ŷ) = [1.5,1.5,3.5,3.5]; both mean 2.5.
    // deviations [−1.5,0,0,1.5] and [−1,−1,1,1]: Σ = 1.5+0+0+1.5 = 3; Σ² = 4.5 and 4 → 3/√18.
    expect(regressionMetrics([1, 2, 2, 3], [5, 5, 9, 9]).spearman).toBeCloseTo(3 / Math.sqrt(18), 12);
  });

  it('passes nonZero through and is perfect on a perfect fit', () => {
    expect(regressionMetrics([1, 2, 3], [1, 2, 3], 12)).toEqual({ r2: 1, spearman: 1, pearson: 1, rmse: 0, mae: 0, nonZero: 12 });
  });

  it('constant predictions: R² as sklearn, correlations NaN (undefined), errors still defined', () => {
    // ŷ = mean(y): SS_res = SS_tot = 2 → R² = 0.
    const m = regressionMetrics([1, 2, 3], [2, 2, 2]);
    expect(m.r2).toBeCloseTo(0, 12);
    expect(m.spearman).toBeNaN();
    expect(m.pearson).toBeNaN();
    expect(m.rmse).toBeCloseTo(Math.sqrt(2 / 3), 12);
  });

  it('constant y: R² is 1 for a perfect fit and 0 otherwise (sklearn r2_score), NaN for one sample', () => {
    expect(regressionMetrics([3, 3, 3], [3, 3, 3]).r2).toBe(1);
    expect(regressionMetrics([3, 3, 3], [3, 3, 4]).r2).toBe(0);
    expect(regressionMetrics([3], [4]).r2).toBeNaN();
  });
});

describe('binary ranking scores', () => {
  // sklearn's documentation example for roc_auc_score / average_precision_score.
  const y = [0, 0, 1, 1];
  const s = [0.1, 0.4, 0.35, 0.8];

  it('AUROC: the fraction of positive–negative pairs ranked correctly, ties ½', () => {
    // Pairs: 0.35 beats 0.1, loses to 0.4; 0.8 beats both → 3/4.
    expect(binaryAuroc(y, s)).toBeCloseTo(0.75, 12);
    // Tie: 0.4 (pos) vs 0.4 (neg) counts ½; 0.4 beats 0.1; 0.8 beats both → 3.5/4.
    expect(binaryAuroc(y, [0.1, 0.4, 0.4, 0.8])).toBeCloseTo(0.875, 12);
    expect(binaryAuroc([1, 1], [0.2, 0.3])).toBeNull();
  });

  it('average precision is step-wise (sklearn), not trapezoidal', () => {
    // Descending: 0.8 (+) P=1 R=½; 0.4 (−); 0.35 (+) P=⅔ R=1; 0.1 (−). AP = ½·1 + ½·⅔ = 0.8333.
    expect(averagePrecision(y, s)).toBeCloseTo(5 / 6, 12);
    // A tied group is one threshold: {0.5: +,−,+} gives P=⅔ at R=1 in one step → AP = ⅔.
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.1])).toBeCloseTo(2 / 3, 12);
    expect(averagePrecision([0, 0], [0.2, 0.3])).toBeNull();
  });
});

describe('classificationMetrics', () => {
  it('binary: sklearn example scores, plus accuracy, balanced accuracy, macro F1 and MCC by hand', () => {
    // Class-1 probabilities [0.1,0.4,0.35,0.8] → predictions [0,0,0,1]; truth [0,0,1,1].
    // Confusion (rows true): [[2,0],[1,1]]. Accuracy 3/4. Recalls 1 and ½ → balanced ¾.
    // F1: class 0 = 2·2/(2+3) = 0.8, class 1 = 2·1/(2+1) = ⅔ → macro 0.7333.
    // MCC: TP=1 TN=2 FP=0 FN=1 → (1·2 − 0·1)/√(1·2·2·3) = 2/√12 = 1/√3.
    const m = classificationMetrics(Int32Array.from([0, 0, 1, 1]), binaryProba([0.1, 0.4, 0.35, 0.8]), ['inactive', 'active']);
    expect(m.accuracy).toBeCloseTo(0.75, 12);
    expect(m.balancedAccuracy).toBeCloseTo(0.75, 12);
    expect(m.macroF1).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
    expect(m.mcc).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(m.auroc).toBeCloseTo(0.75, 12);
    expect(m.auprc).toBeCloseTo(5 / 6, 12);
  });

  it('multiclass: hand-worked confusion matrix, MCC and one-vs-rest AUROC/AUPRC', () => {
    const y = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const proba = matrix([
      [0.7, 0.2, 0.1], // → 0 ✓
      [0.2, 0.5, 0.3], // → 1 ✗
      [0.1, 0.8, 0.1], // → 1 ✓
      [0.3, 0.4, 0.3], // → 1 ✓
      [0.1, 0.2, 0.7], // → 2 ✓
      [0.5, 0.1, 0.4], // → 0 ✗
    ]);
    // Confusion rows true: [1,1,0], [0,2,0], [1,0,1]. Accuracy 4/6; recalls ½,1,½ → balanced ⅔.
    // F1 = 2tp/(true+pred): class 0 2/4, class 1 4/5, class 2 2/3.
    // MCC: t=[2,2,2], p=[2,3,1], n=6, trace 4: (4·6 − 12)/√((36 − 12)(36 − 14)) = 12/√528.
    // AUROC one-vs-rest: class 0 = (4+2)/8, class 1 = (4+3)/8, class 2 = 8/8 → mean 0.875.
    // AP: class 0: +0.7 (P1,R½), −0.5, −0.3, +0.2 (P½,R1) → ½+¼ = ¾; class 1: +0.8, −0.5, +0.4 (P⅔) → ½+⅓;
    // class 2: both positives on top → 1. Mean (0.75 + 0.8333 + 1)/3.
    const m = classificationMetrics(y, proba, ['a', 'b', 'c']);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.balancedAccuracy).toBeCloseTo(2 / 3, 12);
    expect(m.macroF1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(m.mcc).toBeCloseTo(12 / Math.sqrt(528), 12);
    expect(m.auroc).toBeCloseTo(0.875, 12);
    expect(m.auprc).toBeCloseTo((0.75 + 5 / 6 + 1) / 3, 12);
  });

  it('classes absent from y: balanced accuracy and AUROC over present classes; macro F1 over true ∪ predicted', () => {
    // Truth has classes 0 and 1 only; row 3 is predicted as class 2.
    const y = Int32Array.from([0, 0, 1, 1]);
    const proba = matrix([
      [0.8, 0.1, 0.1],
      [0.6, 0.3, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.3, 0.6],
    ]);
    // Recalls: class 0 = 1, class 1 = ½ → balanced ¾ (class 2 is not in y).
    // F1: class 0 = 4/4 = 1, class 1 = 2/(2+1) = ⅔, class 2 (predicted only) = 0 → (1 + ⅔ + 0)/3.
    // AUROC: class 0 col [0.8,0.6,0.2,0.1] perfect → 1; class 1 col [0.1,0.3,0.7,0.3]:
    // 0.7 beats both, 0.3 beats 0.1 and ties 0.3 → (2 + 1.5)/4; class 2 undefined (no positives).
    const m = classificationMetrics(y, proba, ['a', 'b', 'c']);
    expect(m.balancedAccuracy).toBeCloseTo(0.75, 12);
    expect(m.macroF1).toBeCloseTo((1 + 2 / 3) / 3, 12);
    expect(m.auroc).toBeCloseTo((1 + 3.5 / 4) / 2, 12);
  });

  it('a fold with one class: AUROC/AUPRC null, MCC 0 (sklearn), no throw', () => {
    const m = classificationMetrics(Int32Array.from([0, 0, 0]), binaryProba([0.2, 0.7, 0.1]), ['no', 'yes']);
    expect(m.auroc).toBeNull();
    expect(m.auprc).toBeNull();
    expect(m.mcc).toBe(0);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
  });

  it('rejects mismatched shapes and out-of-range labels', () => {
    expect(() => classificationMetrics(Int32Array.from([0, 1]), binaryProba([0.5]), ['a', 'b'])).toThrow(/rows/);
    expect(() => classificationMetrics(Int32Array.from([0, 2]), binaryProba([0.5, 0.5]), ['a', 'b'])).toThrow(/class index/);
  });
});

describe('multiLabelMetrics and Fmax', () => {
  // Protein 0 has label 0; protein 1 has labels 1 and 2.
  const Y2 = Uint8Array.from([1, 0, 0, 0, 1, 1]);
  const P2 = matrix([
    [0.9, 0.6, 0.1],
    [0.2, 0.7, 0.3],
  ]);

  it('Fmax by hand', () => {
    // t in (0.7,0.9]: p0 {0} P=1 R=1; p1 predicts nothing (left out of precision), R=0 → P=1, R=½, F=⅔.
    // t in (0.6,0.7]: p0 {0} 1/1; p1 {1} P=1 R=½ → P=1, R=¾, F=6/7.
    // t in (0.3,0.6]: p0 {0,1} P=½ R=1; p1 {1} → P=¾, R=¾, F=¾.
    // t in (0.2,0.3]: p0 {0,1} ½,1; p1 {1,2} 1,1 → P=¾, R=1, F=6/7.
    // t ≤ 0.2: p1 {0,1,2} P=⅔ → P=7/12, R=1, F<6/7. Best: 6/7.
    expect(fmax(Y2, P2)).toBeCloseTo(6 / 7, 12);
  });

  it('Fmax leaves a protein without true labels out entirely (CAFA scores benchmark proteins only)', () => {
    // Add protein 2 with no labels but a 0.95 prediction for label 0. It is not a benchmark protein,
    // so neither precision nor recall sees it: Fmax stays 6/7 (counting it in precision gave 12/17).
    const Y3 = Uint8Array.from([...Y2, 0, 0, 0]);
    const P3 = matrix([
      [0.9, 0.6, 0.1],
      [0.2, 0.7, 0.3],
      [0.95, 0, 0],
    ]);
    expect(fmax(Y3, P3)).toBeCloseTo(6 / 7, 12);
    expect(fmax(Uint8Array.from([0, 0]), matrix([[0.4, 0.9]]))).toBeNaN();
  });

  it('Fmax uses p ≥ t exactly at thresholds that are not exact in binary (0.29)', () => {
    // At t = 0.29 only label 0 is predicted → P = R = 1. Mis-bucketing 0.29 to 0.28 would cap F at ⅔.
    expect(fmax(Uint8Array.from([1, 0]), matrix([[0.29, 0.28]]))).toBe(1);
    expect(fmax(Uint8Array.from([1, 0]), matrix([[0.07, 0.06]]))).toBe(1);
  });

  it('macro and micro F1 at 0.5 and at per-label thresholds; AUROC/AUPRC macro', () => {
    // At 0.5: p0 {0,1}, p1 {1}. Label 0: tp1 → F1 1; label 1: tp1 fp1 → ⅔; label 2: fn1 → 0.
    // Micro: tp 2, fp 1, fn 1 → 4/6. Every label's scores rank its positive first → AUROC = AP = 1.
    const m = multiLabelMetrics(Y2, P2);
    expect(m.macroF1).toBeCloseTo((1 + 2 / 3) / 3, 12);
    expect(m.microF1).toBeCloseTo(4 / 6, 12);
    expect(m.auroc).toBe(1);
    expect(m.auprc).toBe(1);
    // Thresholds [0.95, 0.5, 0.05]: label 0 predicts nothing → fn1 → 0; labels 1, 2: tp1 fp1 → ⅔ each.
    expect(multiLabelMetrics(Y2, P2, Float64Array.from([0.95, 0.5, 0.05])).macroF1).toBeCloseTo(4 / 9, 12);
  });

  it('skips labels whose AUROC/AUPRC are undefined, null when all are', () => {
    // Label 1 is never true: skipped. Label 0: truth [1,0,0], scores [0.9,0.2,0.95] → AUROC ½, AP ½.
    const Y = Uint8Array.from([1, 0, 0, 0, 0, 0]);
    const P = matrix([
      [0.9, 0.1],
      [0.2, 0.5],
      [0.95, 0.3],
    ]);
    const m = multiLabelMetrics(Y, P);
    expect(m.auroc).toBeCloseTo(0.5, 12);
    expect(m.auprc).toBeCloseTo(0.5, 12);
    expect(multiLabelMetrics(new Uint8Array(4), matrix([[0.1, 0.2], [0.3, 0.4]])).auroc).toBeNull();
  });
});

describe('summarize', () => {
  it('mean ± sample sd, skipping null and NaN and counting them as undefined', () => {
    const s = summarize([{ spearman: 0.5, auroc: 0.9 }, { spearman: NaN, auroc: null }, { spearman: 0.7, auroc: 0.8 }, { spearman: null, auroc: 0.7 }]);
    expect(s.spearman.mean).toBeCloseTo(0.6, 12);
    expect(s.spearman.sd).toBeCloseTo(Math.sqrt(0.02), 12); // deviations ±0.1, n − 1 = 1
    expect(s.spearman.n).toBe(2);
    expect(s.spearman.undefinedCount).toBe(2);
    expect(s.auroc).toMatchObject({ n: 3, undefinedCount: 1 });
    expect(s.auroc.sd).toBeCloseTo(0.1, 12);
  });

  it('a constant-prediction fold shows up as an undefined Spearman, not as 0', () => {
    const folds: RegressionMetrics[] = [regressionMetrics([1, 2, 3], [1, 2, 4]), regressionMetrics([1, 2, 3], [2, 2, 2])];
    const s = summarize(folds);
    expect(s.spearman).toEqual({ mean: 1, sd: NaN, n: 1, undefinedCount: 1 });
    expect(s.r2.n).toBe(2);
  });
});
