/**
 * lib/structure/colors — colour scales for residue tracks and their legends: a sequential scale
 * (viridis, readable on light and dark backgrounds and by colour-blind users) for attention and
 * predictions, a diverging blue–white–red scale centred on 0 for variant effects, and fixed
 * colours for secondary structure. Colours are [r, g, b] in 0 … 1.
 */
import type { SecondaryStructure } from './types';

export type Rgb = [number, number, number];
export type ScaleKind = 'sequential' | 'diverging';

const VIRIDIS: Rgb[] = [
  [0.267, 0.005, 0.329],
  [0.229, 0.322, 0.546],
  [0.128, 0.567, 0.551],
  [0.369, 0.789, 0.383],
  [0.993, 0.906, 0.144],
];
const DIVERGING: Rgb[] = [
  [0.23, 0.3, 0.75],
  [0.87, 0.87, 0.87],
  [0.71, 0.02, 0.15],
];

/** Residues the track has no value for (unaligned, or not scored). */
export const MISSING: Rgb = [0.62, 0.64, 0.67];

export const SECONDARY_COLORS: Record<SecondaryStructure, Rgb> = {
  helix: [0.85, 0.25, 0.45],
  strand: [0.96, 0.7, 0.15],
  coil: [0.6, 0.63, 0.68],
};

function interpolate(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const f = x - k;
  const a = stops[k]!;
  const b = stops[k + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

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
  return interpolate(scale.kind === 'diverging' ? DIVERGING : VIRIDIS, t);
}

export const cssColor = ([r, g, b]: Rgb): string => `rgb(${Math.round(r * 255)} ${Math.round(g * 255)} ${Math.round(b * 255)})`;

/** A CSS gradient of the scale, for the legend bar. */
export function cssGradient(scale: Scale): string {
  const stops = Array.from({ length: 11 }, (_, i) => cssColor(colorOf(scale.min + ((scale.max - scale.min) * i) / 10, scale)));
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** Short numbers for legend ends: 3 significant digits. */
export const formatTick = (value: number): string => (Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.01) ? value.toExponential(1) : String(Number(value.toPrecision(3))));
