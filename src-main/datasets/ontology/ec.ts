/**
 * datasets/ontology/ec — Enzyme Commission numbers: reading them ("1.1.1.1", "EC:1.1.1.1",
 * "EC 1.1.-.-", "1.1.1" read as 1.1.1.-) into one canonical form, and their four-level
 * propagation (1.1.1.1 → 1.1.1.- → 1.1.-.- → 1.-.-.-), the EC counterpart of GO's true-path rule.
 */

/** The namespace EC labels are reported under. */
export const EC_NAMESPACE = 'ec';

/** One level: digits, or (4th level only) a preliminary "n" number such as n3. */
const LEVEL = [/^\d+$/, /^\d+$/, /^\d+$/, /^n?\d+$/];

/** The canonical "EC:a.b.c.d" of a written EC number, or null when it is not one. Dashes may only trail. */
export function parseEcNumber(written: string): string | null {
  const body = written.trim().replace(/^EC[:\s]?\s*/i, '');
  const levels = body.split('.');
  if (levels.length < 1 || levels.length > 4 || !/^\d/.test(body)) return null;
  while (levels.length < 4) levels.push('-');
  let dashed = false;
  for (const [i, level] of levels.entries()) {
    if (level === '-') dashed = true;
    else if (dashed || !LEVEL[i]!.test(level)) return null;
  }
  return `EC:${levels.join('.')}`;
}

/** The EC number itself and every more general level above it, most specific first. */
export function ecAncestors(ec: string): string[] {
  const levels = ec.replace(/^EC:/, '').split('.');
  const known = levels.findIndex((l) => l === '-');
  const depth = known < 0 ? 4 : known;
  const out: string[] = [];
  for (let d = depth; d >= 1; d--) out.push(`EC:${[...levels.slice(0, d), ...Array<string>(4 - d).fill('-')].join('.')}`);
  return out;
}

/** The one level above (1.1.1.1 → 1.1.1.-), or null for a top-level class (1.-.-.-). */
export function ecParent(ec: string): string | null {
  return ecAncestors(ec)[1] ?? null;
}
