/**
 * engine/output-files — the embedding output folder (README, "Embedding output files"):
 * `ids.txt`, `<pool>_layer<k>.npy` [N, D], `per_token/<i>_layer<k>.npy` [L, D],
 * `logits/<i>.npy` [T, 33], `contacts/<i>.npy` [L, L], `attention/<i>_layer<k>.npy` [H, T, T] and
 * `run.json`. Matrices are filled row by row under temporary names and only appear, with
 * run.json last, when the run completes.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pooling } from '../esm/graph';
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

export class EmbeddingFiles {
  private readonly matrices = new Map<string, NpyRowWriter>();
  /** How long sequences were handled, by index (only those that were not whole). */
  readonly longSequences: { index: number; id: string; residues: number; handling: string }[] = [];

  constructor(
    readonly dir: string,
    readonly ids: readonly string[],
    readonly layout: OutputLayout,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const layer of layout.layers) {
      for (const kind of layout.pool) {
        if (kind === 'per-token') continue;
        const name = `${kind}_layer${layer}`;
        this.matrices.set(name, new NpyRowWriter(join(dir, `${name}.npy`), ids.length, layout.hiddenSize));
      }
    }
  }

  write(result: SequenceResult): void {
    const i = result.index;
    const L = result.residues;
    for (const [key, vector] of result.pooled) {
      const [kind, layer] = key.split('_') as [string, string];
      this.matrices.get(`${kind}_layer${layer}`)!.writeRow(i, vector);
    }
    for (const [layer, rows] of result.perToken) {
      writeNpyAtomic(join(this.dir, 'per_token', `${i}_layer${layer}.npy`), { dtype: 'float32', shape: [L, this.layout.hiddenSize], data: rows });
    }
    if (result.logits) writeNpyAtomic(join(this.dir, 'logits', `${i}.npy`), { dtype: 'float32', shape: [L + 2, 33], data: result.logits });
    if (result.contacts) writeNpyAtomic(join(this.dir, 'contacts', `${i}.npy`), { dtype: 'float32', shape: [L, L], data: result.contacts });
    for (const [layer, maps] of result.attention) {
      writeNpyAtomic(join(this.dir, 'attention', `${i}_layer${layer}.npy`), { dtype: 'float32', shape: [this.layout.heads, L + 2, L + 2], data: maps });
    }
    if (result.handling !== 'whole') this.longSequences.push({ index: i, id: this.ids[i]!, residues: L, handling: result.handling });
  }

  /** Puts the matrices in place and writes ids.txt and run.json (last, as the mark of a complete run). */
  finish(run: Record<string, unknown>): void {
    for (const matrix of this.matrices.values()) matrix.finish();
    writeFileSync(join(this.dir, 'ids.txt'), this.ids.map((id) => `${id}\n`).join(''));
    const partial = join(this.dir, 'run.json.partial');
    writeFileSync(partial, JSON.stringify({ ...run, longSequences: this.longSequences }, null, 2));
    renameSync(partial, join(this.dir, 'run.json'));
  }

  abort(): void {
    for (const matrix of this.matrices.values()) matrix.abort();
    rmSync(join(this.dir, 'run.json'), { force: true });
  }
}
