// lib/map/lasso — which points a freehand polygon encloses: even–odd ray casting on the CPU, with
// the polygon's bounding box as a cheap first test.

/** Even–odd rule: a point is inside when a ray to +x crosses the polygon's edges an odd number of times. */
export function insidePolygon(px: number, py: number, xs: ArrayLike<number>, ys: ArrayLike<number>): boolean {
  let inside = false;
  const n = xs.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const yi = ys[i]!;
    const yj = ys[j]!;
    if ((yi > py) !== (yj > py)) {
      const crossX = xs[i]! + ((py - yi) * (xs[j]! - xs[i]!)) / (yj - yi);
      if (px < crossX) inside = !inside;
    }
  }
  return inside;
}

/** The indices (ascending) of the points inside the polygon (closed implicitly, last vertex to first). */
export function pointsInPolygon(x: ArrayLike<number>, y: ArrayLike<number>, polygon: readonly (readonly [number, number])[]): Uint32Array {
  if (polygon.length < 3) return new Uint32Array(0);
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  const found: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const px = x[i]!;
    const py = y[i]!;
    if (px < minX || px > maxX || py < minY || py > maxY) continue;
    if (insidePolygon(px, py, xs, ys)) found.push(i);
  }
  return Uint32Array.from(found);
}
