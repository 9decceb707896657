/**
 * End-to-end: GO annotations on the Data page — choose an annotation table and the bundled tiny
 * ontology (test/fixtures/ontology), add the terms, see what was added (and a bad file refused by
 * line and field), and find the term columns offered as labels of a multi-label scan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src-main/api/schemas';
import { screenshot } from '../support/browser';
import { useBrowserSession } from '../support/browser-session';
import { labelledCsv } from '../support/scan-setup';
import { ROOT } from '../support/serve';

const session = useBrowserSession();

const OBO = readFileSync(join(ROOT, 'test', 'fixtures', 'ontology', 'tiny-go.obo'));

describe('GO annotations on the Data page', () => {
  it('adds propagated terms as label columns that a multi-label scan offers', { timeout: 120_000 }, async () => {
    const project = await session.api.call<{ id: number }>('projects.create', { name: 'GO terms' });
    const csv = labelledCsv(30);
    await session.api.call('datasets.import', { projectId: project.id, source: { kind: 'text', fileName: 'set.csv', text: csv } });
    const ids = csv.trim().split('\n').slice(1).map((line) => line.split(',')[0]!);
    // Hydrolase (by its alt id) on even rows, binding on every third: both above the minimum count of 5.
    const table = ['id,terms', ...ids.map((id, i) => `${id},${[i % 2 === 0 ? 'GO:0016788' : '', i % 3 === 0 ? 'GO:0005488' : ''].filter(Boolean).join(';')}`)].join('\n');

    await session.page.goto(session.server.url);
    await session.page.getByTestId('nav-projects').click();
    await session.page.getByTestId('project-row').first().getByTestId('project-open').click();
    await session.page.getByTestId('nav-data').click();
    await session.page.getByTestId('dataset-select').first().click();
    const panel = session.page.getByTestId('annotations');
    await panel.waitFor();

    // A term the ontology does not know: refused where it was written.
    await panel.getByTestId('annotations-file').setInputFiles({ name: 'terms.csv', mimeType: 'text/csv', buffer: Buffer.from(table.replace(`${ids[1]},`, `${ids[1]},GO:0000404;`)) });
    await panel.getByTestId('annotations-ontology').setInputFiles({ name: 'tiny-go.obo', mimeType: 'text/plain', buffer: OBO });
    await panel.getByTestId('annotations-min-count').fill('5');
    await panel.getByTestId('annotations-add').click();
    await expect.poll(() => session.page.locator('[data-testid="toast"]').allTextContents()).toContainEqual(expect.stringContaining('terms.csv, line 3: GO:0000404 in field "terms" is not a term of tiny-go.obo'));

    await session.page.getByTestId('toast-dismiss').first().click();
    await panel.getByTestId('annotations-file').setInputFiles({ name: 'terms.csv', mimeType: 'text/csv', buffer: Buffer.from(table) });
    await panel.getByTestId('annotations-add').click();
    await expect.poll(() => panel.getByTestId('annotations-done').innerText()).toContain('Added 3 terms as label columns; 30 proteins of 30 have annotations');
    await expect.poll(() => panel.getByTestId('annotations-existing').innerText()).toContain('3 term columns');
    await panel.getByTestId('annotations-done').scrollIntoViewIfNeeded();
    await screenshot(session.page, 'data-annotations');
    const [dataset] = await session.api.call<Dataset[]>('datasets.list', { projectId: project.id });
    // Hydrolase propagates to catalytic activity; the molecular_function root is not a label.
    expect(dataset!.labelColumns.filter((c) => c.term).map((c) => [c.name, c.term!.parents])).toEqual([
      ['GO:0003824', []],
      ['GO:0005488', []],
      ['GO:0016787', ['GO:0003824']],
    ]);

    await session.page.getByTestId('nav-runs').click();
    const form = session.page.getByTestId('scan-form');
    await form.getByTestId('scan-predict-several').check();
    await form.getByTestId('scan-labels').waitFor();
    const offered = await form.getByTestId('scan-label').evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).value));
    expect(offered).toEqual(expect.arrayContaining(['GO:0003824', 'GO:0005488', 'GO:0016787']));
  });
});
