/**
 * exports/signal-peptide — signal-peptide predictions as files people already read: SignalP 6.0's
 * summary table (`prediction_results.txt`: ID, prediction, the six type probabilities, the
 * cleavage-site line "CS pos: 22-23. Pr: 0.9781"), a GFF3 of the predicted regions (SignalP 6.0's
 * `region_output.gff3` style: the signal peptide and its n/h/c regions, twin-arginine motif,
 * lipobox, lipidated Cys, pilin leader; 1-based inclusive), and a CSV with every field. Pure text.
 */
import { csvField } from './csv';

export type SignalpTypeCode = 'NO_SP' | 'SP' | 'LIPO' | 'TAT' | 'TATLIPO' | 'PILIN';
export type SignalpSegmentRegion = 'n' | 'h' | 'c' | 'rr' | 'lipobox' | 'pilin' | 'cys' | 'inside' | 'membrane' | 'outside';

/** What the exports read of a prediction (train/signal-peptide-predictions' StoredSignalPeptide). */
export interface SignalPeptideExportRow {
  id: string;
  kingdom: string | null;
  partition: number | null;
  arrangement: number;
  trueType: SignalpTypeCode | null;
  trueCleavageSite: number | null;
  predictedType: SignalpTypeCode;
  probability: number;
  typeProbabilities: Record<SignalpTypeCode, number>;
  cleavageSite: number | null;
  cleavageProbability: number | null;
  segments: { region: SignalpSegmentRegion; start: number; end: number }[];
}

const TYPES: readonly SignalpTypeCode[] = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'];
/** SignalP 6.0's column headers and prediction names (NO_SP is "OTHER" there). */
const SUMMARY_COLUMNS = ['OTHER', 'SP(Sec/SPI)', 'LIPO(Sec/SPII)', 'TAT(Tat/SPI)', 'TATLIPO(Tat/SPII)', 'PILIN(Sec/SPIII)'];
const PREDICTION_NAME: Record<SignalpTypeCode, string> = { NO_SP: 'OTHER', SP: 'SP', LIPO: 'LIPO', TAT: 'TAT', TATLIPO: 'TATLIPO', PILIN: 'PILIN' };
const TYPE_NOTE: Record<SignalpTypeCode, string> = { NO_SP: 'Other', SP: 'Sec/SPI', LIPO: 'Sec/SPII', TAT: 'Tat/SPI', TATLIPO: 'Tat/SPII', PILIN: 'Sec/SPIII' };

/** GFF3 feature names of the signal peptide's regions; topology (inside, membrane, outside) is not exported, as in SignalP. */
const GFF_FEATURE: Partial<Record<SignalpSegmentRegion, string>> = {
  n: 'n-region',
  h: 'h-region',
  c: 'c-region',
  rr: 'twin-arginine motif',
  lipobox: 'lipobox',
  pilin: 'pilin leader',
  cys: 'lipidation site',
};

/** SignalP's timestamp: yyyymmddHHMMSS (UTC). */
export function signalpTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

const fixed = (value: number, digits: number): string => value.toFixed(digits);

/** The "has a signal peptide" rows: a predicted type other than NO_SP and a cleavage site on its path. */
const hasSignalPeptide = (row: SignalPeptideExportRow): row is SignalPeptideExportRow & { cleavageSite: number } => row.predictedType !== 'NO_SP' && row.cleavageSite !== null;

/** prediction_results.txt: two comment lines, then one tab-separated line per protein. */
export function signalpSummaryText(rows: readonly SignalPeptideExportRow[], options: { timestamp: string; organism?: string }): string {
  const lines = [
    `# SignalP-6.0 format (ESM Studio, PEFT-SP model)\tOrganism: ${options.organism ?? 'Other'}\tTimestamp: ${options.timestamp}`,
    `# ID\tPrediction\t${SUMMARY_COLUMNS.join('\t')}\tCS Position`,
  ];
  for (const row of rows) {
    const probabilities = TYPES.map((type) => fixed(row.typeProbabilities[type], 6));
    const cs = hasSignalPeptide(row) ? `CS pos: ${row.cleavageSite}-${row.cleavageSite + 1}. Pr: ${fixed(row.cleavageProbability ?? 0, 4)}` : '';
    lines.push([row.id, PREDICTION_NAME[row.predictedType], ...probabilities, cs].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** GFF3 seqids may not hold whitespace or start with '>'; percent-encode what GFF3 reserves. */
function gffField(text: string): string {
  return text.replace(/[%\t\n\r;=&,\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * The predicted signal peptides (1..CS, score = the cleavage probability, Note = the type) and their
 * regions from the Viterbi path, in the protein's order; proteins without a signal peptide have no line.
 */
export function signalpGff3Text(rows: readonly SignalPeptideExportRow[]): string {
  const lines = ['##gff-version 3'];
  for (const row of rows) {
    if (!hasSignalPeptide(row)) continue;
    const id = gffField(row.id);
    const score = row.cleavageProbability === null ? '.' : fixed(row.cleavageProbability, 4);
    lines.push([id, 'ESM-Studio', 'signal_peptide', 1, row.cleavageSite, score, '.', '.', `Note=${TYPE_NOTE[row.predictedType]}`].join('\t'));
    for (const segment of row.segments) {
      const feature = GFF_FEATURE[segment.region];
      if (feature) lines.push([id, 'ESM-Studio', feature, segment.start, segment.end, '.', '.', '.', '.'].join('\t'));
    }
  }
  return `${lines.join('\n')}\n`;
}

const cell = (value: string | number | null): string => (value === null ? '' : typeof value === 'number' ? String(value) : csvField(value));

/** One line per protein: truth when known, prediction, every type's probability, the cleavage site. */
export function signalPeptideCsvText(rows: readonly SignalPeptideExportRow[]): string {
  const header = ['id', 'kingdom', 'partition', 'arrangement', 'true_type', 'true_cs', 'predicted_type', 'probability', ...TYPES.map((t) => `p_${t}`), 'cs_position', 'cs_probability'];
  const lines = [header.join(',')];
  for (const row of rows) {
    lines.push(
      [
        cell(row.id),
        cell(row.kingdom),
        cell(row.partition),
        cell(row.arrangement + 1),
        cell(row.trueType),
        cell(row.trueCleavageSite),
        cell(row.predictedType),
        cell(row.probability),
        ...TYPES.map((t) => cell(row.typeProbabilities[t])),
        cell(row.cleavageSite),
        cell(row.cleavageProbability),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
