/**
 * models/esm2/catalog — the ESM-2 family (facebook/esm2_*_UR50D on the Hugging Face hub) as plain
 * data: sizes and shapes for the model picker, and the memory a model needs. Nothing here touches
 * the network; models/download fetches a chosen entry's `repo`.
 */
import type { CatalogEntry } from '../catalog';

const MB = 1_000_000;
const GB = 1_000_000_000;

export const ESM2_CATALOG: CatalogEntry[] = [
  {
    family: 'esm2',
    id: 'esm2_t6_8M_UR50D',
    repo: 'facebook/esm2_t6_8M_UR50D',
    label: 'ESM-2 8M',
    parameters: 7_500_000,
    layers: 6,
    hidden: 320,
    heads: 20,
    sizeBytes: 31 * MB,
    minMemoryGB: 2,
    note: 'Smallest and fastest; good for trying things out.',
  },
  {
    family: 'esm2',
    id: 'esm2_t12_35M_UR50D',
    repo: 'facebook/esm2_t12_35M_UR50D',
    label: 'ESM-2 35M',
    parameters: 33_500_000,
    layers: 12,
    hidden: 480,
    heads: 20,
    sizeBytes: 136 * MB,
    minMemoryGB: 2,
  },
  {
    family: 'esm2',
    id: 'esm2_t30_150M_UR50D',
    repo: 'facebook/esm2_t30_150M_UR50D',
    label: 'ESM-2 150M',
    parameters: 148_000_000,
    layers: 30,
    hidden: 640,
    heads: 20,
    sizeBytes: 595 * MB,
    minMemoryGB: 4,
  },
  {
    family: 'esm2',
    id: 'esm2_t33_650M_UR50D',
    repo: 'facebook/esm2_t33_650M_UR50D',
    label: 'ESM-2 650M',
    parameters: 651_000_000,
    layers: 33,
    hidden: 1280,
    heads: 20,
    sizeBytes: 2.6 * GB,
    minMemoryGB: 8,
    note: 'The usual choice for transfer learning.',
  },
  {
    family: 'esm2',
    id: 'esm2_t36_3B_UR50D',
    repo: 'facebook/esm2_t36_3B_UR50D',
    label: 'ESM-2 3B',
    parameters: 2_840_000_000,
    layers: 36,
    hidden: 2560,
    heads: 40,
    sizeBytes: 11.4 * GB,
    minMemoryGB: 24,
  },
  {
    family: 'esm2',
    id: 'esm2_t48_15B_UR50D',
    repo: 'facebook/esm2_t48_15B_UR50D',
    label: 'ESM-2 15B',
    parameters: 15_100_000_000,
    layers: 48,
    hidden: 5120,
    heads: 40,
    sizeBytes: 60.5 * GB,
    minMemoryGB: 64,
    note: 'Needs at least 64 GB of memory.',
  },
];
