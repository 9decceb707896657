/**
 * train/crf/signalp-batch — SignalP records → what one PEFT-SP training or evaluation step needs:
 * ESM token ids (`<cls>` + the first 70 residues + `<eos>`), the 37-state target bitmaps, the residue
 * tokens the region regulariser counts, lengths, types, true cleavage sites and kingdoms; the CRF's
 * initial parameters; and the six train/validation/test arrangements of the three partitions.
 */
import type { Rng } from '../../core/rng';
import { SIGNALP_KINGDOMS, SIGNALP_TYPES, trueCleavageSite, type SignalpRecord } from '../../datasets/signalp';
import type { Tokenizer } from '../../models/family';
import { DISALLOWED_SCORE, constrainedParameters, type CrfParameters } from './linear-chain';
import { SIGNALP_STATE_COUNT, signalpConstraints } from './signalp-states';
import { signalpTargetBitmap } from './signalp-targets';

/** SignalP 6.0 and PEFT-SP read the first 70 residues. */
export const SIGNALP_MAX_RESIDUES = 70;

export interface SignalpBatch {
  batch: number;
  /** Residue steps per sequence (the emissions' length: `<cls>`/`<eos>` dropped). */
  steps: number;
  /** [batch, steps + 2] token ids, padded with `padToken`. */
  tokens: Int32Array;
  lengths: Int32Array;
  /** [batch, steps, 37]; padded steps allow every state (they are masked out anyway). */
  bitmap: Uint8Array;
  /** [batch, steps] residue token ids, the tokenizer's pad id at padding. */
  aaTokens: Int32Array;
  types: Int32Array;
  trueCs: Int32Array;
  kingdoms: Int32Array;
}

export interface SignalpBatchOptions {
  /** Pad every sequence to this many residues (default: the longest in the batch). */
  steps?: number;
  /** Token id for padded positions (default the tokenizer's `<pad>`; PEFT-SP itself pads with 0). */
  padToken?: number;
}

export function signalpBatch(records: readonly SignalpRecord[], tokenizer: Tokenizer, options: SignalpBatchOptions = {}): SignalpBatch {
  const lengths = Int32Array.from(records, (record) => Math.min(record.sequence.length, SIGNALP_MAX_RESIDUES));
  const steps = options.steps ?? Math.max(1, ...lengths);
  const pad = options.padToken ?? tokenizer.tokens.PAD;
  const size = records.length;
  const tokens = new Int32Array(size * (steps + 2)).fill(pad);
  const aaTokens = new Int32Array(size * steps).fill(tokenizer.tokens.PAD);
  const bitmap = new Uint8Array(size * steps * SIGNALP_STATE_COUNT).fill(1);
  records.forEach((record, b) => {
    const length = lengths[b]!;
    if (length > steps) throw new RangeError(`${record.id} has ${length} residues, more than the ${steps} steps of the batch.`);
    const encoded = tokenizer.encode(record.sequence.slice(0, length));
    tokens.set(encoded, b * (steps + 2));
    aaTokens.set(encoded.subarray(1, length + 1), b * steps);
    // Regions are found on the whole record, then cut to what the model reads.
    const targets = signalpTargetBitmap(record).subarray(0, length * SIGNALP_STATE_COUNT);
    bitmap.set(targets, b * steps * SIGNALP_STATE_COUNT);
  });
  return {
    batch: size,
    steps,
    tokens,
    lengths,
    bitmap,
    aaTokens,
    types: Int32Array.from(records, (record) => SIGNALP_TYPES.indexOf(record.type)),
    trueCs: Int32Array.from(records, (record) => trueCleavageSite(record)),
    kingdoms: Int32Array.from(records, (record) => SIGNALP_KINGDOMS.indexOf(record.kingdom)),
  };
}

/** PEFT-SP's initial CRF: every score U(−1/√3, 1/√3), then the disallowed ones set to −20. */
export function initialSignalpCrf(rng: Rng): CrfParameters {
  const bound = 1 / Math.sqrt(3);
  const uniform = (count: number): Float64Array => Float64Array.from({ length: count }, () => (2 * rng.next() - 1) * bound);
  const s = SIGNALP_STATE_COUNT;
  const free: CrfParameters = { states: s, transitions: uniform(s * s), start: uniform(s), end: uniform(s) };
  return constrainedParameters(free, signalpConstraints(), DISALLOWED_SCORE);
}

export interface PartitionArrangement {
  train: number;
  validation: number;
  test: number;
}

/** PEFT-SP's cross-validation: train on one partition, select on another, test on the third — all six orders. */
export function partitionArrangements(partitions: readonly number[] = [0, 1, 2]): PartitionArrangement[] {
  const out: PartitionArrangement[] = [];
  for (const test of partitions) {
    for (const validation of partitions) {
      if (validation === test) continue;
      for (const train of partitions) if (train !== test && train !== validation) out.push({ train, validation, test });
    }
  }
  return out;
}
