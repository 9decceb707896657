/**
 * End-to-end: the Map page on a deep mutational scan. A scan's map opens coloured by where each
 * variant's mutation is (never by a category per variant), its PCA axes name the share of the
 * variance they explain, and the exported PNG carries the map's title, axis names and colour bar
 * (its size is the map's plus those bands, read from the PNG header).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Job, MapPoints, Projection } from '../../src-main/api/schemas';
import { createRng } from '../../src-main/core/rng';
import { screenshot } from '../support/browser';
import { useBrowserSession } from '../support/browser-session';
import { loadGolden } from '../support/golden';
import { randomProtein, RESIDUES } from '../support/random-proteins';

const session = useBrowserSession({ acceptDownloads: true });

/** 120 single mutants of a 40-residue wild type (3 per position), with a made-up fitness. */
function scanCsv(wildType: string): string {
  const rng = createRng(5);
  const lines = ['mutant,fitness'];
  for (let p = 0; p < wildType.length; p++) {
    const others = [...RESIDUES].filter((aa) => aa !== wildType[p]);
    for (let k = 0; k < 3; k++) lines.push(`${wildType[p]}${p + 1}${others[rng.nextInt(others.length)]},${(rng.next() * 2 - 1).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('a mutation scan on the map', () => {
  it('opens coloured by mutated position, names its PCA axes, and exports a framed PNG', { timeout: 240_000 }, async () => {
    const install = await session.api.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
    expect((await session.api.waitForJob(install.id)).state).toBe('done');
    const [model] = await session.api.call<{ id: number }[]>('models.list', {});
    const project = await session.api.call<{ id: number }>('projects.create', { name: 'Scan map' });
    const wildType = randomProtein(createRng(9), 40);
    const { dataset } = await session.api.call<{ dataset: { id: number } }>('datasets.import', {
      projectId: project.id,
      source: { kind: 'text', fileName: 'toy-scan.csv', text: scanCsv(wildType) },
      options: { mutations: { wildType } },
    });
    const embed = await session.api.call<Job>('jobs.start', { kind: 'embed.dataset', projectId: project.id, datasetId: dataset.id, modelIds: [model!.id], layers: [-1], pool: ['mean'] });
    expect((await session.api.waitForJob(embed.id)).state).toBe('done');
    const [embedding] = await session.api.call<{ id: number }[]>('embeddings.list', { projectId: project.id });
    const map = await session.api.call<Job>('jobs.start', { kind: 'map.project', embeddingId: embedding!.id, method: 'pca' });
    expect((await session.api.waitForJob(map.id)).state).toBe('done');
    const [projection] = await session.api.call<Projection[]>('map.list', { projectId: project.id });

    // The back end offers the mutation's position (in the file's numbering) and the mutant's class first.
    const points = await session.api.call<MapPoints>('map.points', { projectionId: projection!.id });
    const position = points.columns.find((c) => c.name === 'mutated position');
    expect(points.columns[0]!.name).toBe('mutated position');
    expect(position?.type === 'number' && position.values.slice(0, 4)).toEqual([1, 1, 1, 2]);
    const classes = points.columns.find((c) => c.name === 'mutant residue class');
    expect(classes?.type === 'category' && classes.categories.every((c) => ['hydrophobic', 'aromatic', 'polar', 'charged', 'special'].includes(c))).toBe(true);

    await session.page.goto(session.server.url);
    await session.page.getByTestId('nav-projects').click();
    await session.page.getByTestId('project-row').first().getByTestId('project-open').click();
    await session.page.getByTestId('nav-map').click();
    await session.page.getByTestId('map-canvas').waitFor({ timeout: 30_000 });
    expect(await session.page.getByTestId('map-color').inputValue()).toBe('mutated position');
    await session.page.getByTestId('map-colorbar').waitFor();
    expect(await session.page.getByTestId('map-colorbar-min').innerText()).toBe('1');
    expect(await session.page.getByTestId('map-colorbar-max').innerText()).toBe('40');
    const [pc1, pc2] = projection!.explainedVariance!;
    expect(await session.page.getByTestId('map-axis-x').innerText()).toBe(`PC1 (${(pc1! * 100).toFixed(pc1! < 0.1 ? 1 : 0)} % of the variance)`);
    expect(await session.page.getByTestId('map-axis-y').innerText()).toMatch(/^PC2 \([\d.]+ % of the variance\)$/);
    expect(pc2).toBeLessThanOrEqual(pc1!);
    await screenshot(session.page, '65-map-scan-position');

    // The PNG: the map (at the page's pixel ratio, 1 here) plus a 40 px title band, a 26 px axis band
    // and a 54 px colour-bar band below, and a 26 px y-axis band and a 12 px margin beside it.
    const [width, height] = (await session.page.getByTestId('map-canvas').getAttribute('data-size'))!.split('x').map(Number) as [number, number];
    const [png] = await Promise.all([session.page.waitForEvent('download'), session.page.getByTestId('map-export-png').click()]);
    const bytes = readFileSync((await png.path())!);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(pngSize(bytes)).toEqual({ width: 26 + width + 12, height: 40 + height + 26 + 54 });

    // The mutant's class: a handful of named groups with counts.
    await session.page.getByTestId('map-color').selectOption('mutant residue class');
    const entries = await session.page.getByTestId('map-legend-entry').allInnerTexts();
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(entries.length).toBeLessThanOrEqual(5);
    await session.page.getByTestId('theme-toggle').click();
    await screenshot(session.page, '66-map-scan-class-other-theme');
    await session.page.getByTestId('theme-toggle').click();
  });
});
