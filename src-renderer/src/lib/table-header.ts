// lib/table-header — reads the column names from the first line of a CSV or TSV file's text.

/** Splits one line on `delimiter`, honouring double quotes ("a,b" and "" escapes). */
function splitLine(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (char === delimiter) {
      cells.push(cell.trim());
      cell = '';
    } else cell += char;
  }
  cells.push(cell.trim());
  return cells;
}

/** Column names of a table file; empty when the text has no header line. */
export function tableColumns(text: string, format: 'csv' | 'tsv'): string[] {
  const firstLine = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/, 50)
    .find((line) => line.trim() !== '');
  if (!firstLine) return [];
  const names = splitLine(firstLine, format === 'tsv' ? '\t' : ',').filter((name) => name !== '');
  return [...new Set(names)];
}
