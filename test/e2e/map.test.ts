/**
 * End-to-end: the Map page in Chromium on 20,000 sequences. The dataset and its embedding matrix
 * are written through the services before serve starts (no model run); the UMAP projection is a
 * real job started from the page. The map is coloured by a category and by a number, a lasso is
 * drawn with the mouse, and the selection — checked against our own point-in-polygon test on
 * the served coordinates — is exported as IDs and saved as a new dataset.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, Job, MapPoints, Projection, SequenceRow } from '../../src-main/api/schemas';
import { launchChromium, screenshot } from '../support/browser';
import { FAMILIES, mapCanvasPixels, seedMapProject, type MapProject } from '../support/map-setup';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

const COUNT = 20_000;
let seeded: MapProject;
let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const home = temporaryHome();
  seeded = seedMapProject(home, COUNT, 16);
  server = await startServe(home);
  api = await connectApi(server);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 }, acceptDownloads: true });
});

afterAll(async () => {
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

interface ScreenMapping {
  box: { x: number; y: number };
  width: number;
  height: number;
  view: { cx: number; cy: number; ppu: number };
}

async function screenMapping(p: Page): Promise<ScreenMapping> {
  const canvas = p.getByTestId('map-canvas');
  const box = (await canvas.boundingBox())!;
  const [width, height] = (await canvas.getAttribute('data-size'))!.split('x').map(Number) as [number, number];
  const view = JSON.parse((await canvas.getAttribute('data-view'))!) as ScreenMapping['view'];
  return { box, width, height, view };
}

/** Winding number of the closed polygon around (px, py): non-zero inside (a simple polygon has no self-crossings). */
function winding(px: number, py: number, polygon: [number, number][]): number {
  let w = 0;
  for (let i = 0; i < polygon.length; i++) {
    const [x1, y1] = polygon[i]!;
    const [x2, y2] = polygon[(i + 1) % polygon.length]!;
    const side = (x2 - x1) * (py - y1) - (px - x1) * (y2 - y1);
    if (y1 <= py && y2 > py && side > 0) w++;
    else if (y1 > py && y2 <= py && side < 0) w--;
  }
  return w;
}

async function allSequences(datasetId: number, total: number): Promise<SequenceRow[]> {
  const rows: SequenceRow[] = [];
  for (let offset = 0; offset < total; offset += 5000) {
    rows.push(...(await api.call<{ rows: SequenceRow[] }>('datasets.sequences', { datasetId, offset, limit: 5000 })).rows);
  }
  return rows;
}

describe('the embedding map', () => {
  let projection: Projection;

  it('makes a UMAP map of 20,000 sequences as a job and draws it, coloured by a category and by a number', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').first().getByTestId('project-open').click();
    await page.getByTestId('nav-map').click();
    await page.getByTestId('map-form').waitFor();
    await page.getByTestId('map-method-umap').check();
    await page.getByTestId('map-epochs').fill('60');
    await page.getByTestId('map-start').click();
    await page.getByTestId('map-progress').waitFor({ timeout: 30_000 });
    await screenshot(page, '60-map-progress');

    await expect
      .poll(async () => (await api.call<Job[]>('jobs.list', { projectId: seeded.projectId })).find((j) => j.kind === 'map.project')?.state, { timeout: 280_000, interval: 1000 })
      .toBe('done');
    const projections = await api.call<Projection[]>('map.list', { projectId: seeded.projectId });
    expect(projections).toHaveLength(1);
    projection = projections[0]!;
    expect(projection).toMatchObject({ method: 'umap', ready: true, rows: COUNT, nEpochs: 60 });

    const canvas = page.getByTestId('map-canvas');
    await canvas.waitFor({ timeout: 30_000 });
    expect(await canvas.getAttribute('data-points')).toBe(String(COUNT));

    // Coloured by the first category, "family": four legend entries with the real counts.
    await expect.poll(() => page.getByTestId('map-legend-entry').count()).toBe(4);
    const legend = await page.getByTestId('map-legend-entry').allInnerTexts();
    const counts = Object.fromEntries(legend.map((text) => {
      const [label, count] = text.split(/\s+/).filter(Boolean) as [string, string];
      return [label, Number(count.replaceAll(',', ''))];
    }));
    expect(counts).toEqual(Object.fromEntries(FAMILIES.map((f) => [f, seeded.family.filter((x) => x === f).length])));
    await expect.poll(async () => (await mapCanvasPixels(page)).painted, { timeout: 10_000 }).toBeGreaterThan(5000);
    expect((await mapCanvasPixels(page)).colours).toBeGreaterThanOrEqual(4);
    await screenshot(page, '61-map-family');

    // Coloured by the numeric "score": the colour bar spans its minimum and maximum.
    await page.getByTestId('map-color').selectOption('score');
    await page.getByTestId('map-colorbar').waitFor();
    const low = Number((await page.getByTestId('map-colorbar-min').innerText()).replaceAll(',', ''));
    const high = Number((await page.getByTestId('map-colorbar-max').innerText()).replaceAll(',', ''));
    expect(low).toBeCloseTo(Math.min(...seeded.score), 3);
    expect(high).toBeCloseTo(Math.max(...seeded.score), 3);
    expect((await mapCanvasPixels(page)).colours).toBeGreaterThan(8);
    await screenshot(page, '62-map-score');

    // Hovering a point shows its ID and score.
    const points = await api.call<MapPoints>('map.points', { projectionId: projection.id });
    const m = await screenMapping(page);
    const i = 123;
    const sx = m.box.x + m.width / 2 + (points.x[i]! - m.view.cx) * m.view.ppu;
    const sy = m.box.y + m.height / 2 - (points.y[i]! - m.view.cy) * m.view.ppu;
    await page.mouse.move(sx, sy);
    const tooltip = page.getByTestId('map-tooltip');
    await tooltip.waitFor();
    expect(await tooltip.innerText()).toMatch(/^s\d+\s+score: [\d.]+$/);
  });

  it('selects points with a lasso drawn with the mouse, exports their IDs and saves them as a dataset', async () => {
    const points = await api.call<MapPoints>('map.points', { projectionId: projection.id });
    await page.getByTestId('map-color').selectOption('family');
    await page.getByTestId('map-tool-lasso').click();
    const m = await screenMapping(page);
    // An irregular heptagon around the canvas centre, in whole page pixels.
    const r = Math.min(m.width, m.height) * 0.3;
    const page0 = { x: Math.round(m.box.x + m.width / 2), y: Math.round(m.box.y + m.height / 2) };
    const vertices = Array.from({ length: 7 }, (_, k) => {
      const angle = (2 * Math.PI * k) / 7;
      const radius = r * (k % 2 ? 0.6 : 1);
      return { x: Math.round(page0.x + radius * Math.cos(angle)), y: Math.round(page0.y + radius * Math.sin(angle)) };
    });
    await page.mouse.move(vertices[0]!.x, vertices[0]!.y);
    await page.mouse.down();
    for (const v of vertices.slice(1)) await page.mouse.move(v.x, v.y);
    await page.mouse.up();

    // Our own test: each served point on the screen, inside the polygon of the mouse positions?
    const polygon = vertices.map((v) => [v.x - m.box.x, v.y - m.box.y] as [number, number]);
    const expected: number[] = [];
    for (let i = 0; i < points.x.length; i++) {
      const sx = m.width / 2 + (points.x[i]! - m.view.cx) * m.view.ppu;
      const sy = m.height / 2 - (points.y[i]! - m.view.cy) * m.view.ppu;
      if (winding(sx, sy, polygon) !== 0) expected.push(i);
    }
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeLessThan(COUNT);
    const shown = page.getByTestId('map-selection-count');
    await shown.waitFor();
    expect(Number((await shown.innerText()).replaceAll(',', ''))).toBe(expected.length);
    expect(await page.getByTestId('map-selection').locator('.count').innerText()).toBe(`${expected.length.toLocaleString('en-US')} sequences selected`);
    await screenshot(page, '63-map-lasso');

    const [ids] = await Promise.all([page.waitForEvent('download'), page.getByTestId('map-export-ids').click()]);
    expect(readFileSync((await ids.path())!, 'utf8').trim().split('\n')).toEqual(expected.map((i) => points.ids[i]));

    await page.getByTestId('map-selection-name').fill('lasso pick');
    await page.getByTestId('map-save-dataset').click();
    let saved: Dataset | undefined;
    await expect
      .poll(async () => {
        saved = (await api.call<Dataset[]>('datasets.list', { projectId: seeded.projectId })).find((d) => d.name === 'lasso pick');
        return saved?.sequenceCount;
      })
      .toBe(expected.length);
    const rows = await allSequences(saved!.id, saved!.sequenceCount);
    expect(rows.map((row) => row.seqId)).toEqual(expected.map((i) => `s${i}`));
    expect(rows.every((row) => row.labels.family === seeded.family[Number(row.seqId.slice(1))])).toBe(true);
  });

  it('exports the map as PNG and as SVG', async () => {
    await page.getByTestId('map-clear-selection').click();
    await page.getByTestId('map-fit-view').click();
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('map-export-png').click()]);
    const pngBytes = readFileSync((await png.path())!);
    expect(pngBytes.subarray(1, 4).toString()).toBe('PNG');
    expect(pngBytes.length).toBeGreaterThan(20_000);
    // Framed: the map plus its title, axis and legend bands (4 families: two legend rows of 20 px + 12).
    const [width, height] = (await page.getByTestId('map-canvas').getAttribute('data-size'))!.split('x').map(Number) as [number, number];
    expect({ width: pngBytes.readUInt32BE(16), height: pngBytes.readUInt32BE(20) }).toEqual({ width: 26 + width + 12, height: 40 + height + 26 + 12 + 2 * 20 });
    expect(await page.getByTestId('map-axis-x').innerText()).toBe('UMAP 1 (no units)');
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('map-export-svg').click()]);
    const svgText = readFileSync((await svg.path())!, 'utf8');
    // The fitted view shows every point: one circle each.
    expect(svgText.match(/<circle /g)).toHaveLength(COUNT);
    await screenshot(page, '64-map-exported');
  });
});
