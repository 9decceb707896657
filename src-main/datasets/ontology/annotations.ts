/**
 * datasets/ontology/annotations — reads protein → term annotations from a GAF 2.x file (GO's
 * annotation format) or from a table (CSV/TSV: an id column and a terms column, terms separated by
 * ";", "|" or spaces; or one row per protein and term). Each annotation remembers its file, line
 * and field, so a term the ontology does not know can be reported where it was written.
 * Pure text in, data out.
 */
import { ApiError } from '../../api/errors';
import { ID_COLUMN_NAMES, parseRows } from '../table';
import { LINE_BREAK, baseName, stripByteOrderMark } from '../text';
import { parseEcNumber } from './ec';

export interface SourcePlace {
  file: string;
  line: number;
  field: string;
}

export interface Annotation {
  protein: string;
  /** A GO id (GO:0003824) or an EC number (EC:1.1.1.1), as written (alt ids are resolved later). */
  term: string;
  where: SourcePlace;
}

export interface AnnotationFile {
  annotations: Annotation[];
  /** Every protein the file lists, in first-seen order — also those listed with no terms (all-zero rows). */
  proteins: string[];
  /** What was skipped and why (e.g. NOT qualifiers, evidence codes not asked for). */
  notices: string[];
}

/** The GAF 2.x columns, 1-based as the GO documentation numbers them. */
const GAF_COLUMNS = ['DB', 'DB Object ID', 'DB Object Symbol', 'Qualifier', 'GO ID', 'DB:Reference', 'Evidence Code', 'With (or) From', 'Aspect', 'DB Object Name', 'DB Object Synonym', 'DB Object Type', 'Taxon', 'Date', 'Assigned By', 'Annotation Extension', 'Gene Product Form ID'];
/** GAF 1.0 has the first 15 columns; 2.x adds two optional ones, so 15 to 17 fields are accepted. */
const GAF_MIN_COLUMNS = 15;

/** CAFA's experimental evidence codes (incl. the high-throughput ones): annotations a benchmark may trust. */
export const EXPERIMENTAL_EVIDENCE: readonly string[] = ['EXP', 'IDA', 'IPI', 'IMP', 'IGI', 'IEP', 'TAS', 'IC', 'HTP', 'HDA', 'HMP', 'HGI', 'HEP'];

export interface GafOptions {
  /** Keep only these evidence codes (column 7); all when absent. */
  evidence?: readonly string[];
}

const GO_ID = /^GO:\d{7}$/;

/**
 * GAF: tab-separated, `!` lines are comments. Proteins are column 2 (DB Object ID, e.g. a UniProt
 * accession). Annotations qualified NOT are skipped: they say the protein lacks the function, and
 * CAFA leaves them out.
 */
export function readGaf(path: string, text: string, options: GafOptions = {}): AnnotationFile {
  const file = baseName(path);
  const evidence = options.evidence ? new Set(options.evidence.map((e) => e.toUpperCase())) : null;
  const out: AnnotationFile = { annotations: [], proteins: [], notices: [] };
  const seen = new Set<string>();
  let negated = 0;
  let otherEvidence = 0;
  stripByteOrderMark(text)
    .split(LINE_BREAK)
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '' || raw.startsWith('!')) return;
      const fields = raw.split('\t');
      if (fields.length < GAF_MIN_COLUMNS || fields.length > GAF_COLUMNS.length) {
        const missing = fields.length < GAF_MIN_COLUMNS ? `; the first missing field is column ${fields.length + 1} (${GAF_COLUMNS[fields.length]})` : '';
        throw new ApiError('invalid-input', `${file}, line ${line}: ${fields.length} tab-separated fields, but a GAF line has ${GAF_MIN_COLUMNS} to ${GAF_COLUMNS.length}${missing}. Is the file tab-separated GAF 2.x?`);
      }
      const protein = fields[1]!.trim();
      const term = fields[4]!.trim();
      if (!protein) throw new ApiError('invalid-input', `${file}, line ${line}: column 2 (${GAF_COLUMNS[1]}) is empty; it names the protein.`);
      if (!GO_ID.test(term)) throw new ApiError('invalid-input', `${file}, line ${line}: column 5 (${GAF_COLUMNS[4]}) is "${term}", not a GO id such as GO:0003824.`);
      if (/(^|\|)NOT(\||$)/i.test(fields[3]!.trim())) return void negated++;
      if (evidence && !evidence.has(fields[6]!.trim().toUpperCase())) return void otherEvidence++;
      if (!seen.has(protein)) {
        seen.add(protein);
        out.proteins.push(protein);
      }
      out.annotations.push({ protein, term, where: { file, line, field: `column 5 (${GAF_COLUMNS[4]})` } });
    });
  if (negated > 0) out.notices.push(`${negated} annotation(s) qualified NOT were skipped (they say the protein lacks the function).`);
  if (otherEvidence > 0) out.notices.push(`${otherEvidence} annotation(s) with other evidence codes than ${[...evidence!].join(', ')} were skipped.`);
  if (out.annotations.length === 0) throw new ApiError('invalid-input', `${file}: no annotations left to use${out.notices.length ? ` (${out.notices.join(' ')})` : ''}.`);
  return out;
}

/** Names that mark the terms column of an annotation table, compared lower-cased. */
export const TERM_COLUMN_NAMES = ['terms', 'term', 'go', 'go_terms', 'go_ids', 'go_id', 'ec', 'ec_numbers', 'ec_number', 'annotations', 'labels'];

/**
 * An annotation table: a header row, an id column (by name, else the first column) and a terms
 * column (by name, else the second). A protein may take several rows. An empty terms cell lists the
 * protein with no terms (an all-zero row), which differs from leaving it out (unknown).
 */
export function readAnnotationTable(path: string, text: string): AnnotationFile {
  const file = baseName(path);
  const delimiter = /\.tsv$|\.tab$/i.test(file) ? '\t' : ',';
  const records = parseRows(file, stripByteOrderMark(text), delimiter).filter((r) => r.fields.some((f) => f.trim() !== ''));
  const [header, ...rows] = records;
  if (!header || rows.length === 0) throw new ApiError('invalid-input', `${file}: no annotations found; the table needs a header row (e.g. "id,terms") and one row per protein.`);
  const names = header.fields.map((n) => n.trim());
  const lower = names.map((n) => n.toLowerCase());
  const idColumn = Math.max(0, lower.findIndex((n) => ID_COLUMN_NAMES.includes(n)));
  const named = lower.findIndex((n, i) => i !== idColumn && TERM_COLUMN_NAMES.includes(n));
  const termColumn = named >= 0 ? named : idColumn === 0 ? 1 : 0;
  if (termColumn >= names.length) throw new ApiError('invalid-input', `${file}, line ${header.line}: found no terms column; name one "terms" (GO ids or EC numbers separated by ";").`);
  const out: AnnotationFile = { annotations: [], proteins: [], notices: [] };
  const seen = new Set<string>();
  for (const row of rows) {
    const protein = (row.fields[idColumn] ?? '').trim();
    if (!protein) throw new ApiError('invalid-input', `${file}, line ${row.line}: field "${names[idColumn]}" is empty; it names the protein.`);
    if (!seen.has(protein)) {
      seen.add(protein);
      out.proteins.push(protein);
    }
    const field = names[termColumn]!;
    for (const written of (row.fields[termColumn] ?? '').split(/[;|,\s]+/).filter(Boolean)) {
      out.annotations.push({ protein, term: normaliseTerm(written, { file, line: row.line, field }), where: { file, line: row.line, field } });
    }
  }
  return out;
}

/** GO ids stay as they are; EC numbers get the "EC:" prefix. Anything else is rejected where it stands. */
function normaliseTerm(written: string, where: SourcePlace): string {
  if (GO_ID.test(written)) return written;
  const ec = parseEcNumber(written);
  if (ec) return ec;
  throw new ApiError('invalid-input', `${where.file}, line ${where.line}: "${written}" in field "${where.field}" is neither a GO id (GO:0003824) nor an EC number (1.1.1.1, 1.1.-.-).`);
}
