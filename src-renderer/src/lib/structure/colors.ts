/**
 * lib/structure/colors — how residue tracks map onto lib/color-scales' scales, and their
 * legends: the sequential scale between a track's minimum and maximum (attention,
 * predictions), the diverging scale symmetric around 0 for variant effects (negative red, as on
 * the heatmap), and fixed colours for secondary structure. Colours are [r, g, b] in 0 … 1.
 */
import { cssRgb, diverging, sequential, type Rgb } from '../color-scales';
import type { SecondaryStructure } from './types';

export type { Rgb };
export type ScaleKind = 'sequential' | 'diverging';

/** Residues the track has no value for (unaligned, or not scored). */
export const MISSING: Rgb = [0.62, 0.64, 0.67];

export const SECONDARY_COLORS: Record<SecondaryStructure, Rgb> = {
  helix: [0.85, 0.25, 0.45],
  strand: [0.96, 0.7, 0.15],
  coil: [0.6, 0.63, 0.68],
};

/** AlphaFold DB's pLDDT bands (their colours and cut-offs), highest first. */
export const PLDDT_BANDS: readonly { label: string; min: number; color: Rgb }[] = [
  { label: 'Very high (> 90)', min: 90, color: [0, 83 / 255, 214 / 255] },
  { label: 'Confident (70–90)', min: 70, color: [101 / 255, 203 / 255, 243 / 255] },
  { label: 'Low (50–70)', min: 50, color: [1, 219 / 255, 19 / 255] },
  { label: 'Very low (< 50)', min: -Infinity, color: [1, 125 / 255, 69 / 255] },
];

/** Index in PLDDT_BANDS of a pLDDT value in percent. */
export const plddtBand = (percent: number): number => PLDDT_BANDS.findIndex((band) => percent > band.min);

export interface Scale {
  kind: ScaleKind;
  min: number;
  max: number;
}

/** The range a track's colours span: min…max, or symmetric around 0 for a diverging track. */
export function scaleFor(values: readonly (number | null)[], kind: ScaleKind): Scale {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return { kind, min: 0, max: 1 };
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (kind === 'diverging') {
    const bound = Math.max(Math.abs(min), Math.abs(max)) || 1;
    return { kind, min: -bound, max: bound };
  }
  if (max === min) {
    min -= 0.5;
    max += 0.5;
  }
  return { kind, min, max };
}

export function colorOf(value: number | null, scale: Scale): Rgb {
  if (value === null || !Number.isFinite(value)) return MISSING;
  const t = (value - scale.min) / (scale.max - scale.min);
  return scale.kind === 'diverging' ? diverging(2 * t - 1) : sequential(t);
}

/** A CSS gradient of the scale, for the legend bar. */
export function cssGradient(scale: Scale): string {
  const stops = Array.from({ length: 11 }, (_, i) => cssRgb(colorOf(scale.min + ((scale.max - scale.min) * i) / 10, scale)));
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** Short numbers for legend ends: 3 significant digits. */
export const formatTick = (value: number): string => (Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.01) ? value.toExponential(1) : String(Number(value.toPrecision(3))));
