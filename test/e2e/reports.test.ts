/**
 * End-to-end in Chromium: a report of a real scan made from the Reports page (parameters, model
 * checksum, metrics table and inline SVG in the HTML), printed to PDF by Chromium and rendered to
 * PNG by pdftoppm (not blank); the predicted-vs-measured scatter of the scan; and the training
 * curves of two runs overlaid (series written straight into the store), with the log toggle and
 * a live update while one run is still running.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { openStore, type Store } from '../../src-main/store';
import { launchChromium, screenshot } from '../support/browser';
import { setUpScanProject } from '../support/scan-setup';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let page: Page;
let store: Store;
let projectId: number;
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  browser = await launchChromium();
  // One context, so that a report opened in a second tab carries the session cookie as in a real browser.
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  store?.close();
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

// ---------- a tiny PNG reader (8-bit grey, RGB or RGBA, non-interlaced: what pdftoppm writes) ----------
interface Image {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function readPng(bytes: Buffer): Image {
  expect(bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))).toBe(true);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8); // bit depth
      expect(data[12]).toBe(0); // not interlaced
      channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[data[9]!]!;
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter]!;
      pixels[y * stride + x] = (v + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Distinct colours and the share of pixels that are not (near) white. */
function inkStats(image: Image): { colours: number; inked: number } {
  const colours = new Set<number>();
  let inked = 0;
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    const px = image.pixels.subarray(i * image.channels, i * image.channels + Math.min(3, image.channels));
    colours.add(px.reduce((key, v) => key * 256 + v, 0));
    if (Math.min(...px) < 235) inked++;
  }
  return { colours: colours.size, inked: inked / n };
}

describe('reports', () => {
  it('makes the report of a scan from the UI; the HTML holds its facts and prints to a non-blank PDF', async () => {
    const call = <T>(method: string, input: unknown): Promise<T> => api.call<T>(method, input);
    const { project, dataset, matrices } = await setUpScanProject(call, (id) => api.waitForJob(id), 40);
    projectId = project.id;
    const scan = await call<Job>('jobs.start', {
      kind: 'learn.scan', projectId: project.id, datasetId: dataset.id, target: 'hydrophobic',
      embeddingIds: matrices.map((m) => m.id), learners: ['ridgecv'], split: { scheme: 'random', k: 5, seed: 7 },
    });
    expect((await api.waitForJob(scan.id)).state).toBe('done');
    const models = await call<{ path: string }[]>('models.list', {});
    const checksums = models.map((m) => (JSON.parse(readFileSync(join(m.path, 'manifest.json'), 'utf8')) as { source: { checksum: string } }).source.checksum);

    await page.goto(server.url);
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-row').first().getByTestId('project-open').click();
    await page.getByTestId('nav-reports').click();
    const scanRow = page.getByTestId('report-run-row').and(page.locator('[data-kind="learn.scan"]'));
    await scanRow.getByTestId('report-create').click();
    const reportRow = page.getByTestId('report-row').and(page.locator(`[data-run-id="${scan.runId}"]`));
    await reportRow.waitFor();
    await page.getByTestId('fit-scatter').locator('canvas').first().waitFor();
    expect(Number(await page.getByTestId('fit-scatter').getAttribute('data-n'))).toBe(40);
    await screenshot(page, '80-reports');

    // Open the report as a user would (a new tab at the link's address).
    const href = (await reportRow.getByTestId('report-open').getAttribute('href'))!;
    // Same browser context: the tab carries the session cookie the app page received.
    const report = await page.context().newPage();
    await report.setViewportSize({ width: 1000, height: 1200 });
    const response = await report.goto(new URL(href, server.url).toString());
    expect(response!.headers()['content-type']).toContain('text/html');
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    const html = await report.content();
    expect(html).toContain('<table class="parameters">');
    const parameters = await report.locator('table.parameters').innerText();
    expect(parameters).toMatch(/Target\s+hydrophobic/);
    expect(parameters).toMatch(/Learners\s+Ridge \(RidgeCV\)/);
    // In words: no stored JSON, no internal kind names anywhere in the page.
    expect(parameters).not.toMatch(/[{}]/);
    expect(await report.locator('body').innerText()).not.toContain('learn.scan');
    for (const checksum of checksums) expect(html).toContain(checksum);
    expect(await report.locator('table.metrics tbody tr').count()).toBe(matrices.length);
    expect(await report.locator('section#predicted-vs-measured svg circle').count()).toBe(40);
    expect(await report.locator('svg').count()).toBeGreaterThanOrEqual(2);
    expect(await report.locator('script').count()).toBe(0);
    await screenshot(report, '81-report-html');

    const dir = mkdtempSync(join(tmpdir(), 'esm-report-pdf-'));
    await report.pdf({ path: join(dir, 'report.pdf'), format: 'A4', printBackground: true });
    await report.close();
    execFileSync('pdftoppm', ['-png', '-r', '50', join(dir, 'report.pdf'), join(dir, 'page')]);
    const pages = readdirSync(dir).filter((name) => name.endsWith('.png')).sort();
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const first = readPng(readFileSync(join(dir, pages[0]!)));
    expect(first.width).toBeGreaterThan(350); // A4 at 50 dpi: 413 × 585
    const ink = inkStats(first);
    expect(ink.colours).toBeGreaterThan(8);
    expect(ink.inked).toBeGreaterThan(0.01);
    expect(ink.inked).toBeLessThan(0.6);
  });

  it('overlays the training curves of two runs, with a log scale, and follows a running one', async () => {
    store = openStore(server.home);
    const loss = (run: number, step: number): number => (run === 1 ? 2.5 : 4) * Math.exp(-step / 15) + 0.05 + 0.02 * Math.sin(step);
    const makeRun = (n: number, title: string, state: 'done' | 'running'): number => {
      const id = store.runs.insert({ projectId, kind: 'finetune', title, params: { lora: n * 4 } });
      store.runs.setState(id, state);
      store.runs.addMetrics(id, Array.from({ length: 50 }, (_, i) => [{ step: i + 1, name: 'loss', value: loss(n, i + 1) }, { step: i + 1, name: 'lr', value: 1e-3 }]).flat());
      store.runs.addMetrics(id, [1, 2, 3].flatMap((epoch) => [{ step: epoch, name: 'train_loss', value: loss(n, epoch * 15) }, { step: epoch, name: 'val_loss', value: loss(n, epoch * 15) + 0.1 }]));
      return id;
    };
    const done = makeRun(1, 'LoRA rank 4', 'done');
    const running = makeRun(2, 'LoRA rank 8', 'running');

    await page.getByTestId('nav-training').click();
    await expect.poll(() => page.getByTestId('curves-run').count()).toBe(2);
    const curves = page.getByTestId('training-curves');
    await expect.poll(() => curves.getAttribute('data-series')).toBe('2');
    expect(await curves.getAttribute('data-metrics')).toBe('loss');
    const legend = await curves.locator('.u-legend').innerText();
    expect(legend).toContain(`#${done} LoRA rank 4`);
    expect(legend).toContain(`#${running} LoRA rank 8`);
    await screenshot(page, '82-training-curves');

    await page.getByTestId('curves-log').check();
    await expect.poll(() => curves.getAttribute('data-log')).toBe('true');
    await page.getByTestId('curves-smoothing').fill('0.6');
    await expect.poll(() => curves.getAttribute('data-smoothing')).toBe('0.6');
    expect(await curves.locator('canvas').count()).toBeGreaterThan(0);
    await screenshot(page, '83-training-curves-log');

    // The running run records more steps (as another process would): the chart follows.
    expect(await curves.getAttribute('data-last-step')).toBe('50');
    await page.getByTestId('curves-live').waitFor();
    store.runs.addMetrics(running, Array.from({ length: 10 }, (_, i) => ({ step: 51 + i, name: 'loss', value: loss(2, 51 + i) })));
    await expect.poll(() => curves.getAttribute('data-last-step'), { timeout: 15_000 }).toBe('60');

    // Epoch curves of both runs: two series each.
    await page.getByTestId('curves-metric').and(page.locator('[value="loss"]')).uncheck();
    await page.getByTestId('curves-metric').and(page.locator('[value="val_loss"]')).check();
    await page.getByTestId('curves-metric').and(page.locator('[value="train_loss"]')).check();
    await expect.poll(() => curves.getAttribute('data-series')).toBe('4');
    await screenshot(page, '84-training-curves-epochs');
    expect(pageErrors).toEqual([]);
  });
});
