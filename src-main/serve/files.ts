/**
 * serve/files — the project files serve hands to the browser: exports as downloads and reports
 * as pages. A name that is not a plain file of the project's exports folder (missing, a folder,
 * gone while being read) answers 404; a read error never reaches the server.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Host } from '../services';
import { exportFilePath, regularFile } from '../services/exports';

/** Reports are opened in the browser (then printed to PDF there), under a CSP that allows no script and no loads. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

function notFound(response: ServerResponse, message: string): void {
  response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(message);
}

/** Streams one regular file; a folder or a missing file is a 404, a failed read ends the response. */
export function sendFile(response: ServerResponse, path: string, headers: OutgoingHttpHeaders, missing: string): void {
  const stat = regularFile(path);
  if (!stat) return notFound(response, missing);
  const stream = createReadStream(path);
  stream.once('open', () => {
    response.writeHead(200, { ...headers, 'Content-Length': stat.size });
    stream.pipe(response);
  });
  stream.once('error', () => {
    if (!response.headersSent) notFound(response, missing);
    else response.destroy();
  });
  response.once('close', () => stream.destroy());
}

/** `<projectId>/<file name>` of /exports/… or /reports/…, or null for another path. */
function projectFile(request: IncomingMessage, prefix: 'exports' | 'reports'): { projectId: number; name: string } | null {
  const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  const match = new RegExp(`^/${prefix}/(\\d+)/([^/]+)$`).exec(pathname);
  if (!match) return null;
  try {
    return { projectId: Number(match[1]), name: decodeURIComponent(match[2]!) };
  } catch {
    return { projectId: Number(match[1]), name: '' }; // A malformed %-escape names no file.
  }
}

/** GET /exports/<projectId>/<file>: a project's export file, as a download. */
export function serveExport(host: Host, request: IncomingMessage, response: ServerResponse): boolean {
  const file = projectFile(request, 'exports');
  if (!file) return false;
  let path: string;
  try {
    path = exportFilePath(host.store, file.projectId, file.name);
  } catch {
    notFound(response, 'No such export.');
    return true;
  }
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="${basename(path).replace(/"/g, '')}"` };
  sendFile(response, path, headers, 'No such export.');
  return true;
}

/** GET /reports/<projectId>/<file>: a report's HTML, shown in the browser rather than downloaded. */
export function serveReport(host: Host, request: IncomingMessage, response: ServerResponse): boolean {
  const file = projectFile(request, 'reports');
  if (!file) return false;
  let path: string;
  try {
    path = host.reports.reportPath(file.projectId, file.name);
  } catch {
    notFound(response, 'No such report.');
    return true;
  }
  sendFile(response, path, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': REPORT_CSP }, 'No such report.');
  return true;
}
