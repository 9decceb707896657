// Tests for the leaf utilities in src-main/core where merging copies changed behaviour:
//  - the renderer's compression check and pooling names were regexes that also took names the
//    back end never writes or accepts ('pca3', 'idct_05x4'); they now follow core/compression's
//    parser, so the UI calls a pooling compressed exactly when the back end can compute it;
//  - learn-scan/learn-predict/structure-inspect wrote text with their own partial-and-rename
//    (no fsync; an error named the `.partial` file); core/atomic's text write names the file.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTextAtomically } from '../../src-main/core/atomic';
import { isCompression } from '../../src-main/core/compression';
import { poolingName } from '../../src-renderer/src/lib/scan';

describe('compression names shared by back end and renderer', () => {
  it('calls a pooling compressed only when the back end parses it as PCA or iDCT', () => {
    expect(['pca1', 'pca2', 'idct_5x44', 'idct_1x1'].map(isCompression)).toEqual([true, true, true, true]);
    // The renderer's regex said yes to these; the back end refuses them.
    expect(['pca3', 'pca0', 'idct_05x4', 'idct_0x4'].map(isCompression)).toEqual([false, false, false, false]);
    expect(['mean', 'bos', 'max', 'per-token', ''].map(isCompression)).toEqual([false, false, false, false, false]);
  });

  it('names poolings for biologists, leaving names it does not know as they are', () => {
    expect(poolingName('mean')).toBe('Mean');
    expect(poolingName('bos')).toBe('Start token (BOS)');
    expect(poolingName('max')).toBe('Max');
    expect(poolingName('per-token')).toBe('Per residue');
    expect(poolingName('pca2')).toBe('PCA component 2');
    expect(poolingName('idct_5x44')).toBe('iDCT 5 × 44');
    expect(poolingName('pca3')).toBe('pca3');
  });
});

describe('writeTextAtomically', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes UTF-8 text into a new folder and leaves no partial file', () => {
    dir = mkdtempSync(join(tmpdir(), 'core-atomic-'));
    const path = join(dir, 'scan', 'fit-predictions.csv');
    writeTextAtomically(path, 'id,ŷ\nα,1\n');
    expect(readFileSync(path, 'utf8')).toBe('id,ŷ\nα,1\n');
    expect(readdirSync(join(dir, 'scan'))).toEqual(['fit-predictions.csv']);
  });

  it('names the file it could not write, not its .partial', () => {
    dir = mkdtempSync(join(tmpdir(), 'core-atomic-'));
    writeFileSync(join(dir, 'blocker'), 'a file where a folder should be');
    const path = join(dir, 'blocker', 'meta.json');
    expect(() => writeTextAtomically(path, '{}')).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(readdirSync(dir)).toEqual(['blocker']);
  });
});
