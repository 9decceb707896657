// lib/map/viewport — the map's view (data point at the canvas centre and pixels per data unit) and
// the pan, zoom-around-the-cursor and fit arithmetic; pure, so the scatter, the hover index, the
// lasso and the SVG export all share one mapping between data and screen.

export interface View {
  /** The data point shown at the canvas centre. */
  cx: number;
  cy: number;
  /** CSS pixels per data unit (the same on both axes: a map has no preferred axis). */
  ppu: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface Bounds {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export function boundsOf(x: ArrayLike<number>, y: ArrayLike<number>): Bounds {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const px = x[i]!;
    const py = y[i]!;
    if (px < minX) minX = px;
    if (px > maxX) maxX = px;
    if (py < minY) minY = py;
    if (py > maxY) maxY = py;
  }
  if (!Number.isFinite(minX)) return { minX: -1, maxX: 1, minY: -1, maxY: 1 };
  return { minX, maxX, minY, maxY };
}

/** The whole map in view, with `margin` (a fraction of the canvas) left free on each side. */
export function fitView(bounds: Bounds, size: Size, margin = 0.05): View {
  const spanX = Math.max(bounds.maxX - bounds.minX, 1e-9);
  const spanY = Math.max(bounds.maxY - bounds.minY, 1e-9);
  const usable = 1 - 2 * margin;
  const ppu = Math.min((size.width * usable) / spanX, (size.height * usable) / spanY);
  return { cx: (bounds.minX + bounds.maxX) / 2, cy: (bounds.minY + bounds.maxY) / 2, ppu: Number.isFinite(ppu) && ppu > 0 ? ppu : 1 };
}

/** Screen y grows downwards, data y upwards. */
export function toScreen(view: View, size: Size, x: number, y: number): [number, number] {
  return [size.width / 2 + (x - view.cx) * view.ppu, size.height / 2 - (y - view.cy) * view.ppu];
}

export function toData(view: View, size: Size, sx: number, sy: number): [number, number] {
  return [view.cx + (sx - size.width / 2) / view.ppu, view.cy - (sy - size.height / 2) / view.ppu];
}

/** Moves the map with the pointer by (dx, dy) CSS pixels. */
export function pan(view: View, dx: number, dy: number): View {
  return { cx: view.cx - dx / view.ppu, cy: view.cy + dy / view.ppu, ppu: view.ppu };
}

/** Zooms by `factor` keeping the data point under (sx, sy) where it is. */
export function zoomAt(view: View, size: Size, factor: number, sx: number, sy: number): View {
  const [dx, dy] = toData(view, size, sx, sy);
  const ppu = view.ppu * factor;
  return { cx: dx - (sx - size.width / 2) / ppu, cy: dy + (sy - size.height / 2) / ppu, ppu };
}

/** The visible data rectangle. */
export function visibleBounds(view: View, size: Size): Bounds {
  const [minX, maxY] = toData(view, size, 0, 0);
  const [maxX, minY] = toData(view, size, size.width, size.height);
  return { minX, maxX, minY, maxY };
}
