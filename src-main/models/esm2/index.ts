/**
 * models/esm2 — ESM-2 (Lin et al. 2023; facebook/esm2_* on the Hugging Face hub) as a model family:
 * Hugging Face `EsmForMaskedLM` safetensors checkpoints (checkpoint/), the 33-token alphabet with
 * 1,022 residues a pass (tokenizer), the stored weight table (weights), the forward graph with
 * token dropout, rotary attention, language-model and contact heads (graph), LoRA's targets and
 * PEFT names (adapters) and the downloadable models (catalog). Only `models/` imports this folder.
 */
import { countParameters, isQuantScale, type FamilyCheckpoint, type ModelConfig, type ModelFamily, type StoredTensor } from '../family';
import { esm2AdaptableLinear } from './adapters';
import { ESM2_CATALOG } from './catalog';
import { openCheckpoint, recognisesCheckpoint } from './checkpoint';
import { readStoredEsmConfig, type EsmConfig } from './checkpoint/config';
import { buildEsmGraph } from './graph';
import { esm2Tokenizer } from './tokenizer';
import { storedTensors, TOP_LEVEL } from './weights';
import { storedWeightBytes, type Quantised } from '../stored-weights';

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
      storedBytes: (tensor: StoredTensor) => storedWeightBytes(checkpoint, tensor, lastQuantised),
    };
  },
  readConfig: readStoredEsmConfig,
  storedTensors: (config, precision) => storedTensors(esmConfig(config), precision),
  // As PyTorch counts ESM-2: the decoder is tied to the word embeddings, inv_freq is a buffer.
  parameterCount: (tensors) =>
    countParameters(tensors, (name) => !isQuantScale(name) && name !== TOP_LEVEL.lmDecoder && !name.endsWith('.inv_freq')),
  buildGraph: (g, options) => buildEsmGraph(g, { ...options, config: esmConfig(options.config) }),
  adaptableLinear: (config, layer, role) => esm2AdaptableLinear(esmConfig(config), layer, role),
  // The graph scales input embeddings by 1 − 0.15·0.8 when token dropout is on (no masks in fine-tuning).
  inputEmbedding: (config) => ({ tensor: TOP_LEVEL.wordEmbeddings, scale: esmConfig(config).tokenDropout ? 0.88 : 1 }),
};
