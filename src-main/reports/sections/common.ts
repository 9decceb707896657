/**
 * reports/sections/common — the sections every report has: overview, parameters, dataset,
 * models (with their checkpoint checksums) and the environment (device, software versions).
 */
import { formatLocalDateTime, kindName } from '../../core/wording';
import type { ReportFacts } from '../facts';
import { escapeHtml, formatValue, pairsHtml, tableHtml } from '../html';
import { parameterRows } from '../parameters';
import { paragraph, type Section } from './types';

export function overviewSection(facts: ReportFacts): Section {
  const { run } = facts;
  const pairs: [string, string][] = [
    ['Project', facts.project.name],
    ['Run', `#${run.id} — ${run.title}`],
    ['Kind', kindName(run.kind)],
    ['State', run.state],
    ['Run started', formatLocalDateTime(run.createdAt, facts.timeZone)],
    ['Report made', formatLocalDateTime(facts.generatedAt, facts.timeZone)],
  ];
  for (const [what, value] of parameterRows(run.summary, facts.valueWords)) pairs.push([`Result: ${what.replace(/^./, (c) => c.toLowerCase())}`, value]);
  return { id: 'overview', title: 'Overview', html: pairsHtml(pairs) };
}

export function parametersSection(facts: ReportFacts): Section {
  const rows = parameterRows(facts.run.params, facts.valueWords);
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
