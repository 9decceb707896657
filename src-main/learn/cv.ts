/**
 * learn/cv — how rows are split into cross-validation folds: random (seeded) k-fold, unshuffled
 * block k-fold (for inner CV), stratified k-fold, folds taken from a column of the data set, and
 * ProteinGym's position-based folds for deep mutational scans; plus one-sentence explanations of
 * each scheme for the UI and a check that refuses folds a model cannot be fitted or scored on.
 * Every split is deterministic (same input and seed → same folds). Pure numerics: no I/O.
 *
 * Conventions: fold indices in messages are 1-based ("Fold 3"), as are row numbers ("row 7" is
 * the 7th data row, header not counted). train and test index arrays are sorted ascending.
 */
import { createRng } from '../core/rng';

export interface Fold {
  train: Int32Array;
  test: Int32Array;
}

export type SplitScheme = 'random' | 'stratified' | 'column' | 'contiguous' | 'modulo' | 'homology' | 'temporal';

// ---------------------------------------------------------------------------------------------
// k-fold variants

/** Shuffled k-fold: rows are permuted with a seeded PRNG, then cut into k blocks (sizes differ ≤ 1). */
export function kFold(n: number, k: number, seed: number): Fold[] {
  checkK(n, k, 'rows');
  const order = createRng(seed).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return blocksToFolds(order, k, n);
}

/**
 * Unshuffled k-fold (scikit-learn's KFold default): fold i tests the i-th contiguous block of
 * rows. Used for inner CV, where the outer split has already randomised the rows.
 */
export function contiguousKFold(n: number, k: number): Fold[] {
  checkK(n, k, 'rows');
  return blocksToFolds(Int32Array.from({ length: n }, (_, i) => i), k, n);
}

/**
 * Stratified k-fold with scikit-learn's StratifiedKFold(shuffle=True) algorithm: rows sorted by
 * class are dealt round-robin to folds to decide how many of each class each fold gets (so
 * fold sizes and per-class counts both differ by at most 1), then each class's fold slots are
 * shuffled with the seeded PRNG. Numbers differ from sklearn's (different PRNG), not the method.
 * Throws when a class has fewer than k members, naming it (`classNames[label]` when given):
 * sklearn only warns, but such a class would be missing from some test folds and, for k = n_c,
 * from training.
 */
export function stratifiedKFold(labels: Int32Array, k: number, seed: number, classNames?: readonly string[]): Fold[] {
  const n = labels.length;
  checkK(n, k, 'rows');
  const byClass = groupByLabel(labels);
  for (const [label, rows] of byClass) {
    if (rows.length < k) {
      const name = classNames?.[label] ?? String(label);
      const examples = rows.length === 1 ? '1 example' : `${rows.length} examples`;
      throw new RangeError(`Class "${name}" has only ${examples}; it cannot appear in all ${k} folds. Use fewer folds or merge rare classes.`);
    }
  }
  const allocation = allocateClassesToFolds([...byClass.values()].map((rows) => rows.length), k);
  const rng = createRng(seed);
  const foldOf = new Int32Array(n);
  [...byClass.values()].forEach((rows, c) => {
    const slots: number[] = [];
    for (let f = 0; f < k; f++) for (let j = 0; j < allocation[f]![c]!; j++) slots.push(f);
    rng.shuffle(slots);
    rows.forEach((row, j) => (foldOf[row] = slots[j]!));
  });
  return assignmentToFolds(foldOf, k);
}

/** Rows of each label, labels in order of first appearance (sklearn's encoding order). */
function groupByLabel(labels: Int32Array): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const rows = byClass.get(label);
    if (rows) rows.push(i);
    else byClass.set(label, [i]);
  });
  return byClass;
}

/** allocation[f][c]: how many rows of class c fold f gets — sklearn's bincount(y_sorted[f::k]). */
function allocateClassesToFolds(classCounts: readonly number[], k: number): number[][] {
  const allocation = Array.from({ length: k }, () => new Array<number>(classCounts.length).fill(0));
  let position = 0;
  classCounts.forEach((count, c) => {
    for (let j = 0; j < count; j++, position++) allocation[position % k]![c]! += 1;
  });
  return allocation;
}

// ---------------------------------------------------------------------------------------------
// Folds given by the data

const TRAIN_WORDS = new Set(['train', 'training']);
const TEST_WORDS = new Set(['test', 'testing']);
const VALIDATION_WORDS = new Set(['val', 'valid', 'validation']);

/**
 * Folds from a column. If every value is train/test (case-insensitive; FLIP-style
 * "validation"/"valid"/"val" rows are also accepted and join training, since the outer split only
 * needs held-out test rows and inner CV picks hyperparameters from the training side), that is a
 * single train/test split. Otherwise each distinct value is one test fold (numbers and numeric
 * strings are the same value: 1 and "1"), folds in natural order. Empty values are an error
 * naming the rows, as is a column with a single value.
 */
export function columnFolds(values: readonly (string | number | null)[], columnName: string): Fold[] {
  const keys = values.map((v) => (v === null ? '' : String(v).trim()));
  const missing = keys.flatMap((key, i) => (key === '' ? [i] : []));
  if (missing.length > 0) {
    throw new Error(`${describeRows(missing)} no value in column "${columnName}"; every row needs one to be assigned to a fold.`);
  }
  const lower = keys.map((key) => key.toLowerCase());
  if (lower.every((v) => TRAIN_WORDS.has(v) || TEST_WORDS.has(v) || VALIDATION_WORDS.has(v))) {
    return [trainTestSplit(lower, columnName)];
  }
  const distinct = naturalSort([...new Set(keys.map(canonicalKey))]);
  if (distinct.length < 2) {
    throw new Error(`Column "${columnName}" has only one value ("${distinct[0] ?? ''}"); it needs at least two to define folds.`);
  }
  const foldIndex = new Map(distinct.map((key, f) => [key, f]));
  return assignmentToFolds(Int32Array.from(keys, (key) => foldIndex.get(canonicalKey(key))!), distinct.length);
}

function trainTestSplit(lower: readonly string[], columnName: string): Fold {
  const train: number[] = [];
  const test: number[] = [];
  lower.forEach((v, i) => (TEST_WORDS.has(v) ? test : train).push(i));
  if (test.length === 0) throw new Error(`Column "${columnName}" has no "test" rows, so nothing would be held out for testing.`);
  if (!lower.some((v) => TRAIN_WORDS.has(v))) throw new Error(`Column "${columnName}" has no "train" rows, so there is nothing to train on.`);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** "1", "1.0" and 1 are one fold; other strings stay as written. */
function canonicalKey(key: string): string {
  const asNumber = Number(key);
  return Number.isFinite(asNumber) ? String(asNumber) : key;
}

function naturalSort(keys: string[]): string[] {
  if (keys.every((key) => Number.isFinite(Number(key)))) return keys.sort((a, b) => Number(a) - Number(b));
  return keys.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** "Row 7 has" / "Rows 3, 7 and 12 have" / "Rows 3, 7, 12, 15, 20 and 4 more have" (1-based). */
export function describeRows(indices: readonly number[]): string {
  const shown = indices.slice(0, 5).map((i) => String(i + 1));
  if (indices.length === 1) return `Row ${shown[0]} has`;
  if (indices.length > 5) return `Rows ${shown.join(', ')} and ${indices.length - 5} more have`;
  return `Rows ${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]} have`;
}

// ---------------------------------------------------------------------------------------------
// Position folds for deep mutational scans (ProteinGym)

/**
 * ProteinGym's position-based folds. Each variant is placed by its first (smallest) mutated
 * position, as ProteinGym does for single mutants; a multiple mutant therefore follows its
 * lowest position, and its other positions may fall in training folds.
 *  - 'contiguous': the sorted distinct positions are cut into k blocks with (nearly) equal
 *    numbers of positions (the first blocks get one more when it does not divide), and each
 *    block is a test fold — the model must extrapolate to an unseen region of the protein.
 *  - 'modulo': position p goes to fold p mod k — neighbouring positions land in different folds.
 * Throws when a variant has no position, or when a fold would be empty.
 */
export function positionFolds(positions: readonly (readonly number[])[], k: number, scheme: 'contiguous' | 'modulo'): Fold[] {
  const first = positions.map((list, i) => {
    if (list.length === 0) throw new Error(`Variant in row ${i + 1} has no mutated position; position-based folds need one for every variant.`);
    const p = Math.min(...list);
    if (!Number.isInteger(p)) throw new Error(`Variant in row ${i + 1} has position ${p}; positions must be whole residue numbers.`);
    return p;
  });
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`Number of folds must be a whole number ≥ 2, got ${k}.`);
  const foldOf = scheme === 'contiguous' ? contiguousPositionFolds(first, k) : moduloPositionFolds(first, k);
  return assignmentToFolds(foldOf, k);
}

function contiguousPositionFolds(first: readonly number[], k: number): Int32Array {
  const distinct = [...new Set(first)].sort((a, b) => a - b);
  if (distinct.length < k) {
    throw new RangeError(`Only ${distinct.length} distinct mutated positions; contiguous folds need at least ${k} (one block per fold). Use fewer folds.`);
  }
  const blockOf = new Map<number, number>();
  blockSizes(distinct.length, k).reduce((start, size, f) => {
    for (let j = start; j < start + size; j++) blockOf.set(distinct[j]!, f);
    return start + size;
  }, 0);
  return Int32Array.from(first, (p) => blockOf.get(p)!);
}

function moduloPositionFolds(first: readonly number[], k: number): Int32Array {
  const foldOf = Int32Array.from(first, (p) => ((p % k) + k) % k);
  const counts = new Int32Array(k);
  foldOf.forEach((f) => counts[f]!++);
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) {
    throw new RangeError(`No variant has a position p with p mod ${k} = ${empty}, so fold ${empty + 1} would be empty. Use fewer folds or contiguous folds.`);
  }
  return foldOf;
}

// ---------------------------------------------------------------------------------------------
// Explaining and checking folds

const SCHEME_SENTENCES: Record<SplitScheme, string> = {
  random:
    'Random folds mix positions and similar sequences between training and test, so they overstate how well the model predicts new positions or new proteins.',
  stratified:
    'Stratified folds are random folds that keep each class in the same proportion in every fold, so rare classes are tested in every fold.',
  homology:
    'Similarity folds keep every group of related sequences (above the chosen identity, default 30 %) in one fold, so the model is tested on proteins unlike those it was trained on; random folds let close relatives leak from training into test and overstate accuracy.',
  temporal:
    'A temporal split trains on proteins dated before the chosen date and tests on those after it, as a model would be used on newly characterised proteins.',
  column: 'Folds come from a column of your data, so you decide which rows are held out together (for example by protein family or by experiment).',
  contiguous:
    'Contiguous folds hold out one stretch of the protein at a time, so the model is tested on a region it has never seen — the hardest and most honest test for a mutational scan.',
  modulo:
    'Modulo folds send every k-th position to the same fold, so neighbouring positions are split between training and test; this is harder than random folds but easier than contiguous ones.',
};

/** One plain sentence for the UI saying what a scheme tests and what it may over- or understate. */
export function describeScheme(scheme: SplitScheme): string {
  return SCHEME_SENTENCES[scheme];
}

/**
 * Refuses folds a model cannot be fitted or scored on, with a message a biologist can act on:
 * an empty test or training side; for classification, a class present in a test fold but absent
 * from that fold's training rows (the model could never predict it). Returns warnings (not
 * errors) for milder problems: a test fold lacking a class (its one-vs-rest AUROC/AUPRC are
 * undefined for that fold), or for regression a test fold with < 2 rows or constant values
 * (correlations undefined) or constant training values.
 */
export function validateFolds(
  folds: readonly Fold[],
  target: ArrayLike<number>,
  task: 'regression' | 'classification',
  classNames?: readonly string[],
): string[] {
  if (folds.length === 0) throw new Error('There are no folds to evaluate.');
  const warnings: string[] = [];
  folds.forEach((fold, f) => {
    const name = folds.length === 1 ? 'The test split' : `Fold ${f + 1}`;
    if (fold.test.length === 0) throw new Error(`${name} has no test rows; every fold needs at least one row to score the model on.`);
    if (fold.train.length === 0) throw new Error(`${name} has no training rows; the model needs rows to learn from.`);
    if (task === 'classification') warnings.push(...checkClassificationFold(fold, target, name, classNames));
    else warnings.push(...checkRegressionFold(fold, target, name));
  });
  return warnings;
}

function checkClassificationFold(fold: Fold, labels: ArrayLike<number>, name: string, classNames?: readonly string[]): string[] {
  const trainClasses = new Set(Array.from(fold.train, (i) => labels[i]!));
  const testClasses = new Set(Array.from(fold.test, (i) => labels[i]!));
  const className = (c: number) => classNames?.[c] ?? String(c);
  for (const c of testClasses) {
    if (!trainClasses.has(c)) {
      throw new Error(
        `${name} has no examples of class '${className(c)}' in its training rows; the model cannot learn to predict a class it never sees. ` +
          'Use stratified folds, fewer folds, or merge rare classes.',
      );
    }
  }
  return [...trainClasses]
    .filter((c) => !testClasses.has(c))
    .map((c) => `${name} has no examples of class '${className(c)}' in its test rows; AUROC and AUPRC for that class are undefined in this fold.`);
}

function checkRegressionFold(fold: Fold, y: ArrayLike<number>, name: string): string[] {
  const warnings: string[] = [];
  const constant = (rows: Int32Array) => rows.every((i) => y[i] === y[rows[0]!]);
  if (fold.test.length < 2) warnings.push(`${name} has only 1 test row; correlations (Spearman, Pearson) and R² are undefined for it.`);
  else if (constant(fold.test)) warnings.push(`${name} has the same value in every test row; Spearman and Pearson are undefined for it.`);
  if (constant(fold.train)) warnings.push(`${name} has the same value in every training row; the model has nothing to learn.`);
  return warnings;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function checkK(n: number, k: number, what: string): void {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`Number of folds must be a whole number ≥ 2, got ${k}.`);
  if (k > n) throw new RangeError(`Cannot make ${k} folds from ${n} ${what}; use at most ${n} folds.`);
}

/** Sizes of k nearly equal blocks of n items; the first n mod k blocks get one extra (sklearn). */
function blockSizes(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, f) => Math.floor(n / k) + (f < n % k ? 1 : 0));
}

/** Fold f tests the f-th block of `order`. */
function blocksToFolds(order: Int32Array, k: number, n: number): Fold[] {
  const foldOf = new Int32Array(n);
  let start = 0;
  blockSizes(n, k).forEach((size, f) => {
    for (let j = start; j < start + size; j++) foldOf[order[j]!] = f;
    start += size;
  });
  return assignmentToFolds(foldOf, k);
}

/** Turns "row i is tested in fold foldOf[i]" into k folds with sorted train and test indices. */
function assignmentToFolds(foldOf: Int32Array, k: number): Fold[] {
  const counts = new Int32Array(k);
  foldOf.forEach((f) => counts[f]!++);
  return Array.from({ length: k }, (_, f) => {
    const test = new Int32Array(counts[f]!);
    const train = new Int32Array(foldOf.length - counts[f]!);
    let t = 0;
    let r = 0;
    foldOf.forEach((g, i) => {
      if (g === f) test[t++] = i;
      else train[r++] = i;
    });
    return { train, test };
  });
}
