// lib/map/axes — the names of a map's two axes: principal components with the share of the
// variance each explains (PCA), or UMAP's, whose axes have no units (only neighbourhoods count).
import type { Projection } from '../../../../src-main/api/schemas';

export interface AxisNames {
  x: string;
  y: string;
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)} % of the variance`;

export function axisNames(map: Pick<Projection, 'method' | 'explainedVariance'>): AxisNames {
  if (map.method === 'pca') {
    const [first, second] = map.explainedVariance ?? [];
    return {
      x: first === undefined ? 'PC1' : `PC1 (${percent(first)})`,
      y: second === undefined ? 'PC2' : `PC2 (${percent(second)})`,
    };
  }
  return { x: 'UMAP 1 (no units)', y: 'UMAP 2 (no units)' };
}
