/**
 * engine/batching — groups sequences into batches under a token budget, so one forward pass never
 * holds more than `tokenBudget` padded tokens, and under a memory budget, so the attention
 * buffers (which grow with the square of the length, not the length) of long proteins stay
 * small; and maps per-batch results back to input order. Pure: no model, no I/O. Identical
 * sequences are not merged here; deduplication is the caller's.
 */
import type { ModelConfig } from '../models/family';

export interface Batch {
  /** Input indices in this batch, longest sequence first. */
  indices: number[];
  /** The longest token length in the batch: every row is padded to it. */
  paddedLength: number;
}

/**
 * `tokenLengths[i]` is the number of tokens sequence i takes in the model (residues + 2 for
 * the BOS and EOS tokens; the caller adds them). Sorting longest first keeps sequences of similar
 * length together, which wastes the least padding; a batch grows while
 * `count × paddedLength ≤ tokenBudget`. A sequence longer than the budget on its own still has
 * to run, so it gets a batch of its own.
 */
export function planBatches(tokenLengths: number[], tokenBudget: number, memory?: BatchMemory): Batch[] {
  if (!(tokenBudget > 0) || !Number.isFinite(tokenBudget)) throw new Error(`token budget must be positive, got ${tokenBudget}`);
  tokenLengths.forEach((length, index) => {
    if (!Number.isSafeInteger(length) || length < 0) throw new Error(`token length ${length} at index ${index} is not a count`);
  });

  const batches: Batch[] = [];
  let current: Batch | undefined;
  for (const index of indicesLongestFirst(tokenLengths)) {
    const length = tokenLengths[index] as number;
    if (current && (current.indices.length + 1) * current.paddedLength <= tokenBudget && fitsMemory(memory, current.indices.length + 1, current.paddedLength)) {
      current.indices.push(index); // sorted longest first, so paddedLength stays the first length
      continue;
    }
    current = { indices: [index], paddedLength: length };
    batches.push(current);
  }
  return batches;
}

/**
 * What one forward pass holds besides the weights, as a model's shape says: per token, a layer's
 * activations (residual stream, normalised input, queries, keys, values, attention output, the
 * feed-forward's wide hidden layer before and after its activation); per sequence, for every head,
 * the [T × T] attention scores and probabilities (and the masked scores), which is what makes long
 * proteins expensive: at 1,000 residues, 20 heads take 80 MB per copy per sequence.
 */
export interface BatchMemory {
  bytesPerToken: number;
  bytesPerSquaredToken: number;
  /** Most bytes a batch may take; a batch of one sequence always runs. */
  limitBytes: number;
}

/** Copies of the [heads, T, T] attention matrix alive at once in the plain graph (scores, masked scores, probabilities). */
const ATTENTION_COPIES = 3;
const FLOAT_BYTES = 4;
/**
 * Transient memory a batch may take by default: with the runtime itself (~150 MB), a forward pass
 * stays within the weights + 1 GB (bench/embed's long-protein case).
 */
export const DEFAULT_BATCH_MEMORY_BYTES = 512 * 2 ** 20;

export function batchMemoryOf(config: ModelConfig, limitBytes = DEFAULT_BATCH_MEMORY_BYTES): BatchMemory {
  return {
    bytesPerToken: FLOAT_BYTES * (6 * config.hiddenSize + 2 * config.intermediateSize),
    bytesPerSquaredToken: FLOAT_BYTES * ATTENTION_COPIES * config.numHeads,
    limitBytes,
  };
}

/** Bytes a batch of `count` sequences padded to `paddedLength` tokens takes in one forward pass. */
export function batchBytes(memory: BatchMemory, count: number, paddedLength: number): number {
  return count * (paddedLength * memory.bytesPerToken + paddedLength * paddedLength * memory.bytesPerSquaredToken);
}

function fitsMemory(memory: BatchMemory | undefined, count: number, paddedLength: number): boolean {
  return memory === undefined || batchBytes(memory, count, paddedLength) <= memory.limitBytes;
}

/** How many copies of one `length`-token sequence a batch may hold under both budgets (at least one). */
export function copiesPerBatch(length: number, tokenBudget: number, memory?: BatchMemory): number {
  let count = Math.max(1, Math.floor(tokenBudget / length));
  while (count > 1 && !fitsMemory(memory, count, length)) count--;
  return count;
}

/** Indices ordered by length, longest first; equal lengths keep input order. */
function indicesLongestFirst(lengths: readonly number[]): number[] {
  const indices = lengths.map((_, index) => index);
  // Array.prototype.sort is stable, and the index tie-break makes that explicit.
  return indices.sort((a, b) => (lengths[b] as number) - (lengths[a] as number) || a - b);
}

/**
 * `perBatchResults[b][k]` is the result for `batches[b].indices[k]`; returns the results in
 * input order. Throws if a batch's result count does not match or an index is missing or repeated,
 * since a silent mismatch would attach results to the wrong sequences.
 */
export function restoreOrder<T>(batches: Batch[], perBatchResults: T[][]): T[] {
  if (perBatchResults.length !== batches.length) {
    throw new Error(`expected results for ${batches.length} batches, got ${perBatchResults.length}`);
  }
  const total = batches.reduce((sum, batch) => sum + batch.indices.length, 0);
  const results = new Array<T>(total);
  const filled = new Uint8Array(total);
  batches.forEach((batch, b) => {
    const batchResults = perBatchResults[b] as T[];
    if (batchResults.length !== batch.indices.length) {
      throw new Error(`batch ${b} has ${batch.indices.length} sequences but ${batchResults.length} results`);
    }
    batch.indices.forEach((index, k) => {
      if (!Number.isInteger(index) || index < 0 || index >= total || filled[index]) throw new Error(`batch ${b} has a bad or repeated index ${index}`);
      filled[index] = 1;
      results[index] = batchResults[k] as T;
    });
  });
  return results;
}
