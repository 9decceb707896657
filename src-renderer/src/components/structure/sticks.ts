/**
 * components/structure/sticks — bonds drawn as sticks: within a residue, atoms closer than
 * 1.9 Å (2.2 Å when sulfur or selenium is involved) are bonded. Side chains keep the Cα–Cβ bond
 * and leave the backbone to the cartoon; ligands show all their bonds. Colours by element.
 */
import type { Rgb } from '../../lib/structure/colors';
import { BACKBONE } from '../../lib/structure/residues';
import { distance } from '../../lib/structure/secondary';
import type { Atom, Residue, Vec3 } from '../../lib/structure/types';

export interface Stick {
  a: Vec3;
  b: Vec3;
  colorA: Rgb;
  colorB: Rgb;
}

const ELEMENT_COLORS: Record<string, Rgb> = {
  C: [0.56, 0.58, 0.6],
  N: [0.2, 0.35, 0.95],
  O: [0.92, 0.15, 0.12],
  S: [0.95, 0.8, 0.15],
  SE: [0.95, 0.55, 0.1],
  P: [1, 0.5, 0],
};

export const elementColor = (element: string): Rgb => ELEMENT_COLORS[element] ?? [0.8, 0.4, 0.8];

const bondLength = (a: Atom, b: Atom): number => (['S', 'SE'].includes(a.element) || ['S', 'SE'].includes(b.element) ? 2.2 : 1.9);

function residueSticks(residue: Residue, sideChainOnly: boolean): Stick[] {
  const atoms = residue.atoms.filter((a) => a.element !== 'H');
  const out: Stick[] = [];
  for (let i = 0; i < atoms.length; i++) {
    for (let j = i + 1; j < atoms.length; j++) {
      const a = atoms[i]!;
      const b = atoms[j]!;
      // The cartoon already draws the backbone; only bonds that touch the side chain are sticks.
      if (sideChainOnly && BACKBONE.has(a.name) && BACKBONE.has(b.name)) continue;
      if (sideChainOnly && (BACKBONE.has(a.name) || BACKBONE.has(b.name)) && a.name !== 'CA' && b.name !== 'CA') continue;
      if (distance(a, b) <= bondLength(a, b)) out.push({ a, b, colorA: elementColor(a.element), colorB: elementColor(b.element) });
    }
  }
  return out;
}

export const sideChainSticks = (residues: readonly Residue[]): Stick[] => residues.flatMap((r) => residueSticks(r, true));
export const ligandSticks = (residues: readonly Residue[]): Stick[] => residues.flatMap((r) => residueSticks(r, false));
