/**
 * The scan's "score against model size" plot data (renderer lib/scan): one line per pooling and
 * model family, x = the parameter counts the back end took from the checkpoints, ESM-2 first.
 */
import { describe, expect, it } from 'vitest';
import type { Fit } from '../../src-main/api/schemas';
import { fitsCsv, plotData, REGRESSION_METRICS } from '../../src-renderer/src/lib/scan';

const R2 = REGRESSION_METRICS.find((m) => m.key === 'r2')!;

let nextId = 1;
function fit(model: string, family: string, parameters: number, pooling: string, layer: number, r2: number): Fit {
  return {
    id: nextId++, runId: 1, embeddingId: nextId, modelName: model, modelFamily: family, modelParameters: parameters, layer, pooling,
    learner: 'ridgecv', task: 'regression', target: 'y', summary: { r2: { mean: r2, sd: 0.01, n: 5 } }, perFold: [], predictionsPath: 'p.csv',
  };
}

describe('plotData', () => {
  const fits = [
    fit('esmc-tiny', 'ESM C', 144_448, 'mean', 2, 0.55),
    fit('tiny', 'ESM-2', 108_410, 'mean', 1, 0.3),
    fit('tiny', 'ESM-2', 108_410, 'mean', 2, 0.4),
    fit('esmc-tiny', 'ESM C', 144_448, 'mean', 1, 0.5),
    fit('tiny', 'ESM-2', 108_410, 'bos', 2, 0.2),
    fit('gone', 'ESM-2', 0, 'mean', 2, 0.9),
  ];

  it('draws one line per pooling and family at the checkpoint parameter counts, best layer per point', () => {
    const data = plotData(fits, { metric: R2, layer: 'best', learner: 'best' });
    expect(data.sizes).toEqual([108_410, 144_448]);
    expect(data.names).toEqual(['tiny', 'esmc-tiny']);
    expect(data.families).toEqual(['ESM-2', 'ESM C']);
    expect(data.lines.map((l) => [l.pooling, l.family, l.points.map((p) => p?.mean ?? null)])).toEqual([
      ['mean', 'ESM-2', [0.4, null]],
      ['mean', 'ESM C', [null, 0.55]],
      ['bos', 'ESM-2', [0.2, null]],
    ]);
    expect(data.unknownSize).toBe(1);
  });

  it('keeps a chosen layer per family, and writes the family into the CSV', () => {
    const data = plotData(fits, { metric: R2, layer: 1, learner: 'best' });
    expect(data.lines.map((l) => [l.family, l.points.map((p) => p?.mean ?? null)])).toEqual([
      ['ESM-2', [0.3, null]],
      ['ESM C', [null, 0.5]],
    ]);
    const [header, first] = fitsCsv(fits.slice(0, 1), (id) => id).split('\r\n');
    expect(header!.split(',').slice(0, 3)).toEqual(['model', 'family', 'parameters']);
    expect(first!.split(',').slice(0, 3)).toEqual(['esmc-tiny', 'ESM C', '144448']);
  });
});
