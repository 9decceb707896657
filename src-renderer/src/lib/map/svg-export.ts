// lib/map/svg-export — the map as it is shown, as an SVG document: one circle per visible point
// (same colours, same size), the selection dimming, the colour legend as text and the axis names.
import { cssColor, type Legend } from './colors';
import { toScreen, visibleBounds, type Size, type View } from './viewport';

/** Above this many visible points the view warns that the SVG file will be large. */
export const LARGE_SVG_POINTS = 20_000;

export interface SvgInput {
  x: Float32Array;
  y: Float32Array;
  colors: Float32Array;
  /** 1 for selected points; null when nothing is selected. */
  selected: Uint8Array | null;
  view: View;
  size: Size;
  pointSize: number;
  background: string;
  legend: Legend;
  title: string;
  /** Axis names ("PC1 (23 % of the variance)", "UMAP 1"). */
  xLabel: string;
  yLabel: string;
}

const escapeXml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** How many points are in view (what the SVG would hold). */
export function visibleCount(x: Float32Array, y: Float32Array, view: View, size: Size): number {
  const b = visibleBounds(view, size);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i]! >= b.minX && x[i]! <= b.maxX && y[i]! >= b.minY && y[i]! <= b.maxY) n++;
  return n;
}

function legendLines(legend: Legend): string[] {
  if (legend.kind === 'category') return [legend.column, ...legend.entries.map((e) => `● ${e.label} (${e.count})`)];
  if (legend.kind === 'number') return [`${legend.column}: ${legend.min} (purple) to ${legend.max} (yellow)`];
  return [];
}

function legendColors(legend: Legend): (string | null)[] {
  if (legend.kind === 'category') return [null, ...legend.entries.map((e) => e.color)];
  return legend.kind === 'number' ? [null] : [];
}

export function buildSvg(input: SvgInput): string {
  const { x, y, colors, selected, view, size } = input;
  const b = visibleBounds(view, size);
  const r = (input.pointSize / 2).toFixed(2);
  const circles: string[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < b.minX || x[i]! > b.maxX || y[i]! < b.minY || y[i]! > b.maxY) continue;
    const [sx, sy] = toScreen(view, size, x[i]!, y[i]!);
    const dim = selected && !selected[i] ? ' fill-opacity="0.18"' : '';
    circles.push(`<circle cx="${sx.toFixed(1)}" cy="${sy.toFixed(1)}" r="${r}" fill="${cssColor(colors, i)}"${dim}/>`);
  }
  const lines = legendLines(input.legend);
  const swatches = legendColors(input.legend);
  const legend = lines
    .map((line, k) => `<text x="12" y="${22 + k * 16}" font-family="sans-serif" font-size="12"${swatches[k] ? ` fill="${swatches[k]}"` : ''}>${escapeXml(line)}</text>`)
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect width="100%" height="100%" fill="${input.background}"/>`,
    `<g fill-opacity="0.9">`,
    ...circles,
    '</g>',
    legend,
    `<text x="${(size.width / 2).toFixed(1)}" y="${size.height - 8}" text-anchor="middle" font-family="sans-serif" font-size="12">${escapeXml(input.xLabel)}</text>`,
    `<text x="14" y="${(size.height / 2).toFixed(1)}" transform="rotate(-90 14 ${(size.height / 2).toFixed(1)})" text-anchor="middle" font-family="sans-serif" font-size="12">${escapeXml(input.yLabel)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
