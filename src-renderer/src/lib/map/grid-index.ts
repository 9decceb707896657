// lib/map/grid-index — a uniform grid over the map's points for hover: the nearest point to the
// cursor is found among the few cells around it, not by scanning 100,000 points per mouse move.
// Points are stored cell by cell (counting sort), so a cell is one contiguous slice.
import { boundsOf, type Bounds } from './viewport';

export class GridIndex {
  private readonly bounds: Bounds;
  private readonly columns: number;
  private readonly rows: number;
  private readonly cellWidth: number;
  private readonly cellHeight: number;
  /** Points of cell c are order[start[c] .. start[c + 1]). */
  private readonly start: Uint32Array;
  private readonly order: Uint32Array;

  constructor(
    private readonly x: Float32Array,
    private readonly y: Float32Array,
  ) {
    this.bounds = boundsOf(x, y);
    // About two points per cell on average.
    const side = Math.max(1, Math.ceil(Math.sqrt(x.length / 2)));
    this.columns = side;
    this.rows = side;
    this.cellWidth = Math.max(this.bounds.maxX - this.bounds.minX, 1e-9) / side;
    this.cellHeight = Math.max(this.bounds.maxY - this.bounds.minY, 1e-9) / side;
    const cells = new Uint32Array(x.length);
    const counts = new Uint32Array(side * side + 1);
    for (let i = 0; i < x.length; i++) {
      cells[i] = this.cellOf(x[i]!, y[i]!);
      counts[cells[i]! + 1]!++;
    }
    for (let c = 1; c < counts.length; c++) counts[c]! += counts[c - 1]!;
    this.start = counts.slice();
    this.order = new Uint32Array(x.length);
    const next = counts.slice(0, side * side);
    for (let i = 0; i < x.length; i++) this.order[next[cells[i]!]!++] = i;
  }

  private column(x: number): number {
    return Math.min(this.columns - 1, Math.max(0, Math.floor((x - this.bounds.minX) / this.cellWidth)));
  }

  private row(y: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.bounds.minY) / this.cellHeight)));
  }

  private cellOf(x: number, y: number): number {
    return this.row(y) * this.columns + this.column(x);
  }

  /** The index of the point nearest to (x, y) within `radius` (data units), or −1. */
  nearest(x: number, y: number, radius: number): number {
    let best = -1;
    let bestDistance = radius * radius;
    const c0 = this.column(x - radius);
    const c1 = this.column(x + radius);
    const r0 = this.row(y - radius);
    const r1 = this.row(y + radius);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * this.columns + c;
        for (let k = this.start[cell]!; k < this.start[cell + 1]!; k++) {
          const i = this.order[k]!;
          const dx = this.x[i]! - x;
          const dy = this.y[i]! - y;
          const d = dx * dx + dy * dy;
          if (d <= bestDistance) {
            bestDistance = d;
            best = i;
          }
        }
      }
    }
    return best;
  }
}
