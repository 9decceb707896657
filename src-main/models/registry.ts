/**
 * models/registry — the model families this build knows, and which one a model folder or a
 * checkpoint belongs to. The one list a new family is added to.
 */
import type { ModelFamily } from './family';
import { esm2 } from './esm2';
import { esmc } from './esmc';

/** Every known family; the first is the default (what an unrecognised checkpoint is judged as). */
export const FAMILIES: readonly ModelFamily[] = [esm2, esmc];

/** Manifests written before families existed have no `family`: they are ESM-2 models. */
export const DEFAULT_FAMILY_ID = 'esm2';

export function familyById(id: string): ModelFamily | undefined {
  return FAMILIES.find((family) => family.id === id);
}

/**
 * The family whose checkpoints look like `source`. When none does, the default family, whose
 * `openCheckpoint` then says what is wrong with the files (a wrong model type, a missing config).
 */
export function familyOfCheckpoint(source: string): ModelFamily {
  return FAMILIES.find((family) => family.recognises(source)) ?? familyById(DEFAULT_FAMILY_ID)!;
}

/**
 * The fewest residues any family reads in one pass: what a dataset check warns about before a
 * model is chosen (longer sequences are windowed or truncated when embedded).
 */
export const SHORTEST_MAX_RESIDUES = Math.min(...FAMILIES.map((family) => family.tokenizer.maxResidues));
