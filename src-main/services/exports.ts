/** services/exports — the files a project's exports folder holds, newest first. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportFile } from '../api/schemas';
import type { Store } from '../store';

export function listExports(store: Store, projectId: number): ExportFile[] {
  const dir = join(store.projects.folderOf(projectId)!, 'exports');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.endsWith('.partial') && !name.startsWith('.'))
    .map((name) => {
      const stat = statSync(join(dir, name));
      return { name, bytes: stat.size, createdAt: stat.mtime.toISOString(), path: join(dir, name) };
    })
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
