/**
 * jobs/shard-kinds without a cluster: every unit of a task (a scored row, a map position, a fit)
 * belongs to exactly one shard; rows mutated first at the same position share a shard (their masked
 * passes are the same); a shard's input leaves the other rows unscored, keeping rows the user left
 * out; kinds that cannot be split are refused.
 */
import { describe, expect, it } from 'vitest';
import { shardTaskInput } from '../../src-main/jobs/shard-kinds';

const scoreInput = {
  wildType: 'MKTAYIAKQR',
  offset: 0,
  ids: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
  variants: ['M1A', 'K2R', 'M1C:T3S', 'A4G', 'nonsense', 'K2E', 'Y5F'],
  measured: {},
  unscored: [6],
};

describe('task shards', () => {
  it('score: each row in one shard; rows first mutated at the same position together; others unscored', () => {
    const shards = [0, 1, 2].map((index) => shardTaskInput('variants.score', {}, scoreInput, { index, count: 3 }));
    const owned = shards.map((s) => s.owned!);
    expect(owned.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const shardOf = (row: number): number => owned.findIndex((rows) => rows.includes(row));
    expect(shardOf(0)).toBe(shardOf(2)); // M1A and M1C:T3S: position 1 first
    expect(shardOf(1)).toBe(shardOf(5)); // K2R and K2E
    expect(shardOf(4)).toBe(0); // unreadable: nothing to compute, listed by shard 0
    shards.forEach((shard, s) => {
      const unscored = (shard.input as { unscored: number[] }).unscored;
      const expected = [...new Set([6, ...[0, 1, 2, 3, 4, 5, 6].filter((row) => !owned[s]!.includes(row))])].sort((a, b) => a - b);
      expect(unscored).toEqual(expected);
    });
  });

  it('saturate: positions split evenly; scan: fits split evenly', () => {
    const positions = [0, 1, 2].map((index) => shardTaskInput('variants.saturate', { wildType: 'MKTAYIAKQRQ' }, null, { index, count: 3 }));
    expect(positions.map((p) => (p.input as { positions: number[] }).positions.length)).toEqual([4, 4, 3]);
    expect(positions.flatMap((p) => p.owned!).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const scan = { items: [{ embeddingId: 1 }, { embeddingId: 2 }, { embeddingId: 3 }], learners: ['ridgecv', 'knn'] };
    const fits = [0, 1, 2, 3].map((index) => shardTaskInput('learn.scan', scan, { ids: [] }, { index, count: 4 }));
    expect(fits.map((f) => (f.input as { units: number[] }).units)).toEqual([[0, 4], [1, 5], [2], [3]]);
  });

  it('a kind without independent units is refused', () => {
    expect(() => shardTaskInput('train.finetune', {}, null, { index: 0, count: 2 })).toThrow('A train.finetune task cannot be split into shards.');
  });
});
