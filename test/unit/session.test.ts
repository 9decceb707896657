/** engine/session: a device that cannot run here falls back to the CPU and says why. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { availableDevices, openSession } from '../../src-main/engine/session';
import { convertCheckpoint } from '../../src-main/models/installed';
import { loadGolden } from '../support/golden';

let model: string;
beforeAll(async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'esm-session-')), 'tiny');
  await convertCheckpoint(loadGolden('tiny').checkpoint, dir, { appVersion: 't' });
  model = join(dir, 'model.onnx');
});

describe('openSession', () => {
  it('runs on the CPU when asked, with a thread count', async () => {
    const opened = await openSession(model, { device: 'cpu', threads: 1 });
    expect(opened.device).toBe('cpu');
    expect(opened.fallbackReason).toBeNull();
    await opened.session.release();
  });

  it.runIf(process.platform === 'linux')('falls back to the CPU with a reason for a device this platform lacks', async () => {
    expect(availableDevices()).toContain('cpu');
    expect(availableDevices()).not.toContain('dml');
    const opened = await openSession(model, { device: 'dml' });
    expect(opened.device).toBe('cpu');
    expect(opened.fallbackReason).toBe('Running on the CPU instead: dml is not available on this computer: DirectML is only available on Windows.');
    await opened.session.release();
  });

  it.runIf(!process.env.CUDA_VISIBLE_DEVICES && process.platform === 'linux')('falls back from CUDA when its libraries are not installed', async () => {
    const opened = await openSession(model, { device: 'cuda' });
    expect(opened.device).toBe('cpu');
    expect(opened.fallbackReason).toMatch(/^Running on the CPU instead: cuda/);
    expect(opened.fallbackReason).toContain('README');
    await opened.session.release();
  });
});
