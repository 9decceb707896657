/**
 * engine/output-files — the embedding output folder (README, "Embedding output files"):
 * `ids.txt`, `<pool>_layer<k>.npy` [N, D], `per_token/<i>_layer<k>.npy` [L, D],
 * `logits/<i>.npy` [T, 33], `contacts/<i>.npy` [L, L], `attention/<i>_layer<k>.npy` [H, T, T] and
 * `run.json`. Everything is written into a staging folder `<out>/.embedding-staging-<pid>/`
 * and moved into `<out>` only when the run completes, run.json last (core/atomic's
 * publishStaging): a cancelled, killed or disk-full run leaves no result file in `<out>`. What a
 * killed run left is cleaned up by the next run on the same folder.
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Pooling } from '../models/family';
import { DiskFullError, openStaging, publishStaging, settleStaging, writeBytesAtomically, writingFile } from '../core/atomic';
import { NpyRowWriter, writeNpyAtomic } from '../store/npy';
import type { SequenceResult } from './embed';

export interface OutputLayout {
  layers: number[];
  pool: Pooling[];
  logits: boolean;
  contacts: boolean;
  attentionLayers: number[];
  hiddenSize: number;
  heads: number;
}

const STAGING_PREFIX = '.embedding-staging-';
const COMPLETE_MARK = 'run.json';
/** run.json marks a complete run: it goes first (the old one) and arrives last. */
const ORDER = { last: [COMPLETE_MARK] };

export class EmbeddingFiles {
  private readonly matrices = new Map<string, NpyRowWriter>();
  /** Where the files are written until the run completes. */
  readonly staging: string;
  /** How long sequences were handled, by index (only those that were not whole). */
  readonly longSequences: { index: number; id: string; residues: number; handling: string }[] = [];

  constructor(
    readonly dir: string,
    readonly ids: readonly string[],
    readonly layout: OutputLayout,
  ) {
    settleStaging(dir, STAGING_PREFIX, ORDER);
    this.staging = openStaging(dir, STAGING_PREFIX);
    this.named(() => {
      for (const layer of layout.layers) {
        for (const kind of layout.pool) {
          if (kind === 'per-token') continue;
          const name = `${kind}_layer${layer}`;
          this.matrices.set(name, new NpyRowWriter(join(this.staging, `${name}.npy`), ids.length, layout.hiddenSize));
        }
      }
    });
  }

  /** A full disk names the file as the user will know it (in `dir`, not in the staging folder). */
  private named<T>(body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof DiskFullError) throw new DiskFullError(join(this.dir, relative(this.staging, error.path)), error.cause);
      throw error;
    }
  }

  write(result: SequenceResult): void {
    this.named(() => this.writeFiles(result));
  }

  private writeFiles(result: SequenceResult): void {
    const i = result.index;
    const L = result.residues;
    for (const [key, vector] of result.pooled) {
      const [kind, layer] = key.split('_') as [string, string];
      this.matrices.get(`${kind}_layer${layer}`)!.writeRow(i, vector);
    }
    for (const [layer, rows] of result.perToken) {
      writeNpyAtomic(join(this.staging, 'per_token', `${i}_layer${layer}.npy`), { dtype: 'float32', shape: [L, this.layout.hiddenSize], data: rows });
    }
    if (result.logits) writeNpyAtomic(join(this.staging, 'logits', `${i}.npy`), { dtype: 'float32', shape: [L + 2, 33], data: result.logits });
    if (result.contacts) writeNpyAtomic(join(this.staging, 'contacts', `${i}.npy`), { dtype: 'float32', shape: [L, L], data: result.contacts });
    for (const [layer, maps] of result.attention) {
      writeNpyAtomic(join(this.staging, 'attention', `${i}_layer${layer}.npy`), { dtype: 'float32', shape: [this.layout.heads, L + 2, L + 2], data: maps });
    }
    if (result.handling !== 'whole') this.longSequences.push({ index: i, id: this.ids[i]!, residues: L, handling: result.handling });
  }

  /** Completes the matrices, writes ids.txt and run.json, and moves them all into place (run.json last). */
  finish(run: Record<string, unknown>): void {
    const text = (value: string): Uint8Array => new TextEncoder().encode(value);
    this.named(() => {
      for (const matrix of this.matrices.values()) matrix.finish();
      writeBytesAtomically(join(this.staging, 'ids.txt'), text(this.ids.map((id) => `${id}\n`).join('')));
      writeBytesAtomically(join(this.staging, COMPLETE_MARK), text(JSON.stringify({ ...run, longSequences: this.longSequences }, null, 2)));
    });
    writingFile(this.dir, () => publishStaging(this.staging, this.dir, ORDER));
  }

  /** Drops everything this run wrote; `dir` keeps what it held before. */
  abort(): void {
    for (const matrix of this.matrices.values()) matrix.abort();
    rmSync(this.staging, { recursive: true, force: true });
  }
}
