/**
 * lib/structure/secondary — secondary structure per residue: from the file's HELIX/SHEET (or
 * _struct_conf/_struct_sheet_range) ranges when it has them, otherwise from Cα geometry alone.
 *
 * The geometric rule (after P-SEA, Labesse et al. 1997, simplified) looks at Cα distances
 * d2 = |i → i+2|, d3 = |i → i+3|, d4 = |i → i+4| along unbroken stretches of the chain:
 *  - helix:  d2 = 5.5 ± 0.5 Å, d3 = 5.3 ± 0.5 Å and d4 = 6.4 ± 0.6 Å → residues i … i+4 are helix;
 *  - strand: d2 = 6.7 ± 0.6 Å and d3 = 9.9 ± 0.9 Å (fully extended)  → residues i … i+3 are strand
 *    (unless already helix).
 * So helices are at least 5 residues and strands at least 4. Consecutive Cα farther apart than
 * 4.2 Å are a chain break, and no window spans one. Everything else is coil.
 */
import type { Chain, Residue, SecondaryRange, SecondaryStructure, Vec3 } from './types';

const MAX_BOND = 4.2;

export const distance = (a: Vec3, b: Vec3): number => Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);

const near = (value: number, centre: number, tolerance: number): boolean => Math.abs(value - centre) <= tolerance;

/** Whether the Cα of residues i … i+span are consecutive without a break. */
function unbroken(trace: readonly Vec3[], i: number, span: number): boolean {
  for (let k = i; k < i + span; k++) if (distance(trace[k]!, trace[k + 1]!) > MAX_BOND) return false;
  return true;
}

/** The rule above on a list of Cα positions; exported for tests and for files without records. */
export function secondaryFromCalpha(trace: readonly Vec3[]): SecondaryStructure[] {
  const ss: SecondaryStructure[] = trace.map(() => 'coil');
  const d = (i: number, k: number): number => distance(trace[i]!, trace[i + k]!);
  for (let i = 0; i + 4 < trace.length; i++) {
    if (unbroken(trace, i, 4) && near(d(i, 2), 5.5, 0.5) && near(d(i, 3), 5.3, 0.5) && near(d(i, 4), 6.4, 0.6)) {
      for (let k = i; k <= i + 4; k++) ss[k] = 'helix';
    }
  }
  for (let i = 0; i + 3 < trace.length; i++) {
    if (unbroken(trace, i, 3) && near(d(i, 2), 6.7, 0.6) && near(d(i, 3), 9.9, 0.9)) {
      for (let k = i; k <= i + 3; k++) if (ss[k] !== 'helix') ss[k] = 'strand';
    }
  }
  return ss;
}

export function assignFromGeometry(chain: Chain): void {
  const residues = chain.residues.filter((r): r is Residue & { ca: Vec3 } => r.ca !== null);
  const ss = secondaryFromCalpha(residues.map((r) => r.ca));
  residues.forEach((residue, i) => (residue.ss = ss[i]!));
}

const sameResidue = (r: Residue, at: { seq: number; icode: string }): boolean => r.seq === at.seq && r.icode === at.icode;

/** Marks the residues inside each of the chain's ranges (inclusive, in file order). */
export function applyRanges(chain: Chain, ranges: readonly SecondaryRange[]): void {
  for (const range of ranges) {
    if (range.chain !== chain.id) continue;
    const start = chain.residues.findIndex((r) => sameResidue(r, range.start));
    const end = chain.residues.findIndex((r) => sameResidue(r, range.end));
    if (start < 0 || end < start) continue;
    for (let i = start; i <= end; i++) chain.residues[i]!.ss = range.type;
  }
}
