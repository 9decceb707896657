/**
 * lib/variants-heatmap — the drawing arithmetic of the saturation heatmap, kept apart from the
 * canvas so it can be read (and tested) alone: the diverging colour scale centred on 0, the
 * symmetric colour limit, the per-position mean shown along the bottom (a display summary of the
 * back end's scores), the cell geometry and the words of the hover text.
 */

/** RdBu-like stops from the most negative (red: the model finds the mutant unlikely) to the most positive (blue). */
const STOPS: readonly (readonly [number, number, number])[] = [
  [165, 0, 38],
  [215, 48, 39],
  [244, 109, 67],
  [253, 174, 97],
  [247, 247, 247],
  [146, 197, 222],
  [67, 147, 195],
  [33, 102, 172],
  [5, 48, 97],
];

/** The colour of `value` on a scale from −limit (first stop) through 0 (white) to +limit (last stop). */
export function divergingColor(value: number, limit: number): string {
  const [r, g, b] = divergingRgb(value, limit);
  return `rgb(${r} ${g} ${b})`;
}

export function divergingRgb(value: number, limit: number): [number, number, number] {
  const t = limit > 0 ? Math.max(-1, Math.min(1, value / limit)) : 0;
  const x = ((t + 1) / 2) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** CSS gradient of the whole scale, left (−limit) to right (+limit), for the colour bar. */
export function scaleGradient(): string {
  const parts = STOPS.map(([r, g, b], i) => `rgb(${r} ${g} ${b}) ${((i / (STOPS.length - 1)) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/**
 * The colour limit: the 98th percentile of |score| over the mutant cells, so that one extreme
 * cell does not wash out the rest (cells beyond it take the end colour). Never 0.
 */
export function colorLimit(scores: readonly (number | null)[]): number {
  const magnitudes = scores.filter((v): v is number => v !== null && Number.isFinite(v) && v !== 0).map(Math.abs);
  if (magnitudes.length === 0) return 1;
  magnitudes.sort((a, b) => a - b);
  const value = magnitudes[Math.min(magnitudes.length - 1, Math.floor(0.98 * (magnitudes.length - 1)))]!;
  return value > 0 ? value : 1;
}

/** The mean over the 19 mutants of each position (the wild-type cell and missing cells left out); null when none. */
export function positionMeans(wildType: string, aminoAcids: readonly string[], scores: readonly (number | null)[]): (number | null)[] {
  const n = aminoAcids.length;
  return [...wildType].map((wt, p) => {
    let sum = 0;
    let count = 0;
    aminoAcids.forEach((aa, a) => {
      const v = scores[p * n + a];
      if (aa === wt || v === null || v === undefined || !Number.isFinite(v)) return;
      sum += v;
      count += 1;
    });
    return count > 0 ? sum / count : null;
  });
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
