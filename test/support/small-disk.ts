/**
 * test/support/small-disk — a 64 KiB tmpfs to fill up, for tests of what a full disk does.
 * Mounting needs root (CI runs as root); elsewhere `dir` is null and `reason` says why, and the
 * tests that need a real file system skip while those using /dev/full still run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string | null;
  reason: string;
}

export function mountSmallDisk(size = '64k'): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'esm-small-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status === 0) return { dir, reason: `tmpfs of ${size} at ${dir}` };
  rmSync(dir, { recursive: true, force: true });
  return { dir: null, reason: `no tmpfs: ${(mounted.stderr || mounted.error?.message || 'mount failed').trim()}` };
}

export function unmountSmallDisk(disk: SmallDisk): void {
  if (!disk.dir) return;
  spawnSync('umount', [disk.dir]);
  rmSync(disk.dir, { recursive: true, force: true });
}
