/**
 * Classifiers of learn/: L2 logistic regression with inner-CV C (binary and multinomial), the
 * one-vs-rest multi-label wrapper with tuned thresholds, the nearest-prototype classifier and the
 * random-forest baseline — on small seeded toy problems whose right answer is known.
 */
import { describe, expect, it } from 'vitest';
import { libraryMaxFeatures, RandomForest } from '../../src-main/learn/forest';
import { balancedSampleWeights, LogisticRegressionCV, logSpacedCs, type FittedClassifier } from '../../src-main/learn/logistic';
import type { Matrix } from '../../src-main/learn/matrix';
import { bestF1Threshold, fitMultiLabel, THRESHOLD_GRID } from '../../src-main/learn/multilabel';
import { NearestPrototype } from '../../src-main/learn/prototype';
import { createRng, type Rng } from '../../src-main/core/rng';

// ---------------------------------------------------------------------------------------------
// Toy data

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** k Gaussian blobs (sd 1): class c is shifted by `sep` along every feature j with j mod k = c. */
function blobs(n: number, d: number, k: number, sep: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const data = new Float64Array(n * d);
  const y = Int32Array.from({ length: n }, (_, i) => i % k);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = gauss(rng) + (j % k === y[i] ? sep : 0);
  return { X: { data, rows: n, cols: d }, y };
}

/**
 * Two features whose difference is the class (±0.5, tiny noise) but whose shared part has sd 2:
 * separable, yet only a weakly regularised model finds the difference direction.
 */
function cleanButHidden(n: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const data = new Float64Array(n * 2);
  const y = Int32Array.from({ length: n }, (_, i) => i % 2);
  for (let i = 0; i < n; i++) {
    const shared = 2 * gauss(rng);
    data[2 * i] = shared;
    data[2 * i + 1] = shared + (y[i] ? 0.5 : -0.5) + 0.1 * gauss(rng);
  }
  return { X: { data, rows: n, cols: 2 }, y };
}

/** One weakly informative feature among d, 30% of labels flipped: large C only fits noise. */
function noisy(n: number, d: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const data = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = i % 2;
    y[i] = rng.next() < 0.3 ? 1 - s : s;
    for (let j = 0; j < d; j++) data[i * d + j] = gauss(rng) + (j === 0 ? (s ? 0.5 : -0.5) : 0);
  }
  return { X: { data, rows: n, cols: d }, y };
}

/**
 * Asymmetric XOR on the unit square, class = (a > 0.3) xor (b > 0.6), each coordinate repeated
 * in `copies` noisy columns (as embeddings repeat signal over many dimensions).
 */
function xorLike(n: number, copies: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const d = 2 * copies;
  const data = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.next();
    const b = rng.next();
    y[i] = a > 0.3 !== b > 0.6 ? 1 : 0;
    for (let c = 0; c < copies; c++) {
      data[i * d + c] = a + 0.02 * gauss(rng);
      data[i * d + copies + c] = b + 0.02 * gauss(rng);
    }
  }
  return { X: { data, rows: n, cols: d }, y };
}

/** `rare` of every 10 rows are class 1, means ±1 on both features: overlapping and imbalanced. */
function imbalanced(n: number, seed: number, rare = 1): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const data = new Float64Array(n * 2);
  const y = Int32Array.from({ length: n }, (_, i) => (i % 10 < rare ? 1 : 0));
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) data[i * 2 + j] = gauss(rng) + (y[i] ? 1 : -1);
  return { X: { data, rows: n, cols: 2 }, y };
}

function accuracy(predicted: Int32Array, y: Int32Array): number {
  return predicted.reduce((hits, p, i) => hits + (p === y[i] ? 1 : 0), 0) / y.length;
}

function expectRowsSumToOne(P: Matrix): void {
  for (let i = 0; i < P.rows; i++) {
    const row = P.data.subarray(i * P.cols, (i + 1) * P.cols);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const p of row) expect(p).toBeGreaterThanOrEqual(0);
  }
}

const names = (k: number) => Array.from({ length: k }, (_, i) => `class ${i}`);

// ---------------------------------------------------------------------------------------------
// An independent reference: Newton's method on sklearn's objective, written out plainly

/** argmin over (w, b) of C·Σ sᵢ·log(1 + exp(−ỹᵢ(w·xᵢ + b))) + ½‖w‖², by 30 full Newton steps. */
function newtonLogistic(X: Matrix, y: Int32Array, C: number, s: Float64Array): number[] {
  const d = X.cols;
  const theta = new Array<number>(d + 1).fill(0);
  for (let iteration = 0; iteration < 30; iteration++) {
    const g = new Array<number>(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < X.rows; i++) {
      const x = [...X.data.subarray(i * d, (i + 1) * d), 1]; // the trailing 1 carries the intercept
      const z = x.reduce((sum, v, j) => sum + v * theta[j]!, 0);
      const p = 1 / (1 + Math.exp(-z));
      for (let a = 0; a <= d; a++) {
        g[a]! += C * s[i]! * (p - y[i]!) * x[a]!;
        for (let b = 0; b <= d; b++) H[a]![b]! += C * s[i]! * p * (1 - p) * x[a]! * x[b]!;
      }
    }
    for (let j = 0; j < d; j++) {
      g[j]! += theta[j]!; // the penalty leaves the intercept (index d) alone
      H[j]![j]! += 1;
    }
    const step = solve(H, g);
    for (let j = 0; j <= d; j++) theta[j]! -= step[j]!;
  }
  return theta;
}

/** Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r]![col]!) > Math.abs(M[pivot]![col]!)) pivot = r;
    [M[col], M[pivot]] = [M[pivot]!, M[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = M[r]![col]! / M[col]![col]!;
      for (let c = col; c <= n; c++) M[r]![c]! -= f * M[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = M[r]![n]!;
    for (let c = r + 1; c < n; c++) sum -= M[r]![c]! * x[c]!;
    x[r] = sum / M[r]![r]!;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------

describe('LogisticRegressionCV', () => {
  it('uses sklearn’s Cs=10 grid, 1e-4..1e4', () => {
    const Cs = logSpacedCs(10);
    expect(Cs[0]).toBe(1e-4);
    expect(Cs[9]).toBeCloseTo(1e4, 8);
    expect(Cs[5]).toBeCloseTo(10 ** (4 / 9), 12); // numpy.logspace(-4, 4, 10)[5] = 2.7825594…
  });

  it('learns separable binary and three-class problems perfectly', () => {
    for (const k of [2, 3]) {
      const train = blobs(90, 6, k, 5, 1);
      const test = blobs(60, 6, k, 5, 2);
      const model = new LogisticRegressionCV().fit(train.X, train.y, names(k));
      expect(accuracy(model.predict(train.X), train.y)).toBe(1);
      expect(accuracy(model.predict(test.X), test.y)).toBe(1);
      expect(model.chosen.C).toBeGreaterThan(0);
    }
  });

  it('matches a plain Newton solution of sklearn’s objective at a fixed C, with and without class weights', () => {
    const { X, y } = imbalanced(40, 3, 3);
    for (const classWeight of [null, 'balanced'] as const) {
      const C = 0.5;
      const model = new LogisticRegressionCV({ Cs: [C] }).fit(X, y, ['no', 'yes'], { classWeight });
      const s = classWeight ? balancedSampleWeights(y, 2) : new Float64Array(y.length).fill(1);
      const reference = newtonLogistic(X, y, C, s);
      expect(model.coef.rows).toBe(1);
      for (let j = 0; j < 2; j++) expect(Math.abs(model.coef.data[j]! - reference[j]!)).toBeLessThan(1e-5);
      expect(Math.abs(model.intercept[0]! - reference[2]!)).toBeLessThan(1e-5);
      expect(model.chosen).toEqual({ C });
    }
  });

  it('gives multinomial probabilities that sum to 1, predicts their arg-max, and gives unseen classes 0', () => {
    const { X, y } = blobs(120, 4, 3, 1, 4);
    const classes = ['a', 'b', 'c', 'never seen'];
    const model = new LogisticRegressionCV().fit(X, y, classes);
    const P = model.predictProba(X);
    expect([P.rows, P.cols]).toEqual([120, 4]);
    expectRowsSumToOne(P);
    expect(model.coef.rows).toBe(3); // one softmax row per seen class
    const predicted = model.predict(X);
    for (let i = 0; i < P.rows; i++) {
      expect(P.data[i * 4 + 3]).toBe(0);
      const row = Array.from(P.data.subarray(i * 4, i * 4 + 4));
      expect(predicted[i]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(accuracy(predicted, y)).toBeGreaterThan(0.6);
  });

  it("class_weight 'balanced' moves the decision toward the rare class", () => {
    const { X, y } = imbalanced(200, 5);
    const plain = new LogisticRegressionCV({ Cs: [1] }).fit(X, y, ['common', 'rare']);
    const balanced = new LogisticRegressionCV({ Cs: [1] }).fit(X, y, ['common', 'rare'], { classWeight: 'balanced' });
    const rareCalls = (m: FittedClassifier) => m.predict(X).reduce((sum, c) => sum + c, 0);
    const meanRare = (m: FittedClassifier) => Array.from({ length: X.rows }, (_, i) => m.predictProba(X).data[i * 2 + 1]!).reduce((a, b) => a + b) / X.rows;
    expect(rareCalls(balanced)).toBeGreaterThan(rareCalls(plain));
    expect(meanRare(balanced)).toBeGreaterThan(meanRare(plain) + 0.05);
    // Recall of the rare class improves.
    const recall = (m: FittedClassifier) => m.predict(X).reduce((hits, c, i) => hits + (c === 1 && y[i] === 1 ? 1 : 0), 0);
    expect(recall(balanced)).toBeGreaterThan(recall(plain));
  });

  it('chooses a larger C on clean data than on noisy data', () => {
    for (const seed of [1, 2, 3]) {
      const clean = cleanButHidden(80, seed);
      const dirty = noisy(80, 20, seed);
      const cleanC = new LogisticRegressionCV().fit(clean.X, clean.y, ['a', 'b']).chosen.C!;
      const noisyC = new LogisticRegressionCV().fit(dirty.X, dirty.y, ['a', 'b']).chosen.C!;
      expect(cleanC).toBeGreaterThan(noisyC);
      expect(noisyC).toBeLessThan(1);
    }
  });

  it('skips inner CV when a class has a single example (C = 1) and reports progress up to 1', () => {
    const { X, y } = blobs(12, 3, 2, 3, 6);
    y.fill(0);
    y[0] = 1;
    const progress: number[] = [];
    const model = new LogisticRegressionCV().fit(X, y, ['a', 'b'], { onProgress: (f) => progress.push(f) });
    expect(model.chosen).toEqual({ C: 1 });
    expect(model.outOfFold).toBeNull();
    expect(progress.at(-1)).toBe(1);
  });

  it('exposes inner-CV out-of-fold probabilities, reports monotone progress', () => {
    const { X, y } = blobs(60, 4, 3, 2, 7);
    const progress: number[] = [];
    const model = new LogisticRegressionCV().fit(X, y, names(3), { onProgress: (f) => progress.push(f) });
    expect(progress.length).toBe(5 * 10 + 1);
    expect(progress.every((f, i) => i === 0 || f >= progress[i - 1]!)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expectRowsSumToOne(model.outOfFold!);
  });
});

// ---------------------------------------------------------------------------------------------

describe('fitMultiLabel', () => {
  /** Three labels at 40%, 12% and 8%, each driven by its own feature plus noise. */
  function multiLabelToy(n: number, seed: number): { X: Matrix; Y: Uint8Array } {
    const rng = createRng(seed);
    const d = 4;
    const cut = [0.33, 1.5, 1.8];
    const data = new Float64Array(n * d);
    const Y = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) data[i * d + j] = gauss(rng);
      for (let l = 0; l < 3; l++) Y[i * 3 + l] = data[i * d + l]! + 0.6 * gauss(rng) > cut[l]! ? 1 : 0;
    }
    return { X: { data, rows: n, cols: d }, Y };
  }

  function macroF1(Y: Uint8Array, predicted: Uint8Array, L: number): number {
    let sum = 0;
    for (let l = 0; l < L; l++) {
      let tp = 0;
      let wrong = 0;
      for (let i = l; i < Y.length; i += L) {
        if (Y[i] && predicted[i]) tp++;
        else if (Y[i] || predicted[i]) wrong++;
      }
      sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + wrong);
    }
    return sum / L;
  }

  it('tunes thresholds inside (0, 1) that beat 0.5 on held-out data of an imbalanced toy', () => {
    const train = multiLabelToy(300, 1);
    const test = multiLabelToy(600, 2);
    const labels = ['common', 'rare', 'rarer'];
    const model = fitMultiLabel(train.X, train.Y, labels);
    expect(model.labels).toEqual(labels);
    for (const t of model.thresholds) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(1);
    }
    expect(model.thresholds[2]).toBeLessThan(0.5); // the rarest label is called more easily
    const P = model.predictProba(test.X);
    expect([P.rows, P.cols]).toEqual([600, 3]);
    const atHalf = Uint8Array.from(P.data, (p) => (p >= 0.5 ? 1 : 0));
    expect(macroF1(test.Y, model.predict(test.X), 3)).toBeGreaterThan(macroF1(test.Y, atHalf, 3) + 0.02);
  });

  it('picks the F1-best grid threshold, nearest 0.5 on ties, and 0.5 when nothing is found', () => {
    expect(THRESHOLD_GRID).toHaveLength(19);
    expect(THRESHOLD_GRID[0]).toBe(0.05);
    expect(THRESHOLD_GRID[18]).toBe(0.95);
    // Positives at 0.3 and 0.32, negatives at 0.1: any threshold in (0.1, 0.3] is perfect.
    expect(bestF1Threshold([1, 1, 0, 0], [0.3, 0.32, 0.1, 0.1])).toBe(0.3);
    expect(bestF1Threshold([0, 0], [0.2, 0.9])).toBe(0.5);
  });

  it('keeps 0.5 and probability 0 for a label no training row has', () => {
    const { X } = blobs(30, 3, 2, 1, 3);
    const Y = new Uint8Array(30 * 2);
    for (let i = 0; i < 30; i++) Y[i * 2] = i % 2;
    const model = fitMultiLabel(X, Y, ['half', 'never']);
    expect(model.thresholds[1]).toBe(0.5);
    const P = model.predictProba(X);
    for (let i = 0; i < 30; i++) expect(P.data[i * 2 + 1]).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('NearestPrototype', () => {
  it('classifies held-out points of separated clusters, euclidean and cosine', () => {
    const train = blobs(60, 8, 3, 4, 5);
    const test = blobs(60, 8, 3, 4, 6);
    for (const distance of ['euclidean', 'cosine'] as const) {
      const model = new NearestPrototype({ distance }).fit(train.X, train.y, names(3));
      expect(accuracy(model.predict(test.X), test.y)).toBe(1);
      expectRowsSumToOne(model.predictProba(test.X));
      expect(model.chosen.temperature).toBeGreaterThan(0);
      expect(model.chosen.temperature).not.toBe(1);
    }
  });

  it('picks a cooler temperature for tight clusters than for overlapping ones', () => {
    const tight = blobs(60, 4, 2, 6, 7);
    const loose = blobs(60, 4, 2, 0.5, 7);
    const T = (data: { X: Matrix; y: Int32Array }) => new NearestPrototype().fit(data.X, data.y, names(2)).chosen.temperature!;
    expect(T(tight)).toBeLessThan(T(loose));
  });

  it('works one-shot (temperature fixed at 1) and gives an unseen class probability 0', () => {
    const X: Matrix = { data: Float64Array.of(0, 0, 10, 10), rows: 2, cols: 2 };
    const model = new NearestPrototype().fit(X, Int32Array.of(0, 1), ['a', 'b', 'unseen']);
    expect(model.chosen).toEqual({ temperature: 1 });
    const query: Matrix = { data: Float64Array.of(1, 1, 9, 8), rows: 2, cols: 2 };
    expect(Array.from(model.predict(query))).toEqual([0, 1]);
    const P = model.predictProba(query);
    expectRowsSumToOne(P);
    expect(P.data[2]).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('RandomForest', () => {
  it('beats logistic regression on XOR-like data', () => {
    const train = xorLike(200, 8, 1);
    const test = xorLike(200, 8, 2);
    const forest = new RandomForest({ seed: 3 }).fit(train.X, train.y, ['a', 'b']);
    const logistic = new LogisticRegressionCV().fit(train.X, train.y, ['a', 'b']);
    const forestAccuracy = accuracy(forest.predict(test.X), test.y);
    expect(forestAccuracy).toBeGreaterThan(0.9);
    expect(forestAccuracy).toBeGreaterThan(accuracy(logistic.predict(test.X), test.y) + 0.15);
  });

  it('learns separable blobs, with vote-fraction probabilities summing to 1, the same for a seed', () => {
    const train = blobs(60, 9, 3, 5, 8);
    const test = blobs(30, 9, 3, 5, 9);
    const progress: number[] = [];
    const model = new RandomForest({ nEstimators: 25, seed: 1 }).fit(train.X, train.y, names(3), { onProgress: (f) => progress.push(f) });
    expect(progress).toEqual([0.4, 0.8, 1]);
    expect(accuracy(model.predict(test.X), test.y)).toBe(1);
    const P = model.predictProba(test.X);
    expectRowsSumToOne(P);
    for (const p of P.data) expect(Math.abs(p * 25 - Math.round(p * 25))).toBeLessThan(1e-9);
    const again = new RandomForest({ nEstimators: 25, seed: 1 }).fit(train.X, train.y, names(3));
    expect(Array.from(again.predictProba(test.X).data)).toEqual(Array.from(P.data));
  });

  it("class_weight 'balanced' (by resampling) moves the votes toward the rare class", () => {
    const { X, y } = imbalanced(150, 10);
    const test = imbalanced(300, 11);
    const rareVotes = (m: FittedClassifier) => m.predictProba(test.X).data.filter((_, j) => j % 2 === 1).reduce((a, b) => a + b, 0);
    const plain = new RandomForest({ nEstimators: 30 }).fit(X, y, ['common', 'rare']);
    const balanced = new RandomForest({ nEstimators: 30 }).fit(X, y, ['common', 'rare'], { classWeight: 'balanced' });
    expect(rareVotes(balanced)).toBeGreaterThan(rareVotes(plain));
  });

  it('maps maxFeatures onto the library’s fraction-or-count convention', () => {
    expect(libraryMaxFeatures('sqrt', 1280)).toBe(35);
    expect(libraryMaxFeatures('all', 10)).toBe(1);
    expect(Math.floor(libraryMaxFeatures('sqrt', 3) * 3)).toBe(1); // one column, not "100%"
    expect(libraryMaxFeatures(0.5, 10)).toBe(5);
    expect(libraryMaxFeatures(20, 10)).toBe(1);
  });
});
