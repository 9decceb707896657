import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { batchBytes, batchMemoryOf, copiesPerBatch, planBatches, restoreOrder, type Batch } from '../../src-main/engine/batching';

/** The project's seeded generator, so random cases are the same on every run. */
function seededRandom(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

function randomLengths(random: () => number, count: number, max: number): number[] {
  return Array.from({ length: count }, () => 3 + Math.floor(random() * max));
}

function checkInvariants(lengths: number[], budget: number, batches: Batch[]): void {
  const seen = batches.flatMap((batch) => batch.indices).sort((a, b) => a - b);
  expect(seen).toEqual(lengths.map((_, index) => index)); // every index exactly once
  let previousLength = Infinity;
  for (const batch of batches) {
    const batchLengths = batch.indices.map((index) => lengths[index] as number);
    expect(batch.paddedLength).toBe(Math.max(...batchLengths));
    if (batch.indices.length > 1) expect(batch.indices.length * batch.paddedLength).toBeLessThanOrEqual(budget);
    // longest first within and across batches, ties in input order
    for (const index of batch.indices) {
      const length = lengths[index] as number;
      expect(length).toBeLessThanOrEqual(previousLength);
      previousLength = length;
    }
    for (let k = 1; k < batch.indices.length; k += 1) {
      const [a, b] = [batch.indices[k - 1] as number, batch.indices[k] as number];
      if (lengths[a] === lengths[b]) expect(a).toBeLessThan(b);
    }
  }
}

/** ESM-2 8M's shape: 6 layers, hidden 320, 20 heads, FFN 1,280. */
const ESM2_8M = { numLayers: 6, hiddenSize: 320, numHeads: 20, headDim: 16, intermediateSize: 1280, vocabSize: 33, sourceName: 'esm2_t6_8M_UR50D' };
/** ESM-2 650M's shape: 33 layers, hidden 1,280, 20 heads, FFN 5,120. */
const ESM2_650M = { ...ESM2_8M, numLayers: 33, hiddenSize: 1280, headDim: 64, intermediateSize: 5120, sourceName: 'esm2_t33_650M_UR50D' };

describe('planBatches under a memory budget', () => {
  it('counts attention as length squared: 20 heads × 3 copies × 1,002² floats per protein of 1,000 residues', () => {
    const memory = batchMemoryOf(ESM2_8M);
    // By hand: 1,002 tokens × 4 B × (6 × 320 + 2 × 1,280) + 1,002² × 4 B × 3 × 20.
    expect(batchBytes(memory, 1, 1002)).toBe(1002 * 4 * (6 * 320 + 2 * 1280) + 1002 * 1002 * 4 * 3 * 20);
    expect(batchBytes(memory, 3, 1002)).toBe(3 * batchBytes(memory, 1, 1002));
  });

  it('splits long proteins into small batches that the token budget alone would join, and leaves short ones alone', () => {
    const long = Array.from({ length: 16 }, () => 1002);
    // The token budget alone puts 8 proteins of 1,000 residues in a batch: 2 GB of attention for the 8M model.
    expect(planBatches(long, 8192).map((b) => b.indices.length)).toEqual([8, 8]);
    const memory = batchMemoryOf(ESM2_8M);
    const batches = planBatches(long, 8192, memory);
    expect(batches.map((b) => b.indices.length)).toEqual(Array(8).fill(2));
    for (const batch of batches) expect(batchBytes(memory, batch.indices.length, batch.paddedLength)).toBeLessThanOrEqual(memory.limitBytes);
    // 100 residues: attention is small, the token budget decides (80 × 102 = 8,160 ≤ 8,192).
    const short = Array.from({ length: 160 }, () => 102);
    expect(planBatches(short, 8192, memory).map((b) => b.indices.length)).toEqual([80, 80]);
    expect(planBatches(short, 8192, memory)).toEqual(planBatches(short, 8192));
  });

  it('runs a protein alone when even one exceeds the memory budget', () => {
    const memory = batchMemoryOf(ESM2_650M, 64 * 2 ** 20);
    expect(batchBytes(memory, 1, 1002)).toBeGreaterThan(memory.limitBytes);
    expect(planBatches([1002, 1002, 1002], 8192, memory).map((b) => b.indices)).toEqual([[0], [1], [2]]);
    expect(copiesPerBatch(1002, 8192, memory)).toBe(1);
  });

  it('gives masked copies of one sequence the largest count both budgets allow', () => {
    const memory = batchMemoryOf(ESM2_8M);
    expect(copiesPerBatch(102, 8192, memory)).toBe(80);
    const copies = copiesPerBatch(1002, 8192, memory);
    expect(copies).toBe(2);
    expect(batchBytes(memory, copies, 1002)).toBeLessThanOrEqual(memory.limitBytes);
    expect(batchBytes(memory, copies + 1, 1002)).toBeGreaterThan(memory.limitBytes);
  });
});

describe('planBatches', () => {
  it('groups longest first under the budget', () => {
    expect(planBatches([10, 30, 20, 30, 5], 60)).toEqual([
      { indices: [1, 3], paddedLength: 30 },
      { indices: [2, 0, 4], paddedLength: 20 },
    ]);
  });

  it('puts a sequence longer than the budget alone, and still batches the rest', () => {
    expect(planBatches([50, 500, 50, 40], 100)).toEqual([
      { indices: [1], paddedLength: 500 },
      { indices: [0, 2], paddedLength: 50 },
      { indices: [3], paddedLength: 40 },
    ]);
  });

  it('fills a batch exactly to the budget', () => {
    expect(planBatches([25, 25, 25, 25, 25], 100)).toEqual([
      { indices: [0, 1, 2, 3], paddedLength: 25 },
      { indices: [4], paddedLength: 25 },
    ]);
  });

  it('keeps identical sequences as separate entries', () => {
    expect(planBatches([12, 12, 12], 1000)).toEqual([{ indices: [0, 1, 2], paddedLength: 12 }]);
  });

  it('returns no batches for no sequences', () => {
    expect(planBatches([], 100)).toEqual([]);
  });

  it('rejects a bad budget or length', () => {
    expect(() => planBatches([3], 0)).toThrow(/budget/);
    expect(() => planBatches([3], Number.NaN)).toThrow(/budget/);
    expect(() => planBatches([3, -1], 10)).toThrow(/index 1/);
    expect(() => planBatches([2.5], 10)).toThrow(/index 0/);
  });

  it('holds its invariants on random inputs', () => {
    const random = seededRandom(1234);
    for (let trial = 0; trial < 200; trial += 1) {
      const lengths = randomLengths(random, Math.floor(random() * 60), 1024);
      const budget = 16 + Math.floor(random() * 8192);
      checkInvariants(lengths, budget, planBatches(lengths, budget));
    }
  });
});

describe('restoreOrder', () => {
  it('puts per-batch results back in input order', () => {
    const random = seededRandom(99);
    for (let trial = 0; trial < 50; trial += 1) {
      const lengths = randomLengths(random, 1 + Math.floor(random() * 80), 600);
      const batches = planBatches(lengths, 2048);
      const results = batches.map((batch) => batch.indices.map((index) => ({ index, length: lengths[index] })));
      expect(restoreOrder(batches, results)).toEqual(lengths.map((length, index) => ({ index, length })));
    }
  });

  it('rejects results that do not match the plan', () => {
    const batches = planBatches([5, 4, 3], 10);
    expect(() => restoreOrder(batches, [])).toThrow(/results for 2 batches/);
    expect(() => restoreOrder(batches, [['a'], ['b', 'c']])).toThrow(/batch 0 has 2 sequences but 1 results/);
    expect(() => restoreOrder([{ indices: [0, 0], paddedLength: 1 }], [['a', 'b']])).toThrow(/repeated index 0/);
  });
});
