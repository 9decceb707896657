// Tests for embeddings/compress: SWAT's per-protein compressions. Expectations are computed
// here independently (plain double sums, a plain Jacobi eigen-solver), never with the module's
// own helpers.
import { describe, expect, it } from 'vitest';
import { COMPRESSION_INFO, compressionName, parseCompression, type Compression } from '../../src-main/core/compression';
import { compress, outputLength, principalComponents } from '../../src-main/embeddings/compress';
import { topEigenpairs } from '../../src-main/learn/eigen';

// ---------------------------------------------------------------------------------------------
// Independent helpers

/** xorshift32, different from the module's generator on purpose. */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const random = seeded(seed);
  return Float32Array.from({ length: rows * cols }, () => random() * 2 - 1);
}

/** Unit vector with random direction, optionally made orthogonal to `against`. */
function randomUnit(length: number, random: () => number, against: number[][] = []): number[] {
  const v = Array.from({ length }, () => random() * 2 - 1);
  for (const w of against) {
    const along = dotArrays(v, w);
    for (let i = 0; i < length; i += 1) v[i]! -= along * w[i]!;
  }
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const dotArrays = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i]! * b[i]!;
  return sum;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dotArrays(a, a));

/** SWAT's PCA input written out plainly: C[d][p], each dimension scaled over positions, then positions centered. */
function scaledCentered(x: Float32Array, residues: number, dims: number): number[][] {
  const rows: number[][] = [];
  for (let d = 0; d < dims; d += 1) {
    const values = Array.from({ length: residues }, (_, p) => x[p * dims + d]!);
    const min = Math.min(...values);
    const max = Math.max(...values);
    rows.push(values.map((v) => (max > min ? (2 * (v - min)) / (max - min) - 1 : 0)));
  }
  for (let p = 0; p < residues; p += 1) {
    const mean = rows.reduce((sum, row) => sum + row[p]!, 0) / dims;
    for (const row of rows) row[p]! -= mean;
  }
  return rows;
}

const project = (c: number[][], u: ArrayLike<number>) => c.map((row) => dotArrays(row, u));

/** CᵀC over positions [L × L]. */
function covariance(c: number[][], residues: number): number[][] {
  return Array.from({ length: residues }, (_, a) => Array.from({ length: residues }, (_, b) => c.reduce((sum, row) => sum + row[a]! * row[b]!, 0)));
}

/** Cyclic Jacobi: all eigenpairs of a small symmetric matrix, sorted by descending eigenvalue. */
function jacobiEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep += 1) {
    let off = 0;
    for (let p = 0; p < n; p += 1) for (let q = p + 1; q < n; q += 1) off += a[p]![q]! ** 2;
    if (off < 1e-40) break;
    for (let p = 0; p < n; p += 1) {
      for (let q = p + 1; q < n; q += 1) {
        if (a[p]![q] === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k += 1) {
          const [akp, akq] = [a[k]![p]!, a[k]![q]!];
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k += 1) {
          const [apk, aqk] = [a[p]![k]!, a[q]![k]!];
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k += 1) {
          const [vkp, vkq] = [v[k]![p]!, v[k]![q]!];
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j]![j]! - a[i]![i]!);
  return { values: order.map((i) => a[i]![i]!), vectors: order.map((i) => v.map((row) => row[i]!)) };
}

/** The documented convention: the largest-magnitude loading is positive. */
function withConvention(u: number[]): number[] {
  let best = 0;
  for (let i = 1; i < u.length; i += 1) if (Math.abs(u[i]!) > Math.abs(u[best]!)) best = i;
  return u[best]! < 0 ? u.map((x) => -x) : u;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i += 1) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

// ---------------------------------------------------------------------------------------------
// Names and UI text

describe('compression names', () => {
  it('round-trips every form between name and value', () => {
    for (const name of ['mean', 'bos', 'max', 'pca1', 'pca2', 'idct_5x44', 'idct_1x1', 'idct_12x3', 'idct_100x1280']) {
      expect(compressionName(parseCompression(name))).toBe(name);
    }
    const values: Compression[] = [{ kind: 'mean' }, { kind: 'bos' }, { kind: 'max' }, { kind: 'pca', component: 1 }, { kind: 'pca', component: 2 }, { kind: 'idct', n: 5, m: 44 }];
    for (const value of values) expect(parseCompression(compressionName(value))).toEqual(value);
  });

  it('names the documented examples', () => {
    expect(compressionName({ kind: 'idct', n: 5, m: 44 })).toBe('idct_5x44');
    expect(parseCompression('idct_5x44')).toEqual({ kind: 'idct', n: 5, m: 44 });
    expect(parseCompression('pca2')).toEqual({ kind: 'pca', component: 2 });
  });

  it('rejects bad names with a RangeError that quotes the name', () => {
    const bad = ['', 'MEAN', ' mean', 'avg', 'pca', 'pca0', 'pca3', 'pca12', 'idct', 'idct_5', 'idct_5x', 'idct_x4', 'idct_0x4', 'idct_4x0', 'idct_05x44', 'idct_5x44 ', 'idct_-1x2', 'idct_5.5x2', 'idct_5X44', 'idct_99999999999999999999x1'];
    for (const name of bad) {
      expect(() => parseCompression(name), name).toThrow(RangeError);
    }
    expect(() => parseCompression('pca3')).toThrow(/"pca3"/);
    expect(() => parseCompression('pca3')).toThrow(/idct_<n>x<m>/);
  });

  it('refuses to name invalid values', () => {
    expect(() => compressionName({ kind: 'idct', n: 0, m: 4 })).toThrow(RangeError);
    expect(() => compressionName({ kind: 'idct', n: 2.5, m: 4 })).toThrow(RangeError);
    expect(() => compressionName({ kind: 'pca', component: 3 } as unknown as Compression)).toThrow(RangeError);
  });

  it('has a label and a one-sentence explanation for every kind', () => {
    expect(Object.keys(COMPRESSION_INFO).sort()).toEqual(['bos', 'idct', 'max', 'mean', 'pca']);
    for (const { label, explanation } of Object.values(COMPRESSION_INFO)) {
      expect(label.length).toBeGreaterThan(0);
      expect(explanation).toMatch(/^[A-Z].*\.$/);
      expect(explanation.slice(0, -1)).not.toMatch(/[.!?]\s/);
    }
  });
});

describe('outputLength', () => {
  it('is D for the per-dimension summaries and n·m for iDCT, whatever the length', () => {
    for (const name of ['mean', 'bos', 'max', 'pca1', 'pca2']) expect(outputLength(parseCompression(name), 17, 320)).toBe(320);
    expect(outputLength({ kind: 'idct', n: 5, m: 44 }, 17, 320)).toBe(220);
    expect(outputLength({ kind: 'idct', n: 5, m: 44 }, 2, 8)).toBe(220);
  });

  it('rejects shapes that are not whole positive numbers', () => {
    expect(() => outputLength({ kind: 'mean' }, 0, 4)).toThrow(RangeError);
    expect(() => outputLength({ kind: 'mean' }, 3, 1.5)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// mean / max / bos

describe('mean, max and bos', () => {
  // L = 3 residues × D = 4 dims.
  const x = Float32Array.from([1, -2, 3, 0.5, 4, 5, -6, 0.5, -1, 2, 0, 0.5]);

  it('averages over residues', () => {
    expect(Array.from(compress({ kind: 'mean' }, x, 3, 4))).toEqual([4 / 3, 5 / 3, -1, 0.5].map(Math.fround));
  });

  it('takes the elementwise max over residues', () => {
    expect(Array.from(compress({ kind: 'max' }, x, 3, 4))).toEqual([4, 5, 3, 0.5]);
    expect(Array.from(compress({ kind: 'max' }, Float32Array.from([-3, -1, -2, -5]), 2, 2))).toEqual([-2, -1]);
  });

  it('returns a single residue unchanged', () => {
    const one = Float32Array.from([0.25, -7, 3]);
    expect(Array.from(compress({ kind: 'mean' }, one, 1, 3))).toEqual([0.25, -7, 3]);
    expect(Array.from(compress({ kind: 'max' }, one, 1, 3))).toEqual([0.25, -7, 3]);
  });

  it('returns a copy of the <cls> vector for bos', () => {
    const bos = Float32Array.from([9, 8, 7, 6]);
    const out = compress({ kind: 'bos' }, x, 3, 4, bos);
    expect(Array.from(out)).toEqual([9, 8, 7, 6]);
    expect(out).not.toBe(bos);
  });

  it('explains what is missing when bos has no vector or the wrong one', () => {
    expect(() => compress({ kind: 'bos' }, x, 3, 4)).toThrow(/bosVector/);
    expect(() => compress({ kind: 'bos' }, x, 3, 4, new Float32Array(3))).toThrow(RangeError);
  });

  it('rejects a matrix whose length does not match residues × dims', () => {
    expect(() => compress({ kind: 'mean' }, x, 4, 4)).toThrow(/12 values, expected 4 residues × 4 dims = 16/);
  });
});

// ---------------------------------------------------------------------------------------------
// iDCT

/** The 2-D orthonormal DCT-II as a plain double sum over every (residue, dim). */
function dctDirect(x: Float32Array, residues: number, dims: number, n: number, m: number): number[] {
  const basis = (k: number, j: number, size: number) => (k >= size ? 0 : Math.sqrt((k === 0 ? 1 : 2) / size) * Math.cos((Math.PI * (2 * j + 1) * k) / (2 * size)));
  const out: number[] = [];
  for (let k = 0; k < n; k += 1) {
    for (let q = 0; q < m; q += 1) {
      let sum = 0;
      for (let j = 0; j < residues; j += 1) for (let d = 0; d < dims; d += 1) sum += x[j * dims + d]! * basis(k, j, residues) * basis(q, d, dims);
      out.push(sum);
    }
  }
  return out;
}

describe('iDCT', () => {
  it('matches a direct double sum, including L < n and D < m (zero-padded)', () => {
    const shapes: [number, number, number, number][] = [
      [7, 5, 3, 4],
      [10, 16, 5, 8],
      [33, 20, 5, 20],
      [3, 6, 5, 4], // L < n
      [4, 3, 2, 6], // D < m
      [1, 4, 5, 2], // a single residue
    ];
    for (const [residues, dims, n, m] of shapes) {
      const x = randomMatrix(residues, dims, residues * 100 + dims);
      const out = compress({ kind: 'idct', n, m }, x, residues, dims);
      expect(out).toHaveLength(n * m);
      expectClose(out, dctDirect(x, residues, dims, n, m), 1e-5);
    }
  });

  it('pads the coefficients a short protein does not have with exact zeros', () => {
    const out = compress({ kind: 'idct', n: 5, m: 3 }, randomMatrix(2, 4, 7), 2, 4);
    expect(Array.from(out.slice(2 * 3))).toEqual(new Array(3 * 3).fill(0));
    expect(out.slice(0, 2 * 3).some((v) => v !== 0)).toBe(true);
  });

  it('puts a constant matrix entirely into the first coefficient: c·√(L·D)', () => {
    const out = compress({ kind: 'idct', n: 3, m: 3 }, new Float32Array(6 * 4).fill(2), 6, 4);
    expect(out[0]).toBeCloseTo(2 * Math.sqrt(24), 5);
    for (const v of out.slice(1)) expect(Math.abs(v)).toBeLessThan(1e-5);
  });

  it('preserves the sum of squares with all coefficients (orthonormal, Parseval)', () => {
    for (const [residues, dims] of [
      [9, 7],
      [16, 24],
      [1, 5],
    ] as [number, number][]) {
      const x = randomMatrix(residues, dims, residues + dims);
      const out = compress({ kind: 'idct', n: residues, m: dims }, x, residues, dims);
      const energyIn = dotArrays(x, x);
      expect(Math.abs(dotArrays(out, out) - energyIn) / energyIn).toBeLessThan(1e-6);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// PCA

describe('per-protein PCA', () => {
  // Both solver sides: L ≤ D uses the [L × L] covariance, L > D the [D × D] Gram matrix.
  const shapes: [number, number][] = [
    [12, 30],
    [40, 15],
    [25, 25],
  ];

  it('gives unit, orthogonal loadings whose scores are the centered matrix times the loading', () => {
    for (const [residues, dims] of shapes) {
      const x = randomMatrix(residues, dims, residues * 7 + dims);
      const c = scaledCentered(x, residues, dims);
      const [pc1, pc2] = principalComponents(x, residues, dims);
      expect(norm(pc1.loading)).toBeCloseTo(1, 12);
      expect(norm(pc2.loading)).toBeCloseTo(1, 12);
      expect(Math.abs(dotArrays(pc1.loading, pc2.loading))).toBeLessThan(1e-10);
      expectClose(pc1.scores, project(c, pc1.loading), 1e-12);
      expectClose(pc2.scores, project(c, pc2.loading), 1e-12);
      expectClose(compress({ kind: 'pca', component: 1 }, x, residues, dims), pc1.scores, 1e-5);
      expectClose(compress({ kind: 'pca', component: 2 }, x, residues, dims), pc2.scores, 1e-5);
    }
  });

  it('maximizes variance: pc1 ≥ pc2 ≥ any direction orthogonal to pc1, pc1 ≥ any direction', () => {
    const random = seeded(99);
    for (const [residues, dims] of shapes) {
      const x = randomMatrix(residues, dims, residues * 3 + dims);
      const c = scaledCentered(x, residues, dims);
      const [pc1, pc2] = principalComponents(x, residues, dims);
      const variance = (u: ArrayLike<number>) => dotArrays(project(c, u), project(c, u));
      const v1 = variance(pc1.loading);
      const v2 = variance(pc2.loading);
      expect(v1).toBeGreaterThanOrEqual(v2);
      for (let trial = 0; trial < 50; trial += 1) {
        expect(variance(randomUnit(residues, random))).toBeLessThanOrEqual(v1 * (1 + 1e-12));
        expect(variance(randomUnit(residues, random, [Array.from(pc1.loading)]))).toBeLessThanOrEqual(v2 * (1 + 1e-12));
      }
    }
  });

  it('agrees with an independent Jacobi eigen-solver, with the sign convention applied', () => {
    for (const [residues, dims] of shapes) {
      const x = randomMatrix(residues, dims, residues * 11 + dims);
      const c = scaledCentered(x, residues, dims);
      const reference = jacobiEigen(covariance(c, residues));
      const components = principalComponents(x, residues, dims);
      for (const k of [0, 1]) {
        const u = withConvention(reference.vectors[k]!);
        expect(components[k]!.eigenvalue).toBeCloseTo(reference.values[k]!, 8);
        expectClose(components[k]!.loading, u, 1e-8);
        expectClose(compress({ kind: 'pca', component: (k + 1) as 1 | 2 }, x, residues, dims), project(c, u), 1e-5);
      }
    }
  });

  it('reconstructs the centered scaled matrix from all min(D, L) components', () => {
    // L = 2 (covariance side): two components span everything. D = 2 (Gram side): centering
    // over two samples leaves rank 1, so pc1 reconstructs alone and pc2 is all zeros.
    for (const [residues, dims] of [
      [2, 9],
      [9, 2],
    ] as [number, number][]) {
      const x = randomMatrix(residues, dims, 5 + residues);
      const c = scaledCentered(x, residues, dims);
      const [pc1, pc2] = principalComponents(x, residues, dims);
      for (let d = 0; d < dims; d += 1) {
        for (let p = 0; p < residues; p += 1) {
          const rebuilt = pc1.scores[d]! * pc1.loading[p]! + pc2.scores[d]! * pc2.loading[p]!;
          expect(rebuilt).toBeCloseTo(c[d]![p]!, 10);
        }
      }
      if (dims === 2) {
        expect(Array.from(pc2.scores)).toEqual([0, 0]);
        expect(pc2.loading.every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('follows the documented sign convention: the largest-magnitude loading is positive', () => {
    for (const [residues, dims] of shapes) {
      for (const component of principalComponents(randomMatrix(residues, dims, residues + 13 * dims), residues, dims)) {
        const u = Array.from(component.loading);
        const largest = u.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
        expect(largest).toBeGreaterThan(0);
      }
    }
  });

  it('does not depend on the arbitrary eigenvector sign: reordering inputs leaves the output unchanged', () => {
    for (const [residues, dims] of shapes) {
      const x = randomMatrix(residues, dims, residues * 5 + dims);
      for (const component of [1, 2] as const) {
        const out = compress({ kind: 'pca', component }, x, residues, dims);
        // Reversed residue order: the same component, its loading reversed, the same scores.
        const reversed = new Float32Array(x.length);
        for (let p = 0; p < residues; p += 1) reversed.set(x.subarray(p * dims, (p + 1) * dims), (residues - 1 - p) * dims);
        expectClose(compress({ kind: 'pca', component }, reversed, residues, dims), out, 1e-5);
        // Dimensions in another order: the scores follow them.
        const order = Array.from({ length: dims }, (_, d) => (d * 7 + 3) % dims);
        if (new Set(order).size !== dims) throw new Error('test permutation is not a permutation');
        const permuted = new Float32Array(x.length);
        for (let p = 0; p < residues; p += 1) for (let d = 0; d < dims; d += 1) permuted[p * dims + d] = x[p * dims + order[d]!]!;
        expectClose(compress({ kind: 'pca', component }, permuted, residues, dims), order.map((d) => out[d]!), 1e-5);
        // Negating X negates the scaled matrix but not CᵀC: same loading, negated scores.
        expectClose(compress({ kind: 'pca', component }, x.map((v) => -v), residues, dims), Array.from(out, (v) => -v), 1e-5);
      }
    }
  });

  it('is unchanged by a positive affine change of any dimension (min-max scaling)', () => {
    const [residues, dims] = [15, 10];
    const x = randomMatrix(residues, dims, 21);
    const changed = x.map((v, i) => (i % dims === 3 ? 5 * v + 2 : v));
    expectClose(compress({ kind: 'pca', component: 1 }, changed, residues, dims), compress({ kind: 'pca', component: 1 }, x, residues, dims), 1e-5);
  });

  it('never produces NaN for constant dimensions, constant matrices, one residue or one dimension', () => {
    const withConstantDims = randomMatrix(8, 6, 3).map((v, i) => (i % 6 === 0 || i % 6 === 4 ? 0.7 : v));
    const cases: [Float32Array, number, number][] = [
      [withConstantDims, 8, 6],
      [new Float32Array(8 * 6).fill(1.5), 8, 6],
      [randomMatrix(1, 6, 4), 1, 6],
      [randomMatrix(8, 1, 4), 8, 1],
    ];
    for (const [x, residues, dims] of cases) {
      for (const component of [1, 2] as const) {
        const out = compress({ kind: 'pca', component }, x, residues, dims);
        expect(out).toHaveLength(dims);
        expect(out.every(Number.isFinite)).toBe(true);
      }
    }
    // Constant matrix, one residue, one dimension: nothing varies, so every score is 0.
    for (const [x, residues, dims] of cases.slice(1)) {
      expect(compress({ kind: 'pca', component: 1 }, x, residues, dims).every((v) => v === 0)).toBe(true);
    }
    // A constant dimension scales to 0, so its score is minus the mean row's projection.
    const c = scaledCentered(withConstantDims, 8, 6);
    const [pc1] = principalComponents(withConstantDims, 8, 6);
    expect(c[0]!.every((v, p) => v === c[4]![p])).toBe(true);
    expect(pc1.scores[0]).toBeCloseTo(dotArrays(c[0]!, pc1.loading), 12);
  });

  it('converges on a protein-sized matrix with a flat (hard) spectrum', () => {
    const [residues, dims] = [120, 320];
    const x = randomMatrix(residues, dims, 2024);
    const c = scaledCentered(x, residues, dims);
    const [pc1, pc2] = principalComponents(x, residues, dims);
    for (const pc of [pc1, pc2]) {
      // ‖CᵀC u − λu‖ ≤ 1e-9 λ1, with CᵀC u computed as Cᵀ(C u).
      const cu = project(c, pc.loading);
      const residual = Array.from({ length: residues }, (_, p) => c.reduce((sum, row, d) => sum + row[p]! * cu[d]!, 0) - pc.eigenvalue * pc.loading[p]!);
      expect(norm(residual)).toBeLessThan(1e-9 * pc1.eigenvalue);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Eigen-solver on close and repeated eigenvalues

/** Q diag(values) Qᵀ with Q a random orthogonal matrix (Gram–Schmidt of random columns). */
function withSpectrum(values: number[], seed: number): { matrix: Float64Array; vectors: number[][] } {
  const n = values.length;
  const random = seeded(seed);
  const vectors: number[][] = [];
  for (let i = 0; i < n; i += 1) vectors.push(randomUnit(n, random, vectors));
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) matrix[i * n + j] = values.reduce((sum, value, k) => sum + value * vectors[k]![i]! * vectors[k]![j]!, 0);
  }
  return { matrix, vectors };
}

describe('topEigenpairs', () => {
  const spectra: [string, number[]][] = [
    ['well separated', [10, 6, 3, 2, 1, 0.5, 0.1, 0]],
    ['nearly equal top two', [5, 5 * (1 - 1e-9), 4, 1, 1, 0.5, 0.2, 0.1, 0, 0]],
    ['exactly repeated top two', [3, 3, 1, 0.5, 0.25, 0.1, 0, 0, 0]],
    ['top three equal', [2, 2, 2, 1, 0.5, 0]],
  ];

  for (const [name, values] of spectra) {
    it(`returns orthonormal eigenvectors with the right eigenvalues: ${name}`, () => {
      const n = values.length;
      const { matrix, vectors: truth } = withSpectrum(values, n * 31 + values[0]!);
      const result = topEigenpairs(matrix, n, 2);
      expect(result.values[0]).toBeCloseTo(values[0]!, 10);
      expect(result.values[1]).toBeCloseTo(values[1]!, 10);
      const [u1, u2] = result.vectors as [Float64Array, Float64Array];
      expect(norm(u1)).toBeCloseTo(1, 12);
      expect(norm(u2)).toBeCloseTo(1, 12);
      expect(Math.abs(dotArrays(u1, u2))).toBeLessThan(1e-12);
      result.vectors.forEach((u, k) => {
        const mu = Array.from({ length: n }, (_, i) => dotArrays(matrix.subarray(i * n, (i + 1) * n), u));
        expect(norm(mu.map((v, i) => v - result.values[k]! * u[i]!))).toBeLessThan(1e-9 * values[0]!);
      });
      // The pair spans the top eigenspace (when λ2 > λ3), even if the individual vectors are a rotation within it.
      if (values[1]! > values[2]!) {
        for (const u of result.vectors) expect(dotArrays(u, truth[0]!) ** 2 + dotArrays(u, truth[1]!) ** 2).toBeCloseTo(1, 10);
      }
    });
  }

  it('is deterministic: the same input gives bit-identical output', () => {
    const { matrix } = withSpectrum([4, 4, 1, 0], 5);
    expect(topEigenpairs(matrix, 4, 2)).toEqual(topEigenpairs(matrix, 4, 2));
  });

  it('handles the zero matrix and 1 × 1 matrices', () => {
    const zero = topEigenpairs(new Float64Array(9), 3, 2);
    expect(zero.values).toEqual([0, 0]);
    expect(zero.vectors.every((u) => Math.abs(norm(u) - 1) < 1e-12)).toBe(true);
    const one = topEigenpairs(Float64Array.from([7]), 1, 2);
    expect(one.values).toEqual([7]);
    expect(Array.from(one.vectors[0]!, Math.abs)).toEqual([1]);
  });
});
