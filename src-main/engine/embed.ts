/**
 * engine/embed — runs an installed model over many sequences: identical sequences once,
 * token-budget batches sorted by length, pooled vectors computed inside the graph, and
 * sequences longer than the model reads at once (1022 residues for ESM-2) either cut into overlapping windows that are
 * blended back together, or truncated. Results are handed to a sink per sequence, each tagged
 * with its input index, so callers can write them in input order.
 */
import * as ort from 'onnxruntime-node';
import { outputName, type GraphOutputs, type ModelFamily, type Pooling } from '../models/family';
import { graphFile, openInstalled, type ModelManifest } from '../models/installed';
import { batchMemoryOf, planBatches, type Batch, type BatchMemory } from './batching';
import { openSession, type Device, type OpenedSession } from './session';
import { blendPairs, blendRows, planWindows, type Window } from './windows';

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
  /**
   * Upper bound of the memory one batch's forward pass takes beside the weights (engine/batching's
   * estimate), in bytes; null: the token budget alone (what the engine did before; benches compare).
   */
  batchMemoryBytes?: number | null;
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
  /** [residues + 2, vocabulary], with the <cls> and <eos> rows. */
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
}

/** A sequence (or one window of a long one) as fed to the model. */
interface Item {
  /** Residues this item feeds to the model. */
  residues: string;
  /** Input index of the first sequence with these residues. */
  owner: number;
  window?: Window;
}

/** One step of work: a batch of whole sequences, or all windows of one long sequence. */
export type Unit = { kind: 'batch'; items: Item[]; batch: Batch } | { kind: 'windows'; items: Item[] };

interface ResolvedOptions extends EmbedOptions {
  layers: number[];
  attentionLayers: number[];
  long: LongMode;
  budget: number;
  memory: BatchMemory | undefined;
}

export interface EmbedPlan {
  sequences: readonly string[];
  /** Residues → every input index with them. */
  owners: Map<string, number[]>;
  units: Unit[];
  options: ResolvedOptions;
}

interface WindowOutput {
  window: Window;
  hidden: Map<number, Float32Array>;
  logits?: Float32Array;
  contacts?: Float32Array;
  attention: Map<number, Float32Array>;
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

  /** Residues one pass reads; longer sequences are windowed or truncated. */
  readonly maxResidues: number;
  /** Width of a logits row. */
  private readonly vocab: number;

  private constructor(
    readonly modelDir: string,
    readonly manifest: ModelManifest,
    readonly family: ModelFamily,
    readonly device: Device,
    readonly threads: number | undefined,
  ) {
    this.maxResidues = family.tokenizer.maxResidues;
    this.vocab = family.tokenizer.vocabSize;
  }

  static open(modelDir: string, options: { device?: Device; threads?: number } = {}): Embedder {
    const model = openInstalled(modelDir);
    return new Embedder(modelDir, model.manifest, model.family, options.device ?? 'cpu', options.threads);
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
   * Splits the work into units, in a fixed order that depends only on the sequences and the
   * options: one unit per token-budget batch of whole sequences, then one per long sequence
   * (all its windows). A resumed run plans the same units and skips those already done, so its
   * results are the same bytes as an uninterrupted run's.
   */
  plan(sequences: readonly string[], options: EmbedOptions): EmbedPlan {
    const config = this.manifest.config;
    const layers = resolveLayers(options.layers, config.numLayers);
    if (options.contacts && !this.family.heads.contacts) {
      throw new RangeError(`${this.family.label} models have no contact head, so they cannot predict contacts; leave contacts off for ${this.manifest.name}.`);
    }
    const resolved: ResolvedOptions = {
      ...options,
      layers,
      attentionLayers: options.attentionLayers ?? [],
      long: options.long ?? 'window',
      budget: Math.max(options.batchTokens ?? 8192, this.maxResidues + 2),
      memory: options.batchMemoryBytes === null ? undefined : batchMemoryOf(config, options.batchMemoryBytes),
    };
    // Identical sequences are computed once and handed to every index that has them.
    const owners = new Map<string, number[]>();
    sequences.forEach((sequence, index) => owners.set(sequence, [...(owners.get(sequence) ?? []), index]));
    const whole: Item[] = [];
    const units: Unit[] = [];
    for (const [sequence, indices] of owners) {
      const owner = indices[0]!;
      if (sequence.length <= this.maxResidues) whole.push({ residues: sequence, owner });
      else if (resolved.long === 'truncate') whole.push({ residues: sequence.slice(0, this.maxResidues), owner });
    }
    for (const batch of planBatches(whole.map((item) => item.residues.length + 2), resolved.budget, resolved.memory)) {
      units.push({ kind: 'batch', items: batch.indices.map((i) => whole[i]!), batch });
    }
    if (resolved.long === 'window') {
      for (const [sequence, indices] of owners) {
        if (sequence.length <= this.maxResidues) continue;
        const windows = planWindows(sequence.length, this.maxResidues).map((window) => ({ residues: sequence.slice(window.start, window.end), owner: indices[0]!, window }));
        units.push({ kind: 'windows', items: windows });
      }
    }
    return { sequences, owners, units, options: resolved };
  }

  /** Residues each input's results cover: its length, or the model's limit (`maxResidues`) when truncated. */
  static residuesOf(sequence: string, long: LongMode, maxResidues: number): number {
    return long === 'truncate' ? Math.min(sequence.length, maxResidues) : sequence.length;
  }

  /** Computes one unit; returns one result per input index it covers (duplicates included). */
  async runUnit(plan: EmbedPlan, unit: Unit): Promise<SequenceResult[]> {
    const computed =
      unit.kind === 'batch'
        ? await this.runWholeBatch(plan, unit.items, unit.batch)
        : [await this.runWindows(plan, unit.items)];
    return computed.flatMap((result) => plan.owners.get(plan.sequences[result.index]!)!.map((index) => ({ ...result, index })));
  }

  /** Tokens a unit feeds to the model (for speed figures). */
  static unitTokens(unit: Unit): number {
    return unit.items.reduce((sum, item) => sum + item.residues.length + 2, 0);
  }

  /** Runs every unit and hands each result to `sink` (a convenience over plan/runUnit). */
  async run(sequences: readonly string[], options: EmbedOptions, sink: (result: SequenceResult) => void | Promise<void>, control: RunControl = {}): Promise<void> {
    const plan = this.plan(sequences, options);
    const started = performance.now();
    let tokensDone = 0;
    let sequencesDone = 0;
    for (const unit of plan.units) {
      if (control.signal?.aborted) return;
      const results = await this.runUnit(plan, unit);
      for (const result of results) await sink(result);
      tokensDone += Embedder.unitTokens(unit);
      sequencesDone += results.length;
      control.onProgress?.({ sequencesDone, sequencesTotal: sequences.length, tokensDone, secondsElapsed: (performance.now() - started) / 1000 });
    }
  }

  private async runWholeBatch(plan: EmbedPlan, items: Item[], batch: Batch): Promise<SequenceResult[]> {
    const { options } = plan;
    const outputs: GraphOutputs = { layers: options.layers, pool: options.pool, logits: options.logits, contacts: options.contacts, attentionLayers: options.attentionLayers };
    const out = await this.runBatch(outputs, items, batch);
    return items.map((item, row) => {
      const truncated = item.residues.length < plan.sequences[item.owner]!.length;
      return this.wholeResult(out, row, batch.paddedLength, item, options.layers, options, truncated);
    });
  }

  private async runBatch(outputs: GraphOutputs, items: Item[], batch: Batch): Promise<ort.InferenceSession.ReturnType> {
    const { session } = await this.session(outputs);
    const encoded = this.family.tokenizer.encodeBatch(items.map((item) => item.residues));
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
    if (options.logits) result.logits = (out.logits!.data as Float32Array).slice(row * T * this.vocab, (row * T + L + 2) * this.vocab);
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
   * A long sequence: every window runs with per-token outputs; rows are blended by position
   * weights, pooled vectors computed from the blended rows (BOS from the first window).
   */
  private async runWindows(plan: EmbedPlan, windows: Item[]): Promise<SequenceResult> {
    const { options } = plan;
    const D = this.manifest.config.hiddenSize;
    const H = this.manifest.config.numHeads;
    const outputs: GraphOutputs = { layers: options.layers, pool: ['per-token'], logits: options.logits, contacts: options.contacts, attentionLayers: options.attentionLayers };
    const owner = windows[0]!.owner;
    const L = plan.sequences[owner]!.length;
    const perWindow: WindowOutput[] = [];
    for (const batch of planBatches(windows.map((w) => w.residues.length + 2), options.budget, options.memory)) {
      const batchItems = batch.indices.map((i) => windows[i]!);
      const out = await this.runBatch(outputs, batchItems, batch);
      for (const [row, item] of batchItems.entries()) {
        const whole = this.wholeResult(out, row, batch.paddedLength, item, [], options, false);
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
    return this.blendWindows(owner, L, perWindow, options, D, H);
  }

  private blendWindows(owner: number, L: number, parts: WindowOutput[], options: ResolvedOptions, D: number, H: number): SequenceResult {
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
      const residues = blendRows(L, this.vocab, windows, parts.map((p) => residueRows(p.logits!, this.vocab, p.window.end - p.window.start)));
      const logits = new Float32Array((L + 2) * this.vocab);
      logits.set(first.logits!.slice(0, this.vocab), 0);
      logits.set(residues, this.vocab);
      const lastLength = last.window.end - last.window.start;
      logits.set(last.logits!.slice((lastLength + 1) * this.vocab, (lastLength + 2) * this.vocab), (L + 1) * this.vocab);
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
