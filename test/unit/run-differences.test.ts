/** lib/run-differences: runs shown together are named by the settings that set them apart. */
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src-main/api/schemas';
import { distinguishingLabels } from '../../src-renderer/src/lib/run-differences';

const run = (id: number, settings: Record<string, unknown>, modelName = 'esm2_t6_8M_UR50D'): Run => ({
  id, projectId: 1, kind: 'train.finetune', title: `Fine-tune run ${id}`, state: 'done', createdAt: '2026-12-07 10:00:00', summary: {},
  params: { modelName, settings: { task: 'regression', lr: 0.001, loraR: 8, head: 'linear', epochs: 10, peft: { method: 'lora' }, ...settings } },
});

describe('naming runs by what differs', () => {
  it('names only the settings that differ, in a fixed order', () => {
    const labels = distinguishingLabels([run(1, {}), run(2, { lr: 0.003 }), run(3, { lr: 0.003, loraR: 16 })]);
    expect([...labels.values()]).toEqual(['#1 lr 0.001, rank 8', '#2 lr 0.003, rank 8', '#3 lr 0.003, rank 16']);
  });

  it('reads nested and model settings, and keeps the title when nothing differs or a run is alone', () => {
    expect([...distinguishingLabels([run(4, { peft: { method: 'prompt' } }), run(5, {}, 'esmc_300m')]).values()]).toEqual(['#4 model esm2_t6_8M_UR50D, method prompt', '#5 model esmc_300m, method lora']);
    expect([...distinguishingLabels([run(6, {}), run(7, {})]).values()]).toEqual(['#6 Fine-tune run 6', '#7 Fine-tune run 7']);
    expect([...distinguishingLabels([run(8, {})]).values()]).toEqual(['#8 Fine-tune run 8']);
  });
});
