/** services/exports — the files a project's exports folder holds, newest first (files only: never a folder). */
import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { notFound } from '../api/errors';
import type { ExportFile } from '../api/schemas';
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
