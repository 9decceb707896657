/**
 * lib/variants-heatmap — the drawing arithmetic of the saturation heatmap, kept apart from the
 * canvas so it can be read (and tested) alone: cell colours on lib/color-scales' diverging
 * scale, the symmetric colour limit and the per-position mean shown along the bottom (both shared
 * with the reports: core/color-scales, core/saturation-summary), the cell geometry and the words of the hover text.
 */
import { cssRgb, diverging } from './color-scales';

export { colorLimit } from './color-scales';
export { positionMeans } from '../../../src-main/core/saturation-summary';

/** The heatmap's colour of `value`: lib/color-scales' diverging scale with ±limit at its ends (negative red). */
export function divergingColor(value: number, limit: number): string {
  return cssRgb(diverging(limit > 0 ? value / limit : 0));
}

/** The same as 0–255 channels, as the canvas stores them. */
export function divergingRgb(value: number, limit: number): [number, number, number] {
  const [r, g, b] = diverging(limit > 0 ? value / limit : 0);
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/** Layout of the heatmap canvas in CSS pixels. */
export interface HeatmapLayout {
  cellWidth: number;
  rowHeight: number;
  /** Height of the position ruler above the grid. */
  top: number;
  /** Gap between the grid and the mean strip. */
  gap: number;
  meanHeight: number;
  positions: number;
  rows: number;
}

export function layoutSize(layout: HeatmapLayout): { width: number; height: number } {
  return { width: layout.positions * layout.cellWidth, height: layout.top + layout.rows * layout.rowHeight + layout.gap + layout.meanHeight };
}

/** Which cell (0-based position, amino-acid row; row −1 = the mean strip) is under a point, or null. */
export function cellAt(layout: HeatmapLayout, x: number, y: number): { position: number; row: number } | null {
  const position = Math.floor(x / layout.cellWidth);
  if (position < 0 || position >= layout.positions) return null;
  const gridY = y - layout.top;
  const gridHeight = layout.rows * layout.rowHeight;
  if (gridY >= 0 && gridY < gridHeight) return { position, row: Math.floor(gridY / layout.rowHeight) };
  const meanY = gridY - gridHeight - layout.gap;
  if (meanY >= 0 && meanY < layout.meanHeight) return { position, row: -1 };
  return null;
}

/** Positions to number on the ruler: every 1, 2, 5, 10, 20, 50… so that labels do not overlap. */
export function rulerStep(cellWidth: number, labelWidth = 28): number {
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) if (step * cellWidth >= labelWidth) return step;
  return 2000;
}

/** A score as the hover text shows it: two decimals, with a true minus sign. */
export function formatScore(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'not scored';
  return value.toFixed(2).replace('-', '−');
}

/** "A23V" for the mutant `mut` at 0-based position `p` of `wildType`, numbered with `offset`. */
export function mutationName(wildType: string, offset: number, p: number, mut: string): string {
  return `${wildType[p] ?? '?'}${p + 1 + offset}${mut}`;
}

/** The largest cell width that keeps the canvas under browsers' size limit. */
export function maxCellWidth(positions: number, limit = 40, maxCanvas = 32_000): number {
  return Math.max(1, Math.min(limit, Math.floor(maxCanvas / Math.max(1, positions))));
}
