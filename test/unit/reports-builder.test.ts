/**
 * The pure report builder: the sections each run kind gets, escaping of user text, well-formed
 * inline SVG, figure geometry (points on y = x lie on the drawn diagonal) and the scatter's
 * statistics against values worked out here independently.
 */
import { describe, expect, it } from 'vitest';
import type { Fit, Metric, Run } from '../../src-main/api/schemas';
import { buildReportHtml, reportSections, type ReportFacts } from '../../src-main/reports';
import { escapeHtml } from '../../src-main/reports/html';
import { parsePredictionsCsv } from '../../src-main/reports/predictions';
import { curveGroups } from '../../src-main/reports/sections/metrics';
import { scoreBySizeSeries } from '../../src-main/reports/sections/scan';
import { logTicks, niceTicks, scatterSvg } from '../../src-main/reports/svg';

const EVIL = '<script>alert("x")</script> & co';

function run(kind: string, params: Record<string, unknown> = {}): Run {
  return { id: 7, projectId: 1, kind, title: `Run of ${EVIL}`, state: 'done', params, summary: { rows: 5 }, createdAt: '2025-03-12T10:00:00.000Z' };
}

function fit(id: number, pooling: string, parameters: number, r2: number, family = 'ESM-2'): Fit {
  const s = (mean: number) => ({ mean, sd: 0.01, n: 5 });
  return {
    id, runId: 7, embeddingId: id, modelName: `esm2-${parameters}`, modelFamily: family, modelParameters: parameters, layer: -1, pooling, learner: 'ridgecv',
    task: 'regression', target: 'stability', summary: { r2: s(r2), spearman: s(r2 + 0.05), pearson: s(r2), rmse: s(1 - r2), mae: s(0.5) }, perFold: [], predictionsPath: `runs/7/${id}-ridgecv-predictions.csv`,
  };
}

const measured = [1, 2, 3, 4, 5];
const predicted = [1.1, 1.9, 3.2, 3.7, 5.4];

function facts(overrides: Partial<ReportFacts> = {}): ReportFacts {
  const fits = [fit(1, 'mean', 8e6, 0.4), fit(2, 'mean', 35e6, 0.6), fit(3, 'bos', 8e6, 0.3), fit(4, 'bos', 35e6, 0.5)];
  return {
    generatedAt: '2025-03-12T11:00:00.000Z',
    project: { id: 1, name: `Project ${EVIL}` },
    run: run('learn.scan', { target: 'stability', split: { scheme: 'random', k: 5, seed: 42 }, runDir: 'runs/7', note: EVIL }),
    dataset: {
      id: 3, name: `dataset ${EVIL}`, sourceFile: 'oily.csv', format: 'csv', sequenceCount: 5,
      lengths: { min: 30, median: 41, mean: 44.5, max: 79 }, labelColumns: [{ name: `col ${EVIL}`, type: 'number', missing: 1 }],
    },
    models: [{ name: 'esm2_t6_8M_UR50D', family: 'ESM-2', catalogId: 'esm2_t6_8M_UR50D', layers: 6, hiddenSize: 320, precision: 'fp32', parameters: 7_500_000, checksum: 'sha256:0123abcd' }],
    device: 'cpu',
    software: { app: '0.1.0', onnxruntime: '1.30.0', node: '20.19.0', electron: null, platform: 'linux x64' },
    metrics: [],
    scan: { fits, best: { fit: fits[1]!, measured, predicted } },
    ...overrides,
  };
}

/** A minimal XML well-formedness check: balanced tags, quoted attributes, no stray '<' or '&'. */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/gy;
  let pos = 0;
  while (pos < xml.length) {
    token.lastIndex = pos;
    const match = token.exec(xml);
    if (!match) throw new Error(`not well-formed at ${pos}: ${xml.slice(pos, pos + 40)}`);
    pos = token.lastIndex;
    const [, closing, name, , selfClosing, text, stray] = match;
    if (stray) throw new Error(`stray "<" at ${match.index}: ${xml.slice(match.index, match.index + 40)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|#\d+);)/.test(text)) throw new Error(`unescaped & in ${text}`);
      continue;
    }
    if (closing) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else if (!selfClosing) stack.push(name!);
  }
  expect(stack).toEqual([]);
}

const svgsOf = (html: string): string[] => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

describe('report sections', () => {
  it('gives a scan the common sections, its results, score by size and predicted vs measured', () => {
    expect(reportSections(facts()).map((s) => s.id)).toEqual(['overview', 'parameters', 'dataset', 'models', 'results', 'score-by-size', 'predicted-vs-measured', 'environment']);
  });

  it('gives an embedding run its matrices and any run with metric series its training curves', () => {
    const embed = facts({ run: run('embed.dataset'), scan: undefined, embeddings: [{ modelName: 'm', layer: 6, pooling: 'mean', rows: 5, cols: 320, path: 'runs/7/m/mean_layer6.npy' }] });
    expect(reportSections(embed).map((s) => s.id)).toContain('matrices');
    const metrics: Metric[] = [1, 2, 3].flatMap((step) => [{ step, name: 'loss', value: 1 / step }, { step, name: 'lr', value: 1e-4 }]);
    const finetune = facts({ run: run('finetune'), scan: undefined, metrics });
    const ids = reportSections(finetune).map((s) => s.id);
    expect(ids).toContain('curves');
    expect(ids).not.toContain('results');
    // One figure per group: loss, learning rate.
    expect(svgsOf(buildReportHtml(finetune))).toHaveLength(2);
  });

  it('puts the parameters, model checksum, dataset summary and software versions in the page', () => {
    const html = buildReportHtml(facts());
    expect(html).toContain('<table class="parameters">');
    expect(html).toContain('<td>Cross-validation</td><td>scheme random · folds 5 · seed 42</td>');
    expect(html).not.toContain('runs/7</td>'); // runDir is an internal location
    expect(html).toContain('sha256:0123abcd');
    expect(html).toContain('min 30, median 41, mean 44.5, max 79');
    expect(html).toContain('1.30.0');
    expect(html).toContain('<table class="metrics">');
    // Best first by R²: the 35M mean fit (0.6) leads the results table.
    const firstRow = /<table class="metrics">[\s\S]*?<tbody>\s*<tr>(.*?)<\/tr>/.exec(html)![1]!;
    expect(firstRow).toContain('esm2-35000000');
    expect(firstRow).toContain('0.600 ± 0.010');
  });

  it('draws the score by size per pooling and family when a scan mixes ESM-2 and ESM C, and names each family in the models table', () => {
    const fits = [fit(1, 'mean', 7_512_474, 0.4), fit(2, 'mean', 33_993_602, 0.6), fit(3, 'mean', 332_997_184, 0.7, 'ESM C'), fit(4, 'bos', 332_997_184, 0.65, 'ESM C')];
    const series = scoreBySizeSeries(fits, 'r2');
    expect(series).toEqual([
      { name: 'mean · ESM-2', points: [[7_512_474, 0.4], [33_993_602, 0.6]] },
      { name: 'mean · ESM C', points: [[332_997_184, 0.7]] },
      { name: 'bos · ESM C', points: [[332_997_184, 0.65]] },
    ]);
    // One family: one line per pooling, named by the pooling alone (as before families).
    expect(scoreBySizeSeries(fits.slice(0, 2), 'r2').map((s) => s.name)).toEqual(['mean']);
    const models = [
      { name: 'esm2_t6_8M_UR50D', family: 'ESM-2', catalogId: 'esm2_t6_8M_UR50D', layers: 6, hiddenSize: 320, precision: 'int8', parameters: 7_512_474, checksum: 'sha256:0' },
      { name: 'esmc_300m', family: 'ESM C', catalogId: null, layers: 30, hiddenSize: 960, precision: 'fp32', parameters: 332_997_184, checksum: 'sha256:1' },
    ];
    const html = buildReportHtml(facts({ models, scan: { fits, best: null } }));
    expect(html).toMatch(/<td>esmc_300m<\/td><td>ESM C<\/td><td>—<\/td><td[^>]*>332,?997,?184<\/td>/);
    expect(html).toContain('mean · ESM C');
  });
});

describe('escaping', () => {
  it('never lets user text become markup, in HTML or in SVG', () => {
    const html = buildReportHtml(facts({ scan: { ...facts().scan!, fits: facts().scan!.fits.map((f) => ({ ...f, target: EVIL, pooling: EVIL })) } }));
    expect(html).not.toContain('<script');
    expect(html.match(/&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; co/g)!.length).toBeGreaterThan(5);
    for (const svg of svgsOf(html)) expect(svg).not.toContain('<script');
  });

  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('SVG figures', () => {
  it('are well-formed XML with the SVG namespace', () => {
    const metrics: Metric[] = [0, 1, 2].flatMap((epoch) => [{ step: epoch, name: 'train_loss', value: 2 - epoch / 2 }, { step: epoch, name: 'val_loss', value: 2.1 - epoch / 3 }]);
    const svgs = svgsOf(buildReportHtml(facts({ metrics })));
    expect(svgs).toHaveLength(3);
    // The checker itself rejects broken markup.
    expect(() => assertWellFormedXml('<svg><g></svg>')).toThrow();
    expect(() => assertWellFormedXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => assertWellFormedXml('<svg x=1></svg>')).toThrow();
    for (const svg of svgs) {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assertWellFormedXml(svg);
    }
  });

  it('draws points with x = y on the diagonal', () => {
    const svg = scatterSvg({ title: 't', xLabel: 'x', yLabel: 'y', points: [[0, 0], [2, 2], [1, 1.5], [4, 4]], diagonal: true });
    const line = /<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)" stroke="#868e96"/.exec(svg)!.slice(1).map(Number) as [number, number, number, number];
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(circles).toHaveLength(4);
    const along = ([cx, cy]: readonly [number, number]) => [(cx - line[0]) / (line[2] - line[0]), (cy - line[1]) / (line[3] - line[1])];
    for (const i of [0, 1, 3]) {
      const [tx, ty] = along(circles[i]!);
      expect(Math.abs(tx! - ty!)).toBeLessThan(0.01);
    }
    const [tx, ty] = along(circles[2]!);
    expect(ty! - tx!).toBeGreaterThan(0.05); // above the diagonal: predicted more than measured
  });

  it('reports R², Spearman ρ and n of the best fit, as computed here from the predictions', () => {
    const html = buildReportHtml(facts());
    const mean = measured.reduce((s, v) => s + v, 0) / measured.length;
    const ssRes = measured.reduce((s, y, i) => s + (y - predicted[i]!) ** 2, 0);
    const ssTot = measured.reduce((s, y) => s + (y - mean) ** 2, 0);
    const stats = /<p class="stats" data-r2="([^"]+)" data-spearman="([^"]+)" data-n="(\d+)">/.exec(html)!;
    expect(Number(stats[1])).toBeCloseTo(1 - ssRes / ssTot, 10);
    expect(Number(stats[2])).toBeCloseTo(1, 10); // the predictions keep the measured order
    expect(Number(stats[3])).toBe(5);
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3, 7)).toEqual([-2, 0, 2, 4, 6]);
    expect(logTicks(1e6, 1e9)).toEqual([1e6, 1e7, 1e8, 1e9]);
    expect(logTicks(3, 60)).toEqual([5, 10, 20, 50]);
  });
});

describe('training-curve groups', () => {
  it('puts train and validation loss together and every other series alone', () => {
    const groups = curveGroups(['val_spearman', 'lr', 'val_loss', 'loss', 'train_loss', 'grad_norm']);
    expect(new Set(groups.map((g) => g.xLabel))).toEqual(new Set(['Step']));
    expect(groups.map((g) => [g.title, g.names])).toEqual([
      ['Loss per step', ['loss']],
      ['Learning rate', ['lr']],
      ['Training and validation loss', ['train_loss', 'val_loss']],
      ['grad_norm', ['grad_norm']],
      ['val_spearman', ['val_spearman']],
    ]);
  });
});

describe('predictions files', () => {
  it('reads quoted ids and numbers', () => {
    const parsed = parsePredictionsCsv('id,fold,y,yhat\n"a,1",0,1.5,1.25\nb,1,2,2.5\n', 'regression');
    expect(parsed).toEqual({ ids: ['a,1', 'b'], folds: [0, 1], measured: [1.5, 2], predicted: [1.25, 2.5] });
  });
});

describe('words, not internal names', () => {
  it('names the run kind and the learners in words, and writes no braces in the parameters', () => {
    const html = buildReportHtml(facts({ valueWords: { learner: { ridgecv: 'Ridge (RidgeCV)' }, learners: { ridgecv: 'Ridge (RidgeCV)' } } }));
    expect(html).not.toContain('learn.scan');
    expect(html).toContain('(Model scan)');
    const parameters = /<table class="parameters">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(parameters).not.toMatch(/[{}]/);
    const firstRow = /<table class="metrics">[\s\S]*?<tbody>\s*<tr>(.*?)<\/tr>/.exec(html)![1]!;
    expect(firstRow).toContain('<td>Ridge (RidgeCV)</td>');
  });

  it('writes dates in the reader’s time zone, named', () => {
    // 11:00 UTC is 20:00 in Tokyo (UTC+9, no daylight saving); the run started at 10:00 UTC.
    const html = buildReportHtml(facts({ timeZone: 'Asia/Tokyo' }));
    expect(html).toMatch(/<dt>Report made<\/dt><dd>12 Mar 2025, 20:00 GMT\+9<\/dd>/);
    expect(html).toMatch(/<dt>Run started<\/dt><dd>12 Mar 2025, 19:00 GMT\+9<\/dd>/);
    expect(html).not.toContain('2025-03-12T11:00:00.000Z');
  });

  it('keeps table headers whole (no break inside a word)', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(buildReportHtml(facts()))![1]!;
    expect(style).toMatch(/th \{[^}]*overflow-wrap: normal/);
  });

  it('leaves out the score-by-size figure when the scan compared one model size', () => {
    const fits = [fit(1, 'mean', 8e6, 0.4), fit(3, 'bos', 8e6, 0.3)];
    expect(reportSections(facts({ scan: { fits, best: null } })).map((s) => s.id)).not.toContain('score-by-size');
  });
});

describe('saturation map report', () => {
  const aminoAcids = [...'ACDEFGHIKLMNPQRSTVWY'];
  // "MKV" numbered from 11: every mutant of M11 scores −1, of K12 +1, of V13 0 (unscored at W).
  const scores = [...'MKV'].flatMap((wt, p) =>
    aminoAcids.map((aa) => (aa === wt ? 0 : p === 0 ? -1 : p === 1 ? 1 : aa === 'W' ? null : 0)),
  );
  const saturation = { name: 'Toy', wildType: 'MKV', offset: 10, method: 'wt-marginal', aminoAcids, maps: [{ model: 'esm2_t6_8M_UR50D', scores }] };
  const saturationFacts = (): ReportFacts => facts({ run: run('variants.saturate', { wildTypeName: 'Toy', wildType: 'MKV', offset: 10, method: 'wt-marginal' }), scan: undefined, saturation, valueWords: { method: { 'wt-marginal': 'Wild-type marginal' } } });

  it('shows the protein and its heatmap on the app’s diverging scale, wild types dotted', () => {
    const sections = reportSections(saturationFacts());
    expect(sections.map((s) => s.id)).toEqual(['overview', 'parameters', 'dataset', 'models', 'protein', 'saturation', 'environment']);
    const html = buildReportHtml(saturationFacts());
    expect(html).toContain('<pre class="sequence">    11 MKV</pre>');
    expect(html).toContain('numbered 11–13');
    const [svg] = svgsOf(html);
    assertWellFormedXml(svg!);
    // |score| is 1 wherever it is not 0, so the colour limit is 1 and −1 / +1 take RdBu's ends:
    // #67001f (darkest red) and #053061 (darkest blue); 0 is its middle, #f7f7f7; unscored is grey.
    const fills = (svg!.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="8" fill="([^"]+)"/g) ?? []).map((r) => /fill="([^"]+)"/.exec(r)![1]);
    expect(fills).toHaveLength(60);
    const M = fills.slice(0, 20);
    expect(M[aminoAcids.indexOf('A')]).toBe('rgb(103 0 31)');
    expect(M[aminoAcids.indexOf('M')]).toBe('rgb(247 247 247)');
    expect(fills[20 + aminoAcids.indexOf('A')]).toBe('rgb(5 48 97)');
    expect(fills[40 + aminoAcids.indexOf('W')]).toBe('#e9ecef');
    expect(svg!.match(/<circle /g)).toHaveLength(3); // one wild-type dot per position
    expect(svg).toContain('Wild-type marginal score');
  });

  it('lists the least tolerant residue first and the most tolerant first in its own table', () => {
    const html = buildReportHtml(saturationFacts());
    expect(/<table class="sensitive">[\s\S]*?<tbody>\s*<tr><td>(\w+)<\/td>/.exec(html)![1]).toBe('M11');
    expect(/<table class="tolerant">[\s\S]*?<tbody>\s*<tr><td>(\w+)<\/td>/.exec(html)![1]).toBe('K12');
  });
});
