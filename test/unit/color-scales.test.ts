// lib/color-scales: one diverging scale with one meaning everywhere (negative red, 0 neutral,
// positive blue), the same colour for the same score on the saturation heatmap and on the 3-D
// structure's shared variant track, and viridis for unsigned values.
import { describe, expect, it } from 'vitest';
import { diverging, divergingGradient, hexToRgb, sequential, VIRIDIS } from '../../src-main/core/color-scales';
import { colorOf, scaleFor } from '../../src-renderer/src/lib/structure/colors';
import { divergingRgb } from '../../src-renderer/src/lib/variants-heatmap';

describe('diverging scale', () => {
  it('is red below 0, neutral at 0 and blue above, with the ends at ±1', () => {
    const [r0, g0, b0] = diverging(0);
    expect([r0, g0, b0]).toEqual(hexToRgb('#f7f7f7'));
    const negative = diverging(-0.6);
    const positive = diverging(0.6);
    expect(negative[0]).toBeGreaterThan(negative[2]);
    expect(positive[2]).toBeGreaterThan(positive[0]);
    expect(diverging(-1)).toEqual(hexToRgb('#67001f'));
    expect(diverging(-5)).toEqual(diverging(-1));
    expect(diverging(1)).toEqual(hexToRgb('#053061'));
    expect(divergingGradient()).toMatch(/^linear-gradient\(to right, rgb\(103 0 31\) 0\.0%, .* rgb\(5 48 97\) 100\.0%\)$/);
  });

  it('gives a score the same colour on the heatmap and on the structure', () => {
    const means = [-2.5, -1, -0.2, 0, 0.4, 1.7, 2];
    const limit = 2.5;
    const structureScale = scaleFor(means, 'diverging'); // ±2.5, as the structure page builds it
    expect(structureScale).toEqual({ kind: 'diverging', min: -limit, max: limit });
    for (const value of means) {
      const onStructure = colorOf(value, structureScale).map((c) => Math.round(c * 255));
      const onHeatmap = divergingRgb(value, limit);
      expect(onStructure, `score ${value}`).toEqual(onHeatmap);
    }
  });
});

describe('sequential scale', () => {
  it('is viridis from its first to its last colour', () => {
    expect(sequential(0)).toEqual(hexToRgb('#440154'));
    expect(sequential(1)).toEqual(hexToRgb('#fde725'));
    expect(VIRIDIS).toHaveLength(9);
    expect(VIRIDIS[0]).toBe('#440154');
    const middle = sequential(0.5);
    expect(middle[1]).toBeGreaterThan(middle[0]); // teal-green in the middle
  });
});
