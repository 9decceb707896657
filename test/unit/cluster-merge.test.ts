/**
 * cluster/merge's once-only merge, without a cluster: two mergers asking at the same time merge
 * once and both get that result; a later ask reads merged.json; a lock left by a process that died
 * on this host is taken over; while a live process holds the lock, the others wait for its result.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeOnce, readMerged, type MergedJob } from '../../src-main/cluster/merge';

const result = (label: string): MergedJob => ({ summary: { label }, artifacts: [], workDir: '/out' });

describe('merging a cluster job once', () => {
  it('two mergers at once: one merges, both get its result, a later one reads merged.json', async () => {
    const jobDir = mkdtempSync(join(tmpdir(), 'esm-merge-'));
    let merges = 0;
    const merge = (label: string) => async (): Promise<MergedJob> => {
      merges += 1;
      await new Promise((r) => setTimeout(r, 300)); // long enough for the other to find the lock taken
      return result(label);
    };
    const [a, b] = await Promise.all([mergeOnce(jobDir, merge('a')), mergeOnce(jobDir, merge('b'))]);
    expect(merges).toBe(1);
    expect(b).toEqual(a);
    expect(readMerged(jobDir)).toEqual(a);
    expect(existsSync(join(jobDir, 'merge.lock'))).toBe(false);
    expect(await mergeOnce(jobDir, merge('c'))).toEqual(a);
    expect(merges).toBe(1);
  });

  it('a lock left by a dead process on this host is taken over', async () => {
    const jobDir = mkdtempSync(join(tmpdir(), 'esm-merge-'));
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(jobDir, 'merge.lock'), JSON.stringify({ host: hostname(), pid: dead.pid }));
    expect(await mergeOnce(jobDir, async () => result('taken over'))).toEqual(result('taken over'));
  });

  it('a live holder is waited for, and its result used', async () => {
    const jobDir = mkdtempSync(join(tmpdir(), 'esm-merge-'));
    writeFileSync(join(jobDir, 'merge.lock'), JSON.stringify({ host: hostname(), pid: process.pid }));
    let merged = false;
    const waiting = mergeOnce(jobDir, async () => {
      merged = true;
      return result('second');
    });
    // The holder (this process, standing in for the merge step) finishes: merged.json, then the lock goes.
    setTimeout(() => {
      writeFileSync(join(jobDir, 'merged.json'), JSON.stringify(result('holder')));
    }, 300);
    expect(await waiting).toEqual(result('holder'));
    expect(merged).toBe(false);
  });
});
