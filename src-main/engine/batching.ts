/**
 * engine/batching — groups sequences into batches under a token budget, so one forward pass never
 * holds more than `tokenBudget` padded tokens, and maps per-batch results back to input order.
 * Pure: no model, no I/O. Identical sequences are not merged here; deduplication is the caller's.
 */

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
export function planBatches(tokenLengths: number[], tokenBudget: number): Batch[] {
  if (!(tokenBudget > 0) || !Number.isFinite(tokenBudget)) throw new Error(`token budget must be positive, got ${tokenBudget}`);
  tokenLengths.forEach((length, index) => {
    if (!Number.isSafeInteger(length) || length < 0) throw new Error(`token length ${length} at index ${index} is not a count`);
  });

  const batches: Batch[] = [];
  let current: Batch | undefined;
  for (const index of indicesLongestFirst(tokenLengths)) {
    const length = tokenLengths[index] as number;
    if (current && (current.indices.length + 1) * current.paddedLength <= tokenBudget) {
      current.indices.push(index); // sorted longest first, so paddedLength stays the first length
      continue;
    }
    current = { indices: [index], paddedLength: length };
    batches.push(current);
  }
  return batches;
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
