/**
 * models/esmc/adapters — which of ESM C's linear layers LoRA can adapt, by role, and their PEFT
 * module names. ESM C packs q, k and v into one projection (`layernorm_qkv.1`, [3d, d], rows q then
 * k then v): the 'qkv' role adapts it as one linear layer (A [r, d], B [3d, r]), which is exactly
 * what PEFT does to that module and merges into the packed weight unchanged; the separate query /
 * key / value roles answer null. The output projection and both SwiGLU layers map one to one
 * (`ffn.1` is the packed gate/up projection [2F, d], adapted whole).
 */
import type { AdaptableLinear, AdapterRole } from '../family';
import type { EsmcConfig } from './config';
import { blockNames } from './names';

export function esmcAdaptableLinear(config: EsmcConfig, layer: number, role: AdapterRole): AdaptableLinear | null {
  const b = blockNames(layer);
  const d = config.hiddenSize;
  const F = config.intermediateSize;
  switch (role) {
    case 'qkv':
      return { base: b.qkv, inDim: d, outDim: 3 * d };
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

/**
 * PEFT `target_modules` of each role: suffixes of the `esm` package's module names
 * (`transformer.blocks.N.attn.layernorm_qkv.1`, …), so adapters load onto `esm.models.esmc.ESMC`.
 */
export const ESMC_PEFT_MODULES: Readonly<Partial<Record<AdapterRole, string>>> = {
  qkv: 'attn.layernorm_qkv.1',
  'attention-output': 'attn.out_proj',
  intermediate: 'ffn.1',
  output: 'ffn.3',
};
