/** store/projects — rows of the projects table and their counts. */
import type { Project } from '../api/schemas';
import { now, type Db } from './db';

interface ProjectRow {
  id: number;
  name: string;
  folder: string;
  created_at: string;
  updated_at: string;
  dataset_count: number;
  run_count: number;
}

const SELECT = `
  SELECT p.*, 
    (SELECT COUNT(*) FROM datasets d WHERE d.project_id = p.id) AS dataset_count,
    (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id) AS run_count
  FROM projects p`;

const toProject = (row: ProjectRow): Project => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  datasetCount: row.dataset_count,
  runCount: row.run_count,
});

export class ProjectsRepo {
  constructor(private readonly db: Db) {}

  list(): Project[] {
    return (this.db.prepare(`${SELECT} ORDER BY p.updated_at DESC, p.id DESC`).all() as ProjectRow[]).map(toProject);
  }

  get(id: number): Project | undefined {
    const row = this.db.prepare(`${SELECT} WHERE p.id = ?`).get(id) as ProjectRow | undefined;
    return row && toProject(row);
  }

  findByName(name: string): Project | undefined {
    const row = this.db.prepare(`${SELECT} WHERE p.name = ?`).get(name) as ProjectRow | undefined;
    return row && toProject(row);
  }

  folderOf(id: number): string | undefined {
    const row = this.db.prepare('SELECT folder FROM projects WHERE id = ?').get(id) as { folder: string } | undefined;
    return row?.folder;
  }

  insert(name: string, folder: string): number {
    const stamp = now();
    const result = this.db
      .prepare('INSERT INTO projects (name, folder, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run(name, folder, stamp, stamp);
    return Number(result.lastInsertRowid);
  }

  rename(id: number, name: string): void {
    this.db.prepare('UPDATE projects SET name = ?, updated_at = ? WHERE id = ?').run(name, now(), id);
  }

  touch(id: number): void {
    this.db.prepare('UPDATE projects SET updated_at = ? WHERE id = ?').run(now(), id);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
  }
}
