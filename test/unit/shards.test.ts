/**
 * jobs/shards' split of a task's units over N shards: every unit goes to exactly one shard, the
 * shards' token counts differ by at most one unit's tokens (so array tasks take similar time),
 * and the split depends only on the units' sizes (every worker of an array computes the same).
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { shardOfUnits } from '../../src-main/jobs/shards';

const loads = (tokens: number[], owner: number[], count: number): number[] => {
  const load = new Array<number>(count).fill(0);
  owner.forEach((s, i) => (load[s]! += tokens[i]!));
  return load;
};

describe('shardOfUnits', () => {
  it('balances shards by tokens, not by unit count: one big unit is a shard of its own', () => {
    // Round-robin by index (unit j → shard j mod 3) would give shard 0 the 900-token unit and two more.
    const tokens = [900, 100, 100, 100, 100, 100, 100, 100, 100, 100];
    const owner = shardOfUnits(tokens, 3);
    expect(owner[0]).toBe(0);
    expect(owner.filter((s) => s === 0)).toHaveLength(1);
    expect(loads(tokens, owner, 3)).toEqual([900, 500, 400]);
  });

  it('on random plans every shard ends within one unit of the lightest, and the split is the same each time', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 50; trial++) {
      const tokens = Array.from({ length: 1 + rng.nextInt(200) }, () => 1 + rng.nextInt(5000));
      const count = 1 + rng.nextInt(12);
      const owner = shardOfUnits(tokens, count);
      expect(owner).toEqual(shardOfUnits([...tokens], count));
      expect(owner.every((s) => Number.isInteger(s) && s >= 0 && s < count)).toBe(true);
      const load = loads(tokens, owner, count);
      expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(Math.max(...tokens));
    }
  });
});
