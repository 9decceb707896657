/**
 * learn/homology/partition — GraphPart's guarantee from the related pairs: the connected
 * components of the "related" graph (single linkage) are the clusters, and whole clusters are
 * packed into folds, so no pair of sequences in different folds is related. Clusters are packed
 * largest first into the fold that has the fewest sequences (the greedy rule of GraphPart's
 * initial assignment), which balances folds as far as cluster sizes allow. When one cluster
 * holds more than a fold's share, balance is impossible without breaking the guarantee: the
 * result says so in words, and with `removeToBalance` the fewest sequences that split the giant
 * cluster (a greedy vertex separator, as GraphPart removes sequences) are left out of every fold.
 * Pure numerics.
 */

export interface Partition {
  /** Cluster (connected component) of each sequence, numbered by decreasing size from 0. */
  cluster: Int32Array;
  clusterSizes: number[];
  /** Fold of each sequence (0-based); −1 for a sequence removed to restore balance. */
  fold: Int32Array;
  foldSizes: number[];
  /** Sequences removed (left out of every fold) to split a giant cluster. */
  removed: number[];
  /** Plain words when folds could not be balanced (or were balanced by removing sequences); null otherwise. */
  warning: string | null;
}

class UnionFind {
  parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    const parent = this.parent;
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** Components of the graph on n vertices with edges [a0, b0, a1, b1, …], numbered by decreasing size (ties: lowest member first). */
export function connectedComponents(n: number, pairs: ArrayLike<number>, skip?: Uint8Array): { cluster: Int32Array; sizes: number[] } {
  const uf = new UnionFind(n);
  for (let e = 0; e + 1 < pairs.length; e += 2) {
    const a = pairs[e]!;
    const b = pairs[e + 1]!;
    if (skip && (skip[a] || skip[b])) continue;
    uf.union(a, b);
  }
  const rootSize = new Map<number, number>();
  for (let i = 0; i < n; i++) if (!skip?.[i]) rootSize.set(uf.find(i), (rootSize.get(uf.find(i)) ?? 0) + 1);
  const roots = [...rootSize.keys()].sort((x, y) => rootSize.get(y)! - rootSize.get(x)! || x - y);
  const number = new Map(roots.map((root, i) => [root, i]));
  const cluster = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) if (!skip?.[i]) cluster[i] = number.get(uf.find(i))!;
  return { cluster, sizes: roots.map((root) => rootSize.get(root)!) };
}

/** Whole clusters into `shares.length` folds, largest first into the fold furthest below its share. */
function packClusters(cluster: Int32Array, sizes: readonly number[], shares: readonly number[]): { fold: Int32Array; foldSizes: number[] } {
  const total = sizes.reduce((a, b) => a + b, 0);
  const foldSizes = shares.map(() => 0);
  const foldOfCluster = sizes.map(() => 0);
  sizes.forEach((size, c) => {
    let bestFold = 0;
    let bestRoom = -Infinity;
    shares.forEach((share, f) => {
      const room = share * total - foldSizes[f]!;
      if (room > bestRoom + 1e-9) {
        bestRoom = room;
        bestFold = f;
      }
    });
    foldOfCluster[c] = bestFold;
    foldSizes[bestFold]! += size;
  });
  return { fold: Int32Array.from(cluster, (c) => (c < 0 ? -1 : foldOfCluster[c]!)), foldSizes };
}

/**
 * The fewest-we-can-find sequences whose removal leaves no cluster larger than `limit`: repeatedly
 * remove the member of the largest over-limit cluster with the most related partners inside it
 * (a hub), until it falls apart. Greedy, so not always the minimum (GraphPart's is greedy too).
 */
function separate(n: number, pairs: ArrayLike<number>, limit: number, maxRemoved: number): Uint8Array | null {
  const skip = new Uint8Array(n);
  let removed = 0;
  for (;;) {
    const { cluster, sizes } = connectedComponents(n, pairs, skip);
    if (sizes[0]! <= limit) return skip;
    if (removed >= maxRemoved) return null;
    const degree = new Int32Array(n);
    for (let e = 0; e + 1 < pairs.length; e += 2) {
      const a = pairs[e]!;
      const b = pairs[e + 1]!;
      if (skip[a] || skip[b] || cluster[a] !== 0) continue;
      degree[a]!++;
      degree[b]!++;
    }
    let hub = -1;
    for (let i = 0; i < n; i++) if (cluster[i] === 0 && (hub < 0 || degree[i]! > degree[hub]!)) hub = i;
    skip[hub] = 1;
    removed++;
  }
}

export interface PartitionOptions {
  /** Fractions of sequences per fold (k equal shares for k-fold CV; e.g. [0.8, 0.1, 0.1] for train/validation/test). */
  shares: readonly number[];
  /** Allowed excess of a fold over its share, as a fraction of the share (GraphPart's default is 0.05… we use 0.25). */
  tolerance?: number;
  /** Remove the fewest sequences needed to break clusters too large for balance (at most 10 % of them). */
  removeToBalance?: boolean;
}

export function partition(n: number, pairs: ArrayLike<number>, options: PartitionOptions): Partition {
  const tolerance = options.tolerance ?? 0.25;
  const shares = options.shares.map((s) => s / options.shares.reduce((a, b) => a + b, 0));
  const smallest = Math.min(...shares);
  let { cluster, sizes } = connectedComponents(n, pairs);
  let removed: number[] = [];
  let warning: string | null = null;
  const limit = Math.floor(smallest * n * (1 + tolerance));
  if (sizes[0]! > limit) {
    const percent = ((100 * sizes[0]!) / n).toFixed(0);
    const skip = options.removeToBalance ? separate(n, pairs, limit, Math.floor(n * 0.1)) : null;
    if (skip) {
      removed = [...skip.keys()].filter((i) => skip[i]);
      ({ cluster, sizes } = connectedComponents(n, pairs, skip));
      warning = `One cluster of related sequences held ${percent} % of the data, more than a fold can take; ${removed.length} sequences that linked it together were left out of every fold so the folds could be balanced.`;
    } else {
      warning = `One cluster of related sequences holds ${percent} % of the data (${sizes[0]} of ${n}), more than a fold's share, so the folds cannot be balanced without separating related sequences; folds are kept homology-safe and unequal.${options.removeToBalance ? ' Removing up to 10 % of the sequences did not break it up.' : ' Allow removing sequences to balance them.'}`;
    }
  }
  const { fold, foldSizes } = packClusters(cluster, sizes, shares);
  return { cluster, clusterSizes: sizes, fold, foldSizes, removed, warning };
}
