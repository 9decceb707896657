/**
 * reports/svg — hand-written SVG figures for reports: line charts (linear or log axes, several
 * series with a legend), scatter plots with the y = x diagonal, and saturation heatmaps (on the
 * app's diverging scale, core/color-scales, so a cell has the colour it has on screen). Output is a standalone,
 * well-formed <svg> element with explicit colours and fonts, so it renders the same inline in an
 * HTML file, in a PDF and in any viewer; all text is escaped.
 */
import { cssRgb, diverging } from '../core/color-scales';
import { escapeHtml } from './html';

export type Point = readonly [number, number];

export interface SvgSeries {
  name: string;
  points: readonly Point[];
}

export interface LineChartOptions {
  xLabel: string;
  yLabel: string;
  series: readonly SvgSeries[];
  logX?: boolean;
  logY?: boolean;
  /** Draw a dot at every point (for few points, e.g. one per model size). */
  markers?: boolean;
  /** Short text for screen readers and the <title>. */
  title: string;
}

export interface ScatterOptions {
  xLabel: string;
  yLabel: string;
  points: readonly Point[];
  title: string;
  /** Draw the y = x line (predicted against measured). */
  diagonal?: boolean;
}

export const PALETTE = ['#2f6fdb', '#e8590c', '#2b8a3e', '#ae3ec9', '#d6336c', '#0c8599', '#f08c00', '#5c7cfa', '#74b816', '#868e96'];

const WIDTH = 640;
const PLOT_HEIGHT = 300;
const PAD = { left: 64, right: 16, top: 14, bottom: 46 };
const LEGEND_ROW = 18;
const LEGEND_COLUMNS = 3;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

/** 1, 2 or 5 × a power of ten: the step that gives about `count` ticks over [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten inside [min, max] (both > 0); 1-2-5 steps when the range spans less than two decades. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const multiples = hi - lo <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of multiples) {
    const v = Number((m * 10 ** e).toPrecision(12));
    if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
  }
  return ticks;
}

function axisFor(values: readonly number[], log: boolean, pad: number): Axis {
  const usable = log ? values.filter((v) => v > 0) : values;
  let min = Math.min(...usable);
  let max = Math.max(...usable);
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = log ? [1, 10] : [0, 1];
  if (log) {
    if (min === max) [min, max] = [min / 2, max * 2];
    const span = Math.log10(max / min) * pad;
    [min, max] = [min / 10 ** span, max * 10 ** span];
    return { min, max, log, ticks: logTicks(min, max) };
  }
  if (min === max) [min, max] = [min - (Math.abs(min) || 1) * 0.5, max + (Math.abs(max) || 1) * 0.5];
  const extra = (max - min) * pad;
  [min, max] = [min - extra, max + extra];
  return { min, max, log, ticks: niceTicks(min, max) };
}

/** Position of a value along an axis of `length` pixels, 0 at the axis minimum. */
function scale(axis: Axis, value: number, length: number): number {
  const t = axis.log ? Math.log10(value / axis.min) / Math.log10(axis.max / axis.min) : (value - axis.min) / (axis.max - axis.min);
  return t * length;
}

/** Tick labels: short and without float noise (0.30000000000000004 → 0.3). */
export function tickLabel(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(0).replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

const f = (n: number): string => n.toFixed(1);

interface Frame {
  x: Axis;
  y: Axis;
  w: number;
  h: number;
  px(v: number): number;
  py(v: number): number;
}

function frame(x: Axis, y: Axis, w = WIDTH - PAD.left - PAD.right): Frame {
  const h = PLOT_HEIGHT - PAD.top - PAD.bottom;
  return { x, y, w, h, px: (v) => PAD.left + scale(x, v, w), py: (v) => PAD.top + h - scale(y, v, h) };
}

/** Grid lines, tick labels, the plot border and the axis titles. */
function axesSvg(fr: Frame, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  for (const t of fr.x.ticks) {
    const x = f(fr.px(t));
    parts.push(`<line x1="${x}" y1="${PAD.top}" x2="${x}" y2="${PAD.top + fr.h}" stroke="#e3e6eb" stroke-width="1"/>`);
    parts.push(`<text x="${x}" y="${PAD.top + fr.h + 16}" text-anchor="middle" font-size="11" fill="#56606e">${escapeHtml(tickLabel(t))}</text>`);
  }
  for (const t of fr.y.ticks) {
    const y = f(fr.py(t));
    parts.push(`<line x1="${PAD.left}" y1="${y}" x2="${PAD.left + fr.w}" y2="${y}" stroke="#e3e6eb" stroke-width="1"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" fill="#56606e">${escapeHtml(tickLabel(t))}</text>`);
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${fr.w}" height="${fr.h}" fill="none" stroke="#9aa3ae" stroke-width="1"/>`);
  parts.push(`<text x="${PAD.left + fr.w / 2}" y="${PLOT_HEIGHT - 8}" text-anchor="middle" font-size="12" font-weight="600" fill="#1f2933">${escapeHtml(xLabel)}</text>`);
  const cy = PAD.top + fr.h / 2;
  parts.push(`<text x="14" y="${cy}" transform="rotate(-90 14 ${cy})" text-anchor="middle" font-size="12" font-weight="600" fill="#1f2933">${escapeHtml(yLabel)}</text>`);
  return parts.join('\n');
}

function legendSvg(names: readonly string[]): string {
  if (names.length < 2) return '';
  const colWidth = (WIDTH - PAD.left) / LEGEND_COLUMNS;
  return names
    .map((name, i) => {
      const x = PAD.left + (i % LEGEND_COLUMNS) * colWidth;
      const y = PLOT_HEIGHT + 6 + Math.floor(i / LEGEND_COLUMNS) * LEGEND_ROW;
      const color = PALETTE[i % PALETTE.length]!;
      const label = name.length > 34 ? `${name.slice(0, 33)}…` : name;
      return `<line x1="${f(x)}" y1="${y}" x2="${f(x + 18)}" y2="${y}" stroke="${color}" stroke-width="3"/><text x="${f(x + 24)}" y="${y}" dy="4" font-size="11" fill="#1f2933">${escapeHtml(label)}</text>`;
    })
    .join('\n');
}

function svgOpen(title: string, height: number, width = WIDTH): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}" ${FONT}><title>${escapeHtml(title)}</title><rect width="${width}" height="${height}" fill="#ffffff"/>`;
}

/** The path of one series, broken where a point cannot be drawn (a log axis and a value ≤ 0, or NaN). */
function seriesPath(fr: Frame, points: readonly Point[]): string {
  let d = '';
  let pen = false;
  for (const [x, y] of [...points].sort((a, b) => a[0] - b[0])) {
    const drawable = Number.isFinite(x) && Number.isFinite(y) && (!fr.x.log || x > 0) && (!fr.y.log || y > 0);
    if (!drawable) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f(fr.px(x))},${f(fr.py(y))}`;
    pen = true;
  }
  return d;
}

export function lineChartSvg(o: LineChartOptions): string {
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0])).filter(Number.isFinite);
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const fr = frame(axisFor(xs, !!o.logX, o.logX ? 0.15 : 0), axisFor(ys, !!o.logY, 0.06));
  const legendRows = o.series.length < 2 ? 0 : Math.ceil(o.series.length / LEGEND_COLUMNS);
  const height = PLOT_HEIGHT + (legendRows > 0 ? legendRows * LEGEND_ROW + 8 : 0);
  const lines = o.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const d = seriesPath(fr, s.points);
    const path = d ? `<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>` : '';
    const dots = o.markers
      ? s.points
          .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!fr.x.log || x > 0) && (!fr.y.log || y > 0))
          .map(([x, y]) => `<circle cx="${f(fr.px(x))}" cy="${f(fr.py(y))}" r="3.5" fill="${color}"/>`)
          .join('')
      : '';
    return `<g>${path}${dots}</g>`;
  });
  return [svgOpen(o.title, height), axesSvg(fr, o.xLabel, o.yLabel), ...lines, legendSvg(o.series.map((s) => s.name)), '</svg>'].join('\n');
}

export function scatterSvg(o: ScatterOptions): string {
  const finite = o.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  // One range for both axes, so that the diagonal is at 45° and distances read the same both ways.
  const all = finite.flatMap(([x, y]) => [x, y]);
  const axis = axisFor(all, false, 0.05);
  const side = PLOT_HEIGHT - PAD.top - PAD.bottom;
  const fr = frame(axis, axis, side);
  const parts = [svgOpen(o.title, PLOT_HEIGHT, PAD.left + side + PAD.right), axesSvg(fr, o.xLabel, o.yLabel)];
  if (o.diagonal) {
    parts.push(`<line x1="${f(fr.px(axis.min))}" y1="${f(fr.py(axis.min))}" x2="${f(fr.px(axis.max))}" y2="${f(fr.py(axis.max))}" stroke="#868e96" stroke-width="1.5" stroke-dasharray="6 4"/>`);
  }
  const dots = finite.map(([x, y]) => `<circle cx="${f(fr.px(x))}" cy="${f(fr.py(y))}" r="3" fill="${PALETTE[0]}" fill-opacity="0.6"/>`);
  parts.push(`<g>${dots.join('')}</g>`, '</svg>');
  return parts.join('\n');
}

export interface HeatmapOptions {
  title: string;
  /** Row labels top to bottom (the amino acids, in the map's column order). */
  rows: readonly string[];
  /** Number of positions (columns). */
  positions: number;
  /** Residue number shown for position 0. */
  firstNumber: number;
  /** Score of (position, row); null when not scored. */
  value: (position: number, row: number) => number | null;
  /** The wild-type row of a position (a dot is drawn there), or −1. */
  wildTypeRow: (position: number) => number;
  /** ± this value takes the scale's end colours. */
  limit: number;
  /** The colour bar's caption. */
  scaleLabel: string;
}

const HEATMAP_PANEL_POSITIONS = 100;
const HEATMAP_CELL_HEIGHT = 8;
const HEATMAP_PANEL_GAP = 26;
const MISSING_CELL = '#e9ecef';

/** One panel of up to 100 positions: residue-number ticks every 10, amino-acid labels on the left. */
function heatmapPanel(o: HeatmapOptions, start: number, top: number, cellWidth: number): string {
  const end = Math.min(o.positions, start + HEATMAP_PANEL_POSITIONS);
  const parts: string[] = [];
  o.rows.forEach((aa, r) => parts.push(`<text x="${PAD.left - 4}" y="${f(top + (r + 0.5) * HEATMAP_CELL_HEIGHT)}" dy="3" text-anchor="end" font-size="7" fill="#56606e">${escapeHtml(aa)}</text>`));
  for (let p = start; p < end; p++) {
    const x = f(PAD.left + (p - start) * cellWidth);
    const wt = o.wildTypeRow(p);
    o.rows.forEach((_, r) => {
      const v = o.value(p, r);
      const fill = v === null || !Number.isFinite(v) ? MISSING_CELL : cssRgb(diverging(v / o.limit));
      parts.push(`<rect x="${x}" y="${f(top + r * HEATMAP_CELL_HEIGHT)}" width="${f(cellWidth)}" height="${HEATMAP_CELL_HEIGHT}" fill="${fill}"/>`);
    });
    if (wt >= 0) parts.push(`<circle cx="${f(PAD.left + (p - start + 0.5) * cellWidth)}" cy="${f(top + (wt + 0.5) * HEATMAP_CELL_HEIGHT)}" r="1.4" fill="#1f2933"/>`);
    const number = o.firstNumber + p;
    if (number % 10 === 0 || p === start) {
      parts.push(`<text x="${f(PAD.left + (p - start + 0.5) * cellWidth)}" y="${f(top + o.rows.length * HEATMAP_CELL_HEIGHT + 10)}" text-anchor="middle" font-size="8" fill="#56606e">${number}</text>`);
    }
  }
  return parts.join('');
}

/** The colour bar: −limit (red) … 0 … +limit (blue), with its caption. */
function colorBar(o: HeatmapOptions, top: number): string {
  const width = 240;
  const steps = 48;
  const parts = Array.from({ length: steps }, (_, i) => {
    const t = (i + 0.5) / steps;
    return `<rect x="${f(PAD.left + (i * width) / steps)}" y="${top}" width="${f(width / steps + 0.3)}" height="10" fill="${cssRgb(diverging(t * 2 - 1))}"/>`;
  });
  const label = (x: number, text: string, anchor: string) => `<text x="${f(x)}" y="${top + 22}" text-anchor="${anchor}" font-size="10" fill="#56606e">${escapeHtml(text)}</text>`;
  parts.push(label(PAD.left, tickLabel(-o.limit), 'start'), label(PAD.left + width / 2, '0', 'middle'), label(PAD.left + width, tickLabel(o.limit), 'end'));
  parts.push(`<text x="${PAD.left + width + 12}" y="${top + 9}" font-size="11" fill="#1f2933">${escapeHtml(o.scaleLabel)}</text>`);
  return parts.join('');
}

/** A saturation heatmap: positions left to right in panels of 100, one row per amino acid. */
export function heatmapSvg(o: HeatmapOptions): string {
  const panels = Math.max(1, Math.ceil(o.positions / HEATMAP_PANEL_POSITIONS));
  const cellWidth = (WIDTH - PAD.left - PAD.right) / HEATMAP_PANEL_POSITIONS;
  const panelHeight = o.rows.length * HEATMAP_CELL_HEIGHT + HEATMAP_PANEL_GAP;
  const height = PAD.top + panels * panelHeight + 30;
  const body = Array.from({ length: panels }, (_, i) => heatmapPanel(o, i * HEATMAP_PANEL_POSITIONS, PAD.top + i * panelHeight, cellWidth));
  return [svgOpen(o.title, height), ...body, colorBar(o, PAD.top + panels * panelHeight), '</svg>'].join('\n');
}
