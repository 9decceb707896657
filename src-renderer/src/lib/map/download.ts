// lib/map/download — saves text or an image made in the page as a file (a download in a browser,
// the save dialog in the desktop app); nothing leaves this computer.

export function downloadUrl(fileName: string, url: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
}

export function downloadText(fileName: string, text: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  downloadUrl(fileName, url);
  // The download has started by the next turn; the URL is no longer needed after a moment.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name from a map's title: letters, digits, dots, dashes. */
export function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'map';
}

/** The IDs of the selected points, one per line (or a CSV with the colour column's value). */
export function idsText(ids: readonly string[], rows: ArrayLike<number>): string {
  const lines: string[] = [];
  for (let k = 0; k < rows.length; k++) lines.push(ids[rows[k]!]!);
  return `${lines.join('\n')}\n`;
}
