/**
 * lib/structure/pdb — reads a PDB file (fixed columns, format v3.3): ATOM/HETATM records of the
 * first model only, HELIX and SHEET records, and the TITLE. Columns are 1-based in the format
 * description; the slices below are 0-based.
 */
import { StructureBuilder, type AtomRecord } from './builder';
import type { SecondaryRange, Structure } from './types';

const field = (line: string, from: number, to: number): string => line.slice(from - 1, to).trim();

function atomRecord(line: string): AtomRecord | null {
  const x = Number(field(line, 31, 38));
  const y = Number(field(line, 39, 46));
  const z = Number(field(line, 47, 54));
  const seq = Number(field(line, 23, 26));
  if (![x, y, z, seq].every(Number.isFinite) || field(line, 31, 38) === '') return null;
  return {
    hetero: line.startsWith('HETATM'),
    atomName: field(line, 13, 16),
    altLoc: field(line, 17, 17),
    resName: field(line, 18, 20),
    chain: field(line, 22, 22),
    seq,
    icode: field(line, 27, 27),
    x,
    y,
    z,
    element: field(line, 77, 78),
  };
}

/** HELIX: start chain/number/insertion at columns 20/22-25/26, end at 34-37/38; SHEET: 22/23-26/27 and 34-37/38. Ranges never cross chains. */
function rangeRecord(line: string): SecondaryRange | null {
  const helix = line.startsWith('HELIX ');
  const [c1, s1, s1End, i1, s2, i2] = helix ? [20, 22, 25, 26, 34, 38] : [22, 23, 26, 27, 34, 38];
  const start = Number(field(line, s1, s1End));
  const end = Number(field(line, s2, 37));
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  return {
    type: helix ? 'helix' : 'strand',
    chain: field(line, c1, c1),
    start: { seq: start, icode: field(line, i1, i1) },
    end: { seq: end, icode: field(line, i2, i2) },
  };
}

export function parsePdb(text: string): Structure {
  const builder = new StructureBuilder();
  const ranges: SecondaryRange[] = [];
  const title: string[] = [];
  let modelsSeen = 0;
  for (const line of text.split(/\r?\n/)) {
    const record = line.slice(0, 6);
    if (record === 'MODEL ') {
      modelsSeen++;
      if (modelsSeen > 1) break;
    } else if (record === 'ENDMDL') {
      break; // Only the first model is shown.
    } else if (record === 'ATOM  ' || record === 'HETATM') {
      const atom = atomRecord(line);
      if (atom) builder.add(atom);
    } else if (record === 'HELIX ' || record === 'SHEET ') {
      const range = rangeRecord(line);
      if (range) ranges.push(range);
    } else if (record === 'TITLE ') {
      title.push(line.slice(10).trim());
    }
  }
  return builder.finish('pdb', title.join(' ').replace(/\s+/g, ' '), ranges);
}
