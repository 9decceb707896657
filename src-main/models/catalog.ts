/**
 * models/catalog — the models that can be downloaded, every family's entries in one list (each
 * family keeps its own in its folder), and finding one by id or repository.
 */
import { FAMILIES } from './registry';

export interface CatalogEntry {
  /** The id of the family the model belongs to (models/registry). */
  family: string;
  /** The checkpoint name, e.g. 'esm2_t6_8M_UR50D'. */
  id: string;
  /** The Hugging Face repository, e.g. 'facebook/esm2_t6_8M_UR50D'. */
  repo: string;
  /** A short name for people, e.g. 'ESM-2 8M'. */
  label: string;
  /** Weight count (EsmForMaskedLM, decoder tied to the embeddings), approximate. */
  parameters: number;
  layers: number;
  hidden: number;
  heads: number;
  /** Size of the fp32 safetensors weights in bytes, approximate (4 bytes a parameter). */
  sizeBytes: number;
  /** Memory (RAM) the computer should have to embed with this model comfortably. */
  minMemoryGB: number;
  note?: string;
}

/** Every family's downloadable models, family by family, smallest first within a family. */
export function catalogEntries(): CatalogEntry[] {
  return FAMILIES.flatMap((family) => family.catalog);
}

/** The catalog entry with this id or repo (case-insensitive), or undefined. */
export function findCatalogEntry(idOrRepo: string): CatalogEntry | undefined {
  const key = idOrRepo.trim().toLowerCase();
  return catalogEntries().find((entry) => entry.id.toLowerCase() === key || entry.repo.toLowerCase() === key);
}
