/**
 * models/esmc/names — ESM C's tensor names. Inside ESM Studio every tensor has the `esm` package's
 * name (`embed.weight`, `transformer.blocks.N.attn.layernorm_qkv.1.weight`, `sequence_head.3.bias`,
 * …), whichever layout the checkpoint used; `canonicalName` maps the Hugging Face / Biohub
 * TransformerEngine names (`esmc.` prefix, `layer_norm_weight`, `fc1_weight`, `lm_head.`) onto them.
 */

/** The tensors of block `n` (0-based), by role, without `.weight` / `.bias`. */
export function blockNames(n: number) {
  const p = `transformer.blocks.${n}`;
  return {
    /** Pre-attention LayerNorm (weight and bias). */
    attentionNorm: `${p}.attn.layernorm_qkv.0`,
    /** Packed q, k, v projection [3d, d], rows q then k then v; no bias. */
    qkv: `${p}.attn.layernorm_qkv.1`,
    /** LayerNorms over the whole width of q and of k (weight only). */
    queryNorm: `${p}.attn.q_ln`,
    keyNorm: `${p}.attn.k_ln`,
    attentionOut: `${p}.attn.out_proj`,
    /** Pre-feed-forward LayerNorm (weight and bias). */
    ffnNorm: `${p}.ffn.0`,
    /** SwiGLU input [2F, d]: the first F rows are gated by SiLU, the last F multiply them. */
    ffnIn: `${p}.ffn.1`,
    ffnOut: `${p}.ffn.3`,
  };
}

export const TOP = {
  embed: 'embed.weight',
  /** Final LayerNorm, weight only. */
  finalNorm: 'transformer.norm',
  headDense: 'sequence_head.0',
  headNorm: 'sequence_head.2',
  headOut: 'sequence_head.3',
} as const;

/** TransformerEngine's fused-module names → the `esm` package's. */
const TRANSFORMER_ENGINE_SUFFIXES: readonly [string, string][] = [
  ['.attn.layernorm_qkv.layer_norm_weight', '.attn.layernorm_qkv.0.weight'],
  ['.attn.layernorm_qkv.layer_norm_bias', '.attn.layernorm_qkv.0.bias'],
  ['.attn.layernorm_qkv.weight', '.attn.layernorm_qkv.1.weight'],
  ['.ffn.layer_norm_weight', '.ffn.0.weight'],
  ['.ffn.layer_norm_bias', '.ffn.0.bias'],
  ['.ffn.fc1_weight', '.ffn.1.weight'],
  ['.ffn.fc2_weight', '.ffn.3.weight'],
];

/** A checkpoint key under its ESM Studio name (identity for the `esm` package's names). */
export function canonicalName(key: string): string {
  let name = key.startsWith('esmc.') ? key.slice('esmc.'.length) : key;
  if (name.startsWith('lm_head.')) name = `sequence_head.${name.slice('lm_head.'.length)}`;
  if (!name.startsWith('transformer.blocks.')) return name;
  for (const [from, to] of TRANSFORMER_ENGINE_SUFFIXES) if (name.endsWith(from)) return name.slice(0, -from.length) + to;
  return name;
}

/** TransformerEngine's per-module state (fp8 scaling); empty in these checkpoints, never a weight. */
export const isExtraState = (key: string): boolean => key.endsWith('._extra_state');

/** The block index of a canonical name, or null. */
export function blockIndexOf(name: string): number | null {
  const match = /^transformer\.blocks\.(\d+)\./.exec(name);
  return match ? Number(match[1]) : null;
}
