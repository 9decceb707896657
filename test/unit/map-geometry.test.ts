/**
 * The map view's pure parts: the hover grid index against a brute-force nearest search, the
 * lasso against shapes whose insides are known, the pan/zoom arithmetic, the colourings, the column a
 * map opens coloured by, the axis names and the SVG export.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { hexToRgb, sequential as viridis, VIRIDIS } from '../../src-renderer/src/lib/color-scales';
import type { MapColumn } from '../../src-main/api/schemas';
import { axisNames } from '../../src-renderer/src/lib/map/axes';
import { colorBy, defaultColorColumn, MISSING, OTHER, PALETTE } from '../../src-renderer/src/lib/map/colors';
import { GridIndex } from '../../src-renderer/src/lib/map/grid-index';
import { insidePolygon, pointsInPolygon } from '../../src-renderer/src/lib/map/lasso';
import { buildSvg, visibleCount } from '../../src-renderer/src/lib/map/svg-export';
import { boundsOf, fitView, pan, toData, toScreen, zoomAt } from '../../src-renderer/src/lib/map/viewport';

function randomPoints(n: number, seed = 3): { x: Float32Array; y: Float32Array } {
  const rng = createRng(seed);
  // Clumped: half the points in a small corner, so cells are uneven.
  const x = Float32Array.from({ length: n }, (_, i) => (i % 2 ? rng.next() * 100 : 90 + rng.next() * 5));
  const y = Float32Array.from({ length: n }, (_, i) => (i % 2 ? rng.next() * 50 - 25 : rng.next() * 3));
  return { x, y };
}

describe('GridIndex', () => {
  it('finds the same nearest point as a scan of every point', () => {
    const { x, y } = randomPoints(5000);
    const index = new GridIndex(x, y);
    const rng = createRng(9);
    for (let q = 0; q < 500; q++) {
      const qx = rng.next() * 110 - 5;
      const qy = rng.next() * 60 - 30;
      const radius = [0.05, 0.5, 3][q % 3]!;
      let best = -1;
      let bestD = radius * radius;
      for (let i = 0; i < x.length; i++) {
        const d = (x[i]! - qx) ** 2 + (y[i]! - qy) ** 2;
        if (d <= bestD) [best, bestD] = [i, d];
      }
      const found = index.nearest(qx, qy, radius);
      if (best < 0) expect(found).toBe(-1);
      else expect((x[found]! - qx) ** 2 + (y[found]! - qy) ** 2).toBe(bestD);
    }
  });
});

describe('lasso', () => {
  it('selects exactly the points inside a concave polygon (an L shape)', () => {
    const { x, y } = randomPoints(4000);
    const L: [number, number][] = [[0, -25], [60, -25], [60, -5], [20, -5], [20, 25], [0, 25]];
    const expected: number[] = [];
    for (let i = 0; i < x.length; i++) {
      const inBottom = x[i]! > 0 && x[i]! < 60 && y[i]! > -25 && y[i]! < -5;
      const inLeft = x[i]! > 0 && x[i]! < 20 && y[i]! > -25 && y[i]! < 25;
      if (inBottom || inLeft) expected.push(i);
    }
    expect(Array.from(pointsInPolygon(x, y, L))).toEqual(expected);
    expect(expected.length).toBeGreaterThan(100);
  });

  it('needs three vertices and treats the polygon as closed', () => {
    expect(pointsInPolygon([0.5], [0.5], [[0, 0], [1, 1]])).toHaveLength(0);
    expect(insidePolygon(0.9, 0.1, [0, 1, 1], [0, 0, 1])).toBe(true);
    expect(insidePolygon(0.1, 0.9, [0, 1, 1], [0, 0, 1])).toBe(false);
  });
});

describe('viewport', () => {
  const size = { width: 800, height: 500 };

  it('maps data to screen and back, and fits the bounds inside the margins', () => {
    const bounds = { minX: -3, maxX: 7, minY: 1, maxY: 2 };
    const view = fitView(bounds, size, 0.05);
    const [left, top] = toScreen(view, size, bounds.minX, bounds.maxY);
    const [right, bottom] = toScreen(view, size, bounds.maxX, bounds.minY);
    expect(left).toBeCloseTo(40, 9);
    expect(right).toBeCloseTo(760, 9);
    expect(top).toBeGreaterThanOrEqual(25);
    expect(bottom).toBeLessThanOrEqual(475);
    const [dx, dy] = toData(view, size, 123, 456);
    expect(toScreen(view, size, dx, dy)).toEqual([expect.closeTo(123, 9), expect.closeTo(456, 9)]);
  });

  it('zooms around the cursor and pans with it', () => {
    const view = { cx: 2, cy: -1, ppu: 30 };
    const under = toData(view, size, 610, 77);
    const zoomed = zoomAt(view, size, 2.5, 610, 77);
    expect(zoomed.ppu).toBe(75);
    expect(toData(zoomed, size, 610, 77)).toEqual([expect.closeTo(under[0], 9), expect.closeTo(under[1], 9)]);
    const moved = pan(view, 30, -60);
    const before = toScreen(view, size, 5, 5);
    const after = toScreen(moved, size, 5, 5);
    expect([after[0] - before[0], after[1] - before[1]]).toEqual([expect.closeTo(30, 9), expect.closeTo(-60, 9)]);
  });

  it('gives usable bounds for an empty map', () => {
    expect(boundsOf([], [])).toEqual({ minX: -1, maxX: 1, minY: -1, maxY: 1 });
  });
});

describe('colouring', () => {
  it('gives the most frequent categories the palette, the rest "other", missing grey', () => {
    const categories = Array.from({ length: 15 }, (_, i) => `c${i}`);
    // Category i appears 100 − i times, so c0 is the most frequent.
    const codes = categories.flatMap((_, i) => Array<number>(100 - i).fill(i));
    codes.push(-1, -1);
    const { colors, legend } = colorBy({ name: 'group', type: 'category', categories, codes }, codes.length);
    expect(legend.kind).toBe('category');
    if (legend.kind !== 'category') return;
    expect(legend.entries.slice(0, PALETTE.length - 1).map((e) => e.label)).toEqual(categories.slice(0, PALETTE.length - 1));
    expect(legend.entries.at(-2)).toMatchObject({ label: '4 other categories', color: OTHER, count: 89 + 88 + 87 + 86 });
    expect(legend.entries.at(-1)).toMatchObject({ label: 'missing', color: MISSING, count: 2 });
    expect(Array.from(colors.slice(0, 3))).toEqual(hexToRgb(PALETTE[0]!).map((v) => Math.fround(v)));
  });

  it('puts numbers on viridis from the minimum to the maximum', () => {
    const { colors, legend, valueOf } = colorBy({ name: 'score', type: 'number', values: [2, null, 4, 3] }, 4);
    expect(legend).toMatchObject({ kind: 'number', min: 2, max: 4, missing: 1 });
    expect(Array.from(colors.slice(0, 3))).toEqual(hexToRgb(VIRIDIS[0]!).map((v) => Math.fround(v)));
    expect(Array.from(colors.slice(6, 9))).toEqual(hexToRgb(VIRIDIS.at(-1)!).map((v) => Math.fround(v)));
    expect(Array.from(colors.slice(9, 12))).toEqual(viridis(0.5).map((v) => Math.fround(v)));
    expect(valueOf(1)).toBe('missing');
  });
});

describe('SVG export', () => {
  it('draws one circle per visible point', () => {
    const { x, y } = randomPoints(1000);
    const size = { width: 400, height: 300 };
    const view = zoomAt(fitView(boundsOf(x, y), size), size, 3, 200, 150);
    const count = visibleCount(x, y, view, size);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(1000);
    const svg = buildSvg({ x, y, colors: new Float32Array(3000).fill(0.5), selected: null, view, size, pointSize: 4, background: '#fff', legend: { kind: 'none', count: 1000 }, title: 'A <map>', xLabel: 'PC1 (23 % of the variance)', yLabel: 'PC2 (9.5 % of the variance)' });
    expect(svg.match(/<circle /g)).toHaveLength(count);
    expect(svg).toContain('<title>A &#60;map&#62;</title>');
    expect(svg).toContain('>PC1 (23 % of the variance)</text>');
    expect(svg).toMatch(/transform="rotate\(-90 [\d.]+ [\d.]+\)"[^>]*>PC2 \(9.5 % of the variance\)<\/text>/);
  });
});

describe('what a map opens coloured by, and its axis names', () => {
  const category = (name: string, n: number): MapColumn => ({ name, type: 'category', categories: Array.from({ length: n }, (_, i) => `c${i}`), codes: [] });
  const number = (name: string): MapColumn => ({ name, type: 'number', values: [] });

  it('takes the first number or few-valued category, never a category per sequence', () => {
    expect(defaultColorColumn([category('mutant', 456), number('mutated position'), category('family', 4)])).toBe('mutated position');
    expect(defaultColorColumn([category('id', 300), category('family', 4), number('length')])).toBe('family');
    expect(defaultColorColumn([category('constant', 1), number('length')])).toBe('length');
    expect(defaultColorColumn([category('mutant', 13)])).toBeNull();
    expect(defaultColorColumn([])).toBeNull();
  });

  it('names PCA axes by the variance they explain and UMAP axes as unitless', () => {
    expect(axisNames({ method: 'pca', explainedVariance: [0.2345, 0.0951] })).toEqual({ x: 'PC1 (23 % of the variance)', y: 'PC2 (9.5 % of the variance)' });
    expect(axisNames({ method: 'pca', explainedVariance: null })).toEqual({ x: 'PC1', y: 'PC2' });
    expect(axisNames({ method: 'umap', explainedVariance: null })).toEqual({ x: 'UMAP 1 (no units)', y: 'UMAP 2 (no units)' });
  });
});
