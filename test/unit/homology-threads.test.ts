/**
 * The similarity split on worker threads (jobs/homology-threads with the built homology-worker.js):
 * the same related pairs as on one thread, and a cancel stops the workers part-way with a
 * checkpoint to resume from.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { threadedChunks } from '../../src-main/jobs/homology-threads';
import { findRelatedPairs, type HomologyProgress } from '../../src-main/learn/homology';
import { plantedFamilies } from '../support/planted-families';
import { assertBuilt, ROOT } from '../support/serve';

const key = (pairs: number[]): string[] => Array.from({ length: pairs.length / 2 }, (_, i) => `${pairs[2 * i]}-${pairs[2 * i + 1]}`).sort();

describe('similarity split on worker threads', () => {
  const set = plantedFamilies(5, { families: 12, membersPerFamily: 4, length: 120, identityToAncestor: [0.6, 0.95], indelRate: 0.01 });

  it('finds the same pairs as one thread, and cancels part-way', { timeout: 180_000 }, async () => {
    assertBuilt();
    const script = join(ROOT, 'out', 'main', 'homology-worker.js');
    const here = await findRelatedPairs(set.sequences, { search: 'prefilter', chunks: 6 });
    const threaded = await findRelatedPairs(set.sequences, { search: 'prefilter', chunks: 6, runChunks: threadedChunks(set.sequences, script, 2) });
    expect(key(threaded.pairs)).toEqual(key(here.pairs));
    expect(threaded.done.sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const controller = new AbortController();
    let saved: HomologyProgress | null = null;
    const cancelled = findRelatedPairs(set.sequences, {
      search: 'prefilter',
      chunks: 6,
      signal: controller.signal,
      runChunks: threadedChunks(set.sequences, script, 2),
      checkpoint: (state) => {
        saved = structuredClone(state);
        controller.abort();
      },
    });
    await expect(cancelled).rejects.toThrow('Cancelled');
    expect(saved!.done.length).toBeGreaterThan(0);
    expect(saved!.done.length).toBeLessThan(6);
    const resumed = await findRelatedPairs(set.sequences, { search: 'prefilter', resumeFrom: saved });
    expect(key(resumed.pairs)).toEqual(key(here.pairs));
  });

  it('stays on the calling thread without a built worker or with one core', () => {
    expect(threadedChunks(set.sequences, null, 4)).toBeUndefined();
    expect(threadedChunks(set.sequences, join(ROOT, 'out', 'main', 'homology-worker.js'), 1)).toBeUndefined();
  });
});
