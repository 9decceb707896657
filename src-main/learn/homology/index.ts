/**
 * learn/homology — the homology-aware split (GraphPart's guarantee): find every related pair of
 * sequences (prefilter.ts → align.ts, in chunks of queries: search.ts), then pack the connected
 * components of the related graph into folds (partition.ts). This file runs the chunks with
 * progress, cancel and resume, and turns the result into the exported cluster table.
 * Pure numerics plus an injectable chunk runner (a caller may run chunks in worker threads).
 */
import { throwIfCancelled, yieldToEvents } from '../../core/cancel';
import { DEFAULT_ALIGN, type RelatedCriteria } from './align';
import { encodeSequence } from './blosum62';
import type { Partition } from './partition';
import { buildKmerIndex, chunkQueries, DEFAULT_PREFILTER, type KmerIndex } from './prefilter';
import { relatedPairsOfChunk, type ChunkResult } from './search';

export { alignLocal, isRelated, DEFAULT_ALIGN, type Alignment, type RelatedCriteria } from './align';
export { encodeSequence } from './blosum62';
export { partition, connectedComponents, type Partition } from './partition';
export { buildKmerIndex, candidatesFor, chunkQueries, DEFAULT_PREFILTER } from './prefilter';
export { relatedPairsOfChunk } from './search';

export const DEFAULT_CRITERIA: RelatedCriteria = { minIdentity: 0.3, minCoverage: 0.8 };

/** What a search has found so far: the chunks done and their related pairs (resume from it). */
export interface HomologyProgress {
  chunks: number;
  done: number[];
  pairs: number[];
  identities: number[];
  candidates: number;
}

export interface HomologyOptions {
  criteria?: RelatedCriteria;
  /**
   * 'auto' (default): align every pair in full when that is under ~5·10⁸ alignment cells (a few
   * seconds; the guarantee is then exact), else only the prefilter's candidates; or force either.
   */
  search?: 'auto' | 'exhaustive' | 'prefilter';
  /** Query chunks: the unit of progress, resume and parallel work. */
  chunks?: number;
  signal?: AbortSignal;
  progress?: (fraction: number, message: string) => void;
  resumeFrom?: HomologyProgress | null;
  /** Saves a HomologyProgress after every chunk. */
  checkpoint?: (state: HomologyProgress) => void;
  /** Runs chunks (several at once, e.g. in worker threads); by default one by one on this thread. */
  runChunks?: (index: KmerIndex, ranges: [number, number][], criteria: RelatedCriteria, exhaustive: boolean, onDone: (i: number, result: ChunkResult) => void, signal?: AbortSignal) => Promise<void>;
}

/** Above this many dynamic-programming cells for all pairs, 'auto' uses the prefilter. */
export const EXHAUSTIVE_CELLS = 5e8;

async function runHere(index: KmerIndex, ranges: [number, number][], criteria: RelatedCriteria, exhaustive: boolean, onDone: (i: number, result: ChunkResult) => void, signal?: AbortSignal): Promise<void> {
  for (const [i, [from, to]] of ranges.entries()) {
    if (signal) throwIfCancelled(signal);
    onDone(i, relatedPairsOfChunk(index, from, to, criteria, DEFAULT_ALIGN, exhaustive));
    await yieldToEvents();
  }
}

/** Every related pair among `sequences` (flat [a, b, …], a < b), chunk by chunk. */
export async function findRelatedPairs(sequences: readonly string[], options: HomologyOptions = {}): Promise<HomologyProgress> {
  const criteria = options.criteria ?? DEFAULT_CRITERIA;
  const n = sequences.length;
  const chunks = options.resumeFrom?.chunks ?? options.chunks ?? Math.max(1, Math.min(64, Math.ceil(n / 250)));
  const state: HomologyProgress = options.resumeFrom
    ? { ...options.resumeFrom, done: [...options.resumeFrom.done], pairs: [...options.resumeFrom.pairs], identities: [...options.resumeFrom.identities] }
    : { chunks, done: [], pairs: [], identities: [], candidates: 0 };
  const ranges = chunkQueries(n, chunks);
  const todo = ranges.map((range, i) => ({ range, i })).filter(({ i }) => !state.done.includes(i));
  if (todo.length === 0) return state;
  options.progress?.(state.done.length / ranges.length, `Indexing ${n.toLocaleString('en-US')} sequences for the similarity split`);
  const index = buildKmerIndex(sequences.map(encodeSequence), DEFAULT_PREFILTER);
  const runChunks = options.runChunks ?? runHere;
  const lengths = sequences.map((s) => s.length);
  const sum = lengths.reduce((a, b) => a + b, 0);
  const allCells = (sum * sum - lengths.reduce((a, b) => a + b * b, 0)) / 2;
  const exhaustive = options.search === 'exhaustive' || (options.search !== 'prefilter' && allCells <= EXHAUSTIVE_CELLS);
  await runChunks(
    index,
    todo.map((t) => t.range),
    criteria,
    exhaustive,
    (j, result) => {
      state.done.push(todo[j]!.i);
      state.pairs.push(...result.pairs);
      state.identities.push(...result.identities);
      state.candidates += result.candidates;
      options.checkpoint?.(state);
      options.progress?.(state.done.length / ranges.length, `Aligning similar sequences: ${state.done.length} of ${ranges.length} chunks, ${(state.pairs.length / 2).toLocaleString('en-US')} related pairs so far`);
    },
    options.signal,
  );
  return state;
}

/** The exported assignment: one row per sequence (id, cluster, cluster size, fold; fold empty when removed). */
export function clusterTableCsv(ids: readonly string[], result: Partition, foldNames?: readonly string[]): string {
  const quote = (text: string): string => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = ['id,cluster,cluster_size,fold'];
  ids.forEach((id, i) => {
    const fold = result.fold[i]!;
    const cluster = result.cluster[i]!;
    lines.push(`${quote(id)},${cluster < 0 ? '' : cluster + 1},${cluster < 0 ? '' : result.clusterSizes[cluster]},${fold < 0 ? '' : (foldNames?.[fold] ?? String(fold + 1))}`);
  });
  return `${lines.join('\n')}\n`;
}
