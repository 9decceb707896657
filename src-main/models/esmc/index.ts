/**
 * models/esmc — ESM C (EvolutionaryScale 2024; biohub/ESMC-* on the Hugging Face hub) as a model
 * family: its three checkpoint layouts (checkpoint/, with the restricted `.pth` reader of
 * models/formats), the 64-logit alphabet with 2,046 residues a pass (tokenizer), the stored weight
 * table (weights), the forward graph (graph: QK-LayerNorm rotary attention, SwiGLU, scaled
 * residuals, sequence head; no contact head), LoRA's targets (adapters) and the downloadable
 * models (catalog). Only `models/` imports this folder.
 */
import { countParameters, isQuantScale, type FamilyCheckpoint, type ModelConfig, type ModelFamily, type StoredTensor } from '../family';
import { ESMC_PEFT_MODULES, esmcAdaptableLinear } from './adapters';
import { ESMC_CATALOG } from './catalog';
import { openEsmcCheckpoint, recognisesEsmc } from './checkpoint';
import { readStoredEsmcConfig, type EsmcConfig } from './config';
import { buildEsmcGraph } from './graph';
import { esmcTokenizer } from './tokenizer';
import { storedTensors } from './weights';
import { TOP } from './names';
import { storedWeightBytes, type Quantised } from '../stored-weights';

/** Configs handed back to this family come from its own checkpoints or manifests (checked by readConfig). */
const esmcConfig = (config: ModelConfig): EsmcConfig => config as EsmcConfig;

export const esmc: ModelFamily = {
  id: 'esmc',
  label: 'ESM C',
  tokenizer: esmcTokenizer,
  heads: { contacts: false },
  catalog: ESMC_CATALOG,
  recognises: recognisesEsmc,
  openCheckpoint(source: string): FamilyCheckpoint {
    const checkpoint = openEsmcCheckpoint(source);
    const lastQuantised = { current: null as Quantised | null };
    return {
      config: checkpoint.config,
      ignoredKeys: checkpoint.ignoredKeys,
      tiedDecoder: false,
      checksum: (onProgress?: (fraction: number) => void) => checkpoint.checksum(onProgress),
      storedBytes: (tensor: StoredTensor) => storedWeightBytes(checkpoint, tensor, lastQuantised),
    };
  },
  readConfig: readStoredEsmcConfig,
  storedTensors: (config, precision) => storedTensors(esmcConfig(config), precision),
  // Every stored weight is a parameter (no buffers, nothing tied), except int8 scales.
  parameterCount: (tensors) => countParameters(tensors, (name) => !isQuantScale(name)),
  buildGraph: (g, options) => buildEsmcGraph(g, { ...options, config: esmcConfig(options.config) }),
  adaptableLinear: (config, layer, role) => esmcAdaptableLinear(esmcConfig(config), layer, role),
  peftModules: ESMC_PEFT_MODULES,
  inputEmbedding: () => ({ tensor: TOP.embed, scale: 1 }),
};
