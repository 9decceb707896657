/**
 * End-to-end: the Data page as a biologist meets it. A FASTA with UniProt headers keeps their
 * descriptions as a column; X/U residues are imported with one note on how the models read them;
 * everything worth knowing is in one list (a repeated sequence said once); long IDs in the error
 * table stay on one line; a file that cannot be checked says so in the panel, not again in a
 * toast; a mutation scan says which positions and kinds of mutants it covers.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../support/browser';
import { startServe, stopServe, temporaryHome, type ServeHandle } from '../support/serve';

let server: ServeHandle;
let browser: Browser;
let page: Page;

const LONG_ID = 'tr|A0A0B4J2F0|A0A0B4J2F0_HUMAN_VERY_LONG_IDENTIFIER_FROM_A_PIPELINE';
const FASTA = [
  '>sp|P69905|HBA_HUMAN Hemoglobin subunit alpha OS=Homo sapiens',
  'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKX',
  '>sp|P68871|HBB_HUMAN Hemoglobin subunit beta OS=Homo sapiens',
  'MVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRU',
  '>copy Hemoglobin subunit alpha, again',
  'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKX',
  `>${LONG_ID} broken record`,
  'MKV1LL',
  '',
].join('\n');

beforeAll(async () => {
  server = await startServe(temporaryHome());
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  await page.goto(server.url);
  await page.getByTestId('nav-projects').click();
  await page.getByTestId('project-name-input').fill('Data page');
  await page.getByTestId('project-create').click();
  await page.getByTestId('project-row').filter({ hasText: 'Data page' }).getByTestId('project-open').click();
});

afterAll(async () => {
  await browser?.close();
  if (server) await stopServe(server);
});

describe('the Data page', () => {
  it('keeps FASTA descriptions, notes X/U once, and lists what is good to know in one place', async () => {
    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-file').setInputFiles({ name: 'globins.fasta', mimeType: 'text/plain', buffer: Buffer.from(FASTA) });
    await page.getByTestId('import-report').waitFor();

    // One list: the repeated sequence is said once (by its note), X and U in one note.
    const list = page.getByTestId('import-good-to-know');
    const items = await list.locator('li').allInnerTexts();
    expect(items.filter((text) => /identical|repeats a sequence/.test(text))).toHaveLength(1);
    const unusual = items.filter((text) => text.includes('selenocysteine'));
    expect(unusual).toHaveLength(1);
    expect(unusual[0]).toContain('X (unknown)');
    expect(await page.getByText('Notes (', { exact: false }).count()).toBe(0);

    // The long ID of the bad record stays on one line (the cell is as tall as its neighbours).
    const row = page.getByTestId('import-error-row').first();
    const [idHeight, lineHeight] = await row.evaluate((tr) => {
      const cells = [...tr.querySelectorAll('td')];
      return [cells[2]!.getBoundingClientRect().height, cells[0]!.getBoundingClientRect().height];
    });
    expect(idHeight).toBeLessThanOrEqual(lineHeight + 1);
    expect(await row.locator('td').nth(2).getAttribute('title')).toBe(LONG_ID);
    await screenshot(page, '04-data-good-to-know');

    await page.getByTestId('import-accept').click();
    await expect.poll(() => page.getByTestId('sequence-row').count()).toBe(3);
    const first = await page.getByTestId('sequence-row').first().innerText();
    expect(first).toContain('Hemoglobin subunit alpha OS=Homo sapiens');
    await page.getByTestId('theme-toggle').click();
    await screenshot(page, '05-data-descriptions-dark');
    await page.getByTestId('theme-toggle').click();
  });

  it('says why a file cannot be checked in the panel only, never again in a toast', async () => {
    await page.getByTestId('import-file').setInputFiles({ name: 'empty.fasta', mimeType: 'text/plain', buffer: Buffer.from('no header here\nMKV\n') });
    await page.getByTestId('import-failed').waitFor();
    expect(await page.getByTestId('import-failed').innerText()).toContain('no sequences found');
    expect(await page.getByTestId('toast').count()).toBe(0);
    await page.getByTestId('import-cancel').click();
  });

  it('tells what a mutation scan covers: positions, single and multiple mutants, synonymous and stops', async () => {
    const wildType = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLW';
    const csv = 'mutant,fitness\nM1A,0.1\nK2E,0.2\nK2R,0.3\nT3T,0\nA4*,-2\nY5F:I6V,0.5\nWT,0\n';
    await page.getByTestId('import-mode-mutations').check();
    await page.getByTestId('import-file').setInputFiles({ name: 'toy.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByTestId('import-mutations-needed').waitFor();
    await page.getByTestId('import-wild-type-file').setInputFiles({ name: 'wt.fasta', mimeType: 'text/plain', buffer: Buffer.from(`>toy\n${wildType}\n`) });
    const coverage = page.getByTestId('import-scan-coverage');
    await coverage.waitFor({ timeout: 20_000 });
    // Imported: M1A, K2E, K2R, T3T (synonymous) single, Y5F:I6V multiple, WT the wild type: positions 1, 2, 3, 5 and 6 of 30.
    // A4* has a stop: left out (and listed as a problem), but counted so the scan's extent is clear.
    expect((await coverage.innerText()).replace(/\s+/g, ' ')).toBe('Covers 5 of 30 positions: 4 single mutants, 1 multiple mutant, 1 synonymous, 1 wild-type row; 1 row with a stop is left out (ESM-2 reads no stops).');
    await screenshot(page, '06-data-scan-coverage');
    await page.getByTestId('import-cancel').click();
  });
});
