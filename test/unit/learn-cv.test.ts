// Cross-validation splits (random, blocks, stratified, column, ProteinGym position folds), the
// fold checks and their messages, and feature scaling fitted on training rows only.
import { describe, expect, it } from 'vitest';
import {
  columnFolds,
  contiguousKFold,
  describeScheme,
  kFold,
  positionFolds,
  stratifiedKFold,
  validateFolds,
  type Fold,
  type SplitScheme,
} from '../../src-main/learn/cv';
import type { Matrix } from '../../src-main/learn/matrix';
import { fitScaler } from '../../src-main/learn/scale';

const tests = (folds: readonly Fold[]) => folds.map((f) => Array.from(f.test));

/** Every row is tested exactly once, and each fold trains on exactly the other rows. */
function expectPartition(folds: readonly Fold[], n: number): void {
  const seen = new Int32Array(n);
  for (const fold of folds) {
    fold.test.forEach((i) => seen[i]!++);
    const inTest = new Set(fold.test);
    expect(Array.from(fold.train)).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => !inTest.has(i)));
  }
  expect(Array.from(seen).every((c) => c === 1)).toBe(true);
}

const matrix = (rows: readonly (readonly number[])[]): Matrix => ({ data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0]?.length ?? 0 });
const rowsOf = (m: Matrix) => Array.from({ length: m.rows }, (_, r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));

describe('kFold and contiguousKFold', () => {
  it('partitions shuffled rows into folds whose sizes differ by at most 1', () => {
    const folds = kFold(10, 3, 42);
    expectPartition(folds, 10);
    expect(folds.map((f) => f.test.length)).toEqual([4, 3, 3]);
    expect(tests(folds)).not.toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });

  it('is reproducible for a seed and changes with the seed', () => {
    expect(tests(kFold(50, 5, 1))).toEqual(tests(kFold(50, 5, 1)));
    expect(tests(kFold(50, 5, 1))).not.toEqual(tests(kFold(50, 5, 2)));
  });

  it('contiguous k-fold tests consecutive blocks, larger blocks first (sklearn KFold)', () => {
    const folds = contiguousKFold(7, 3);
    expectPartition(folds, 7);
    expect(tests(folds)).toEqual([[0, 1, 2], [3, 4], [5, 6]]);
  });

  it('rejects impossible fold counts', () => {
    expect(() => kFold(3, 5, 0)).toThrow('Cannot make 5 folds from 3 rows');
    expect(() => contiguousKFold(10, 1)).toThrow(/≥ 2/);
  });
});

describe('stratifiedKFold', () => {
  it('spreads each class evenly over folds', () => {
    const labels = Int32Array.from([...new Array<number>(10).fill(0), ...new Array<number>(5).fill(1)]);
    const folds = stratifiedKFold(labels, 5, 3);
    expectPartition(folds, 15);
    for (const f of folds) {
      expect(Array.from(f.test).filter((i) => labels[i] === 0)).toHaveLength(2);
      expect(Array.from(f.test).filter((i) => labels[i] === 1)).toHaveLength(1);
    }
  });

  it('balances classes and fold sizes when counts do not divide (sklearn allocation)', () => {
    // Sorted labels AAAAAAABBBB dealt round-robin to 3 folds: A → 3,2,2 and B → 1,2,1; sizes 4,4,3.
    const labels = Int32Array.from([0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0]);
    const folds = stratifiedKFold(labels, 3, 9);
    expectPartition(folds, 11);
    const count = (f: Fold, c: number) => Array.from(f.test).filter((i) => labels[i] === c).length;
    expect(folds.map((f) => count(f, 0))).toEqual([3, 2, 2]);
    expect(folds.map((f) => count(f, 1))).toEqual([1, 2, 1]);
    expect(tests(stratifiedKFold(labels, 3, 9))).toEqual(tests(folds));
  });

  it('names a class too small for the number of folds', () => {
    const labels = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 0]);
    expect(() => stratifiedKFold(labels, 5, 0, ['inactive', 'active'])).toThrow(
      'Class "active" has only 2 examples; it cannot appear in all 5 folds. Use fewer folds or merge rare classes.',
    );
    expect(() => stratifiedKFold(Int32Array.from([0, 0, 1]), 2, 0)).toThrow('Class "1" has only 1 example;');
  });
});

describe('columnFolds', () => {
  it('makes one fold per distinct value, in natural order', () => {
    expect(tests(columnFolds(['b', 'a', 'b', 'c', 'a'], 'family'))).toEqual([[1, 4], [0, 2], [3]]);
    // 1 and "1" are the same fold; numbers sort numerically (10 after 2).
    const numeric = columnFolds([2, 1, '1', 10, 2], 'fold');
    expectPartition(numeric, 5);
    expect(tests(numeric)).toEqual([[1, 2], [0, 4], [3]]);
  });

  it('treats a train/test column as a single split, validation rows joining training', () => {
    const folds = columnFolds(['train', 'Test', 'validation', 'train ', 'test'], 'set');
    expect(folds).toHaveLength(1);
    expect(Array.from(folds[0]!.train)).toEqual([0, 2, 3]);
    expect(Array.from(folds[0]!.test)).toEqual([1, 4]);
    expect(() => columnFolds(['train', 'train'], 'set')).toThrow('Column "set" has no "test" rows');
  });

  it('names rows without a value, and refuses a single value', () => {
    expect(() => columnFolds(['a', 'b', null, 'a'], 'fold')).toThrow('Row 3 has no value in column "fold"');
    expect(() => columnFolds([null, '', 'a', null], 'fold')).toThrow('Rows 1, 2 and 4 have no value');
    expect(() => columnFolds(['x', 'x'], 'fold')).toThrow('Column "fold" has only one value ("x")');
  });
});

describe('positionFolds (ProteinGym)', () => {
  // Variant first positions: 5, 1, 3, 9, 7, 3 (a double mutant at 3 and 8 follows 3), 2.
  const positions = [[5], [1], [3], [9], [7], [8, 3], [2]];

  it('contiguous: sorted distinct positions cut into k nearly equal blocks', () => {
    // Distinct positions 1,2,3,5,7,9 → blocks {1,2}, {3,5}, {7,9}.
    const folds = positionFolds(positions, 3, 'contiguous');
    expectPartition(folds, 7);
    expect(tests(folds)).toEqual([[1, 6], [0, 2, 5], [3, 4]]);
    // 7 distinct positions into 3 blocks of 3, 2, 2 positions.
    expect(tests(positionFolds([[10], [20], [30], [40], [50], [60], [70]], 3, 'contiguous'))).toEqual([[0, 1, 2], [3, 4], [5, 6]]);
  });

  it('modulo: position p goes to fold p mod k', () => {
    // 5→2, 1→1, 3→0, 9→0, 7→1, 3→0, 2→2.
    const folds = positionFolds(positions, 3, 'modulo');
    expectPartition(folds, 7);
    expect(tests(folds)).toEqual([[2, 3, 5], [1, 4], [0, 6]]);
  });

  it('refuses variants without positions and folds that would be empty', () => {
    expect(() => positionFolds([[1], [], [3]], 2, 'modulo')).toThrow('Variant in row 2 has no mutated position');
    expect(() => positionFolds([[2], [4], [6]], 2, 'modulo')).toThrow('fold 2 would be empty');
    expect(() => positionFolds([[1], [2], [2]], 3, 'contiguous')).toThrow('Only 2 distinct mutated positions');
  });
});

describe('describeScheme', () => {
  it('has one plain sentence per scheme', () => {
    const schemes: SplitScheme[] = ['random', 'stratified', 'column', 'contiguous', 'modulo'];
    for (const scheme of schemes) expect(describeScheme(scheme)).toMatch(/^[A-Z][^.]*\.$/);
    expect(describeScheme('random')).toContain('overstate');
  });
});

describe('validateFolds', () => {
  const fold = (train: number[], test: number[]): Fold => ({ train: Int32Array.from(train), test: Int32Array.from(test) });
  const labels = Int32Array.from([0, 0, 0, 1, 1, 0]);

  it('names a class that a fold never sees in training', () => {
    const folds = [fold([2, 3, 4, 5], [0, 1]), fold([0, 1, 3, 4], [2, 5]), fold([0, 1, 2, 5], [3, 4])];
    expect(() => validateFolds(folds, labels, 'classification', ['inactive', 'active'])).toThrow(
      "Fold 3 has no examples of class 'active' in its training rows",
    );
  });

  it('refuses empty folds', () => {
    expect(() => validateFolds([fold([0, 1], []), fold([], [0, 1])], labels, 'classification')).toThrow('Fold 1 has no test rows');
    expect(() => validateFolds([fold([], [0, 1])], labels, 'regression')).toThrow('The test split has no training rows');
  });

  it('warns (does not throw) when a test fold lacks a class or regression scores are undefined', () => {
    const warnings = validateFolds([fold([0, 3, 4, 5], [1, 2]), fold([1, 2, 3, 5], [0, 4])], labels, 'classification', ['inactive', 'active']);
    expect(warnings).toEqual(["Fold 1 has no examples of class 'active' in its test rows; AUROC and AUPRC for that class are undefined in this fold."]);
    const y = Float64Array.from([1, 2, 3, 3]);
    expect(validateFolds([fold([0, 1], [2, 3]), fold([1, 2, 3], [0])], y, 'regression')).toEqual([
      'Fold 1 has the same value in every test row; Spearman and Pearson are undefined for it.',
      'Fold 2 has only 1 test row; correlations (Spearman, Pearson) and R² are undefined for it.',
    ]);
  });
});

describe('scalers', () => {
  const train = matrix([
    [1, 10],
    [2, 10],
    [3, 10],
  ]);
  const test = matrix([[4, 12]]);

  it('standard: test rows use the training mean and population sd; constant columns scale 1', () => {
    // Column 0: mean 2, population sd √(2/3). Column 1: constant 10 → (x − 10)/1.
    const scaler = fitScaler(train, 'standard');
    const sd0 = Math.sqrt(2 / 3);
    const out = rowsOf(scaler.transform(test))[0]!;
    expect(out[0]).toBeCloseTo(2 / sd0, 12);
    expect(out[1]).toBe(2);
    expect(rowsOf(scaler.transform(train)).map((r) => r[0]!)).toEqual([-1 / sd0, 0, 1 / sd0].map((v) => expect.closeTo(v, 12)));
  });

  it('standard: a column constant up to float rounding is not blown up', () => {
    const scaler = fitScaler(matrix([[0.1], [0.1], [0.1]]), 'standard');
    expect(scaler.toJSON().scale).toEqual([1]);
  });

  it('minmax: training rows map to [0, 1], test rows use the training range; constant → 0', () => {
    const scaler = fitScaler(
      matrix([
        [1, 10],
        [3, 10],
      ]),
      'minmax',
    );
    expect(rowsOf(scaler.transform(matrix([[1, 10], [3, 10]])))).toEqual([
      [0, 0],
      [1, 0],
    ]);
    // A constant column gets range 1 (sklearn), so test rows are only shifted by the training min.
    expect(rowsOf(scaler.transform(matrix([[2, 11], [5, 9]])))).toEqual([
      [0.5, 1],
      [2, -1],
    ]);
  });

  it('none copies; toJSON names the scaling; wrong column counts are refused', () => {
    const none = fitScaler(train, 'none').transform(train);
    expect(none.data).not.toBe(train.data);
    expect(rowsOf(none)).toEqual(rowsOf(train));
    const scaler = fitScaler(train, 'standard');
    const json = JSON.parse(JSON.stringify(scaler)) as ReturnType<typeof scaler.toJSON>;
    expect(json.scaling).toBe('standard');
    expect(() => scaler.transform(matrix([[1, 2, 3]]))).toThrow('fitted on 2 columns but got 3');
  });
});
