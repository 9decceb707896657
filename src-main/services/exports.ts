/**
 * services/exports — the files a project's exports folder holds, newest first (files only: never a
 * folder), and a CSV export read back as a table for the screen (predictions shown in the app).
 */
import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ApiError, notFound } from '../api/errors';
import type { ExportFile, ExportTable } from '../api/schemas';
import type { Store } from '../store';

/** The entry's stat when it is a regular file (a symlink counts by its target); null for folders and vanished entries. */
export function regularFile(path: string): Stats | null {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat : null;
  } catch {
    return null;
  }
}

export function listExports(store: Store, projectId: number): ExportFile[] {
  const dir = join(store.projects.folderOf(projectId)!, 'exports');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.endsWith('.partial') && !name.startsWith('.'))
    .flatMap((name) => {
      const stat = regularFile(join(dir, name));
      return stat ? [{ name, bytes: stat.size, createdAt: stat.mtime.toISOString(), path: join(dir, name) }] : [];
    })
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The path of one export file, checked to be a plain file name of a regular file inside the project's exports folder. */
export function exportFilePath(store: Store, projectId: number, name: string): string {
  const folder = store.projects.folderOf(projectId);
  if (!folder || basename(name) !== name || name.startsWith('.')) throw notFound(`Export ${name}`);
  const path = join(folder, 'exports', name);
  if (!regularFile(path)) throw notFound(`Export ${name}`);
  return path;
}

/** Numbers as numbers, empty cells as null, the rest as text. */
function cellValue(text: string): string | number | null {
  if (text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) && /^[-+]?(\d|\.\d)/.test(text) ? value : text;
}

/** The first `limit` rows of a CSV export (header first), for showing it in the app. */
export function exportTable(store: Store, projectId: number, name: string, limit: number): ExportTable {
  if (!name.toLowerCase().endsWith('.csv')) throw new ApiError('invalid-input', `${name} is not a CSV file; only CSV exports can be shown as a table.`);
  const records = parse(readFileSync(exportFilePath(store, projectId, name), 'utf8'), { skip_empty_lines: true, relax_column_count: true }) as string[][];
  const [columns = [], ...rows] = records;
  return { name, columns, rows: rows.slice(0, limit).map((row) => row.map(cellValue)), total: rows.length };
}
