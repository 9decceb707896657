/**
 * models/esm2/adapters — which of ESM-2's linear layers LoRA can adapt, by role: the tensor name
 * (without `.weight`) and the sizes of each.
 */
import type { AdaptableLinear, AdapterRole } from '../family';
import type { EsmConfig } from './checkpoint/config';
import { layerTensorNames } from './weights';

/** The linear layer with this role in 0-based layer `layer` (null for 'qkv': ESM-2's q, k, v are separate). */
export function esm2AdaptableLinear(config: EsmConfig, layer: number, role: AdapterRole): AdaptableLinear | null {
  if (role === 'qkv') return null;
  const n = layerTensorNames(layer);
  const byRole: Record<Exclude<AdapterRole, 'qkv'>, string> = {
    query: n.query,
    key: n.key,
    value: n.value,
    'attention-output': n.attentionOut,
    intermediate: n.intermediate,
    output: n.output,
  };
  const D = config.hiddenSize;
  const dims =
    role === 'intermediate' ? { inDim: D, outDim: config.intermediateSize } : role === 'output' ? { inDim: config.intermediateSize, outDim: D } : { inDim: D, outDim: D };
  return { base: byRole[role], ...dims };
}
