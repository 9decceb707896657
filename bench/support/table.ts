/**
 * bench/support/table — formats rows as a Markdown table with padded columns (readable in a
 * terminal, pasteable into release notes), and shared number formatting.
 */

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** MB as peak RSS figures count them (maxRSS / 1024, so MiB), for comparable numbers. */
export const megabytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** 3 significant figures, without going to exponent notation. */
export const figure = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toPrecision(3));
