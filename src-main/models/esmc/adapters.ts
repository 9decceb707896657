/**
 * models/esmc/adapters — which of ESM C's linear layers LoRA can adapt, by role. ESM C packs q, k
 * and v into one projection (`layernorm_qkv.1`, [3d, d]); the interface's separate query / key /
 * value roles have no layer of their own here, so they answer null until the interface gains a
 * packed-QKV role (LoRA on ESM C is a later step of issue 15). The output projection and both
 * SwiGLU layers map one to one.
 */
import type { AdaptableLinear, AdapterRole } from '../family';
import type { EsmcConfig } from './config';
import { blockNames } from './names';

export function esmcAdaptableLinear(config: EsmcConfig, layer: number, role: AdapterRole): AdaptableLinear | null {
  const b = blockNames(layer);
  const d = config.hiddenSize;
  const F = config.intermediateSize;
  switch (role) {
    case 'attention-output':
      return { base: b.attentionOut, inDim: d, outDim: d };
    case 'intermediate':
      return { base: b.ffnIn, inDim: d, outDim: 2 * F };
    case 'output':
      return { base: b.ffnOut, inDim: F, outDim: d };
    default:
      return null;
  }
}
