/**
 * jobs/tasks/structure-inspect — the Structure page's model outputs for one sequence: predicted
 * contacts and every layer's per-head attention, computed in the compute process (never in the
 * main or serve process) and written under the project folder:
 *
 *   structure/<key>/contacts.npy           float32 [L, L]      contact probabilities (only for a
 *                                                              family with a contact head: not ESM C)
 *   structure/<key>/attention_layer<k>.npy float32 [H, L, L]   softmax attention of layer k (1-based),
 *                                                              residues only (<cls>/<eos> dropped)
 *   structure/<key>/meta.json              written last: the mark of a complete result
 *
 * Layers are computed in passes small enough that one pass's attention stays under a memory
 * budget (a 33-layer model on 1,000 residues would otherwise hold gigabytes at once).
 */
import { mkdirSync } from 'node:fs';
import { writeTextAtomically } from '../../core/atomic';
import { join } from 'node:path';
import { Embedder } from '../../engine/embed';
import { writeNpyAtomic } from '../../store/npy';
import { throwIfCancelled } from '../../core/cancel';
import { z } from 'zod';
import type { TaskParams } from '../../api/tasks';
import { contract, defineTask } from '../task';

export type StructureInspectParams = TaskParams<'structure.inspect'>;

export interface StructureMeta {
  sequence: string;
  modelName: string;
  layers: number;
  heads: number;
  length: number;
  /** False for a family without a contact head (ESM C): no contacts.npy. Absent in older results (ESM-2 only). */
  hasContacts?: boolean;
  createdAt: string;
}

/** Attention values (float32) one pass may hold: 128 M values = 512 MB. */
const PASS_BUDGET = 128 * 1024 * 1024;

/** Splits layers 1…n into passes of at most `perPass` layers. */
export function layerPasses(layers: number, heads: number, length: number): number[][] {
  const perLayer = heads * (length + 2) ** 2;
  const perPass = Math.max(1, Math.floor(PASS_BUDGET / perLayer));
  const passes: number[][] = [];
  for (let first = 1; first <= layers; first += perPass) {
    passes.push(Array.from({ length: Math.min(perPass, layers - first + 1) }, (_, k) => first + k));
  }
  return passes;
}

/** The residue-to-residue block [H, L, L] of an attention stack [H, L+2, L+2]. */
function residueBlock(maps: Float32Array, heads: number, length: number): Float32Array {
  const T = length + 2;
  const out = new Float32Array(heads * length * length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < length; i++) {
      const from = h * T * T + (i + 1) * T + 1;
      out.set(maps.subarray(from, from + length), (h * length + i) * length);
    }
  }
  return out;
}

export const structureInspect = defineTask({
  ...contract('structure.inspect'),
  input: z.null(),
  checkpoint: z.null(),
  async run(ctx) {
    const { params } = ctx;
    const dir = join(ctx.workDir, params.outDir);
    mkdirSync(dir, { recursive: true });
    const embedder = Embedder.open(params.modelDir);
    const { numLayers, numHeads } = embedder.manifest.config;
    // ESM C has no contact head: its analysis is attention only.
    const hasContacts = embedder.family.heads.contacts;
    const L = params.sequence.length;
    const passes = layerPasses(numLayers, numHeads, L);
    try {
      for (const [p, attentionLayers] of passes.entries()) {
        throwIfCancelled(ctx.signal);
        ctx.progress(p / passes.length, `Attention of layers ${attentionLayers[0]}–${attentionLayers.at(-1)} of ${numLayers}`);
        await embedder.run([params.sequence], { layers: [], pool: [], contacts: hasContacts && p === 0, attentionLayers }, (result) => {
          if (result.contacts) writeNpyAtomic(join(dir, 'contacts.npy'), { dtype: 'float32', shape: [L, L], data: result.contacts });
          for (const [layer, maps] of result.attention) {
            writeNpyAtomic(join(dir, `attention_layer${layer}.npy`), { dtype: 'float32', shape: [numHeads, L, L], data: residueBlock(maps, numHeads, L) });
          }
        }, { signal: ctx.signal });
      }
    } finally {
      await embedder.close();
    }
    throwIfCancelled(ctx.signal);
    const meta: StructureMeta = { sequence: params.sequence, modelName: params.modelName, layers: numLayers, heads: numHeads, length: L, hasContacts, createdAt: new Date().toISOString() };
    writeTextAtomically(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
    // The artifact names a file that exists: the contacts, or (attention only) the result's meta.json.
    await ctx.artifact('structure', join(params.outDir, hasContacts ? 'contacts.npy' : 'meta.json'), { layers: numLayers, heads: numHeads, length: L, hasContacts });
    ctx.progress(1, hasContacts ? 'Attention and contacts ready' : 'Attention ready (this model has no contact head)');
    return { outDir: params.outDir, layers: numLayers, heads: numHeads, length: L, hasContacts };
  },
});
