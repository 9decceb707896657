/**
 * variants/model — an installed model (any family with a language-model head) as a source of log-probabilities for zero-shot scoring:
 * the unmasked log-probabilities of every residue of a sequence (one pass) and, for chosen
 * positions, the log-probabilities with that one position replaced by `<mask>` (one pass per
 * position, many positions per batch). Proteins longer than the model reads at once are read
 * through the engine's windows: each position is taken from the window where it has the most
 * context on both sides.
 */
import * as ort from 'onnxruntime-node';
import type { Tokenizer } from '../models/family';
import { graphFile, openInstalled } from '../models/installed';
import { openSession, type Device } from '../engine/session';
import { planWindows, type Window } from '../engine/windows';
import { batchMemoryOf, copiesPerBatch, type BatchMemory } from '../engine/batching';

export interface ZeroShotOptions {
  device?: Device;
  threads?: number;
  /** Upper bound of tokens (sequences × padded length) per batch. */
  batchTokens?: number;
}

export interface MaskedControl {
  signal?: AbortSignal;
  /** Called after each batch with the positions done so far. */
  onProgress?: (done: number, total: number) => void;
}

const DEFAULT_BATCH_TOKENS = 8192;

export class ZeroShotModel {
  private constructor(
    readonly name: string,
    /** The model's alphabet: which row of log-probabilities is which residue. */
    readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
    private readonly batchTokens: number,
    /** What a batch of masked copies may take beside the weights (attention grows with the length squared). */
    private readonly memory: BatchMemory,
    /** Why the requested device was not used, when it was not. */
    readonly fallbackReason: string | null,
  ) {}

  static async open(modelDir: string, options: ZeroShotOptions = {}): Promise<ZeroShotModel> {
    const { manifest, family } = openInstalled(modelDir);
    const file = await graphFile(modelDir, manifest, { layers: [], pool: [], logits: true });
    const opened = await openSession(file, { device: options.device, threads: options.threads });
    return new ZeroShotModel(manifest.name, family.tokenizer, opened.session, options.batchTokens ?? DEFAULT_BATCH_TOKENS, batchMemoryOf(manifest.config), opened.fallbackReason);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** log p(token | whole sequence) for every residue: [L × vocabulary], row i = residue i (0-based). */
  async unmaskedLogProbs(sequence: string): Promise<Float64Array> {
    const L = sequence.length;
    const V = this.tokenizer.vocabSize;
    const out = new Float64Array(L * V);
    const windows = planWindows(L, this.tokenizer.maxResidues);
    const best = bestWindowOf(L, windows);
    for (const [w, window] of windows.entries()) {
      const tokens = this.tokenizer.encode(sequence.slice(window.start, window.end));
      const logits = await this.runLogits([tokens], tokens.length);
      for (let p = window.start; p < window.end; p++) {
        if (best[p] !== w) continue;
        out.set(logSoftmax(logits, (p - window.start + 1) * V, V), p * V);
      }
    }
    return out;
  }

  /**
   * log p(token | sequence with position p masked) at p, for each 0-based position in `positions`:
   * position → [vocabulary]. Positions are batched by the token and memory budgets; every batch
   * holds copies of the same window, so nothing is padded.
   */
  async maskedLogProbs(sequence: string, positions: readonly number[], control: MaskedControl = {}): Promise<Map<number, Float64Array>> {
    const L = sequence.length;
    for (const p of positions) {
      if (!Number.isInteger(p) || p < 0 || p >= L) throw new RangeError(`Position ${p + 1} is outside the sequence (length ${L}).`);
    }
    const V = this.tokenizer.vocabSize;
    const windows = planWindows(L, this.tokenizer.maxResidues);
    const best = bestWindowOf(L, windows);
    const unique = [...new Set(positions)].sort((a, b) => a - b);
    const result = new Map<number, Float64Array>();
    let done = 0;
    for (const [w, window] of windows.entries()) {
      const mine = unique.filter((p) => best[p] === w);
      const base = this.tokenizer.encode(sequence.slice(window.start, window.end));
      const perBatch = copiesPerBatch(base.length, this.batchTokens, this.memory);
      for (let i = 0; i < mine.length; i += perBatch) {
        if (control.signal?.aborted) return result;
        const chunk = mine.slice(i, i + perBatch);
        const rows = chunk.map((p) => withMask(base, p - window.start + 1, this.tokenizer.tokens.MASK));
        const logits = await this.runLogits(rows, base.length);
        chunk.forEach((p, row) => result.set(p, logSoftmax(logits, (row * base.length + p - window.start + 1) * V, V)));
        done += chunk.length;
        control.onProgress?.(done, unique.length);
      }
    }
    return result;
  }

  /** Logits [rows, length, vocabulary] of equally long token rows. */
  private async runLogits(rows: readonly Int32Array[], length: number): Promise<Float32Array> {
    const ids = new BigInt64Array(rows.length * length);
    rows.forEach((row, r) => row.forEach((id, t) => (ids[r * length + t] = BigInt(id))));
    const out = await this.session.run({ input_ids: new ort.Tensor('int64', ids, [rows.length, length]) });
    return out.logits!.data as Float32Array;
  }
}

function withMask(tokens: Int32Array, index: number, mask: number): Int32Array {
  const copy = tokens.slice();
  copy[index] = mask;
  return copy;
}

/** Log-softmax over the `width` logits (the whole vocabulary) starting at `offset`, in float64. */
export function logSoftmax(logits: ArrayLike<number>, offset: number, width: number): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < width; k++) max = Math.max(max, logits[offset + k]!);
  let sum = 0;
  for (let k = 0; k < width; k++) sum += Math.exp(logits[offset + k]! - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from({ length: width }, (_, k) => logits[offset + k]! - logZ);
}

/**
 * For each residue, the window that gives it the most context: the largest distance to a cut edge
 * of the window (a window edge at the true end of the protein is not a cut).
 */
function bestWindowOf(L: number, windows: readonly Window[]): Int32Array {
  const best = new Int32Array(L);
  for (let p = 0; p < L; p++) {
    let bestContext = -1;
    windows.forEach((w, index) => {
      if (p < w.start || p >= w.end) return;
      const left = w.start === 0 ? Infinity : p - w.start;
      const right = w.end === L ? Infinity : w.end - 1 - p;
      const context = Math.min(left, right);
      if (context > bestContext) {
        bestContext = context;
        best[p] = index;
      }
    });
  }
  return best;
}
