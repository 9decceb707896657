/**
 * learn/forest — random-forest baseline, after scikit-learn's RandomForestClassifier(
 * n_estimators=100, max_features='sqrt', bootstrap=True, fully grown gini trees), built on
 * ml-random-forest (ml-cart trees). Owns the `RandomForest` classifier and its saved form.
 *
 * Where the library makes us differ from sklearn:
 *  - Features are drawn once per tree (without replacement), not afresh at every split: each tree
 *    sees ⌊√d⌋ random columns ("random subspace"). With many informative columns, as in
 *    embeddings, this behaves much like sklearn; with very few columns a tree may miss a feature
 *    it needs ('all' avoids that).
 *  - Probabilities are the fraction of trees voting for each class. The library's
 *    predictProbability gives the same fraction, but for one class per call (re-running every tree)
 *    and rounded to 1e-6, so rows would not sum to exactly 1; we count the votes of
 *    predictionValues once. Trees are grown until their leaves are pure (ml-cart minNumSamples 1,
 *    no gain threshold), where votes equal sklearn's averaged leaf frequencies.
 *  - ml-cart has no sample weights, so classWeight 'balanced' resamples: every class is brought
 *    to the size of the largest by whole copies of its rows plus a seeded random remainder, the
 *    same relative weighting as sklearn's n / (k · count_c).
 *  - Trees are trained in seeded batches of 10 so fitting can report progress; the result is one
 *    forest of nEstimators trees, the same on every run for a given seed.
 * A class absent from the training rows never gets a vote (probability 0).
 */
import { RandomForestClassifier } from 'ml-random-forest';
import { argmaxRows, checkClassifierInputs, classCounts, presentClasses, type Classifier, type FitOptions, type FittedClassifier } from './logistic';
import { matrix, type Matrix } from './matrix';
import { createRng, type Rng } from '../core/rng';

export interface RandomForestOptions {
  /** Trees (default 100, as sklearn). */
  nEstimators?: number;
  /** Columns per tree: 'sqrt' (default, ⌊√d⌋), 'all', a fraction in (0, 1) or a whole count. */
  maxFeatures?: 'sqrt' | 'all' | number;
  /** Deepest a tree may grow (default unlimited, as sklearn). */
  maxDepth?: number;
  /** Seed for bootstrap rows, feature draws and resampling (default 0). */
  seed?: number;
}

const BATCH = 10; // trees per progress report

export class RandomForest implements Classifier {
  readonly name = 'random_forest';
  private readonly options: Required<RandomForestOptions>;

  constructor(options: RandomForestOptions = {}) {
    this.options = { nEstimators: 100, maxFeatures: 'sqrt', maxDepth: Infinity, seed: 0, ...options };
    if (!Number.isInteger(this.options.nEstimators) || this.options.nEstimators < 1) {
      throw new RangeError(`nEstimators must be a whole number ≥ 1, got ${this.options.nEstimators}.`);
    }
  }

  fit(X: Matrix, y: Int32Array, classes: readonly string[], options: FitOptions = {}): FittedForest {
    checkClassifierInputs(X, y, classes, 'Random forest');
    const rng = createRng(this.options.seed);
    const rows = options.classWeight === 'balanced' ? balancedResample(y, classes.length, rng) : Int32Array.from(y.keys());
    const trainingSet = toArrays(X, rows);
    const labels = Array.from(rows, (r) => y[r]!);
    const maxFeatures = libraryMaxFeatures(this.options.maxFeatures, X.cols);
    const forests: RandomForestClassifier[] = [];
    for (let built = 0; built < this.options.nEstimators; built += BATCH) {
      const forest = new RandomForestClassifier({
        nEstimators: Math.min(BATCH, this.options.nEstimators - built),
        maxFeatures,
        replacement: false,
        useSampleBagging: true,
        noOOB: true,
        // The library wants a 32-bit integer seed; one per batch keeps batches independent.
        seed: Math.floor(rng.next() * 2 ** 31),
        treeOptions: { gainFunction: 'gini', splitFunction: 'mean', minNumSamples: 1, maxDepth: this.options.maxDepth, gainThreshold: 0 },
      });
      forest.train(trainingSet, labels);
      forests.push(forest);
      options.onProgress?.(Math.min(built + BATCH, this.options.nEstimators) / this.options.nEstimators);
    }
    return new FittedForest(classes, presentClasses(y, classes.length), X.cols, forests, this.options);
  }
}

export class FittedForest implements FittedClassifier {
  readonly chosen: Record<string, number> = {};

  constructor(
    readonly classes: readonly string[],
    /** Indices (into classes) of the classes present in the training rows, ascending. */
    readonly fittedClasses: Int32Array,
    private readonly features: number,
    private readonly forests: readonly RandomForestClassifier[],
    private readonly options: Required<RandomForestOptions>,
  ) {}

  /** Fraction of all trees voting for each class. */
  predictProba(X: Matrix): Matrix {
    if (X.cols !== this.features) throw new RangeError(`Model was fitted on ${this.features} columns but got ${X.cols}.`);
    const k = this.classes.length;
    const out = matrix(X.rows, k);
    if (X.rows === 0) return out;
    const data = toArrays(X, Int32Array.from({ length: X.rows }, (_, i) => i));
    let trees = 0;
    for (const forest of this.forests) {
      const votes = forest.predictionValues(data); // rows × trees of class indices
      trees += votes.columns;
      for (let i = 0; i < X.rows; i++) for (let t = 0; t < votes.columns; t++) out.data[i * k + votes.get(i, t)]! += 1;
    }
    for (let j = 0; j < out.data.length; j++) out.data[j]! /= trees;
    return out;
  }

  predict(X: Matrix): Int32Array {
    return argmaxRows(this.predictProba(X));
  }

  toJSON(): Record<string, unknown> {
    return {
      model: 'random_forest',
      classes: [...this.classes],
      fittedClasses: Array.from(this.fittedClasses),
      features: this.features,
      options: { ...this.options, maxDepth: Number.isFinite(this.options.maxDepth) ? this.options.maxDepth : null },
      // The library's toJSON hands back its live tree nodes and ml-matrix objects; a JSON copy is
      // plain data that survives structured cloning (IPC) as well as JSON.stringify.
      forests: this.forests.map((forest) => JSON.parse(JSON.stringify(forest.toJSON())) as unknown),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Library adapters

/**
 * ml-random-forest reads maxFeatures as a fraction when it is in (0, 1] and as a count when it
 * is a larger integer — so a count of 1 would mean "all"; 1.5 / d floors to exactly one column.
 */
export function libraryMaxFeatures(option: RandomForestOptions['maxFeatures'], d: number): number {
  const count = featureCount(option ?? 'sqrt', d);
  if (count >= d) return 1;
  return count === 1 ? 1.5 / d : count;
}

/** Columns per tree, as sklearn reads max_features ('sqrt' → ⌊√d⌋, a fraction → ⌊f·d⌋, at least 1). */
function featureCount(option: 'sqrt' | 'all' | number, d: number): number {
  if (option === 'all') return d;
  if (option === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(d)));
  if (!(option > 0) || !Number.isFinite(option)) throw new RangeError(`maxFeatures must be 'sqrt', 'all' or a positive number, got ${option}.`);
  return option < 1 ? Math.max(1, Math.floor(option * d)) : Math.min(d, Math.floor(option));
}

/** The given rows of X as the library's arrays of rows (repeats allowed). */
function toArrays(X: Matrix, rows: Int32Array): number[][] {
  return Array.from(rows, (r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols)));
}

/**
 * Row indices in which every present class appears as often as the largest one: ⌊m / n_c⌋
 * copies of each row plus m mod n_c rows drawn without replacement (seeded).
 */
function balancedResample(y: Int32Array, nClasses: number, rng: Rng): Int32Array {
  const counts = classCounts(y, nClasses);
  const largest = Math.max(...counts);
  const out: number[] = [];
  for (let c = 0; c < nClasses; c++) {
    if (counts[c] === 0) continue;
    const members = Array.from(y.keys()).filter((i) => y[i] === c);
    for (let copy = 0; copy < Math.floor(largest / members.length); copy++) out.push(...members);
    out.push(...rng.shuffle([...members]).slice(0, largest % members.length));
  }
  return Int32Array.from(out);
}
