/**
 * variants/apply — turn a column of variants ("A23V:G45D", "p.Ala23Val", "WT", …) into mutant
 * sequences, checking every stated wild-type residue against the wild-type sequence. Pure, no I/O.
 *
 * Nothing stops at the first problem: a scan file usually has either none or many (a wrong offset,
 * a different isoform), and the user decides from the full list whether to stop or skip the rows.
 * Rows are 1-based data rows: `variants[0]` is row 1 (the caller adds header lines if it needs
 * file line numbers).
 *
 * An empty cell is an error of its row, not the wild type: a blank cell is far more often a lost value
 * than a deliberate wild-type row, which files write as "WT" (or "_wt", "p.=").
 *
 * Stops: a row with a stop codon ('A23*', 'p.Ala23Ter') gets its mutated sequence truncated just
 * before the first stop (so 'M1*' gives ''), and its row is listed in `stops`; scorers that need a
 * full-length protein may skip those rows.
 */
import { ApiError } from '../api/errors';
import { parseVariant, type Mutation } from './mutations';

export interface Mismatch {
  /** 1-based data row. */
  row: number;
  variant: string;
  /** The mutation as written. */
  mutation: string;
  /** 1-based position in the wild-type sequence (after the offset). */
  position: number;
  /** Wild-type residue the mutation states. */
  expected: string;
  /** Residue in the wild type at that position, or 'beyond the end (length L)'. */
  found: string;
}

export interface AppliedVariants {
  /** One per row; null for rows with problems (unparsable or a wild-type mismatch). */
  sequences: (string | null)[];
  mismatches: Mismatch[];
  unparsable: { row: number; variant: string; message: string }[];
  /** Rows with a stop whose sequence was built (truncated before the stop). */
  stops: number[];
}

/**
 * Apply every variant to `wildType` (upper-cased, so a lower-case FASTA still matches the upper-case
 * mutation codes). `offset` is the number of the FASTA's first residue minus 1 (see mutations.ts).
 */
export function applyVariants(wildType: string, variants: readonly string[], options: { offset?: number } = {}): AppliedVariants {
  const reference = wildType.trim().toUpperCase();
  if (reference === '') throw new ApiError('invalid-input', 'The wild-type sequence is empty.');
  const offset = options.offset ?? 0;
  const result: AppliedVariants = { sequences: [], mismatches: [], unparsable: [], stops: [] };
  variants.forEach((variant, index) => applyRow(reference, variant, index + 1, offset, result));
  return result;
}

/** A readable report of the mismatches, one line each, at most `limit` lines before "… and N more". */
export function describeMismatches(m: Mismatch[], limit = 20): string {
  if (m.length === 0) return '';
  const rows = new Set(m.map((x) => x.row)).size;
  const header = `${plural(m.length, 'mutation')} in ${plural(rows, 'row')} ${m.length === 1 ? 'does' : 'do'} not match the wild-type sequence:`;
  const lines = m.slice(0, Math.max(0, limit)).map(describeMismatch);
  const rest = m.length - lines.length;
  return [header, ...lines, ...(rest > 0 ? [`… and ${rest} more.`] : [])].join('\n');
}

function applyRow(reference: string, variant: string, row: number, offset: number, result: AppliedVariants): void {
  const mutations = parseRow(variant, row, offset, result);
  if (!mutations) {
    result.sequences.push(null);
    return;
  }
  const mismatches = mutations.flatMap((m) => checkResidue(reference, m, row, variant));
  result.mismatches.push(...mismatches);
  if (mismatches.length > 0) {
    result.sequences.push(null);
    return;
  }
  const stop = mutations.find((m) => m.kind === 'stop');
  if (stop) result.stops.push(row);
  result.sequences.push(mutate(reference, mutations, stop));
}

/** The row's mutations, or null after recording why it cannot be parsed. */
function parseRow(variant: string, row: number, offset: number, result: AppliedVariants): Mutation[] | null {
  if (variant.trim() === '') {
    result.unparsable.push({ row, variant, message: 'the mutation cell is empty. Write the mutation (e.g. A23V), WT for the wild type, or remove the row.' });
    return null;
  }
  try {
    return parseVariant(variant, offset);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    result.unparsable.push({ row, variant, message: error.message });
    return null;
  }
}

function checkResidue(reference: string, m: Mutation, row: number, variant: string): Mismatch[] {
  const found = m.position <= reference.length ? reference[m.position - 1]! : `beyond the end (length ${reference.length})`;
  if (found === m.wt) return [];
  return [{ row, variant, mutation: m.text, position: m.position, expected: m.wt, found }];
}

/** Substitute every mutation; with a stop, cut before it (mutations are sorted, so it is the first). */
function mutate(reference: string, mutations: readonly Mutation[], stop: Mutation | undefined): string {
  const residues = [...reference];
  for (const m of mutations) residues[m.position - 1] = m.mut;
  return residues.slice(0, stop ? stop.position - 1 : residues.length).join('');
}

function describeMismatch(x: Mismatch): string {
  const where = `position ${x.position}${numberingNote(x)}`;
  if (x.found.startsWith('beyond')) {
    return `Row ${x.row}, ${x.mutation}: ${where} is ${x.found.replace('beyond the end', 'beyond the end of the wild type')}.`;
  }
  return `Row ${x.row}, ${x.mutation}: the wild type has ${x.found} at ${where}, not ${x.expected}.`;
}

/** With an offset the written number differs from the sequence position: show both so the user sees why. */
function numberingNote(x: Mismatch): string {
  const written = /\d+/.exec(x.mutation)?.[0];
  return written !== undefined && Number(written) !== x.position ? ` of the sequence (${written} as written)` : '';
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
