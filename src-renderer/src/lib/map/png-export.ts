// lib/map/png-export — the map as a picture that stands on its own: the WebGL image with the
// map's title above, its axis names, and what the colours mean below (the categories with their
// counts, or the colour bar with its range), drawn on a 2-D canvas at the image's own resolution.
import type { Legend } from './colors';
import { VIRIDIS } from '../color-scales';
import { formatNumber } from '../format';

export interface PngFrame {
  title: string;
  xLabel: string;
  yLabel: string;
  legend: Legend;
  background: string;
  text: string;
  muted: string;
}

const TITLE_BAND = 40;
const AXIS_BAND = 26;
const Y_AXIS_BAND = 26;
const LEGEND_ROW = 20;
const LEGEND_COLUMNS = 3;
const COLOR_BAR_BAND = 54;
const MARGIN = 12;

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('The map image could not be read.'));
    image.src = url;
  });
}

/** Height (CSS pixels) of the legend band. */
export function legendHeight(legend: Legend): number {
  if (legend.kind === 'category') return MARGIN + Math.ceil(legend.entries.length / LEGEND_COLUMNS) * LEGEND_ROW;
  return legend.kind === 'number' ? COLOR_BAR_BAND : 0;
}

function drawLegend(ctx: CanvasRenderingContext2D, legend: Legend, left: number, top: number, width: number, frame: PngFrame): void {
  ctx.textBaseline = 'middle';
  if (legend.kind === 'category') {
    const column = width / LEGEND_COLUMNS;
    legend.entries.forEach((entry, i) => {
      const x = left + (i % LEGEND_COLUMNS) * column;
      const y = top + MARGIN + Math.floor(i / LEGEND_COLUMNS) * LEGEND_ROW + LEGEND_ROW / 2;
      ctx.fillStyle = entry.color;
      ctx.beginPath();
      ctx.arc(x + 6, y, 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = frame.text;
      ctx.fillText(`${entry.label} (${entry.count.toLocaleString()})`, x + 16, y, column - 20);
    });
  } else if (legend.kind === 'number') {
    const barWidth = Math.min(320, width);
    const gradient = ctx.createLinearGradient(left, 0, left + barWidth, 0);
    // The same stops as the on-screen bar (lib/color-scales' viridis).
    VIRIDIS.forEach((color, i) => gradient.addColorStop(i / (VIRIDIS.length - 1), color));
    ctx.fillStyle = gradient;
    ctx.fillRect(left, top + MARGIN, barWidth, 12);
    ctx.fillStyle = frame.text;
    ctx.textAlign = 'left';
    ctx.fillText(formatNumber(legend.min, 3), left, top + MARGIN + 26);
    ctx.textAlign = 'right';
    ctx.fillText(formatNumber(legend.max, 3), left + barWidth, top + MARGIN + 26);
    ctx.textAlign = 'left';
    ctx.fillText(legend.column, left + barWidth + 12, top + MARGIN + 6);
  }
}

/** The framed PNG as a data URL; `size` is the map's size in CSS pixels. */
export async function composeMapPng(mapUrl: string, size: { width: number; height: number }, frame: PngFrame): Promise<string> {
  const image = await loadImage(mapUrl);
  const scale = image.width / Math.max(1, size.width);
  const width = Y_AXIS_BAND + size.width + MARGIN;
  const height = TITLE_BAND + size.height + AXIS_BAND + legendHeight(frame.legend);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser cannot draw the picture (no 2-D canvas).');
  ctx.scale(scale, scale);
  ctx.fillStyle = frame.background;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = frame.text;
  ctx.font = '600 15px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.fillText(frame.title, Y_AXIS_BAND, TITLE_BAND / 2, width - Y_AXIS_BAND - MARGIN);
  ctx.drawImage(image, Y_AXIS_BAND, TITLE_BAND, size.width, size.height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = frame.muted;
  ctx.textAlign = 'center';
  ctx.fillText(frame.xLabel, Y_AXIS_BAND + size.width / 2, TITLE_BAND + size.height + AXIS_BAND / 2);
  ctx.save();
  ctx.translate(Y_AXIS_BAND / 2, TITLE_BAND + size.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(frame.yLabel, 0, 0);
  ctx.restore();
  ctx.textAlign = 'left';
  drawLegend(ctx, frame.legend, Y_AXIS_BAND, TITLE_BAND + size.height + AXIS_BAND, size.width, frame);
  return canvas.toDataURL('image/png');
}
