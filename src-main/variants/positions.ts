/**
 * variants/positions — the mutated positions named by a mutation string ("A23V", "A23V:G45D",
 * "p.Ala23Val"), so that cross-validation can keep positions apart. Full mutation parsing and
 * wild-type checks live beside this file.
 */
const ONE_LETTER = /^[A-Z](\d+)(?:[A-Z*=]|del)$/;
const HGVS = /^p\.\(?[A-Z][a-z]{2}(\d+)(?:[A-Z][a-z]{2}|Ter|=|\*)\)?$/;

/** Positions (1-based) of every mutation in the string, or null when it is not a mutation list. */
export function mutationPositions(text: string): number[] | null {
  const parts = text.trim().split(/[:;,\s]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const positions: number[] = [];
  for (const part of parts) {
    const match = ONE_LETTER.exec(part) ?? HGVS.exec(part);
    if (!match) return null;
    positions.push(Number(match[1]));
  }
  return positions;
}

/** Column names that hold mutations in deep-mutational-scan files. */
export const MUTATION_COLUMNS = ['mutant', 'mutation', 'mutations', 'variant', 'mutant_id'];
