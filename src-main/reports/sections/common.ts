/**
 * reports/sections/common — the sections every report has: overview, parameters, dataset,
 * models (with their checkpoint checksums) and the environment (device, software versions).
 */
import type { ReportFacts } from '../facts';
import { escapeHtml, formatValue, pairsHtml, tableHtml } from '../html';
import { paragraph, type Section } from './types';

/** Run parameters the report leaves out: file locations inside the project and lists shown elsewhere. */
const HIDDEN_PARAMS = new Set(['runDir', 'items', 'models', 'outPath']);
const MAX_VALUE_CHARS = 400;

export function overviewSection(facts: ReportFacts): Section {
  const { run } = facts;
  const pairs: [string, string][] = [
    ['Project', facts.project.name],
    ['Run', `#${run.id} — ${run.title}`],
    ['Kind', run.kind],
    ['State', run.state],
    ['Run started', run.createdAt],
    ['Report made', facts.generatedAt],
  ];
  for (const [key, value] of Object.entries(run.summary)) pairs.push([`Result: ${key}`, formatValue(value)]);
  return { id: 'overview', title: 'Overview', html: pairsHtml(pairs) };
}

export function parametersSection(facts: ReportFacts): Section {
  const rows = Object.entries(facts.run.params)
    .filter(([key]) => !HIDDEN_PARAMS.has(key))
    .map(([key, value]): [string, string] => {
      const text = typeof value === 'object' && value !== null && !Array.isArray(value) ? JSON.stringify(value) : formatValue(value);
      return [key, text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text];
    });
  const html = rows.length > 0 ? tableHtml([{ label: 'Parameter' }, { label: 'Value' }], rows, 'parameters') : paragraph('This run has no parameters.');
  return { id: 'parameters', title: 'Parameters', html };
}

export function datasetSection(facts: ReportFacts): Section {
  const d = facts.dataset;
  if (!d) return { id: 'dataset', title: 'Dataset', html: paragraph('This run has no dataset, or its dataset was deleted.') };
  const pairs: [string, string][] = [
    ['Name', d.name],
    ['Source file', `${d.sourceFile} (${d.format.toUpperCase()})`],
    ['Sequences', formatValue(d.sequenceCount)],
  ];
  if (d.lengths) {
    const l = d.lengths;
    pairs.push(['Length (residues)', `min ${formatValue(l.min)}, median ${formatValue(l.median)}, mean ${formatValue(l.mean, 3)}, max ${formatValue(l.max)}`]);
  }
  const columns = d.labelColumns.length > 0
    ? tableHtml([{ label: 'Label column' }, { label: 'Type' }, { label: 'Missing', numeric: true }], d.labelColumns.map((c) => [c.name, c.type, c.missing]), 'labels')
    : paragraph('The dataset has no label columns.');
  return { id: 'dataset', title: 'Dataset', html: pairsHtml(pairs) + columns };
}

export function modelsSection(facts: ReportFacts): Section {
  if (facts.models.length === 0) return { id: 'models', title: 'Models', html: paragraph('This run used no model, or its models were removed.') };
  const rows = facts.models.map((m) => [m.name, m.family, m.catalogId ?? '—', m.parameters > 0 ? m.parameters : 'unknown', m.layers, m.hiddenSize, m.precision, m.checksum ?? 'unknown (manifest missing)']);
  const columns = [
    { label: 'Model' },
    { label: 'Family' },
    { label: 'Catalogue entry' },
    { label: 'Parameters', numeric: true },
    { label: 'Layers', numeric: true },
    { label: 'Hidden size', numeric: true },
    { label: 'Precision' },
    { label: 'Checkpoint checksum' },
  ];
  return { id: 'models', title: 'Models', html: tableHtml(columns, rows, 'models') };
}

export function environmentSection(facts: ReportFacts): Section {
  const s = facts.software;
  const pairs: [string, string][] = [
    ['Device', facts.device ?? '—'],
    ['ESM Studio', s.app],
    ['onnxruntime-node', s.onnxruntime],
    ['Node.js', s.node],
    ['Electron', s.electron ?? 'not used (serve mode or command line)'],
    ['Platform', s.platform],
  ];
  return { id: 'environment', title: 'Environment and software', html: pairsHtml(pairs) };
}

/** The table of contents, linking each section by its id. */
export function contentsHtml(sections: readonly Section[]): string {
  return `<nav class="contents"><ol>${sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`).join('')}</ol></nav>`;
}
