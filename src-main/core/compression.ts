/**
 * core/compression — the names of SWAT's compressions of per-residue embeddings ('mean', 'bos',
 * 'max', 'pca1', 'pca2', 'idct_5x44'), parsed and written in one place for the back end
 * (embeddings/compress computes them) and the renderer (which shows them), with their
 * one-sentence explanations for the UI. Pure data and parsing, no dependencies.
 */

export type Compression =
  | { kind: 'mean' }
  | { kind: 'bos' }
  | { kind: 'max' }
  | { kind: 'pca'; component: 1 | 2 }
  | { kind: 'idct'; n: number; m: number };

export type CompressionKind = Compression['kind'];

export const COMPRESSION_INFO: Record<CompressionKind, { label: string; explanation: string }> = {
  mean: {
    label: 'Mean over residues',
    explanation: "Averages all residues' embeddings into one vector, the standard whole-protein summary that works well for most predictions.",
  },
  bos: {
    label: 'Start token (BOS/CLS)',
    explanation: 'Uses the vector ESM-2 produces for the special start-of-sequence token, which the model can use as a summary of the whole protein.',
  },
  max: {
    label: 'Max over residues',
    explanation: 'Keeps, for each embedding feature, its strongest value at any residue, so a signal present at a single site is not averaged away.',
  },
  pca: {
    label: 'Per-protein PCA',
    explanation:
      "Scores each embedding feature on the main pattern of variation along this protein's own sequence (component 1, or the next one for component 2).",
  },
  idct: {
    label: 'iDCT (sequence frequencies)',
    explanation:
      'Describes how the embedding changes along the sequence with a few low-frequency wave coefficients, keeping the coarse positional information that averaging throws away.',
  },
};

// ---------------------------------------------------------------------------------------------
// Names

/** Canonical only (no leading zeros), so that parse → name → parse round-trips exactly. */
const IDCT_NAME = /^idct_([1-9][0-9]*)x([1-9][0-9]*)$/;

export function compressionName(c: Compression): string {
  switch (c.kind) {
    case 'mean':
    case 'bos':
    case 'max':
      return c.kind;
    case 'pca':
      checkComponent(c.component);
      return `pca${c.component}`;
    case 'idct':
      checkCoefficientCount('n', c.n);
      checkCoefficientCount('m', c.m);
      return `idct_${c.n}x${c.m}`;
  }
}

/** Inverse of compressionName; a RangeError names the accepted forms. */
export function parseCompression(name: string): Compression {
  if (name === 'mean' || name === 'bos' || name === 'max') return { kind: name };
  if (name === 'pca1') return { kind: 'pca', component: 1 };
  if (name === 'pca2') return { kind: 'pca', component: 2 };
  const match = IDCT_NAME.exec(name);
  if (match) {
    const n = Number(match[1]);
    const m = Number(match[2]);
    checkCoefficientCount('n', n);
    checkCoefficientCount('m', m);
    return { kind: 'idct', n, m };
  }
  throw new RangeError(
    `Unknown compression ${JSON.stringify(name)}: expected 'mean', 'bos', 'max', 'pca1', 'pca2' or 'idct_<n>x<m>' ` +
      `with whole numbers n, m ≥ 1 written without leading zeros (e.g. 'idct_5x44')`,
  );
}

/** The parsed compression, or null where `name` is not one (e.g. 'per-token'). */
export function tryParseCompression(name: string): Compression | null {
  try {
    return parseCompression(name);
  } catch {
    return null;
  }
}

/** Whether a pooling is a compression that summarises per-residue embeddings (PCA, iDCT). */
export function isCompression(pooling: string): boolean {
  const kind = tryParseCompression(pooling)?.kind;
  return kind === 'pca' || kind === 'idct';
}

export function checkComponent(component: number): void {
  if (component !== 1 && component !== 2) throw new RangeError(`PCA component must be 1 or 2, got ${component}`);
}

export function checkCoefficientCount(name: 'n' | 'm', value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`iDCT ${name} must be a whole number ≥ 1, got ${value}`);
}
