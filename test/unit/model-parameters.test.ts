/**
 * A model's size is its parameter count, counted from the checkpoint's tensors at conversion and
 * kept in the manifest (not weights.data's bytes: int8 and fp16 store fewer bytes a parameter, and
 * ESM C's head and shapes differ from ESM-2's). The expectations are counted here independently,
 * from the safetensors headers as PyTorch counts `model.parameters()`: ESM-2's decoder is tied to
 * its word embeddings and its rotary inv_freq is a buffer; ESM C has neither.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertCheckpoint, readManifest, WEIGHTS_FILE } from '../../src-main/models/installed';
import { describeModel } from '../../src-main/services/model-facts';
import { GOLDEN } from '../support/golden';

const ESM2 = join(GOLDEN, 'tiny', 'checkpoint');
const ESMC = join(GOLDEN, 'esmc-tiny', 'checkpoint');
const scratch = () => mkdtempSync(join(tmpdir(), 'model-parameters-'));

/** Elements of each tensor in a safetensors file, read from its JSON header. */
function tensorSizes(file: string): Map<string, number> {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, { shape: number[] }>;
  const sizes = new Map<string, number>();
  for (const [name, info] of Object.entries(header)) if (name !== '__metadata__') sizes.set(name, info.shape.reduce((n, s) => n * s, 1));
  return sizes;
}

const sum = (sizes: Map<string, number>, keep: (name: string) => boolean): number =>
  [...sizes].filter(([name]) => keep(name)).reduce((total, [, n]) => total + n, 0);

const esm2Expected = sum(tensorSizes(join(ESM2, 'model.safetensors')), (name) => name !== 'lm_head.decoder.weight' && !name.endsWith('inv_freq'));
// ESM C's esm layout holds exactly the model's parameters (the HF layout adds empty _extra_state tensors).
const esmcExpected = sum(tensorSizes(join(ESMC, 'esm', 'model.safetensors')), () => true);

describe('parameter counts from the checkpoint', () => {
  it('are independent of the stored precision, and differ from what weights.data bytes would say', async () => {
    const fp32 = await convertCheckpoint(ESM2, join(scratch(), 'fp32'), { appVersion: 't' });
    const int8Dir = join(scratch(), 'int8');
    const int8 = await convertCheckpoint(ESM2, int8Dir, { appVersion: 't', precision: 'int8' });
    expect(esm2Expected).toBeGreaterThan(0);
    expect(fp32.parameters).toBe(esm2Expected);
    expect(int8.parameters).toBe(esm2Expected);
    // What the scan plotted before (file size / 4 bytes) is far off for int8.
    expect(Math.round(statSync(join(int8Dir, WEIGHTS_FILE)).size / 4)).not.toBe(esm2Expected);
  });

  it('count ESM C from every checkpoint layout alike', async () => {
    const fromEsm = await convertCheckpoint(join(ESMC, 'esm'), join(scratch(), 'esm'), { appVersion: 't' });
    const fromHf = await convertCheckpoint(join(ESMC, 'hf'), join(scratch(), 'hf'), { appVersion: 't', precision: 'int8' });
    expect(fromEsm.parameters).toBe(esmcExpected);
    expect(fromHf.parameters).toBe(esmcExpected);
    expect(esmcExpected).not.toBe(esm2Expected);
  });

  it('are computed on read from the weight table of a manifest written before they were stored', async () => {
    const dir = join(scratch(), 'old');
    await convertCheckpoint(join(ESMC, 'esm'), dir, { appVersion: 't', precision: 'int8' });
    const file = join(dir, 'manifest.json');
    const { parameters, ...old } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(parameters).toBe(esmcExpected);
    writeFileSync(file, JSON.stringify(old));
    expect(readManifest(dir).parameters).toBe(esmcExpected);
  });

  it('reach the API with the family and its heads; an unreadable folder keeps the recorded family and an unknown size', async () => {
    const dir = join(scratch(), 'esmc');
    await convertCheckpoint(join(ESMC, 'esm'), dir, { appVersion: 't' });
    // Recorded as 'ESM-2' (as every install was before the family was recorded): the manifest says otherwise.
    const record = { id: 1, name: 'esmc', family: 'ESM-2', catalogId: null, layers: 2, hiddenSize: 64, precision: 'fp32' as const, sizeBytes: 1, source: 's', path: dir, createdAt: 'now' };
    expect(describeModel(record)).toMatchObject({ family: 'ESM C', parameters: esmcExpected, hasContacts: false });
    expect(describeModel({ ...record, family: 'ESM-2', path: join(dir, 'gone') })).toMatchObject({ family: 'ESM-2', parameters: 0, hasContacts: true });
    expect(describeModel({ ...record, family: 'ESM C', path: join(dir, 'gone') })).toMatchObject({ family: 'ESM C', parameters: 0, hasContacts: false });
  });
});
