/**
 * reports — the pure report builder: facts about a run (reports/facts) → one self-contained HTML
 * file (inline <style>, inline SVG figures, no scripts, no external resources, and a CSP that
 * forbids them). Sections common to every run come first, then the run kind's own sections
 * (KIND_SECTIONS), then training curves when the run recorded series. No I/O here.
 */
import { formatLocalDateTime, kindName } from '../core/wording';
import type { ReportFacts } from './facts';
import { escapeHtml } from './html';
import { contentsHtml, datasetSection, environmentSection, modelsSection, overviewSection, parametersSection } from './sections/common';
import { embeddingSections } from './sections/embedding';
import { metricsSections } from './sections/metrics';
import { saturationSections } from './sections/saturation';
import { scanSections } from './sections/scan';
import type { Section } from './sections/types';

export type { ReportFacts } from './facts';
export type { Section } from './sections/types';

/** The sections a run kind adds after the common ones. A new kind (fine-tuning, variant scoring) registers here. */
export const KIND_SECTIONS: Record<string, (facts: ReportFacts) => Section[]> = {
  'embed.dataset': embeddingSections,
  'learn.scan': scanSections,
  'variants.saturate': saturationSections,
};

/** The report's sections, in order. */
export function reportSections(facts: ReportFacts): Section[] {
  return [
    overviewSection(facts),
    parametersSection(facts),
    datasetSection(facts),
    modelsSection(facts),
    ...(KIND_SECTIONS[facts.run.kind]?.(facts) ?? []),
    ...metricsSections(facts),
    environmentSection(facts),
  ];
}

/** The file holds no script and loads nothing; the CSP says so, for viewers that honour it. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
  :root { color-scheme: light; }
  body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; background: #fff; margin: 0; }
  main { max-width: 920px; margin: 0 auto; padding: 32px 28px 48px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d8dce3; break-after: avoid; }
  .subtitle { color: #56606e; margin: 0 0 16px; }
  .contents ol { margin: 0; padding-left: 20px; columns: 2; color: #56606e; }
  .contents a { color: #2f6fdb; text-decoration: none; }
  dl.pairs { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 6px 20px; margin: 0 0 12px; }
  dl.pairs div { break-inside: avoid; }
  dt { color: #56606e; font-size: 12px; }
  dd { margin: 0; overflow-wrap: anywhere; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 12.5px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6eb; vertical-align: top; overflow-wrap: anywhere; }
  th { background: #f3f5f8; font-weight: 600; overflow-wrap: normal; word-break: normal; hyphens: manual; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr { break-inside: avoid; }
  figure { margin: 12px 0 20px; break-inside: avoid; }
  figure svg { max-width: 100%; height: auto; display: block; }
  figcaption { color: #56606e; font-size: 12.5px; margin-top: 4px; }
  p.stats { font-variant-numeric: tabular-nums; }
  pre.sequence { font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: #f8f9fb; padding: 8px 10px; overflow-x: auto; }
  footer { margin-top: 40px; color: #868e96; font-size: 12px; }
  @page { margin: 14mm; }
  @media print { main { padding: 0; max-width: none; } .contents { display: none; } }
`;

/** The whole report as one HTML document. */
export function buildReportHtml(facts: ReportFacts): string {
  const sections = reportSections(facts);
  const title = `Report: ${facts.run.title}`;
  const made = formatLocalDateTime(facts.generatedAt, facts.timeZone);
  const body = sections.map((s) => `<section id="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ESM Studio ${escapeHtml(facts.software.app)}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="subtitle">${escapeHtml(`${facts.project.name} · run #${facts.run.id} (${kindName(facts.run.kind)}) · ${made}`)}</p>
${contentsHtml(sections)}
${body}
<footer>Made by ESM Studio ${escapeHtml(facts.software.app)} on ${escapeHtml(made)}.</footer>
</main>
</body>
</html>
`;
}
