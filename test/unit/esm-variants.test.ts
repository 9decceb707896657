/**
 * Checkpoint variations give the golden numbers too: no `lm_head.decoder.weight` (tied to the
 * embeddings), extra unknown keys, and a float16 model (close, not exact).
 */
import { copyFileSync, mkdtempSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertCheckpoint, graphFile, readManifest } from '../../src-main/models/installed';
import { loadGolden, maxAbsDiff, runGraph, seqKey } from '../support/golden';
import { float32Tensor, readSafetensorsWhole, writeSafetensors } from '../support/safetensors-writer';

const golden = loadGolden('tiny');
const scratch = () => mkdtempSync(join(tmpdir(), 'esm-variant-'));

/** A copy of the tiny checkpoint whose tensors `edit` may change. */
function editedCheckpoint(edit: (tensors: ReturnType<typeof readSafetensorsWhole>) => ReturnType<typeof readSafetensorsWhole>): string {
  const dir = join(scratch(), 'checkpoint');
  mkdirSync(dir);
  for (const file of readdirSync(golden.checkpoint)) if (file !== 'model.safetensors') copyFileSync(join(golden.checkpoint, file), join(dir, file));
  writeSafetensors(join(dir, 'model.safetensors'), edit(readSafetensorsWhole(join(golden.checkpoint, 'model.safetensors'))));
  return dir;
}

async function worstLogitDiff(checkpoint: string, precision: 'fp32' | 'fp16' = 'fp32'): Promise<number> {
  const modelDir = join(scratch(), 'model');
  await convertCheckpoint(checkpoint, modelDir, { appVersion: 'test', precision });
  const file = await graphFile(modelDir, readManifest(modelDir), { layers: [], pool: [], logits: true });
  let worst = 0;
  for (const seq of golden.sequences.slice(0, 4)) {
    const tokens = Array.from(golden.array(seqKey(seq.index, 'tokens')).data);
    const out = await runGraph(file, [tokens]);
    worst = Math.max(worst, maxAbsDiff(out.logits!.data as Float32Array, golden.array(seqKey(seq.index, 'logits')).data));
  }
  return worst;
}

describe('checkpoint variations', () => {
  it('uses the word embeddings when lm_head.decoder.weight is absent', async () => {
    const checkpoint = editedCheckpoint((tensors) => tensors.filter((t) => t.name !== 'lm_head.decoder.weight'));
    const modelDir = join(scratch(), 'model');
    const manifest = await convertCheckpoint(checkpoint, modelDir, { appVersion: 'test' });
    expect(manifest.source.tiedDecoder).toBe(true);
    expect(await worstLogitDiff(checkpoint)).toBeLessThanOrEqual(1e-4);
  });

  it('ignores unknown keys and lists them', async () => {
    const checkpoint = editedCheckpoint((tensors) => [
      ...tensors,
      float32Tensor('esm.embeddings.position_ids', [1, 4], [0, 1, 2, 3]),
      float32Tensor('something.unrelated', [2], [7, 8]),
    ]);
    const manifest = await convertCheckpoint(checkpoint, join(scratch(), 'model'), { appVersion: 'test' });
    expect(manifest.source.ignoredKeys.sort()).toEqual(['esm.embeddings.position_ids', 'something.unrelated']);
    expect(await worstLogitDiff(checkpoint)).toBeLessThanOrEqual(1e-4);
  });

  it('a float16 model stays close to the float32 references', async () => {
    // Weights rounded to 11 significant bits and fp16 activations: agreement to a few 1e-3 on logits of order 1.
    const diff = await worstLogitDiff(golden.checkpoint, 'fp16');
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.05);
  });
});
