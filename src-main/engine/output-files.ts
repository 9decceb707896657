/**
 * engine/output-files — the command line's embedding output folder (README, "Embedding output
 * files"). The embed.dataset task writes its files — `<pool>_layer<k>.npy` [N, D],
 * `per_token_layer<k>.npy` with `per_token_offsets.npy`, `logits/<i>.npy`, `contacts/<i>.npy`,
 * `attention/<i>_layer<k>.npy` — into a staging folder `<out>/.embedding-staging-<pid>/`; this adds
 * `ids.txt` and `run.json` and moves everything into `<out>` only when the run completes, run.json
 * last (core/atomic's publishStaging): a cancelled, killed or disk-full run leaves no result file
 * in `<out>`. What a killed run left is cleaned up by the next run on the same folder.
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DiskFullError, openStaging, publishStaging, settleStaging, writeBytesAtomically, writingFile } from '../core/atomic';

const STAGING_PREFIX = '.embedding-staging-';
const COMPLETE_MARK = 'run.json';
/** run.json marks a complete run: it goes first (the old one) and arrives last. */
const ORDER = { last: [COMPLETE_MARK] };

export class EmbeddingOutputFolder {
  /** Where the files are written until the run completes (the task's work folder). */
  readonly staging: string;

  constructor(readonly dir: string) {
    settleStaging(dir, STAGING_PREFIX, ORDER);
    this.staging = openStaging(dir, STAGING_PREFIX);
  }

  /** A full disk names the file as the user will know it (in `dir`, not in the staging folder). */
  private named(error: unknown): unknown {
    return error instanceof DiskFullError ? new DiskFullError(join(this.dir, relative(this.staging, error.path)), error.cause) : error;
  }

  /** Runs the work that fills the staging folder. */
  async fill<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.named(error);
    }
  }

  /** Writes ids.txt and run.json, and moves everything into place (run.json last). */
  finish(ids: readonly string[], run: Record<string, unknown>): void {
    const text = (value: string): Uint8Array => new TextEncoder().encode(value);
    try {
      writeBytesAtomically(join(this.staging, 'ids.txt'), text(ids.map((id) => `${id}\n`).join('')));
      writeBytesAtomically(join(this.staging, COMPLETE_MARK), text(JSON.stringify(run, null, 2)));
    } catch (error) {
      throw this.named(error);
    }
    writingFile(this.dir, () => publishStaging(this.staging, this.dir, ORDER));
  }

  /** Drops everything this run wrote; `dir` keeps what it held before. */
  abort(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}
