/**
 * core/atomic: a full disk names the file being written (on a real full file system where this
 * machine lets us mount a small tmpfs, and always through /dev/full), and staging folders —
 * files that appear complete or not at all — are published, kept while their process runs, and
 * settled after it was killed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskFullError, openStaging, publishStaging, settleStaging, writeBytesAtomically, writeFailure } from '../../src-main/core/atomic';
import { NpyRowWriter } from '../../src-main/store/npy';
import { describeFailure } from '../../src-main/cli/exit';
import { mountSmallDisk, unmountSmallDisk } from '../support/small-disk';

const scratch = () => mkdtempSync(join(tmpdir(), 'esm-atomic-'));

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const small = mountSmallDisk();
afterAll(() => unmountSmallDisk(small));

describe('a full disk', () => {
  it('names the file and says what to do (through /dev/full, which is always full)', () => {
    const dir = scratch();
    const path = join(dir, 'scores.csv');
    symlinkSync('/dev/full', `${path}.partial`); // the partial file's writes land on /dev/full
    expect(() => writeBytesAtomically(path, new Uint8Array(10_000))).toThrow(`The disk is full while writing ${path}; free space and resume.`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!small.dir)(`on a 64 KiB file system: an atomic write and a streamed matrix name their files (${small.reason})`, () => {
    const dir = join(small.dir!, 'atomic');
    mkdirSync(dir);
    const path = join(dir, 'big.bin');
    const error = (() => {
      try {
        writeBytesAtomically(path, new Uint8Array(256 * 1024));
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(DiskFullError);
    expect((error as Error).message).toBe(`The disk is full while writing ${path}; free space and resume.`);
    expect(readdirSync(dir)).toEqual([]);

    const matrix = join(dir, 'mean_layer6.npy');
    const writer = new NpyRowWriter(matrix, 1000, 320);
    expect(() => {
      for (let row = 0; row < 1000; row++) writer.writeRow(row, new Float32Array(320).fill(row));
      writer.finish();
    }).toThrow(`The disk is full while writing ${matrix}; free space and resume.`);
    writer.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reaches the command line as the message alone, also when it was not wrapped on the way', () => {
    const raw = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/data/out.csv' });
    expect(describeFailure(raw, false)).toEqual({ text: 'The disk is full while writing /data/out.csv; free space and resume.', code: 1 });
    expect(writeFailure('/x', new Error('other'))).toEqual(new Error('other'));
  });
});

describe('staging folders', () => {
  it('publish replaces same-named files and folders, keeps others, and removes the staging folder', () => {
    const parent = scratch();
    writeFileSync(join(parent, 'run.json'), 'old');
    writeFileSync(join(parent, 'keep.txt'), 'kept');
    mkdirSync(join(parent, 'per_token'));
    writeFileSync(join(parent, 'per_token', 'old.npy'), 'old');
    const staging = openStaging(parent, '.stage-');
    mkdirSync(join(staging, 'per_token'));
    writeFileSync(join(staging, 'per_token', '0.npy'), 'new');
    writeFileSync(join(staging, 'run.json'), 'new');
    publishStaging(staging, parent, { last: ['run.json'] });
    expect(readdirSync(parent).sort()).toEqual(['keep.txt', 'per_token', 'run.json']);
    expect(readdirSync(join(parent, 'per_token'))).toEqual(['0.npy']);
    expect(readFileSync(join(parent, 'run.json'), 'utf8')).toBe('new');
  });

  it('settling removes a killed process\'s unsealed folder, finishes moving a sealed one, and leaves a running process\'s alone', () => {
    const parent = scratch();
    const [first, second] = [deadPid(), deadPid()];
    const unsealed = join(parent, `.stage-${first}`);
    mkdirSync(unsealed);
    writeFileSync(join(unsealed, 'adapter.safetensors'), 'half');
    writeFileSync(join(unsealed, 'training.json'), '{}');
    // A sealed folder whose move was cut short: training.json (moved first) is already in place.
    const sealed = join(parent, `.stage-${second}`);
    mkdirSync(sealed);
    writeFileSync(join(sealed, 'adapter.safetensors'), 'whole');
    writeFileSync(join(sealed, '.sealed'), '');
    writeFileSync(join(parent, 'training.json'), '{"moved": true}');
    const running = join(parent, `.stage-${process.ppid}`);
    mkdirSync(running);
    writeFileSync(join(running, 'adapter.safetensors'), 'in progress');

    expect(settleStaging(parent, '.stage-', { first: ['training.json'] }).sort()).toEqual([`.stage-${first}`, `.stage-${second}`].sort());
    expect(readdirSync(parent).sort()).toEqual(['adapter.safetensors', `.stage-${process.ppid}`, 'training.json'].sort());
    expect(readFileSync(join(parent, 'adapter.safetensors'), 'utf8')).toBe('whole');
    expect(readFileSync(join(parent, 'training.json'), 'utf8')).toBe('{"moved": true}');
    rmSync(running, { recursive: true });
  });
});
