/** datasets/text — small text helpers shared by the readers and the report: line breaks, file names, counts. */

/** Any line ending: Windows (CRLF), Unix (LF) and classic Mac (CR). */
export const LINE_BREAK = /\r\n|\r|\n/;

/** Editors on Windows often save UTF-8 with a byte-order mark, which would otherwise end up in the first ID or header. */
export function stripByteOrderMark(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** The file name without its folder, for both `/` and `\` paths (a Windows path can reach a POSIX machine). */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
