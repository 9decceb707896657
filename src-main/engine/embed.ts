/**
 * engine/embed — runs an installed model over many sequences: identical sequences once,
 * token-budget batches sorted by length, pooled vectors computed inside the graph, and
 * sequences longer than the model's 1022 residues either cut into overlapping windows that are
 * blended back together, or truncated. Results are handed to a sink per sequence, each tagged
 * with its input index, so callers can write them in input order.
 */
import * as ort from 'onnxruntime-node';
import { graphFile, readManifest, type ModelManifest } from '../esm/model';
import { outputName, type GraphOutputs, type Pooling } from '../esm/graph';
import { encodeBatch } from '../esm/tokenizer';
import { planBatches, type Batch } from './batching';
import { openSession, type Device, type OpenedSession } from './session';
import { blendPairs, blendRows, planWindows, type Window } from './windows';

export const MAX_RESIDUES = 1022;
const VOCAB = 33;

export type LongMode = 'window' | 'truncate';

export interface EmbedOptions {
  /** Hidden-state layers, 0..numLayers (negative numbers count from the end: −1 = last). */
  layers: number[];
  pool: Pooling[];
  logits?: boolean;
  contacts?: boolean;
  attentionLayers?: number[];
  /** Upper bound of tokens (padded length × sequences) per batch. */
  batchTokens?: number;
  long?: LongMode;
}

export interface SequenceResult {
  /** Input index of the sequence. */
  index: number;
  /** Residues the results cover (fewer than the input when truncated). */
  residues: number;
  /** How the sequence was handled: whole, or windows / truncation because it was too long. */
  handling: 'whole' | 'window' | 'truncate';
  /** `${pool}_${layer}` → [hidden] for mean, bos, max. */
  pooled: Map<string, Float32Array>;
  /** layer → [residues, hidden] (no <cls>/<eos>). */
  perToken: Map<number, Float32Array>;
  /** [residues + 2, 33], with the <cls> and <eos> rows. */
  logits?: Float32Array;
  /** [residues, residues]. */
  contacts?: Float32Array;
  /** layer → [heads, residues + 2, residues + 2]. */
  attention: Map<number, Float32Array>;
}

export interface EmbedProgress {
  sequencesDone: number;
  sequencesTotal: number;
  tokensDone: number;
  secondsElapsed: number;
}

export interface RunControl {
  signal?: AbortSignal;
  onProgress?: (progress: EmbedProgress) => void;
  /** Skips these input indices (already computed by an earlier, interrupted run). */
  skip?: ReadonlySet<number>;
}

/** One unit of model work: a whole sequence, or one window of a long one. */
interface Item {
  /** Residues this item feeds to the model. */
  residues: string;
  owner: number;
  window?: Window;
}

export function resolveLayers(layers: readonly number[], numLayers: number): number[] {
  const resolved = layers.map((layer) => (layer < 0 ? numLayers + 1 + layer : layer));
  for (const [i, layer] of resolved.entries()) {
    if (!Number.isInteger(layer) || layer < 0 || layer > numLayers) {
      throw new RangeError(`Layer ${layers[i]} does not exist: this model has layers 0 to ${numLayers} (−1 is the last).`);
    }
  }
  return [...new Set(resolved)].sort((a, b) => a - b);
}

export class Embedder {
  private readonly sessions = new Map<string, Promise<OpenedSession>>();
  /** Messages about the device (fallback reasons), for the run record. */
  readonly notes: string[] = [];

  private constructor(
    readonly modelDir: string,
    readonly manifest: ModelManifest,
    readonly device: Device,
    readonly threads: number | undefined,
  ) {}

  static open(modelDir: string, options: { device?: Device; threads?: number } = {}): Embedder {
    return new Embedder(modelDir, readManifest(modelDir), options.device ?? 'cpu', options.threads);
  }

  /** The device sessions actually run on (after any fallback). */
  async actualDevice(): Promise<Device> {
    const first = [...this.sessions.values()][0];
    return first ? (await first).device : this.device;
  }

  async close(): Promise<void> {
    for (const opened of this.sessions.values()) await (await opened).session.release();
    this.sessions.clear();
  }

  private async session(outputs: GraphOutputs): Promise<OpenedSession> {
    const file = await graphFile(this.modelDir, this.manifest, outputs);
    let opened = this.sessions.get(file);
    if (!opened) {
      opened = openSession(file, { device: this.device, threads: this.threads }).then((result) => {
        if (result.fallbackReason) this.notes.push(result.fallbackReason);
        return result;
      });
      this.sessions.set(file, opened);
    }
    return opened;
  }

  /**
   * Computes every sequence and calls `sink` once per input index (duplicates share one
   * computation). Stops between batches when the signal aborts.
   */
  async run(sequences: readonly string[], options: EmbedOptions, sink: (result: SequenceResult) => void | Promise<void>, control: RunControl = {}): Promise<void> {
    const config = this.manifest.config;
    const layers = resolveLayers(options.layers, config.numLayers);
    const attentionLayers = options.attentionLayers ?? [];
    const long = options.long ?? 'window';
    const budget = Math.max(options.batchTokens ?? 8192, MAX_RESIDUES + 2);
    const started = performance.now();
    let tokensDone = 0;
    let sequencesDone = control.skip?.size ?? 0;

    // Identical sequences are computed once and handed to every index that has them.
    const owners = new Map<string, number[]>();
    sequences.forEach((sequence, index) => {
      if (control.skip?.has(index)) return;
      owners.set(sequence, [...(owners.get(sequence) ?? []), index]);
    });
    const wholeItems: Item[] = [];
    const windowItems: Item[] = [];
    for (const [sequence, indices] of owners) {
      const owner = indices[0]!;
      if (sequence.length <= MAX_RESIDUES) wholeItems.push({ residues: sequence, owner });
      else if (long === 'truncate') wholeItems.push({ residues: sequence.slice(0, MAX_RESIDUES), owner });
      else for (const window of planWindows(sequence.length, MAX_RESIDUES)) windowItems.push({ residues: sequence.slice(window.start, window.end), owner, window });
    }

    const deliver = async (result: SequenceResult): Promise<void> => {
      for (const index of owners.get(sequences[result.index]!)!) await sink({ ...result, index });
      sequencesDone += owners.get(sequences[result.index]!)!.length;
      control.onProgress?.({ sequencesDone, sequencesTotal: sequences.length, tokensDone, secondsElapsed: (performance.now() - started) / 1000 });
    };

    const wholeOutputs: GraphOutputs = { layers, pool: options.pool, logits: options.logits, contacts: options.contacts, attentionLayers };
    for (const batch of planBatches(wholeItems.map((item) => item.residues.length + 2), budget)) {
      if (control.signal?.aborted) return;
      const items = batch.indices.map((i) => wholeItems[i]!);
      const outputs = await this.runBatch(wholeOutputs, items, batch);
      tokensDone += items.reduce((sum, item) => sum + item.residues.length + 2, 0);
      for (const [row, item] of items.entries()) {
        const truncated = item.residues.length < sequences[item.owner]!.length;
        await deliver(this.wholeResult(outputs, row, batch.paddedLength, item, layers, options, truncated));
      }
    }
    if (windowItems.length > 0) await this.runWindows(windowItems, sequences, { ...options, layers, attentionLayers }, budget, deliver, control, (n) => (tokensDone += n));
  }

  private async runBatch(outputs: GraphOutputs, items: Item[], batch: Batch): Promise<ort.InferenceSession.ReturnType> {
    const { session } = await this.session(outputs);
    const encoded = encodeBatch(items.map((item) => item.residues));
    const feeds = { input_ids: new ort.Tensor('int64', encoded.ids, [encoded.batch, encoded.length]) };
    if (encoded.length !== batch.paddedLength) throw new Error('batch length mismatch');
    return session.run(feeds);
  }

  private wholeResult(out: ort.InferenceSession.ReturnType, row: number, T: number, item: Item, layers: number[], options: EmbedOptions, truncated: boolean): SequenceResult {
    const D = this.manifest.config.hiddenSize;
    const H = this.manifest.config.numHeads;
    const L = item.residues.length;
    const result: SequenceResult = {
      index: item.owner,
      residues: L,
      handling: truncated ? 'truncate' : 'whole',
      pooled: new Map(),
      perToken: new Map(),
      attention: new Map(),
    };
    for (const layer of layers) {
      for (const kind of options.pool) {
        const tensor = out[outputName.pooled(kind, layer)]!.data as Float32Array;
        if (kind === 'per-token') result.perToken.set(layer, tensor.slice((row * T + 1) * D, (row * T + 1 + L) * D));
        else result.pooled.set(`${kind}_${layer}`, tensor.slice(row * D, (row + 1) * D));
      }
    }
    if (options.logits) result.logits = (out.logits!.data as Float32Array).slice(row * T * VOCAB, (row * T + L + 2) * VOCAB);
    if (options.contacts) result.contacts = squareBlock(out.contacts!.data as Float32Array, T - 2, row, L, 0);
    for (const layer of options.attentionLayers ?? []) {
      const data = out[outputName.attention(layer)]!.data as Float32Array;
      const maps = new Float32Array(H * (L + 2) * (L + 2));
      for (let h = 0; h < H; h++) maps.set(squareBlock(data, T, row * H + h, L + 2, 0), h * (L + 2) * (L + 2));
      result.attention.set(layer, maps);
    }
    return result;
  }

  /**
   * Long sequences: every window runs with per-token outputs; rows are blended by position
   * weights, pooled vectors computed from the blended rows (BOS from the first window).
   */
  private async runWindows(
    items: Item[],
    sequences: readonly string[],
    options: EmbedOptions & { layers: number[]; attentionLayers: number[] },
    budget: number,
    deliver: (result: SequenceResult) => Promise<void>,
    control: RunControl,
    countTokens: (n: number) => void,
  ): Promise<void> {
    const D = this.manifest.config.hiddenSize;
    const H = this.manifest.config.numHeads;
    const outputs: GraphOutputs = { layers: options.layers, pool: ['per-token'], logits: options.logits, contacts: options.contacts, attentionLayers: options.attentionLayers };
    const byOwner = new Map<number, Item[]>();
    for (const item of items) byOwner.set(item.owner, [...(byOwner.get(item.owner) ?? []), item]);

    for (const [owner, windows] of byOwner) {
      if (control.signal?.aborted) return;
      const L = sequences[owner]!.length;
      const perWindow: { window: Window; hidden: Map<number, Float32Array>; logits?: Float32Array; contacts?: Float32Array; attention: Map<number, Float32Array> }[] = [];
      for (const batch of planBatches(windows.map((w) => w.residues.length + 2), budget)) {
        const batchItems = batch.indices.map((i) => windows[i]!);
        const out = await this.runBatch(outputs, batchItems, batch);
        countTokens(batchItems.length * batch.paddedLength);
        for (const [row, item] of batchItems.entries()) {
          const whole = this.wholeResult(out, row, batch.paddedLength, item, options.layers, { ...options, pool: ['per-token'] }, false);
          const hidden = new Map<number, Float32Array>();
          const T = batch.paddedLength;
          const wl = item.residues.length;
          for (const layer of options.layers) {
            const data = out[outputName.pooled('per-token', layer)]!.data as Float32Array;
            hidden.set(layer, data.slice(row * T * D, (row * T + wl + 2) * D));
          }
          perWindow.push({ window: item.window!, hidden, logits: whole.logits, contacts: whole.contacts, attention: whole.attention });
        }
      }
      perWindow.sort((a, b) => a.window.start - b.window.start);
      await deliver(this.blendWindows(owner, L, perWindow, options, D, H));
    }
  }

  private blendWindows(
    owner: number,
    L: number,
    parts: { window: Window; hidden: Map<number, Float32Array>; logits?: Float32Array; contacts?: Float32Array; attention: Map<number, Float32Array> }[],
    options: EmbedOptions & { layers: number[]; attentionLayers: number[] },
    D: number,
    H: number,
  ): SequenceResult {
    const windows = parts.map((p) => p.window);
    const first = parts[0]!;
    const last = parts[parts.length - 1]!;
    const result: SequenceResult = { index: owner, residues: L, handling: 'window', pooled: new Map(), perToken: new Map(), attention: new Map() };
    const residueRows = (full: Float32Array, width: number, wl: number): Float32Array => full.slice(width, (wl + 1) * width);
    for (const layer of options.layers) {
      const blended = blendRows(L, D, windows, parts.map((p) => residueRows(p.hidden.get(layer)!, D, p.window.end - p.window.start)));
      for (const kind of options.pool) {
        if (kind === 'per-token') result.perToken.set(layer, blended);
        else if (kind === 'bos') result.pooled.set(`bos_${layer}`, first.hidden.get(layer)!.slice(0, D));
        else result.pooled.set(`${kind}_${layer}`, kind === 'mean' ? meanRows(blended, L, D) : maxRows(blended, L, D));
      }
    }
    if (options.logits) {
      const residues = blendRows(L, VOCAB, windows, parts.map((p) => residueRows(p.logits!, VOCAB, p.window.end - p.window.start)));
      const logits = new Float32Array((L + 2) * VOCAB);
      logits.set(first.logits!.slice(0, VOCAB), 0);
      logits.set(residues, VOCAB);
      const lastLength = last.window.end - last.window.start;
      logits.set(last.logits!.slice((lastLength + 1) * VOCAB, (lastLength + 2) * VOCAB), (L + 1) * VOCAB);
      result.logits = logits;
    }
    if (options.contacts) result.contacts = blendPairs(L, windows, parts.map((p) => p.contacts!));
    for (const layer of options.attentionLayers) {
      // Residue-to-residue attention blended per head; <cls>/<eos> rows and columns are left at 0.
      const maps = new Float32Array(H * (L + 2) * (L + 2));
      for (let h = 0; h < H; h++) {
        const perHead = parts.map((p) => {
          const wl = p.window.end - p.window.start;
          return squareBlock(p.attention.get(layer)!, wl + 2, h, wl, 1);
        });
        const blended = blendPairs(L, windows, perHead);
        for (let i = 0; i < L; i++) maps.set(blended.subarray(i * L, (i + 1) * L), h * (L + 2) * (L + 2) + (i + 1) * (L + 2) + 1);
      }
      result.attention.set(layer, maps);
    }
    return result;
  }
}

/** The [size × size] block at offset (start, start) of matrix `which` in a stack of [n × n] matrices. */
function squareBlock(data: Float32Array, n: number, which: number, size: number, start: number): Float32Array {
  const out = new Float32Array(size * size);
  const base = which * n * n;
  for (let r = 0; r < size; r++) out.set(data.subarray(base + (r + start) * n + start, base + (r + start) * n + start + size), r * size);
  return out;
}

function meanRows(rows: Float32Array, count: number, width: number): Float32Array {
  const sums = new Float64Array(width);
  for (let r = 0; r < count; r++) for (let c = 0; c < width; c++) sums[c]! += rows[r * width + c]!;
  return Float32Array.from(sums, (s) => s / count);
}

function maxRows(rows: Float32Array, count: number, width: number): Float32Array {
  const max = new Float32Array(width).fill(-Infinity);
  for (let r = 0; r < count; r++) for (let c = 0; c < width; c++) max[c] = Math.max(max[c]!, rows[r * width + c]!);
  return max;
}
