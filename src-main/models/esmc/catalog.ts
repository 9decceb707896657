/**
 * models/esmc/catalog — the downloadable ESM C models (the Biohub Hugging Face repositories, which
 * hold config.json and model.safetensors in the layout models/esmc/checkpoint reads) as plain
 * data. Parameter counts are the weights of the converted model (models/esmc/weights'
 * `parameterCount`, checked by a test); sizes assume 4 bytes a parameter.
 */
import type { CatalogEntry } from '../catalog';

const GB = 1_000_000_000;

// TODO(licence): the notes give the licences EvolutionaryScale announced for these weights (ESM C
// 300M: Cambrian Open License; 600M: Cambrian Non-Commercial License). The golden README does not
// say, and the biohub/ESMC-* model cards could not be read from here: check them before release.
export const ESMC_CATALOG: CatalogEntry[] = [
  {
    family: 'esmc',
    id: 'ESMC-300M',
    repo: 'biohub/ESMC-300M',
    label: 'ESM C 300M',
    parameters: 332_997_184,
    layers: 30,
    hidden: 960,
    heads: 15,
    sizeBytes: 1.33 * GB,
    minMemoryGB: 4,
    note: 'ESM C (2024): about as good as ESM-2 650M at half the size. Licence: Cambrian Open License (to be confirmed on the model page).',
  },
  {
    family: 'esmc',
    id: 'ESMC-600M',
    repo: 'biohub/ESMC-600M',
    label: 'ESM C 600M',
    parameters: 575_036_992,
    layers: 36,
    hidden: 1152,
    heads: 18,
    sizeBytes: 2.3 * GB,
    minMemoryGB: 8,
    note: 'Matches ESM-2 650M–3B on many tasks. Licence: Cambrian Non-Commercial License, no commercial use (to be confirmed on the model page).',
  },
];
