/**
 * train/batches — which examples go into each training step: batches under a token budget
 * (count × longest token length ≤ budget, padding included), a seeded order per epoch or a fixed
 * one, and the seeded validation split (stratified by class for classification).
 *
 * Shuffled epochs: draw a random permutation, sort it by length (longest first, the random order
 * breaking ties), pack, then shuffle the order of the batches. Packing sorted lengths keeps
 * padding small, and because the packing depends only on the multiset of lengths every epoch has
 * the same number of batches — so the learning-rate schedule knows its total number of steps.
 * Sequences of equal length (all variants of one protein, the common case) change batch-mates
 * every epoch. Without shuffling, the batches are packed the same way from dataset order.
 */
import type { SeededRng as TrainingRng } from '../core/rng';

export interface TrainBatch {
  /** Example indices (into the caller's arrays), longest first. */
  indices: number[];
  /** The longest token length in the batch; every row is padded to it. */
  paddedLength: number;
}

export interface BatchingOptions {
  /** Padded tokens per batch, e.g. 8 × 250 = 2000. */
  tokenBudget: number;
  /** An optional cap on sequences per batch (short peptides would otherwise make huge batches). */
  maxSequences?: number;
}

/**
 * The batches of one epoch over the examples `members` (indices into `tokenLengths`, the token
 * count of each example including `<cls>`/`<eos>`). With `rng`, a shuffled epoch (draws from it);
 * without, the fixed order.
 */
export function epochBatches(tokenLengths: readonly number[], members: readonly number[], options: BatchingOptions, rng?: TrainingRng): TrainBatch[] {
  checkBatching(options);
  const order = rng ? rng.shuffle([...members]) : [...members];
  const lengthOf = (index: number): number => {
    const length = tokenLengths[index];
    if (length === undefined || !Number.isSafeInteger(length) || length < 1) throw new Error(`Example ${index} has no valid token length (${length}).`);
    return length;
  };
  // Array.prototype.sort is stable: ties keep the (shuffled or dataset) order.
  order.sort((a, b) => lengthOf(b) - lengthOf(a));
  const batches = pack(order, lengthOf, options);
  return rng ? rng.shuffle(batches) : batches;
}

/** Greedy packing of an order sorted longest first; a sequence over the budget gets a batch alone. */
function pack(order: readonly number[], lengthOf: (index: number) => number, options: BatchingOptions): TrainBatch[] {
  const cap = options.maxSequences ?? Infinity;
  const batches: TrainBatch[] = [];
  let current: TrainBatch | undefined;
  for (const index of order) {
    if (current && current.indices.length < cap && (current.indices.length + 1) * current.paddedLength <= options.tokenBudget) {
      current.indices.push(index);
      continue;
    }
    current = { indices: [index], paddedLength: lengthOf(index) };
    batches.push(current);
  }
  return batches;
}

function checkBatching(options: BatchingOptions): void {
  if (!(options.tokenBudget > 0) || !Number.isFinite(options.tokenBudget)) throw new RangeError(`The token budget must be a positive number, got ${options.tokenBudget}.`);
  const cap = options.maxSequences;
  if (cap !== undefined && (!Number.isSafeInteger(cap) || cap < 1)) throw new RangeError(`The batch size cap must be ≥ 1, got ${cap}.`);
}

export interface ValidationSplit {
  train: number[];
  validation: number[];
}

/**
 * Holds out round(fraction · n) of the examples `0..n−1` (at least 1 and at most n − 1 when the
 * fraction is > 0), drawn with `rng`. With `labels` (class index per example) the split is
 * stratified: each class gives ⌊share⌋ of its examples, where share = total/n · its count, and
 * the examples still needed to reach the total come from the classes with the largest fractional
 * shares (largest-remainder rounding), so class proportions match as closely as whole numbers
 * allow. Both lists are returned sorted.
 */
export function validationSplit(n: number, fraction: number, rng: TrainingRng, labels?: Int32Array): ValidationSplit {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`The validation fraction must be in [0, 1), got ${fraction}.`);
  if (labels && labels.length !== n) throw new Error(`There are ${n} examples but ${labels.length} labels.`);
  if (fraction === 0 || n === 0) return { train: range(n), validation: [] };
  if (n < 2) throw new Error('A validation split needs at least 2 examples.');
  const total = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const held = labels ? stratifiedPick(labels, total, rng) : rng.shuffle(range(n)).slice(0, total);
  const isHeld = new Uint8Array(n);
  for (const index of held) isHeld[index] = 1;
  return { train: range(n).filter((i) => !isHeld[i]), validation: range(n).filter((i) => isHeld[i]) };
}

function stratifiedPick(labels: Int32Array, total: number, rng: TrainingRng): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const members = byClass.get(label) ?? [];
    members.push(index);
    byClass.set(label, members);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const fraction = total / labels.length;
  const take = new Map(classes.map((label) => [label, Math.floor(fraction * byClass.get(label)!.length)]));
  // Largest remainders first (ties by class index) until the total is reached.
  const byRemainder = [...classes].sort((a, b) => remainder(b) - remainder(a) || a - b);
  function remainder(label: number): number {
    const exact = fraction * byClass.get(label)!.length;
    return exact - Math.floor(exact);
  }
  let missing = total - [...take.values()].reduce((sum, count) => sum + count, 0);
  for (const label of byRemainder) {
    if (missing <= 0) break;
    take.set(label, take.get(label)! + 1);
    missing -= 1;
  }
  return classes.flatMap((label) => rng.shuffle([...byClass.get(label)!]).slice(0, take.get(label)!));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
