/**
 * variants/wild-type — which wild type a scan's mutations belong to, and with which numbering:
 * how many of the wild-type residues the rows state agree with a sequence at a given offset, the
 * offset that makes most of them agree (for "most rows do not match" messages), and which record
 * of a several-record FASTA a table is named after. Pure, no I/O.
 */
import { ApiError } from '../api/errors';
import { parseVariant } from './mutations';

/** One wild-type residue a scan states ("A" at written position 23 for "A23V"), with how many mutations state it. */
export interface StatedResidue {
  /** The number as written in the file (no offset applied). */
  written: number;
  residue: string;
  count: number;
}

export interface Agreement {
  /** Stated residues (counted per mutation) that the sequence has at their position. */
  matching: number;
  total: number;
}

/** Offsets tried when looking for the numbering that fits: far enough for any signal peptide or domain cut. */
export const MAX_OFFSET_SHIFT = 1000;

/** The wild-type residues the variants state, merged by position and letter; unparsable variants are ignored. */
export function statedResidues(variants: readonly string[]): StatedResidue[] {
  const byKey = new Map<string, StatedResidue>();
  for (const variant of variants) {
    let mutations;
    try {
      mutations = parseVariant(variant, 0);
    } catch (error) {
      if (error instanceof ApiError) continue;
      throw error;
    }
    for (const m of mutations) {
      const key = `${m.position}${m.wt}`;
      const known = byKey.get(key);
      if (known) known.count += 1;
      else byKey.set(key, { written: m.position, residue: m.wt, count: 1 });
    }
  }
  return [...byKey.values()];
}

/** How many stated residues `wildType` has at their position when its first residue is number offset + 1. */
export function agreement(wildType: string, stated: readonly StatedResidue[], offset: number): Agreement {
  const reference = wildType.toUpperCase();
  let matching = 0;
  let total = 0;
  for (const s of stated) {
    total += s.count;
    if (reference[s.written - offset - 1] === s.residue) matching += s.count;
  }
  return { matching, total };
}

/**
 * The offset in −maxShift..maxShift under which most stated residues match (ties: the one nearest
 * 0), or null when none matches any. Each stated residue votes for every offset that would put
 * its letter under it, so the cost is (stated residues × occurrences of their letter), not × offsets.
 */
export function bestOffset(wildType: string, stated: readonly StatedResidue[], maxShift = MAX_OFFSET_SHIFT): (Agreement & { offset: number }) | null {
  const reference = wildType.toUpperCase();
  const positionsOf = new Map<string, number[]>();
  [...reference].forEach((letter, index) => positionsOf.set(letter, [...(positionsOf.get(letter) ?? []), index]));
  const votes = new Map<number, number>();
  let total = 0;
  for (const s of stated) {
    total += s.count;
    for (const index of positionsOf.get(s.residue) ?? []) {
      const offset = s.written - 1 - index;
      if (Math.abs(offset) <= maxShift) votes.set(offset, (votes.get(offset) ?? 0) + s.count);
    }
  }
  let best: (Agreement & { offset: number }) | null = null;
  for (const [offset, matching] of votes) {
    if (!best || matching > best.matching || (matching === best.matching && Math.abs(offset) < Math.abs(best.offset))) best = { offset, matching, total };
  }
  return best;
}

/**
 * When most rows do not match the wild type, a sentence saying which offset would match them (or
 * that none does); null when most rows match. `mismatchedRows` of `rows` rows did not match.
 */
export function offsetHint(wildType: string, variants: readonly string[], offset: number, mismatchedRows: number, rows: number): string | null {
  if (rows === 0 || mismatchedRows * 2 <= rows) return null;
  const stated = statedResidues(variants);
  const now = agreement(wildType, stated, offset);
  const best = bestOffset(wildType, stated);
  const most = `Most rows (${mismatchedRows} of ${rows}) state wild-type residues that this wild type does not have at offset ${offset}.`;
  if (!best || best.offset === offset || best.matching * 2 <= best.total || best.matching <= now.matching) {
    return `${most} No numbering offset between −${MAX_OFFSET_SHIFT} and ${MAX_OFFSET_SHIFT} makes most of them match: check that the wild type is the protein this scan measured.`;
  }
  const share = `${best.matching} of ${best.total} stated wild-type residues match`;
  if (best.offset >= 0) {
    return `${most} With offset ${best.offset} (the wild type's first residue numbered ${best.offset + 1}), ${share}: set the numbering offset to ${best.offset}.`;
  }
  const extra = -best.offset;
  return `${most} ${share[0]!.toUpperCase()}${share.slice(1)} if the numbering starts ${extra} residues into the wild type: remove its first ${extra} residues (e.g. a tag or signal peptide the scan does not number).`;
}

/** The parts of a FASTA record name a file may be named after: "sp|P62593|BLAT_ECOLX" → P62593, BLAT_ECOLX and the whole. */
function nameParts(id: string): string[] {
  const parts = id.split('|').filter((part) => part !== '' && !['sp', 'tr'].includes(part.toLowerCase()));
  return [...new Set([id, ...parts])];
}

/** True when one name starts the other at a word boundary: "BLAT_ECOLX" and "BLAT_ECOLX_Ostermeier2014". */
function namesMatch(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a.toLowerCase(), b.toLowerCase()] : [b.toLowerCase(), a.toLowerCase()];
  return short.length > 0 && long.startsWith(short) && (long.length === short.length || /[^a-z0-9]/.test(long[short.length]!));
}

/**
 * The record of a several-record FASTA a table (or dataset) is named after: the one whose name (or
 * a `|` part of it) and the table's name without extension start one another; the longest such
 * match wins. Null when none matches, or when two match equally well.
 */
export function recordNamedLike(recordIds: readonly string[], tableName: string): string | null {
  const stem = tableName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const scored = recordIds.map((id) => ({ id, length: Math.max(0, ...nameParts(id).filter((part) => namesMatch(part, stem)).map((part) => part.length)) }));
  const best = Math.max(0, ...scored.map((s) => s.length));
  const winners = scored.filter((s) => s.length === best && best > 0);
  return winners.length === 1 ? winners[0]!.id : null;
}
