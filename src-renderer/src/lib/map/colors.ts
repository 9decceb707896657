// lib/map/colors — how a column becomes point colours: a categorical palette (most frequent
// categories first, the rest as "other") with its legend, or lib/color-scales' sequential
// (viridis) scale between the column's minimum and maximum with its colour bar. Missing values
// are grey.
import type { MapColumn } from '../../../../src-main/api/schemas';
import { hexToRgb, sequential, sequentialGradient, type Rgb } from '../color-scales';

/** Tableau 10 and two more: distinct on light and dark backgrounds. */
export const PALETTE: readonly string[] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#3b8bc2', '#8cd17d', '#d37295'];
export const MISSING = '#9aa0a6';
export const OTHER = '#c7c2b8';
export const SINGLE = '#4e79a7';

export interface LegendEntry {
  label: string;
  color: string;
  count: number;
}

export type Legend =
  | { kind: 'none'; count: number }
  | { kind: 'category'; column: string; entries: LegendEntry[] }
  | { kind: 'number'; column: string; min: number; max: number; missing: number; gradient: string };

export interface Coloring {
  /** rgb per point, 0..1. */
  colors: Float32Array;
  legend: Legend;
  /** The value shown in the tooltip for point i. */
  valueOf(i: number): string;
}

function fill(colors: Float32Array, i: number, rgb: Rgb): void {
  colors[i * 3] = rgb[0];
  colors[i * 3 + 1] = rgb[1];
  colors[i * 3 + 2] = rgb[2];
}

function categoryColoring(column: Extract<MapColumn, { type: 'category' }>): Coloring {
  const counts = new Array<number>(column.categories.length).fill(0);
  let missing = 0;
  for (const code of column.codes) {
    if (code < 0) missing++;
    else counts[code]!++;
  }
  const byFrequency = column.categories.map((_, c) => c).sort((a, b) => counts[b]! - counts[a]! || a - b);
  const overflow = byFrequency.length > PALETTE.length;
  const named = overflow ? byFrequency.slice(0, PALETTE.length - 1) : byFrequency;
  const colorOf = new Array<string>(column.categories.length).fill(OTHER);
  named.forEach((c, rank) => (colorOf[c] = PALETTE[rank]!));
  const rgbOf = colorOf.map(hexToRgb);
  const colors = new Float32Array(column.codes.length * 3);
  const missingRgb = hexToRgb(MISSING);
  column.codes.forEach((code, i) => fill(colors, i, code < 0 ? missingRgb : rgbOf[code]!));
  const entries: LegendEntry[] = named.map((c) => ({ label: column.categories[c]!, color: colorOf[c]!, count: counts[c]! }));
  if (overflow) {
    const rest = byFrequency.slice(PALETTE.length - 1);
    entries.push({ label: `${rest.length} other categories`, color: OTHER, count: rest.reduce((s, c) => s + counts[c]!, 0) });
  }
  if (missing > 0) entries.push({ label: 'missing', color: MISSING, count: missing });
  return {
    colors,
    legend: { kind: 'category', column: column.name, entries },
    valueOf: (i) => (column.codes[i]! < 0 ? 'missing' : column.categories[column.codes[i]!]!),
  };
}

function numberColoring(column: Extract<MapColumn, { type: 'number' }>): Coloring {
  let min = Infinity;
  let max = -Infinity;
  let missing = 0;
  for (const v of column.values) {
    if (v === null) missing++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!Number.isFinite(min)) [min, max] = [0, 0];
  const span = max - min || 1;
  const colors = new Float32Array(column.values.length * 3);
  const missingRgb = hexToRgb(MISSING);
  column.values.forEach((v, i) => fill(colors, i, v === null ? missingRgb : sequential((v - min) / span)));
  const gradient = sequentialGradient();
  return {
    colors,
    legend: { kind: 'number', column: column.name, min, max, missing, gradient },
    valueOf: (i) => (column.values[i] === null ? 'missing' : String(column.values[i])),
  };
}

/** Colours for every point from a column, or one colour when there is no column. */
export function colorBy(column: MapColumn | null, count: number): Coloring {
  if (column?.type === 'category') return categoryColoring(column);
  if (column?.type === 'number') return numberColoring(column);
  const colors = new Float32Array(count * 3);
  const rgb = hexToRgb(SINGLE);
  for (let i = 0; i < count; i++) fill(colors, i, rgb);
  return { colors, legend: { kind: 'none', count }, valueOf: () => '' };
}

export function cssColor(colors: Float32Array, i: number): string {
  const hex = (v: number): string => Math.round(v * 255).toString(16).padStart(2, '0');
  return `#${hex(colors[i * 3]!)}${hex(colors[i * 3 + 1]!)}${hex(colors[i * 3 + 2]!)}`;
}

/**
 * The column a map opens coloured by: the first that means something at a glance, in the back
 * end's order (a mutation scan's mutated position first, then the dataset's labels, then the
 * length): a number, or a category with few enough values for distinct colours. A column with a
 * category per sequence (IDs, the mutation text) never is: hundreds of colours say nothing.
 */
export function defaultColorColumn(columns: readonly MapColumn[]): string | null {
  const readable = columns.find((c) => c.type === 'number' || (c.categories.length >= 2 && c.categories.length <= PALETTE.length));
  return readable?.name ?? null;
}
