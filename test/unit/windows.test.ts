import { describe, expect, it } from 'vitest';
import { blendPairs, blendRows, planWindows, truncate, windowWeights, type Window } from '../../src-main/engine/windows';

const length = (window: Window) => window.end - window.start;

/** Per-window rows cut from one global [residues × width] table, as if every window agreed. */
function rowsFrom(global: (residue: number, column: number) => number, windows: Window[], width: number): Float32Array[] {
  return windows.map((window) => {
    const rows = new Float32Array(length(window) * width);
    for (let local = 0; local < length(window); local += 1) {
      for (let column = 0; column < width; column += 1) rows[local * width + column] = global(window.start + local, column);
    }
    return rows;
  });
}

function pairsFrom(global: (i: number, j: number) => number, windows: Window[]): Float32Array[] {
  return windows.map((window) => {
    const size = length(window);
    const map = new Float32Array(size * size);
    for (let i = 0; i < size; i += 1) for (let j = 0; j < size; j += 1) map[i * size + j] = global(window.start + i, window.start + j);
    return map;
  });
}

describe('planWindows', () => {
  it('uses one window when the sequence fits', () => {
    expect(planWindows(1022)).toEqual([{ start: 0, end: 1022 }]);
    expect(planWindows(10)).toEqual([{ start: 0, end: 10 }]);
  });

  it('plans known windows', () => {
    expect(planWindows(1023)).toEqual([
      { start: 0, end: 1022 },
      { start: 1, end: 1023 },
    ]);
    expect(planWindows(1500)).toEqual([
      { start: 0, end: 1022 },
      { start: 478, end: 1500 },
    ]);
    expect(planWindows(20, 10, 4)).toEqual([
      { start: 0, end: 10 },
      { start: 5, end: 15 },
      { start: 10, end: 20 },
    ]);
  });

  for (const residues of [1023, 1500, 2044, 5000, 1022 * 7 + 3]) {
    it(`covers ${residues} residues with full-size windows overlapping by at least 512`, () => {
      const windows = planWindows(residues);
      expect(windows[0]?.start).toBe(0);
      expect(windows.at(-1)?.end).toBe(residues);
      for (const window of windows) expect(length(window)).toBe(1022);
      for (let k = 1; k < windows.length; k += 1) {
        const [previous, next] = [windows[k - 1] as Window, windows[k] as Window];
        expect(next.start).toBeGreaterThan(previous.start);
        expect(previous.end - next.start).toBeGreaterThanOrEqual(512);
      }
      // Evenly spaced: strides differ by at most one residue (rounding).
      const strides = windows.slice(1).map((window, k) => window.start - (windows[k] as Window).start);
      if (strides.length > 0) expect(Math.max(...strides) - Math.min(...strides)).toBeLessThanOrEqual(1);
      // As few windows as the overlap allows: one fewer would leave a gap too large.
      if (windows.length > 2) expect((residues - 1022) / (windows.length - 2)).toBeGreaterThan(1022 - 512);
    });
  }

  it('rejects an overlap that could never advance', () => {
    expect(() => planWindows(2000, 1022, 1022)).toThrow(/minOverlap/);
    expect(() => planWindows(-1)).toThrow(/residues/);
  });
});

describe('truncate', () => {
  it('keeps the first maxResidues residues', () => {
    expect(truncate(5000)).toEqual({ start: 0, end: 1022 });
    expect(truncate(300)).toEqual({ start: 0, end: 300 });
    expect(truncate(50, 20)).toEqual({ start: 0, end: 20 });
  });
});

describe('windowWeights', () => {
  it('is positive, highest in the middle, small at cut edges', () => {
    const weights = windowWeights({ start: 500, end: 1522 }, 3000);
    expect(weights.length).toBe(1022);
    expect(Math.min(...weights)).toBeGreaterThan(0);
    expect(weights[511]).toBe(1);
    expect(weights[0]).toBeLessThan(0.01);
    expect(weights[1021]).toBeLessThan(0.01);
    for (let p = 1; p < 511; p += 1) expect(weights[p]).toBeGreaterThanOrEqual(weights[p - 1] as number);
  });

  it('keeps full weight at the sequence start and end', () => {
    const first = windowWeights({ start: 0, end: 1022 }, 3000);
    expect(first[0]).toBe(1);
    expect(first[1021]).toBeLessThan(0.01);
    const last = windowWeights({ start: 1978, end: 3000 }, 3000);
    expect(last[0]).toBeLessThan(0.01);
    expect(last[1021]).toBe(1);
    expect([...windowWeights({ start: 0, end: 7 }, 7)]).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('blendRows', () => {
  it('blends a constant to the constant', () => {
    for (const residues of [1023, 2044, 5000]) {
      const windows = planWindows(residues);
      const blended = blendRows(residues, 2, windows, rowsFrom(() => 0.3, windows, 2));
      expect(blended.length).toBe(residues * 2);
      expect(blended.every((value) => value === Math.fround(0.3))).toBe(true);
    }
  });

  it('blends windows that agree on a function of the residue to exactly that function', () => {
    const residues = 2500;
    const width = 3;
    const global = (residue: number, column: number) => Math.fround(Math.sin(residue * 0.37 + column) * 1000 + residue / 7);
    const windows = planWindows(residues);
    const blended = blendRows(residues, width, windows, rowsFrom(global, windows, width));
    for (let residue = 0; residue < residues; residue += 1) {
      for (let column = 0; column < width; column += 1) {
        if (blended[residue * width + column] !== global(residue, column)) throw new Error(`residue ${residue}, column ${column} differs`);
      }
    }
  });

  it('averages disagreeing windows with more trust in window middles', () => {
    const windows = planWindows(20, 10, 4); // [0,10) [5,15) [10,20)
    const rows = windows.map((window, k) => new Float32Array(length(window)).fill(k));
    const blended = blendRows(20, 1, windows, rows);
    expect(blended[0]).toBe(0); // only the first window
    expect(blended[19]).toBe(2); // only the last window
    expect(blended[9]).toBeGreaterThan(0.5); // near the middle of window 1, the cut edge of window 0
    expect(blended[9]).toBeLessThan(1);
  });

  it('rejects rows of the wrong size', () => {
    expect(() => blendRows(20, 2, planWindows(20, 10, 4), [new Float32Array(20)])).toThrow(/3 windows but 1 rows/);
    expect(() => blendRows(10, 2, [{ start: 0, end: 10 }], [new Float32Array(19)])).toThrow(/rows\[0\] has 19 values, expected 20/);
    expect(() => blendRows(10, 1, [{ start: 5, end: 11 }], [new Float32Array(6)])).toThrow(/does not fit/);
  });
});

describe('blendPairs', () => {
  it('is symmetric for symmetric maps and zero for pairs no window holds', () => {
    const residues = 30;
    const windows = planWindows(residues, 12, 5);
    const maps = windows.map((window, k) => {
      const size = length(window);
      const map = new Float32Array(size * size);
      for (let i = 0; i < size; i += 1) for (let j = 0; j <= i; j += 1) map[i * size + j] = map[j * size + i] = Math.fround(Math.cos(i * j + k));
      return map;
    });
    const blended = blendPairs(residues, windows, maps);
    for (let i = 0; i < residues; i += 1) {
      for (let j = 0; j < residues; j += 1) {
        expect(blended[i * residues + j]).toBe(blended[j * residues + i]);
        const together = windows.some((window) => i >= window.start && i < window.end && j >= window.start && j < window.end);
        if (!together) expect(blended[i * residues + j]).toBe(0);
      }
    }
    expect(blended[0 * residues + 29]).toBe(0);
  });

  it('blends windows that agree to exactly the shared values', () => {
    const residues = 1300;
    const global = (i: number, j: number) => Math.fround(1 / (1 + Math.abs(i - j)));
    const windows = planWindows(residues);
    const blended = blendPairs(residues, windows, pairsFrom(global, windows));
    for (let i = 0; i < residues; i += 17) {
      for (let j = 0; j < residues; j += 1) {
        const covered = windows.some((window) => i >= window.start && j >= window.start && i < window.end && j < window.end);
        const expected = covered ? global(i, j) : 0;
        if (blended[i * residues + j] !== expected) throw new Error(`pair (${i}, ${j}) differs`);
      }
    }
  });

  it('for one window returns the map itself', () => {
    const map = Float32Array.from({ length: 16 }, (_, k) => k);
    expect(blendPairs(4, planWindows(4), [map])).toEqual(map);
  });
});
