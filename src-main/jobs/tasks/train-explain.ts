/**
 * jobs/tasks/train-explain — `train.explain`: integrated gradients of one protein on a finished
 * fine-tuning run (train/attributions), in the compute process (onnxruntime never runs in the
 * main or serve process). Writes the per-residue CSV and, last, the result JSON the service
 * answers from (its presence marks a complete result).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { writeTextAtomically } from '../../core/atomic';
import { explainFinetuned, writeAttributionsCsv } from '../../train/attributions';
import { contract, defineTask } from '../task';

export const trainExplain = defineTask({
  ...contract('train.explain'),
  input: z.null(),
  checkpoint: z.null(),
  async run(ctx) {
    const { params } = ctx;
    ctx.progress(0, `Integrated gradients over ${params.steps} steps`);
    const result = await explainFinetuned(join(ctx.workDir, params.runDir), params.sequence, {
      baseline: params.baseline,
      steps: params.steps,
      ...(params.target === undefined ? {} : { target: params.target }),
    });
    writeAttributionsCsv(join(ctx.workDir, params.csvPath), params.sequence, result);
    const json = { ...result, residues: Array.from(result.residues) };
    writeTextAtomically(join(ctx.workDir, params.resultPath), JSON.stringify(json));
    return { resultPath: params.resultPath, csvPath: params.csvPath, completeness: result.completeness };
  },
});
