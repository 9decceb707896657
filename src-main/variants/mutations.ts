/**
 * variants/mutations — parse and write the amino-acid substitutions of deep-mutational-scan files:
 * one-letter ("A23V", "A23*", "A23A", "A23="), HGVS protein ("p.Ala23Val", "p.(Ala23Val)",
 * "p.Ala23Ter", "p.Ala23*", "p.Ala23="), and multi-mutants ("A23V:G45D", "p.[Ala23Val;Gly45Asp]").
 * Pure, no I/O. Every failure is an `ApiError('invalid-input')` whose message quotes the text and
 * says what is wrong, because these messages go straight to the user's screen.
 *
 * Offsets: `offset` = the number of the first residue of the wild-type FASTA minus 1. A FASTA that
 * starts at residue 24 of the UniProt numbering has offset 23, so "A47V" names position 24 of that
 * FASTA. `Mutation.position` is always 1-based in the wild-type sequence as given (after the offset).
 */
import { ApiError } from '../api/errors';

export interface Mutation {
  /** Wild-type residue: one letter, or '*' (a stop in the reference, as in stop-loss variants). */
  wt: string;
  /** 1-based position in the wild-type sequence after applying the offset. */
  position: number;
  /** New residue: one letter, '*' for stop; equals `wt` for synonymous. */
  mut: string;
  kind: 'missense' | 'synonymous' | 'stop';
  /** The mutation as written (trimmed). */
  text: string;
}

/** The 20 standard amino acids plus selenocysteine (U) and pyrrolysine (O). */
const ONE_LETTER_CODES = new Set('ACDEFGHIKLMNPQRSTVWYUO');

const THREE_LETTER_CODES: Readonly<Record<string, string>> = {
  ala: 'A', arg: 'R', asn: 'N', asp: 'D', cys: 'C', gln: 'Q', glu: 'E', gly: 'G', his: 'H', ile: 'I',
  leu: 'L', lys: 'K', met: 'M', phe: 'F', pro: 'P', ser: 'S', thr: 'T', trp: 'W', tyr: 'Y', val: 'V',
  sec: 'U', pyl: 'O', ter: '*',
};

// Letters are matched case-insensitively here so that a lower-case one-letter mutation gets a
// "did you mean" message instead of a generic "not a mutation".
const ONE_LETTER = /^([A-Za-z*])(\d+)([A-Za-z*=])$/;
const THREE_LETTER = /^([A-Za-z]{3})(\d+)([A-Za-z]{3}|\*|=)$/;
const NOT_SUBSTITUTION = /\d(?:del|ins|dup|fs|ext)/i;
const SEPARATORS = /[:;,\s]+/;
const HGVS_BRACKETS = /^p\.\[(.*)\]$/s;
/** Ways of writing "no mutation": the wild type itself. */
const WILD_TYPE = /^(?:_?wt|p\.=|p\.\(=\))$/i;
const EXAMPLES = 'expected something like A23V, A23*, A23= or p.Ala23Val';

const invalid = (message: string): ApiError => new ApiError('invalid-input', message);

/** Parse one substitution; `position` is the written number minus `offset`. */
export function parseMutation(text: string, offset = 0): Mutation {
  checkOffset(offset);
  const written = text.trim();
  if (written === '') throw invalid(`Empty mutation: ${EXAMPLES}.`);
  const core = stripHgvs(written);
  // Checked first: 'Ala23del' would otherwise read as a substitution to the unknown code 'del'.
  if (NOT_SUBSTITUTION.test(core)) throw invalid(`'${written}': only substitutions are supported, not deletions, insertions, duplications, extensions or frameshifts.`);
  const three = THREE_LETTER.exec(core);
  if (three) return build(written, threeLetter(written, three[1]!), three[2]!, threeLetterMut(written, three[3]!), offset);
  const one = ONE_LETTER.exec(core);
  if (one) return build(written, ...oneLetter(written, one[1]!, one[2]!, one[3]!), offset);
  throw invalid(diagnose(written, core));
}

/**
 * Parse a whole variant: one mutation, several joined by ':' ';' ',' or whitespace, or HGVS
 * 'p.[Ala23Val;Gly45Asp]'. '', 'WT', 'wt', '_wt' (and HGVS 'p.=') are the wild type: []. The result
 * is sorted by position; two mutations at one position are an error (the variant is ambiguous).
 */
export function parseVariant(text: string, offset = 0): Mutation[] {
  checkOffset(offset);
  const written = text.trim();
  if (written === '' || WILD_TYPE.test(written)) return [];
  const inner = HGVS_BRACKETS.exec(written)?.[1] ?? written;
  const parts = inner.split(SEPARATORS).filter(Boolean);
  if (parts.length === 0) throw invalid(`'${written}' has no mutations: ${EXAMPLES}, or WT for the wild type.`);
  const mutations = parts.map((part) => parseInVariant(written, part, parts.length, offset));
  rejectDuplicatePositions(written, mutations);
  return mutations.sort((a, b) => a.position - b.position);
}

/**
 * The canonical form 'A23V:G45D' (sorted, one-letter, synonymous as 'A23A', wild type as 'WT').
 * Pass the offset used when parsing to write positions back in the file's numbering.
 */
export function formatVariant(mutations: Mutation[], offset = 0): string {
  if (mutations.length === 0) return 'WT';
  return [...mutations]
    .sort((a, b) => a.position - b.position)
    .map((m) => `${m.wt}${m.position + offset}${m.mut}`)
    .join(':');
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset)) throw invalid(`The position offset must be a whole number, not ${offset}.`);
}

/** 'p.Ala23Val' and 'p.(Ala23Val)' → 'Ala23Val' (parentheses mark a predicted change in HGVS). */
function stripHgvs(written: string): string {
  const bare = written.startsWith('p.') ? written.slice(2) : written;
  return bare.startsWith('(') && bare.endsWith(')') ? bare.slice(1, -1) : bare;
}

function threeLetter(written: string, code: string): string {
  const letter = THREE_LETTER_CODES[code.toLowerCase()];
  if (letter === undefined) throw invalid(`'${written}': '${code}' is not a three-letter amino-acid code (Ala, Arg, …, Sec, Pyl, or Ter for stop).`);
  return letter;
}

function threeLetterMut(written: string, code: string): string {
  return code === '*' || code === '=' ? code : threeLetter(written, code);
}

/** Checks the letters of a one-letter mutation; returns [wt, digits, mut]. */
function oneLetter(written: string, wt: string, digits: string, mut: string): [string, string, string] {
  if (wt !== wt.toUpperCase() || mut !== mut.toUpperCase()) {
    const suggestion = `${wt.toUpperCase()}${digits}${mut.toUpperCase()}`;
    throw invalid(`'${written}': one-letter amino-acid codes must be upper case — did you mean ${suggestion}?`);
  }
  for (const code of [wt, mut]) {
    if (code !== '*' && code !== '=' && !ONE_LETTER_CODES.has(code)) {
      throw invalid(`'${written}': '${code}' is not an amino-acid code (use the 20 standard letters, U, O, or * for stop).`);
    }
  }
  return [wt, digits, mut];
}

function build(written: string, wt: string, digits: string, mut: string, offset: number): Mutation {
  const position = toPosition(written, digits, offset);
  const to = mut === '=' ? wt : mut;
  const kind = to === wt ? 'synonymous' : to === '*' ? 'stop' : 'missense';
  return { wt, position, mut: to, kind, text: written };
}

function toPosition(written: string, digits: string, offset: number): number {
  const number = Number(digits);
  if (!Number.isSafeInteger(number)) throw invalid(`'${written}': position ${digits} is too large.`);
  const position = number - offset;
  if (position >= 1) return position;
  if (offset === 0) throw invalid(`'${written}': position ${number} is before the first residue (positions start at 1).`);
  throw invalid(
    `'${written}': position ${number} minus the offset ${offset} is ${position}, before the first residue of the wild type ` +
      `(the offset is the number of the FASTA's first residue minus 1).`,
  );
}

/** Why `written` is not a substitution, as specifically as its shape allows. */
function diagnose(written: string, core: string): string {
  if (!/\d/.test(core)) return `'${written}': no position — ${EXAMPLES}.`;
  if (/^(?:[A-Za-z*]|[A-Za-z]{3})\d+$/.test(core)) return `'${written}': no new amino acid after the position — ${EXAMPLES}.`;
  if (/^\d/.test(core)) return `'${written}': no wild-type amino acid before the position — ${EXAMPLES}.`;
  return `'${written}' is not a mutation: ${EXAMPLES}.`;
}

/** Parses one part of a multi-mutant, naming the whole variant in the error so the row is findable. */
function parseInVariant(variant: string, part: string, count: number, offset: number): Mutation {
  try {
    return parseMutation(part, offset);
  } catch (error) {
    if (count > 1 && error instanceof ApiError) throw invalid(`In '${variant}': ${error.message}`);
    throw error;
  }
}

function rejectDuplicatePositions(written: string, mutations: readonly Mutation[]): void {
  const seen = new Map<number, Mutation>();
  for (const m of mutations) {
    const earlier = seen.get(m.position);
    if (earlier) throw invalid(`'${written}' changes the same residue twice (${earlier.text} and ${m.text}).`);
    seen.set(m.position, m);
  }
}
