/**
 * End-to-end: variant effects in Chromium against serve. The tiny golden model is installed from
 * its folder on the Models page; a saturation map of a 30-residue protein (570 single mutants) is
 * started on the Variants page and its heatmap checked cell by cell against the API's scores
 * (canvas colours, hover values, a clicked position); the long and wide CSV downloads are read
 * back against the same scores; and a mutation scan with 3 wrong wild-type residues is imported
 * on the Data page: the report lists the 3 rows, and importing the rest makes the N − 3 mutants.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, SaturationMap, SequenceRow } from '../../src-main/api/schemas';
import { colorLimit, divergingRgb } from '../../src-renderer/src/lib/variants-heatmap';
import { GROUPED_ORDER } from '../../src-main/core/amino-acids';
import { createRng } from '../../src-main/core/rng';
import { randomProtein } from '../support/random-proteins';
import { launchChromium, screenshot } from '../support/browser';
import { loadGolden } from '../support/golden';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';
import { connectApi, type ApiClient } from '../support/ws-client';

/** The protein of the saturation map and the wild type of the mutation scan: 30 residues. */
const PROTEIN = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLW';
const AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY';

let server: ServeHandle;
let api: ApiClient;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let projectId: number;
/** The saturation map as the API returns it (set by the heatmap test, read by the CSV test). */
let map: { runId: number; aminoAcids: string[]; scores: (number | null)[] } | null = null;

/** The score of mutant `mut` at 1-based `position`, from the API's [L × 20] map. */
function apiScore(position: number, mut: string): number | null {
  const column = map!.aminoAcids.indexOf(mut);
  expect(column, mut).toBeGreaterThanOrEqual(0);
  return map!.scores[(position - 1) * map!.aminoAcids.length + column] ?? null;
}

/** A score as the page prints it (two decimals, true minus sign), written here independently. */
const printed = (value: number): string => value.toFixed(2).replace('-', '−');
/** An element's text with runs of white space as one space. */
const textOf = async (locator: { textContent(): Promise<string | null> }): Promise<string> => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

/** Asserts that `text`, a number printed in a CSV, is `expected` to the precision it is printed with. */
function expectPrinted(text: string, expected: number | null, where: string): void {
  expect(expected, where).not.toBeNull();
  expect(text, where).toMatch(/^-?\d+(\.\d+)?(e-?\d+)?$/);
  const decimals = /\.(\d+)/.exec(text)?.[1]?.length ?? 0;
  expect(decimals, `${where}: printed with too few decimals`).toBeGreaterThanOrEqual(4);
  expect(Math.abs(Number(text) - expected!), where).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12);
}

async function download(testid: string): Promise<{ name: string; text: string }> {
  await page.getByTestId(testid).click();
  const link = page.getByTestId(`${testid}-download`);
  await link.waitFor({ timeout: 20_000 });
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(file.suggestedFilename()).toBe(await link.getAttribute('data-name'));
  return { name: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') };
}

beforeAll(async () => {
  expect(PROTEIN).toHaveLength(30);
  server = await startServe(temporaryHome());
  api = await connectApi(server);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1360, height: 1000 }, deviceScaleFactor: 1, acceptDownloads: true });
  page = await context.newPage();
  await page.goto(server.url);
});

afterAll(async () => {
  api?.close();
  await browser?.close();
  if (server) await stopServe(server);
});

describe('variant effects in the browser', () => {
  it('installs the tiny model from its folder on the Models page', async () => {
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-name-input').fill('Variants');
    await page.getByTestId('project-create').click();
    await page.getByTestId('project-row').filter({ hasText: 'Variants' }).getByTestId('project-open').click();
    const projects = await api.call<{ id: number; name: string }[]>('projects.list', {});
    projectId = projects.find((p) => p.name === 'Variants')!.id;

    await page.getByTestId('nav-models').click();
    await page.getByTestId('install-path').fill(loadGolden('tiny').checkpoint);
    await page.getByTestId('install-start').click();
    await page.locator('[data-testid="install-status"][data-state="done"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('model-row').count(), { timeout: 20_000 }).toBe(1);
  });

  it('scores all 570 single mutants of a 30-residue protein from the Variants page and shows them in the heatmap', async () => {
    await page.getByTestId('nav-variants').click();
    const form = page.getByTestId('saturation-form');
    await form.getByTestId('saturation-source-paste').check();
    await form.getByTestId('saturation-paste').fill(`>demo protein\n${PROTEIN.slice(0, 17)}\n${PROTEIN.slice(17)}\n`);
    await expect.poll(() => form.getByTestId('saturation-length').textContent()).toContain('30 residues → 570 single mutants');
    await form.getByTestId('saturation-name').fill('demo');
    // The only installed model is chosen already.
    await expect.poll(() => form.getByTestId('saturation-model-choice').isChecked()).toBe(true);
    await form.getByTestId('saturation-method').selectOption('masked-marginal');
    await form.getByTestId('saturation-start').click();

    // The page shows the map as soon as its job is done.
    const canvas = page.getByTestId('saturation-canvas');
    await canvas.waitFor({ timeout: 90_000 });
    await expect.poll(() => page.getByTestId('saturation-started').getAttribute('data-state')).toBe('done');
    expect(await textOf(page.getByTestId('saturation-description'))).toMatch(/^demo · 30 residues · Masked marginal · /);
    const runId = Number(await page.getByTestId('variant-result').getAttribute('data-run-id'));
    const run = await api.call<SaturationMap>('variants.saturation', { runId });
    expect(run.wildType).toBe(PROTEIN);
    expect(run.offset).toBe(0);
    expect(run.method).toBe('masked-marginal');
    // The columns come in the model's vocabulary order: the 20 amino acids, each once.
    expect([...run.aminoAcids].sort().join('')).toBe(AMINO_ACIDS);
    expect(run.maps).toHaveLength(1);
    const scores = run.maps[0]!.scores;
    expect(scores).toHaveLength(30 * 20);
    map = { runId, aminoAcids: run.aminoAcids, scores };
    let mutants = 0;
    for (let p = 1; p <= 30; p++) {
      for (const aa of AMINO_ACIDS) {
        const v = apiScore(p, aa);
        if (aa === PROTEIN[p - 1]) expect(v, `wild type at ${p}`).toBe(0);
        else {
          expect(Number.isFinite(v), `${PROTEIN[p - 1]}${p}${aa}`).toBe(true);
          mutants++;
        }
      }
    }
    expect(mutants).toBe(570);
    // A model that reads its input gives different scores to different mutants.
    expect(new Set(scores.filter((v) => v !== 0)).size).toBeGreaterThan(500);

    // The canvas: 30 positions × 20 amino-acid rows, every cell in the colour of its score.
    expect(await canvas.getAttribute('data-positions')).toBe('30');
    const cellWidth = Number(await canvas.getAttribute('data-cell-width'));
    const rowHeight = Number(await canvas.getAttribute('data-row-height'));
    const top = Number(await canvas.getAttribute('data-top'));
    expect(cellWidth).toBeGreaterThanOrEqual(8);
    // Rows grouped as DMS papers show them by default: AVLIM FWY STNQ DEKRH GPC.
    expect(await page.getByTestId('saturation-heatmap').locator('.labels span').allTextContents()).toEqual([...GROUPED_ORDER, 'mean']);
    const mapColumn = (row: number): number => run.aminoAcids.indexOf(GROUPED_ORDER[row]!);
    const limit = colorLimit(scores);
    const samples = await page.evaluate(
      ({ cellWidth, rowHeight, top }) => {
        const source = document.querySelector('[data-testid="saturation-canvas"]') as HTMLCanvasElement;
        const data = source.getContext('2d')!.getImageData(0, 0, source.width, source.height);
        const out: number[][] = [];
        for (let p = 0; p < 30; p++) {
          for (let a = 0; a < 20; a++) {
            // Off the centre (the wild-type dot) and off the column separators.
            const x = Math.floor(p * cellWidth + cellWidth * 0.25) + 1;
            const y = top + a * rowHeight + 3;
            const i = (y * data.width + x) * 4;
            out.push([data.data[i]!, data.data[i + 1]!, data.data[i + 2]!]);
          }
        }
        return { out, width: source.width };
      },
      { cellWidth, rowHeight, top },
    );
    expect(samples.width).toBe(30 * cellWidth);
    let checked = 0;
    samples.out.forEach((rgb, cell) => {
      const [p, row] = [Math.floor(cell / 20), cell % 20];
      const expected = divergingRgb(scores[p * 20 + mapColumn(row)]!, limit);
      rgb.forEach((channel, k) => expect(Math.abs(channel - expected[k]!), `cell ${cell} channel ${k}: ${rgb} vs ${expected}`).toBeLessThanOrEqual(2));
      checked++;
    });
    expect(checked).toBe(600);

    // Hovering a cell shows its mutant and score.
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const hover = async (position: number, mut: string): Promise<void> => {
      const x = box.x + (position - 0.5) * cellWidth;
      const y = box.y + top + (GROUPED_ORDER.indexOf(mut) + 0.5) * rowHeight;
      await page.mouse.move(x, y);
    };
    const tooltip = page.getByTestId('heatmap-tooltip');
    for (const [position, mut] of [[1, 'A'], [7, 'W'], [30, 'C'], [18, 'P']] as const) {
      await hover(position, mut);
      const value = apiScore(position, mut)!;
      await expect.poll(() => textOf(tooltip)).toBe(`${PROTEIN[position - 1]}${position}${mut}: ${printed(value)}`);
      expect(Number(await tooltip.getAttribute('data-value'))).toBe(value);
    }
    await hover(5, PROTEIN[4]!);
    await expect.poll(() => textOf(tooltip)).toBe(`${PROTEIN[4]}5${PROTEIN[4]}: 0.00 (wild type)`);

    // Clicking a column selects that position: its mean and most and least tolerated mutants.
    const position = 12;
    const wt = PROTEIN[position - 1]!;
    const column = [...AMINO_ACIDS].filter((aa) => aa !== wt).map((aa) => ({ aa, value: apiScore(position, aa)! }));
    const mean = column.reduce((s, c) => s + c.value, 0) / column.length;
    column.sort((a, b) => a.value - b.value);
    await page.mouse.click(box.x + (position - 0.5) * cellWidth, box.y + top + 2.5 * rowHeight);
    const selected = page.getByTestId('saturation-selected');
    await expect.poll(() => textOf(selected)).toContain(`${wt}${position} · mean of the 19 mutants ${printed(mean)}`);
    const text = await textOf(selected);
    expect(text).toContain(`Least likely: ${column.slice(0, 3).map((c) => `${wt}${position}${c.aa} ${printed(c.value)}`).join(', ')}`);
    expect(text).toContain(`Most likely: ${column.slice(-3).reverse().map((c) => `${wt}${position}${c.aa} ${printed(c.value)}`).join(', ')}`);
    await page.mouse.move(box.x + (position - 0.5) * cellWidth, box.y + top + 2.5 * rowHeight);
    await tooltip.waitFor();
    await page.getByTestId('variant-result').scrollIntoViewIfNeeded();
    await screenshot(page, '90-variants-saturation-map');
  });

  it('downloads the map as long and wide CSV, with the scores the API returns', async () => {
    expect(map).not.toBeNull();
    const long = await download('saturation-export-long');
    expect(long.name).toMatch(/\.csv$/);
    const lines = long.text.trimEnd().split('\n');
    expect(lines[0]).toBe('position,wt,mut,score');
    const rows = lines.slice(1).map((line) => line.split(','));
    expect(rows).toHaveLength(570);
    const seen = new Set<string>();
    for (const [i, row] of rows.entries()) {
      expect(row, `row ${i + 2}`).toHaveLength(4);
      const [positionText, wt, mut, score] = row as [string, string, string, string];
      const position = Number(positionText);
      expect(Number.isInteger(position) && position >= 1 && position <= 30, `row ${i + 2}: position ${positionText}`).toBe(true);
      expect(wt, `row ${i + 2}`).toBe(PROTEIN[position - 1]);
      expect(AMINO_ACIDS.includes(mut) && mut !== wt, `row ${i + 2}: ${mut}`).toBe(true);
      seen.add(`${position}${wt}${mut}`);
      expectPrinted(score, apiScore(position, mut), `long row ${i + 2} (${wt}${position}${mut})`);
    }
    expect(seen.size).toBe(570);

    const wide = await download('saturation-export-wide');
    const wideLines = wide.text.trimEnd().split('\n');
    const columns = map!.aminoAcids;
    expect(wideLines[0]).toBe(['position', 'wt', ...columns].join(','));
    expect(wideLines).toHaveLength(31);
    wideLines.slice(1).forEach((line, p) => {
      const [positionText, wt, ...cells] = line.split(',');
      expect(Number(positionText)).toBe(p + 1);
      expect(wt).toBe(PROTEIN[p]);
      expect(cells).toHaveLength(20);
      cells.forEach((cell, a) => {
        if (columns[a] === wt) expect(Number(cell), `wide ${p + 1} wild type`).toBe(0);
        else expectPrinted(cell, apiScore(p + 1, columns[a]!), `wide row ${p + 2} (${wt}${p + 1}${columns[a]})`);
      });
    });
  });

  it('lists the 3 rows of a mutation scan whose wild-type residue is wrong, and imports the others', async () => {
    // Rows: [mutation text, the mutant sequence it makes, or the problem the report must list].
    type Row = { mutation: string; fitness: number } & ({ sequence: string } | { bad: { mutation: string; found: string } });
    const mutate = (sites: [number, string][]): string => {
      const residues = [...PROTEIN];
      for (const [position, mut] of sites) residues[position - 1] = mut;
      return residues.join('');
    };
    const single = (position: number, mut: string): Row => ({ mutation: `${PROTEIN[position - 1]}${position}${mut}`, fitness: 0, sequence: mutate([[position, mut]]) });
    const rows: Row[] = [];
    for (let i = 0; i < 36; i++) {
      const position = 1 + ((i * 7) % 30);
      const mut = [...AMINO_ACIDS].filter((aa) => aa !== PROTEIN[position - 1])[(i * 5) % 19]!;
      rows.push(single(position, mut));
    }
    // A double mutant and an HGVS one among the good rows.
    rows.splice(10, 0, { mutation: 'K2R:Y5F', fitness: 0, sequence: mutate([[2, 'R'], [5, 'F']]) });
    rows.splice(20, 0, { mutation: 'p.Ser17Ala', fitness: 0, sequence: mutate([[17, 'A']]) });
    // The three wrong wild-type residues (the second in a double mutant whose first site is right).
    rows.splice(4, 0, { mutation: 'W3A', fitness: 0, bad: { mutation: 'W3A', found: 'T' } });
    rows.splice(19, 0, { mutation: 'M1L:G14A', fitness: 0, bad: { mutation: 'G14A', found: 'F' } });
    rows.splice(33, 0, { mutation: 'L30V', fitness: 0, bad: { mutation: 'L30V', found: 'W' } });
    rows.forEach((row, i) => (row.fitness = Number((Math.sin(i + 1) * 2).toFixed(3))));
    const csv = `mutant,fitness\n${rows.map((r) => `${r.mutation},${r.fitness}`).join('\n')}\n`;
    const bad = rows.map((row, i) => ({ row, record: i + 1, line: i + 2 })).filter((r) => 'bad' in r.row);
    expect(bad).toHaveLength(3);
    const good = rows.filter((r): r is Row & { sequence: string } => 'sequence' in r);

    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-mode-mutations').check();
    await page.getByTestId('import-file').setInputFiles({ name: 'scan.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByTestId('import-mutations-needed').waitFor();
    await page.getByTestId('import-wild-type-file').setInputFiles({ name: 'wt.fasta', mimeType: 'text/plain', buffer: Buffer.from(`>demo_wt demo protein\n${PROTEIN}\n`) });

    const report = page.getByTestId('import-report');
    await report.waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('import-wild-type').inputValue()).toContain(PROTEIN);
    expect(await textOf(page.getByTestId('import-mutations').locator('.wt .hint'))).toBe('30 residues. Or read it from a file:');
    expect((await page.getByTestId('import-summary').textContent())!.replace(/\s+/g, ' ')).toContain(`Found ${rows.length} records in scan.csv (CSV). ${rows.length - 3} will be imported.`);
    const scanSummary = (await page.getByTestId('import-scan-summary').textContent())!.replace(/\s+/g, ' ');
    expect(scanSummary).toContain('Mutations in column mutant of wild type demo_wt (30 residues)');
    expect(scanSummary).toContain('3 rows name a wild-type residue that the sequence does not have');
    const errorRows = page.getByTestId('import-error-row');
    await expect.poll(() => errorRows.count()).toBe(3);
    for (const [i, expected] of bad.entries()) {
      const cells = (await errorRows.nth(i).locator('td').allTextContents()).map((c) => c.trim());
      expect(await errorRows.nth(i).getAttribute('data-kind')).toBe('wild-type-mismatch');
      expect(cells.slice(0, 4), `problem ${i + 1}`).toEqual([String(expected.record), String(expected.line), 'bad' in expected.row ? expected.row.bad.mutation : '', 'bad' in expected.row ? expected.row.bad.found : '']);
    }
    const accept = page.getByTestId('import-accept');
    expect((await accept.textContent())!.trim()).toBe(`Import the other ${rows.length - 3} rows`);
    await report.scrollIntoViewIfNeeded();
    await screenshot(page, '91-variants-import-report');

    await page.getByTestId('import-name').fill('demo scan');
    await accept.click();
    await expect.poll(() => page.getByTestId('import-done').textContent(), { timeout: 20_000 }).toContain(`Imported ${rows.length - 3} variants as “demo scan”`);

    const dataset = (await api.call<Dataset[]>('datasets.list', { projectId })).find((d) => d.name === 'demo scan')!;
    expect(dataset.sequenceCount).toBe(rows.length - 3);
    expect(dataset.variants).toMatchObject({ wildTypeId: 'demo_wt', wildType: PROTEIN, mutationColumn: 'mutant', offset: 0, mismatches: 3 });
    const sequences = await api.call<{ total: number; rows: SequenceRow[] }>('datasets.sequences', { datasetId: dataset.id, offset: 0, limit: 100 });
    expect(sequences.total).toBe(good.length);
    expect(sequences.rows.map((r) => r.sequence)).toEqual(good.map((r) => r.sequence));
    expect(sequences.rows.map((r) => r.labels.mutant)).toEqual(good.map((r) => r.mutation));
    expect(sequences.rows.map((r) => r.labels.fitness)).toEqual(good.map((r) => r.fitness));
    await screenshot(page, '92-variants-imported');
  });

  it('asks which record of a several-record wild-type FASTA the scan mutates, instead of taking the first', async () => {
    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-mode-mutations').check();
    await page.getByTestId('import-file').setInputFiles({ name: 'second scan.csv', mimeType: 'text/csv', buffer: Buffer.from('mutant,fitness\nM1A,1\nK2E,2\nT3S,3\n') });
    await page.getByTestId('import-mutations-needed').waitFor();
    // The other protein comes first: taking the first record would check the scan against it.
    const fasta = `>other_protein\nGGGGGGGGGGGGGGG\n>demo_wt demo protein\n${PROTEIN}\n`;
    await page.getByTestId('import-wild-type-file').setInputFiles({ name: 'both.fasta', mimeType: 'text/plain', buffer: Buffer.from(fasta) });
    const failed = page.getByTestId('import-failed');
    await failed.waitFor({ timeout: 20_000 });
    expect(await textOf(failed)).toContain('The wild-type FASTA has 2 records ("other_protein", "demo_wt") and none is named like second scan.csv.');
    const record = page.getByTestId('import-wild-type-record');
    expect(await record.locator('option').allTextContents()).toEqual(['Named like the table file', 'other_protein', 'demo_wt']);
    await record.selectOption('demo_wt');
    await page.getByTestId('import-report').waitFor({ timeout: 20_000 });
    expect(await textOf(page.getByTestId('import-scan-summary'))).toContain('Mutations in column mutant of wild type demo_wt (30 residues)');
    await page.getByTestId('import-cancel').click();
  });
  it('shows the scan’s measurements beside the map, fits a long protein, never sticks on loading, and dots the wild type in the dark theme', { timeout: 240_000 }, async () => {
    await page.getByTestId('nav-variants').click();
    const saturationRow = page.locator('[data-testid="variant-run-row"][data-kind="variants.saturate"]').first();
    await saturationRow.getByTestId('variant-run-select').click();
    await page.getByTestId('saturation-canvas').waitFor();

    // The demo scan (same wild type) is offered at once: 37 single mutants placed, the double mutant left out.
    const dataset = (await api.call<Dataset[]>('datasets.list', { projectId })).find((d) => d.name === 'demo scan')!;
    const rows = (await api.call<{ rows: SequenceRow[] }>('datasets.sequences', { datasetId: dataset.id, offset: 0, limit: 100 })).rows;
    const singles = rows.filter((r) => !String(r.labels.mutant).includes(':'));
    await expect.poll(() => textOf(page.getByTestId('saturation-measured-count'))).toBe(`${singles.length} single mutants measured; ${rows.length - singles.length} row left out (several mutations, the wild type, stops or no value).`);
    // Hover a measured mutant: its score and its measurement (the last row of a cell wins, as in the file).
    const last = new Map(singles.map((r) => [String(r.labels.mutant).replace(/^p\.Ser17Ala$/, 'S17A'), Number(r.labels.fitness)]));
    const [mutation, fitness] = [...last][0]!;
    const position = Number(mutation.slice(1, -1));
    const mut = mutation.at(-1)!;
    const canvas = page.getByTestId('saturation-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const cellWidth = Number(await canvas.getAttribute('data-cell-width'));
    const top = Number(await canvas.getAttribute('data-top'));
    await page.mouse.move(box.x + (position - 0.5) * cellWidth, box.y + top + (GROUPED_ORDER.indexOf(mut) + 0.5) * 16);
    await expect.poll(() => textOf(page.getByTestId('heatmap-tooltip'))).toBe(`${mutation}: ${printed(apiScore(position, mut)!)} · measured ${printed(fitness)}`);
    await page.getByTestId('measured-canvas').waitFor();
    await page.getByTestId('saturation-measured').scrollIntoViewIfNeeded();
    await screenshot(page, '93-variants-measured');

    // Leave the page, come back, click the same map: it shows, never "Loading the map…".
    await page.getByTestId('nav-data').click();
    await page.getByTestId('nav-variants').click();
    await saturationRow.getByTestId('variant-run-select').click();
    await page.getByTestId('saturation-canvas').waitFor({ timeout: 10_000 });
    await saturationRow.getByTestId('variant-run-select').click();
    await page.getByTestId('saturation-canvas').waitFor({ timeout: 10_000 });
    expect(await page.getByText('Loading the map…').count()).toBe(0);

    // The dark theme: the wild-type dot (on the scale's near-white 0) stays dark.
    await page.getByTestId('theme-toggle').click();
    const wtRow = GROUPED_ORDER.indexOf(PROTEIN[0]!);
    const dot = await page.evaluate(({ cellWidth, top, wtRow }) => {
      const source = document.querySelector('[data-testid="saturation-canvas"]') as HTMLCanvasElement;
      const [r, g, b] = source.getContext('2d')!.getImageData(Math.floor(cellWidth / 2), Math.floor(top + (wtRow + 0.5) * 16), 1, 1).data;
      return r! + g! + b!;
    }, { cellWidth, top, wtRow });
    expect(dot).toBeLessThan(200);
    await screenshot(page, '94-variants-measured-dark');
    await page.getByTestId('theme-toggle').click();

    // A 286-residue protein: after Fit the whole map fits its box (cells narrower than 4 px).
    const [model] = await api.call<{ id: number }[]>('models.list', {});
    const long = randomProtein(createRng(2), 286);
    const job = await api.call<{ id: number; runId: number }>('jobs.start', { kind: 'variants.saturate', projectId, modelIds: [model!.id], method: 'wt-marginal', wildType: long, name: 'long protein' });
    expect((await api.waitForJob(job.id)).state).toBe('done');
    const longRow = page.locator(`[data-testid="variant-run-row"][data-run-id="${job.runId}"]`);
    await longRow.waitFor({ timeout: 20_000 });
    await longRow.getByTestId('variant-run-select').click();
    await page.getByTestId('saturation-zoom-in').click();
    await page.getByTestId('saturation-zoom-fit').click();
    const fitted = page.getByTestId('saturation-canvas');
    await expect.poll(async () => Number(await fitted.getAttribute('data-positions'))).toBe(286);
    const scroller = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="saturation-canvas"]') as HTMLCanvasElement;
      return { canvas: c.getBoundingClientRect().width, box: c.parentElement!.clientWidth };
    });
    expect(scroller.canvas).toBeLessThanOrEqual(scroller.box);
    expect(Number(await fitted.getAttribute('data-cell-width'))).toBeLessThan(4);
    await screenshot(page, '95-variants-long-fit');
  });
});
