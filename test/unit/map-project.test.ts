/**
 * map/project: PCA scores against an independent power iteration on the covariance, UMAP's
 * seeding (same seed → same map) and that it keeps well-separated clusters apart, and
 * cancelling between chunks of work.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { principalComponents, project, type DenseMatrix, type ProjectionHooks, type ProjectionSettings } from '../../src-main/map/project';

const quiet: ProjectionHooks = { progress: () => undefined, checkCancelled: () => undefined, yieldNow: () => Promise.resolve() };
const settings = (over: Partial<ProjectionSettings> = {}): ProjectionSettings => ({ method: 'umap', nNeighbors: 15, minDist: 0.1, nEpochs: 80, seed: 7, pcaDims: 50, ...over });

function gaussian(rng: ReturnType<typeof createRng>): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** Rows spread mostly along one direction, less along a second, and a little noise. */
function anisotropic(rows: number, cols: number, seed = 1): DenseMatrix {
  const rng = createRng(seed);
  const u = Array.from({ length: cols }, () => gaussian(rng));
  const v = Array.from({ length: cols }, () => gaussian(rng));
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const a = 5 * gaussian(rng);
    const b = 2 * gaussian(rng);
    for (let c = 0; c < cols; c++) data[r * cols + c] = 3 + a * u[c]! + b * v[c]! + 0.1 * gaussian(rng);
  }
  return { data, rows, cols };
}

/** The top eigenvectors of the sample covariance by power iteration with deflation (float64, no library). */
function powerIteration(m: DenseMatrix, k: number): { vectors: number[][]; values: number[]; means: number[] } {
  const { rows, cols, data } = m;
  const means = Array.from({ length: cols }, (_, c) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += data[r * cols + c]!;
    return s / rows;
  });
  const cov = Array.from({ length: cols }, (_, i) =>
    Array.from({ length: cols }, (_, j) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += (data[r * cols + i]! - means[i]!) * (data[r * cols + j]! - means[j]!);
      return s / (rows - 1);
    }),
  );
  const vectors: number[][] = [];
  const values: number[] = [];
  for (let n = 0; n < k; n++) {
    let v = Array.from({ length: cols }, (_, i) => 1 + i);
    let lambda = 0;
    for (let it = 0; it < 2000; it++) {
      const w = cov.map((row) => row.reduce((s, x, j) => s + x * v[j]!, 0));
      lambda = Math.hypot(...w);
      v = w.map((x) => x / lambda);
    }
    vectors.push(v);
    values.push(lambda);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) cov[i]![j]! -= lambda * v[i]! * v[j]!;
  }
  return { vectors, values, means };
}

describe('PCA', () => {
  it('gives the scores of the two leading covariance eigenvectors, oriented by the largest loading', async () => {
    const m = anisotropic(400, 6);
    const { scores, explained } = await principalComponents(m, 2, quiet);
    const reference = powerIteration(m, 2);
    for (let j = 0; j < 2; j++) {
      const v = reference.vectors[j]!;
      const largest = v.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
      const sign = Math.sign(largest);
      for (let r = 0; r < m.rows; r += 37) {
        let expected = 0;
        for (let c = 0; c < m.cols; c++) expected += (m.data[r * m.cols + c]! - reference.means[c]!) * v[c]! * sign;
        expect(scores[r * 2 + j]).toBeCloseTo(expected, 3);
      }
    }
    expect(explained[0]).toBeGreaterThan(explained[1]!);
    expect(explained[0]! / explained[1]!).toBeCloseTo(reference.values[0]! / reference.values[1]!, 3);
  });

  it('writes [rows, 2] float32 coordinates through project()', async () => {
    const m = anisotropic(50, 4);
    const result = await project(m, settings({ method: 'pca' }), quiet);
    expect(result.coords).toBeInstanceOf(Float32Array);
    expect(result.coords.length).toBe(100);
    expect(result.explainedVariance).toHaveLength(2);
  });

  it('refuses matrices with too few rows or with non-finite values', async () => {
    await expect(project({ data: new Float32Array(4), rows: 2, cols: 2 }, settings(), quiet)).rejects.toThrow(/at least 3/);
    const bad = anisotropic(10, 3);
    bad.data[7] = Number.NaN;
    await expect(project(bad, settings({ method: 'pca' }), quiet)).rejects.toThrow(/Row 3/);
  });
});

describe('PCA at D 1,280 (ESM-2 650M width)', () => {
  const D = 1280;
  const ROWS = 240;

  /** Rows along two planted directions (variances 25 and 4) plus small noise in every dimension. */
  function wide(): DenseMatrix {
    return anisotropic(ROWS, D, 5);
  }

  /**
   * The top-2 eigenvectors of the sample covariance by orthogonal (subspace) iteration: plain
   * float64 loops, no project code. Converges like (λ3/λ2)^t; here λ3/λ2 is tiny.
   */
  function subspaceIteration(m: DenseMatrix): number[][] {
    const { rows, cols, data } = m;
    const means = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) means[c]! += data[r * cols + c]! / rows;
    const centred = Float64Array.from(data, (x, i) => x - means[i % cols]!);
    // C·v computed as Xᵀ(X v) / (n − 1): the covariance is never formed.
    const apply = (v: number[]): number[] => {
      const xv = new Float64Array(rows);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) xv[r]! += centred[r * cols + c]! * v[c]!;
      const out = new Array<number>(cols).fill(0);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c]! += (centred[r * cols + c]! * xv[r]!) / (rows - 1);
      return out;
    };
    let basis = [Array.from({ length: cols }, (_, i) => Math.sin(i + 1)), Array.from({ length: cols }, (_, i) => Math.cos(3 * i))];
    for (let it = 0; it < 60; it++) {
      const images = basis.map(apply);
      const first = normalise(images[0]!);
      const along = images[1]!.reduce((s, x, i) => s + x * first[i]!, 0);
      basis = [first, normalise(images[1]!.map((x, i) => x - along * first[i]!))];
    }
    return basis;
  }

  function normalise(v: number[]): number[] {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  }

  it('agrees with an independent subspace iteration: same 2-D subspace, same oriented components', async () => {
    const m = wide();
    const { scores, explained } = await principalComponents(m, 2, quiet);
    const reference = subspaceIteration(m);
    // Scores = X_c · loading: compare ours with the reference loadings' (oriented the same way).
    const means = new Float64Array(D);
    for (let r = 0; r < ROWS; r++) for (let c = 0; c < D; c++) means[c]! += m.data[r * D + c]! / ROWS;
    for (let j = 0; j < 2; j++) {
      const v = reference[j]!;
      const largest = v.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
      const expected = Array.from({ length: ROWS }, (_, r) => {
        let s = 0;
        for (let c = 0; c < D; c++) s += (m.data[r * D + c]! - means[c]!) * v[c]!;
        return s * Math.sign(largest);
      });
      const ours = Array.from({ length: ROWS }, (_, r) => scores[r * 2 + j]!);
      const scale = Math.max(...expected.map(Math.abs));
      for (let r = 0; r < ROWS; r++) expect(Math.abs(ours[r]! - expected[r]!)).toBeLessThan(1e-6 * scale);
    }
    // The two components carry nearly all the variance, the first ~6× the second.
    expect(explained[0]! + explained[1]!).toBeGreaterThan(0.9);
    expect(explained[0]! / explained[1]!).toBeGreaterThan(3);
  }, 60_000);

  it('can be cancelled while the eigenvectors are being found', async () => {
    const m = wide();
    const messages: string[] = [];
    let solving = false;
    let checksWhileSolving = 0;
    const hooks: ProjectionHooks = {
      progress: (_fraction, message) => {
        messages.push(message);
        if (/Eigen-decomposition/.test(message)) solving = true;
      },
      checkCancelled: () => {
        if (solving && ++checksWhileSolving >= 2) throw new Error('Cancelled');
      },
      yieldNow: () => Promise.resolve(),
    };
    await expect(project(m, settings({ method: 'pca' }), hooks)).rejects.toThrow('Cancelled');
    expect(checksWhileSolving).toBe(2);
    expect(messages).not.toContain('Principal components done');
  }, 60_000);
});

describe('UMAP', () => {
  /** Three tight clusters far apart in 10 dimensions. */
  function clusters(perCluster: number): { m: DenseMatrix; cluster: number[] } {
    const rng = createRng(11);
    const cols = 10;
    const cluster: number[] = [];
    const data = new Float32Array(perCluster * 3 * cols);
    for (let r = 0; r < perCluster * 3; r++) {
      const k = r % 3;
      cluster.push(k);
      for (let c = 0; c < cols; c++) data[r * cols + c] = (c === k ? 20 : 0) + gaussian(rng);
    }
    return { m: { data, rows: perCluster * 3, cols }, cluster };
  }

  it('is reproducible with a seed and keeps separate clusters apart', async () => {
    const { m, cluster } = clusters(60);
    const a = await project(m, settings(), quiet);
    const b = await project(m, settings(), quiet);
    expect(Array.from(a.coords)).toEqual(Array.from(b.coords));
    const other = await project(m, settings({ seed: 8 }), quiet);
    expect(Array.from(other.coords)).not.toEqual(Array.from(a.coords));
    // Each point's nearest neighbour on the map belongs to its own cluster.
    let agree = 0;
    for (let i = 0; i < m.rows; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < m.rows; j++) {
        if (j === i) continue;
        const d = (a.coords[i * 2]! - a.coords[j * 2]!) ** 2 + (a.coords[i * 2 + 1]! - a.coords[j * 2 + 1]!) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      if (cluster[best] === cluster[i]) agree++;
    }
    expect(agree / m.rows).toBeGreaterThan(0.97);
  });

  it('reduces wide rows with PCA first and reports progress up to the last epoch', async () => {
    const { m } = clusters(20);
    const messages: string[] = [];
    const fractions: number[] = [];
    await project(m, settings({ pcaDims: 4, nEpochs: 20 }), { ...quiet, progress: (f, message) => (fractions.push(f), messages.push(message)) });
    expect(messages.some((t) => /Eigen-decomposition/.test(t))).toBe(true);
    expect(messages.at(-1)).toMatch(/epoch 20 of 20/);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
  });

  it('stops between epochs when cancelled', async () => {
    const { m } = clusters(30);
    let checks = 0;
    const cancelling: ProjectionHooks = {
      ...quiet,
      checkCancelled: () => {
        if (++checks > 3) throw new Error('Cancelled');
      },
    };
    await expect(project(m, settings({ nEpochs: 500 }), cancelling)).rejects.toThrow('Cancelled');
    expect(checks).toBe(4);
  });
});
