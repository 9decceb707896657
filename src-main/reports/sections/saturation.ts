/**
 * reports/sections/saturation — a saturation map's sections: the protein (name, numbering, the
 * sequence in numbered blocks of ten), the heatmap of every single mutant's score on the app's
 * diverging scale (the ensemble's when several models scored it), and the positions the models
 * find least and most tolerant of change (mean over the 19 mutants of each position).
 */
import { colorLimit } from '../../core/color-scales';
import { positionMeans } from '../../core/saturation-summary';
import type { ReportFacts, SaturationFacts } from '../facts';
import { escapeHtml, formatValue, pairsHtml, tableHtml } from '../html';
import { heatmapSvg } from '../svg';
import { figureHtml, paragraph, type Section } from './types';

/** Rows of the tolerance tables. */
const LISTED_POSITIONS = 10;

/** "1 MKTAYIAKQR QISFVKSHFS …" lines of 60 residues, numbered by the first residue of each line. */
function sequenceBlocks(wildType: string, firstNumber: number): string {
  const lines: string[] = [];
  for (let start = 0; start < wildType.length; start += 60) {
    const blocks = (wildType.slice(start, start + 60).match(/.{1,10}/g) ?? []).join(' ');
    lines.push(`${String(firstNumber + start).padStart(6)} ${blocks}`);
  }
  return `<pre class="sequence">${escapeHtml(lines.join('\n'))}</pre>`;
}

/** The map a reader should look at: the ensemble when there is one, else the only model's. */
const shownMap = (s: SaturationFacts) => s.maps.find((m) => m.model === 'ensemble') ?? s.maps[0];

function toleranceTables(s: SaturationFacts, scores: readonly (number | null)[]): string {
  const means = positionMeans(s.wildType, s.aminoAcids, scores)
    .map((mean, p) => ({ p, mean }))
    .filter((m): m is { p: number; mean: number } => m.mean !== null)
    .sort((a, b) => a.mean - b.mean);
  const rows = (list: typeof means) => list.map(({ p, mean }) => [`${s.wildType[p]}${s.offset + p + 1}`, mean]);
  const columns = [{ label: 'Residue' }, { label: 'Mean score of its mutants', numeric: true }];
  return (
    paragraph(`Least tolerant of change (most negative mean score: mutations there look the most harmful to the model):`) +
    tableHtml(columns, rows(means.slice(0, LISTED_POSITIONS)), 'sensitive') +
    paragraph('Most tolerant of change:') +
    tableHtml(columns, rows(means.slice(-LISTED_POSITIONS).reverse()), 'tolerant')
  );
}

export function saturationSections(facts: ReportFacts): Section[] {
  const s = facts.saturation;
  const map = s ? shownMap(s) : undefined;
  if (!s || !map) return [{ id: 'saturation', title: 'Saturation map', html: paragraph('This saturation map has no results (it did not finish, or its files were deleted).') }];
  const method = facts.valueWords?.method?.[s.method] ?? s.method;
  const protein = pairsHtml([
    ['Protein', s.name],
    ['Residues', `${formatValue(s.wildType.length)} (numbered ${s.offset + 1}–${s.offset + s.wildType.length})`],
    ['Scored by', `${s.maps.filter((m) => m.model !== 'ensemble').map((m) => m.model).join(', ')}${s.maps.some((m) => m.model === 'ensemble') ? ' and their mean (ensemble)' : ''}`],
    ['Method', method],
  ]);
  const wildTypeRow = (p: number): number => s.aminoAcids.indexOf(s.wildType[p]!);
  const limit = colorLimit(map.scores);
  const svg = heatmapSvg({
    title: `Saturation map of ${s.name}`,
    rows: s.aminoAcids,
    positions: s.wildType.length,
    firstNumber: s.offset + 1,
    value: (p, r) => map.scores[p * s.aminoAcids.length + r] ?? null,
    wildTypeRow,
    limit,
    scaleLabel: `${method} score (log-odds, mutant vs wild type)`,
  });
  const caption = `Every single mutant of ${s.name} scored by ${map.model === 'ensemble' ? 'the mean of the models' : map.model}: one column per residue (numbered), one row per amino acid; red: the model finds the mutant less likely than the wild type (possibly harmful), blue: more likely; dots: the wild type; grey: not scored. Colours end at ±${formatValue(limit, 3)} (98th percentile of |score|).`;
  return [
    { id: 'protein', title: 'Protein', html: protein + sequenceBlocks(s.wildType, s.offset + 1) },
    { id: 'saturation', title: 'Saturation map', html: figureHtml(svg, caption) + toleranceTables(s, map.scores) },
  ];
}
