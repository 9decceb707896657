/**
 * lib/signal-peptide — what the signal-peptide views show, kept apart from the components so it can be
 * read and tested alone: the types and regions in words a biologist knows (Sec/SPI, n-region…), their
 * colours in each theme, the residue-by-residue region of a protein from its decoded segments, the
 * sequence cut into lines and same-region runs, the table sorting, the cleavage site in words, the
 * probability plot's geometry, and the paper's per-kingdom table rows.
 */
import type { Theme } from './theme.svelte';

/** SignalP 6.0's type names (the dataset's `type` column) with what the papers call them. */
export const TYPE_TITLES: Readonly<Record<string, string>> = {
  NO_SP: 'Other (no signal peptide)',
  SP: 'Sec/SPI',
  LIPO: 'Sec/SPII (lipoprotein)',
  TAT: 'Tat/SPI',
  TATLIPO: 'Tat/SPII (lipoprotein)',
  PILIN: 'Sec/SPIII (pilin)',
};

/** The short names the papers' tables use (Sec/SPII rather than "Sec/SPII (lipoprotein)"). */
export const TYPE_SHORT: Readonly<Record<string, string>> = { NO_SP: 'Other', SP: 'Sec/SPI', LIPO: 'Sec/SPII', TAT: 'Tat/SPI', TATLIPO: 'Tat/SPII', PILIN: 'Sec/SPIII' };

/** The types in SignalP 6.0's order. */
export const TYPE_ORDER = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'] as const;

export const KINGDOM_TITLES: Readonly<Record<string, string>> = {
  EUKARYA: 'Eukarya',
  POSITIVE: 'Gram-positive bacteria',
  NEGATIVE: 'Gram-negative bacteria',
  ARCHAEA: 'Archaea',
};

/** The kingdoms as a table column says them. */
export const KINGDOM_SHORT: Readonly<Record<string, string>> = { EUKARYA: 'Eukarya', POSITIVE: 'Gram-positive', NEGATIVE: 'Gram-negative', ARCHAEA: 'Archaea' };

export function typeTitle(type: string | null | undefined): string {
  if (!type) return '—';
  return TYPE_TITLES[type] ?? type;
}

export function kingdomTitle(kingdom: string | null | undefined): string {
  if (!kingdom) return '—';
  return KINGDOM_TITLES[kingdom] ?? kingdom;
}

export interface RegionInfo {
  id: string;
  label: string;
  /** One sentence for the legend. */
  explanation: string;
  colour: Record<Theme, string>;
  /** Regions of the mature protein that the sequence leaves uncoloured (and its legend leaves out). */
  plain?: boolean;
}

/**
 * The regions drawn in the sequence and the plot, in legend order. Colours from the Okabe–Ito
 * palette (told apart with the common colour-vision deficiencies), lightened for the dark theme.
 */
export const REGIONS: readonly RegionInfo[] = [
  { id: 'n', label: 'n-region', explanation: 'the positively charged start of the signal peptide', colour: { light: '#c77700', dark: '#f0b23c' } },
  { id: 'h', label: 'h-region', explanation: 'its hydrophobic core, which spans the membrane during transport', colour: { light: '#00845f', dark: '#3fd1a2' } },
  { id: 'c', label: 'c-region', explanation: 'its polar end, where the signal peptidase cuts', colour: { light: '#0064a8', dark: '#62b8ee' } },
  { id: 'rr', label: 'RR motif', explanation: 'the twin-arginine motif that sends Tat signal peptides to the Tat translocon', colour: { light: '#c2410c', dark: '#ff8a4c' } },
  { id: 'lipobox', label: 'Lipobox', explanation: 'the lipoprotein cleavage motif; the Cys after the cut is lipidated', colour: { light: '#b3478f', dark: '#e88bc8' } },
  { id: 'pilin', label: 'Pilin leader', explanation: 'the short Sec/SPIII leader that prepilin peptidase removes', colour: { light: '#7a5c00', dark: '#e6d05a' } },
  { id: 'cys', label: 'Lipidated Cys', explanation: 'the first residue after a lipoprotein signal peptide, which carries the lipid anchor', colour: { light: '#7b2d8e', dark: '#c58be0' } },
  { id: 'membrane', label: 'Transmembrane helix', explanation: 'a stretch that crosses the membrane in the mature protein', colour: { light: '#56606e', dark: '#a3acb9' } },
  { id: 'other', label: 'Other', explanation: 'not part of a signal peptide (the mature protein, or a protein without one)', colour: { light: '#7a8494', dark: '#8b95a5' } },
  { id: 'inside', label: 'Inside', explanation: 'the cytoplasmic side (left uncoloured)', colour: { light: 'transparent', dark: 'transparent' }, plain: true },
  { id: 'outside', label: 'Outside', explanation: 'outside the cytoplasm (left uncoloured)', colour: { light: 'transparent', dark: 'transparent' }, plain: true },
];

/** The cleavage site's colour in the plot and the sequence (the text colour of each theme). */
export const CLEAVAGE_COLOUR: Record<Theme, string> = { light: '#1b2230', dark: '#e6e9ee' };

const REGION_BY_ID = new Map(REGIONS.map((region) => [region.id, region]));

/** A region's legend entry; unknown ids (a newer back end) get the neutral colour and their own name. */
export function regionInfo(id: string): RegionInfo {
  return REGION_BY_ID.get(id) ?? { id, label: id, explanation: '', colour: REGION_BY_ID.get('other')!.colour };
}

/** The coloured regions among `regions` (one per residue), in legend order; unknown ids last; plain ones left out. */
export function legendRegions(regions: readonly (string | null)[]): string[] {
  const present = new Set(regions.filter((id): id is string => id !== null));
  const known = REGIONS.filter((r) => present.has(r.id) && !r.plain).map((r) => r.id);
  return [...known, ...[...present].filter((id) => !REGION_BY_ID.has(id))];
}

/** A decoded region: 1-based first and last residue, inclusive. */
export interface RegionSegment {
  region: string;
  start: number;
  end: number;
}

/** The region of every residue (index 0 = residue 1); null where no segment covers it. */
export function residueRegions(length: number, segments: readonly RegionSegment[]): (string | null)[] {
  const regions: (string | null)[] = Array.from({ length }, () => null);
  for (const segment of segments) {
    for (let position = Math.max(1, segment.start); position <= Math.min(length, segment.end); position++) regions[position - 1] = segment.region;
  }
  return regions;
}

/** A run of consecutive residues of one region within one line of the sequence. */
export interface SequenceRun {
  /** 1-based position of its first residue. */
  start: number;
  text: string;
  region: string | null;
}

/** The sequence cut into lines of `perLine` residues, each line into runs of one region (for coloured spans). */
export function sequenceLines(sequence: string, regions: readonly (string | null)[], perLine = 50): SequenceRun[][] {
  const lines: SequenceRun[][] = [];
  for (let lineStart = 0; lineStart < sequence.length; lineStart += perLine) {
    const runs: SequenceRun[] = [];
    for (let i = lineStart; i < Math.min(sequence.length, lineStart + perLine); i++) {
      const region = regions[i] ?? null;
      const last = runs.at(-1);
      if (last && last.region === region) last.text += sequence[i];
      else runs.push({ start: i + 1, text: sequence[i]!, region });
    }
    lines.push(runs);
  }
  return lines;
}

/**
 * The cleavage site in words: SignalP's "CS pos: 22-23" (cut between residue 22 and 23), with the
 * residues around the cut when the sequence is known ("VSA-QD"); a dash when there is none.
 */
export function cleavageText(cs: number | null | undefined, sequence?: string): string {
  if (cs === null || cs === undefined || cs < 1) return '—';
  const site = `${cs}–${cs + 1}`;
  if (!sequence) return site;
  return `${site} (${sequence.slice(Math.max(0, cs - 3), cs)}-${sequence.slice(cs, cs + 2)})`;
}

export type SortDirection = 'asc' | 'desc';

/**
 * Rows sorted by one field: numbers by value, text alphabetically; missing values (null, undefined,
 * NaN, and a cleavage site of −1) always last, whichever the direction. The sort is stable.
 */
export function sortRows<T>(rows: readonly T[], value: (row: T) => string | number | null | undefined, direction: SortDirection): T[] {
  const sign = direction === 'asc' ? 1 : -1;
  const missing = (v: string | number | null | undefined): boolean => v === null || v === undefined || (typeof v === 'number' && (Number.isNaN(v) || v === -1));
  return rows
    .map((row, index) => ({ row, index, key: value(row) }))
    .sort((a, b) => {
      const aMissing = missing(a.key);
      const bMissing = missing(b.key);
      if (aMissing || bMissing) return aMissing === bMissing ? a.index - b.index : aMissing ? 1 : -1;
      const order = typeof a.key === 'number' && typeof b.key === 'number' ? a.key - b.key : String(a.key).localeCompare(String(b.key));
      return order * sign || a.index - b.index;
    })
    .map((entry) => entry.row);
}

/** The plot's frame: the drawing area inside the axes, in SVG units. */
export interface PlotFrame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** x of residue `position` (1-based): residues sit at the centres of equal slots. */
export function residueX(position: number, length: number, frame: PlotFrame): number {
  const inner = frame.width - frame.left - frame.right;
  return frame.left + ((position - 0.5) / Math.max(1, length)) * inner;
}

/** y of a probability (0 at the bottom axis, 1 at the top). */
export function probabilityY(value: number, frame: PlotFrame): number {
  const inner = frame.height - frame.top - frame.bottom;
  const clamped = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
  return frame.top + (1 - clamped) * inner;
}

/** An SVG path through one probability per residue ("M x,y L x,y …"); empty for no values. */
export function probabilityPath(values: readonly number[], frame: PlotFrame): string {
  return values.map((value, i) => `${i === 0 ? 'M' : 'L'}${residueX(i + 1, values.length, frame).toFixed(1)},${probabilityY(value, frame).toFixed(1)}`).join(' ');
}

/** Residue ticks for an axis of `length` residues: 1 and every multiple of a round step, about `count` of them. */
export function residueTicks(length: number, count = 8): number[] {
  if (length < 1) return [];
  const raw = length / count;
  const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => s >= raw) ?? Math.ceil(raw / 1000) * 1000;
  const ticks = [1];
  for (let t = step; t <= length; t += step) if (t !== 1) ticks.push(t);
  return ticks;
}

/** One cell of the paper's per-kingdom table: MCC1, MCC2 and CS precision/recall/F1 at windows 0–3 (NaN or null where undefined). */
export interface KingdomCell {
  kingdom: string;
  type: string;
  mcc1: number | null;
  mcc2: number | null;
  recall: readonly (number | null)[];
  precision: readonly (number | null)[];
  f1?: readonly (number | null)[];
}

/** A metric for a table cell: 3 decimals as the paper prints them; a dash where undefined. */
export function metricText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(3);
}

/**
 * The cells grouped by kingdom in SignalP's order (Eukarya, Gram-positive, Gram-negative, Archaea),
 * types in SignalP's order within each kingdom; kingdoms without any cell are left out.
 */
export function kingdomGroups<C extends KingdomCell>(cells: readonly C[]): { kingdom: string; cells: C[] }[] {
  const kingdoms = [...Object.keys(KINGDOM_TITLES), ...new Set(cells.map((c) => c.kingdom).filter((k) => !(k in KINGDOM_TITLES)))];
  const typeRank = (type: string): number => {
    const rank = TYPE_ORDER.indexOf(type as (typeof TYPE_ORDER)[number]);
    return rank === -1 ? TYPE_ORDER.length : rank;
  };
  return kingdoms
    .map((kingdom) => ({ kingdom, cells: cells.filter((c) => c.kingdom === kingdom).sort((a, b) => typeRank(a.type) - typeRank(b.type)) }))
    .filter((group) => group.cells.length > 0);
}

/** The mean of the defined values (the paper's mean MCC2 over the cells); NaN when none is. */
export function meanDefined(values: readonly (number | null | undefined)[]): number {
  const defined = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return defined.length === 0 ? Number.NaN : defined.reduce((sum, v) => sum + v, 0) / defined.length;
}

/** One protein in the predictions table. */
export interface PredictionRow {
  /** The row's key (a cross-validation tests each protein twice, so names repeat). */
  index: number;
  id: string;
  /** Which model predicted it, in words, when several did (cross-validation); null otherwise. */
  model?: string | null;
  kingdom: string | null;
  /** The type in the data (SignalP's NO_SP, SP, …); null for new sequences. */
  trueType: string | null;
  predictedType: string;
  /** The predicted type's probability (0–1). */
  probability: number;
  /** Cut after this 1-based residue; null or −1 when none is predicted. */
  cs: number | null;
  trueCs?: number | null;
}

/** Whether a run is a signal-peptide one (training, cross-validation or prediction of new sequences): kinds `train.signalPeptide…`. */
export function isSignalPeptideRun(kind: string): boolean {
  return kind.startsWith('train.signalPeptide');
}

/** The columns a dataset imported from a SignalP 6.0 file has (datasets/signalp's SIGNALP_COLUMNS). */
const SIGNALP_COLUMN_NAMES = ['kingdom', 'type', 'partition', 'residue_labels'] as const;

/** Whether a dataset was imported from a SignalP 6.0 3-line file (it has the four columns): only such a dataset trains signal peptides. */
export function isSignalpDataset(dataset: { labelColumns: readonly { name: string }[] }): boolean {
  return SIGNALP_COLUMN_NAMES.every((name) => dataset.labelColumns.some((column) => column.name === name));
}

export type PartitionRole = 'train' | 'validation' | 'test' | 'unused';

/** Proteins per partition, partitions in ascending order; rows without a readable whole-number partition are left out. */
export function partitionCounts(values: readonly (string | number | null | undefined)[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) {
    const partition = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    if (!Number.isInteger(partition) || partition < 0) continue;
    counts.set(partition, (counts.get(partition) ?? 0) + 1);
  }
  return new Map([...counts].sort((a, b) => a[0] - b[0]));
}

/** What is wrong with a choice of partition roles, in words; null when it can train (one or more partitions train). */
export function partitionProblems(roles: Readonly<Record<number, PartitionRole>>): string | null {
  const chosen = Object.values(roles);
  if (!chosen.includes('train')) return 'Choose at least one partition to train on.';
  if (chosen.every((role) => role === 'train')) return 'Keep one partition out of training to validate or test on: a model scored on the proteins it learned from looks better than it is.';
  return null;
}
