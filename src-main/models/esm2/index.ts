/**
 * models/esm2 — ESM-2 (Lin et al. 2023; facebook/esm2_* on the Hugging Face hub) as a model family:
 * Hugging Face `EsmForMaskedLM` safetensors checkpoints (checkpoint/), the 33-token alphabet with
 * 1,022 residues a pass (tokenizer), the stored weight table (weights), the forward graph with
 * token dropout, rotary attention, language-model and contact heads (graph), LoRA's targets and
 * PEFT names (adapters) and the downloadable models (catalog). Only `models/` imports this folder.
 */
import { byteView, float32ToFloat16 } from '../../onnx';
import type { FamilyCheckpoint, ModelConfig, ModelFamily, StoredTensor } from '../family';
import { esm2AdaptableLinear } from './adapters';
import { ESM2_CATALOG } from './catalog';
import { openCheckpoint, recognisesCheckpoint, type EsmCheckpoint } from './checkpoint';
import { readStoredEsmConfig, type EsmConfig } from './checkpoint/config';
import { buildEsmGraph } from './graph';
import { esm2Tokenizer } from './tokenizer';
import { storedTensors, transpose2d } from './weights';

/** Bytes of a stored tensor, read from the checkpoint and laid out as the graph wants. */
function storedBytes(checkpoint: EsmCheckpoint, tensor: StoredTensor): Uint8Array {
  let data = checkpoint.readFloat32(tensor.name);
  if (tensor.transposed) data = transpose2d(data, tensor.dims[1]!, tensor.dims[0]!);
  return tensor.dtype === 'float16' ? byteView(float32ToFloat16(data)) : byteView(data);
}

/**
 * The configs this family is handed back come from its own checkpoints or manifests (checked by
 * `readConfig`), so they are ESM-2 configs; the check is the interface's type narrowing.
 */
const esmConfig = (config: ModelConfig): EsmConfig => config as EsmConfig;

export const esm2: ModelFamily = {
  id: 'esm2',
  label: 'ESM-2',
  tokenizer: esm2Tokenizer,
  heads: { contacts: true },
  catalog: ESM2_CATALOG,
  recognises: recognisesCheckpoint,
  openCheckpoint(source: string): FamilyCheckpoint {
    const checkpoint = openCheckpoint(source);
    return {
      config: checkpoint.config,
      ignoredKeys: checkpoint.ignoredKeys,
      tiedDecoder: checkpoint.tiedDecoder,
      checksum: (onProgress?: (fraction: number) => void) => checkpoint.checksum(onProgress),
      storedBytes: (tensor: StoredTensor) => storedBytes(checkpoint, tensor),
    };
  },
  readConfig: readStoredEsmConfig,
  storedTensors: (config, precision) => storedTensors(esmConfig(config), precision),
  buildGraph: (g, options) => buildEsmGraph(g, { ...options, config: esmConfig(options.config) }),
  adaptableLinear: (config, layer, role) => esm2AdaptableLinear(esmConfig(config), layer, role),
};
