/** Converting a checkpoint: the model folder layout, and nothing half-written when it stops early. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertCheckpoint, readManifest } from '../../src-main/models/installed';
import { WriteCancelled } from '../../src-main/onnx';
import { loadGolden } from '../support/golden';

const tiny = loadGolden('tiny');
const scratch = () => mkdtempSync(join(tmpdir(), 'esm-convert-'));

describe('convertCheckpoint', () => {
  it('writes weights, the default graph and a manifest with the source checksum and progress', async () => {
    const target = join(scratch(), 'tiny');
    const fractions: number[] = [];
    const manifest = await convertCheckpoint(tiny.checkpoint, target, { appVersion: '9.9.9', onProgress: (f) => fractions.push(f) });
    expect(readdirSync(target).sort()).toEqual(['manifest.json', 'model.onnx', 'weights.data']);
    expect(readManifest(target)).toEqual(JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8')));
    expect(manifest.appVersion).toBe('9.9.9');
    expect(manifest.source.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.config.numLayers).toBe(2);
    expect(manifest.weights.length).toBe(2 * 17 + 11);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
  });

  it('leaves nothing behind when cancelled, and refuses to overwrite an installed model', async () => {
    const parent = scratch();
    const target = join(parent, 'tiny');
    let tensors = 0;
    await expect(
      convertCheckpoint(tiny.checkpoint, target, { appVersion: 't', onProgress: (_, m) => void (m.startsWith('Writing') && tensors++), isCancelled: () => tensors >= 5 }),
    ).rejects.toThrow(WriteCancelled);
    expect(readdirSync(parent)).toEqual([]);
    await convertCheckpoint(tiny.checkpoint, target, { appVersion: 't' });
    await expect(convertCheckpoint(tiny.checkpoint, target, { appVersion: 't' })).rejects.toThrow(/already holds a converted model/);
  });

  it('clears half-built folders left by a killed conversion', async () => {
    const parent = scratch();
    const abandoned = join(parent, '.tiny.converting-999999');
    mkdirSync(abandoned);
    await convertCheckpoint(tiny.checkpoint, join(parent, 'tiny'), { appVersion: 't' });
    expect(existsSync(abandoned)).toBe(false);
    expect(readdirSync(parent)).toEqual(['tiny']);
  });
});
