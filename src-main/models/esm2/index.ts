/**
 * models/esm2 — ESM-2 (Lin et al. 2023; facebook/esm2_* on the Hugging Face hub) as a model family:
 * Hugging Face `EsmForMaskedLM` safetensors checkpoints (checkpoint/), the 33-token alphabet with
 * 1,022 residues a pass (tokenizer), the stored weight table (weights), the forward graph with
 * token dropout, rotary attention, language-model and contact heads (graph), LoRA's targets and
 * PEFT names (adapters) and the downloadable models (catalog). Only `models/` imports this folder.
 */
import { byteView, float32ToFloat16 } from '../../onnx';
import { countParameters, isQuantScale, type FamilyCheckpoint, type ModelConfig, type ModelFamily, type StoredTensor } from '../family';
import { esm2AdaptableLinear } from './adapters';
import { ESM2_CATALOG } from './catalog';
import { openCheckpoint, recognisesCheckpoint, type EsmCheckpoint } from './checkpoint';
import { readStoredEsmConfig, type EsmConfig } from './checkpoint/config';
import { buildEsmGraph } from './graph';
import { esm2Tokenizer } from './tokenizer';
import { quantiseRows, scaledWeightOf, storedTensors, TOP_LEVEL, transpose2d } from './weights';

/** The int8 values and scales of one weight, kept while its two stored tensors are written. */
type Quantised = { name: string; values: Int8Array; scales: Float32Array };

/** `name` ([out, in] in the checkpoint) quantised per output channel; read once for both stored tensors. */
function quantised(checkpoint: EsmCheckpoint, name: string, outDim: number, last: { current: Quantised | null }): Quantised {
  if (last.current?.name !== name) {
    const data = checkpoint.readFloat32(name);
    last.current = { name, ...quantiseRows(data, outDim, data.length / outDim) };
  }
  return last.current;
}

/** Bytes of a stored tensor, read from the checkpoint and laid out as the graph wants. */
function storedBytes(checkpoint: EsmCheckpoint, tensor: StoredTensor, last: { current: Quantised | null }): Uint8Array {
  const scaled = scaledWeightOf(tensor.name);
  if (scaled) return byteView(quantised(checkpoint, scaled, tensor.dims[0]!, last).scales);
  if (tensor.dtype === 'int8') return byteView(quantised(checkpoint, tensor.name, tensor.dims[1]!, last).values);
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
    const lastQuantised = { current: null as Quantised | null };
    return {
      config: checkpoint.config,
      ignoredKeys: checkpoint.ignoredKeys,
      tiedDecoder: checkpoint.tiedDecoder,
      checksum: (onProgress?: (fraction: number) => void) => checkpoint.checksum(onProgress),
      storedBytes: (tensor: StoredTensor) => storedBytes(checkpoint, tensor, lastQuantised),
    };
  },
  readConfig: readStoredEsmConfig,
  storedTensors: (config, precision) => storedTensors(esmConfig(config), precision),
  // As PyTorch counts ESM-2: the decoder is tied to the word embeddings, inv_freq is a buffer.
  parameterCount: (tensors) =>
    countParameters(tensors, (name) => !isQuantScale(name) && name !== TOP_LEVEL.lmDecoder && !name.endsWith('.inv_freq')),
  buildGraph: (g, options) => buildEsmGraph(g, { ...options, config: esmConfig(options.config) }),
  adaptableLinear: (config, layer, role) => esm2AdaptableLinear(esmConfig(config), layer, role),
};
