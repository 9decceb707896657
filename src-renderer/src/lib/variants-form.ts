// lib/variants-form — the check of a pasted wild type the variant-effect forms share (their devices are core/devices').

const STANDARD = 'ACDEFGHIKLMNPQRSTVWY';

/**
 * The residues of a pasted wild type (FASTA header lines, spaces and digits dropped, upper case),
 * with its name from the header when there is one, or why it cannot be used.
 */
export function readPastedWildType(text: string): { residues: string; name: string | null } | { problem: string } {
  const lines = text.split(/\r?\n/);
  const header = lines.find((line) => line.trim().startsWith('>'));
  const name = header ? header.trim().slice(1).split(/\s+/)[0] || null : null;
  const firstRecord: string[] = [];
  let seenHeader = false;
  for (const line of lines) {
    if (line.trim().startsWith('>')) {
      if (seenHeader) break;
      seenHeader = true;
      continue;
    }
    firstRecord.push(line);
  }
  const residues = firstRecord.join('').replace(/[\s\d]+/g, '').replace(/\*$/, '').toUpperCase();
  if (residues === '') return { problem: 'Paste the wild-type sequence (one-letter codes, or FASTA).' };
  const bad = [...residues].findIndex((c) => !STANDARD.includes(c));
  if (bad >= 0) return { problem: `“${residues[bad]}” at position ${bad + 1} is not one of the 20 standard amino acids; a saturation map needs them.` };
  return { residues, name };
}
