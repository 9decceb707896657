/**
 * core/color-scales — the app's two colour scales, from d3-scale-chromatic, so that a value has
 * one colour wherever it is drawn:
 *
 * - diverging (ColorBrewer RdBu, 11 classes, interpolated linearly between them) for signed
 *   scores centred on 0, with ONE meaning everywhere: negative is red (for variant effects: the
 *   model finds the mutant less likely than the wild type, possibly harmful), 0 is neutral
 *   white-grey, positive is blue. The saturation heatmap, its colour bar and the 3-D structure's
 *   shared variant track all use it.
 * - sequential (viridis: ordered, readable on light and dark backgrounds and by colour-blind
 *   users) for unsigned values: Map colours by a number column, structure tracks such as
 *   attention or predictions.
 *
 * Colours are [r, g, b] in 0 … 1 (what WebGL buffers take); cssRgb and the gradients are for the
 * DOM and canvas. Pure, so the renderer and the reports (reports/svg) draw with the same colours.
 */
import { interpolateViridis, schemeRdBu } from 'd3-scale-chromatic';

export type Rgb = readonly [number, number, number];

/** '#rrggbb' → [r, g, b] in 0 … 1. */
export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

export const cssRgb = ([r, g, b]: Rgb): string => `rgb(${Math.round(r * 255)} ${Math.round(g * 255)} ${Math.round(b * 255)})`;

/** RdBu's 11 stops, red (most negative) to blue (most positive); the middle one, #f7f7f7, is 0. */
const DIVERGING_STOPS: readonly Rgb[] = schemeRdBu[11]!.map(hexToRgb);

/**
 * The diverging colour of s in −1 … 1 (the value over its colour limit; values beyond take the
 * end colours): red below 0, white-grey at 0, blue above.
 */
export function diverging(s: number): Rgb {
  const t = (Math.max(-1, Math.min(1, Number.isFinite(s) ? s : 0)) + 1) / 2;
  const x = t * (DIVERGING_STOPS.length - 1);
  const k = Math.min(DIVERGING_STOPS.length - 2, Math.floor(x));
  const f = x - k;
  const a = DIVERGING_STOPS[k]!;
  const b = DIVERGING_STOPS[k + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** The sequential (viridis) colour of t in 0 … 1. */
export function sequential(t: number): Rgb {
  return hexToRgb(interpolateViridis(Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0))));
}

/** Viridis at 9 evenly spaced points, for CSS gradients. */
export const VIRIDIS: readonly string[] = Array.from({ length: 9 }, (_, i) => interpolateViridis(i / 8));

/** The diverging scale left (−limit) to right (+limit), as a CSS gradient. */
export function divergingGradient(): string {
  const stops = DIVERGING_STOPS.map((rgb, i) => `${cssRgb(rgb)} ${((i / (DIVERGING_STOPS.length - 1)) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** The sequential scale left (0) to right (1), as a CSS gradient. */
export function sequentialGradient(): string {
  return `linear-gradient(to right, ${VIRIDIS.join(', ')})`;
}

/**
 * The colour limit of signed scores: the 98th percentile of |score| over the non-zero cells, so
 * that one extreme cell does not wash out the rest (cells beyond it take the end colour). Never 0.
 */
export function colorLimit(scores: readonly (number | null)[]): number {
  const magnitudes = scores.filter((v): v is number => v !== null && Number.isFinite(v) && v !== 0).map(Math.abs);
  if (magnitudes.length === 0) return 1;
  magnitudes.sort((a, b) => a - b);
  const value = magnitudes[Math.min(magnitudes.length - 1, Math.floor(0.98 * (magnitudes.length - 1)))]!;
  return value > 0 ? value : 1;
}
