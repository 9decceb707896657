/** cli/report — the import validation report as plain text for a terminal. */
import type { ImportReport } from '../api/schemas';

export function formatReport(report: ImportReport): string {
  const lines = [
    `File: ${report.fileName} (${report.format.toUpperCase()})`,
    `Records found: ${report.records}; importable: ${report.importable}`,
  ];
  if (report.lengths) {
    const { min, median, mean, max } = report.lengths;
    lines.push(`Lengths: min ${min}, median ${median}, mean ${mean.toFixed(1)}, max ${max}`);
  }
  if (report.variants) {
    const v = report.variants;
    lines.push(`Mutation scan of ${v.wildTypeId} (${v.wildType.length} residues), mutations in column "${v.mutationColumn}"${v.offset ? `, numbering offset ${v.offset}` : ''}`);
  }
  if (report.sequenceColumn) lines.push(`Sequence column: ${report.sequenceColumn}; id column: ${report.idColumn ?? '(row numbers)'}`);
  if (report.labelColumns.length > 0) {
    lines.push(`Label columns: ${report.labelColumns.map((c) => `${c.name} (${c.role === 'index' ? 'row index' : c.type}${c.missing ? `, ${c.missing} missing` : ''})`).join(', ')}`);
  }
  lines.push(`Duplicate IDs renamed: ${report.duplicateIds}; duplicate sequences: ${report.duplicateSequences}; longer than 1022 residues: ${report.tooLong}`);
  if (report.errorCount > 0) {
    lines.push('', `Errors (${report.errorCount} record(s) will be skipped):`);
    for (const problem of report.errors) lines.push(`  line ${problem.line}: ${problem.message}`);
    if (report.errorCount > report.errors.length) lines.push(`  … and ${report.errorCount - report.errors.length} more`);
  }
  if (report.notices.length > 0) {
    lines.push('', 'Notices:');
    for (const notice of report.notices) lines.push(`  ${notice.message}`);
  }
  return lines.join('\n');
}
