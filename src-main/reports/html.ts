/**
 * reports/html — escaping and the few HTML pieces a report is made of (key/value lists, tables).
 * Every piece of user text (dataset names, labels, run titles) passes through `escapeHtml` here or
 * in reports/svg, so a report can be opened safely whatever the data holds.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML/SVG content and attribute values (quotes included, so it is safe in both). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Numbers with up to `digits` significant figures, without trailing zeros; "—" for missing. */
export function formatValue(value: unknown, digits = 4): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? '—' : String(value);
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e7)) return value.toExponential(2);
    return String(Number(value.toPrecision(digits)));
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map((v) => formatValue(v)).join(', ');
  return JSON.stringify(value);
}

/** A definition list of label → value pairs (both escaped). */
export function pairsHtml(pairs: readonly (readonly [string, string])[]): string {
  const items = pairs.map(([label, value]) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`);
  return `<dl class="pairs">${items.join('')}</dl>`;
}

export interface TableColumn {
  label: string;
  /** Right-aligned, tabular figures. */
  numeric?: boolean;
}

export type Cell = string | number | null;

/** A table with a header row; `className` lets tests and stylesheets find a particular table. */
export function tableHtml(columns: readonly TableColumn[], rows: readonly (readonly Cell[])[], className = 'data'): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.label)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell, i) => `<td${columns[i]?.numeric ? ' class="num"' : ''}>${escapeHtml(typeof cell === 'string' ? cell : formatValue(cell))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="${escapeHtml(className)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}
