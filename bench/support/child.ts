/**
 * bench/support/child — runs one bench/support script in a child Node process (with tsx) and
 * returns the JSON object it prints on its last line of output. Each measurement gets its own
 * process so peak RSS figures are not polluted by earlier models.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const TEN_MINUTES_MS = 10 * 60 * 1000;

/** The child was stopped by Ctrl-C: the whole benchmark should stop (and clean up), not go on. */
export class Interrupted extends Error {}

export function runChild<T>(script: string, args: readonly (string | number)[], timeoutMs = TEN_MINUTES_MS): T {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args.map(String)], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.signal === 'SIGINT') throw new Interrupted(`${script} interrupted`);
  const lastLine = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !lastLine.startsWith('{')) {
    const why = result.error?.message ?? result.signal ?? `exit code ${result.status}`;
    throw new Error(`${script} ${args.join(' ')} failed (${why}):\n${(result.stderr ?? '').trim().slice(-2000)}`);
  }
  return JSON.parse(lastLine) as T;
}

/**
 * Runs a suite in a scratch folder of its own (models, checkpoints, outputs) that is removed at
 * the end, after an error and on Ctrl-C too; returns the suite's exit code (130 when interrupted).
 */
export function inScratchFolder(prefix: string, suite: (root: string) => number): number {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const cleanUp = (): void => rmSync(root, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  try {
    return suite(root);
  } catch (error) {
    if (error instanceof Interrupted) return 130;
    throw error;
  } finally {
    cleanUp();
  }
}
