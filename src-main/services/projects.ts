/** services/projects — create, rename, open and delete projects, each with a folder for its files. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoJobUses } from './job-usage';
import { ApiError, notFound } from '../api/errors';
import type { Project } from '../api/schemas';
import type { Store } from '../store';
import type { Events } from './events';

/** A folder name that is readable, portable and unique. */
function folderName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .toLowerCase();
  return `${slug || 'project'}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export class ProjectsService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
  ) {}

  list(): Project[] {
    return this.store.projects.list();
  }

  get(id: number): Project {
    const project = this.store.projects.get(id);
    if (!project) throw notFound(`Project ${id}`);
    return project;
  }

  create(name: string): Project {
    this.assertNameFree(name);
    const folder = join(this.store.home.projects, folderName(name));
    mkdirSync(folder, { recursive: true });
    const id = this.store.projects.insert(name, folder);
    this.events.emit({ type: 'projects' });
    return this.get(id);
  }

  /** The project with this name, created when missing (the CLI's `--project P`). */
  ensure(name: string): Project {
    return this.store.projects.findByName(name.trim()) ?? this.create(name.trim());
  }

  rename(id: number, name: string): Project {
    this.get(id);
    const other = this.store.projects.findByName(name);
    if (other && other.id !== id) this.assertNameFree(name);
    this.store.projects.rename(id, name);
    this.events.emit({ type: 'projects' });
    return this.get(id);
  }

  delete(id: number): { ok: true } {
    const project = this.get(id);
    assertNoJobUses(this.store, { projectId: id }, `Project "${project.name}"`);
    const folder = this.store.projects.folderOf(id)!;
    this.store.projects.delete(id);
    rmSync(folder, { recursive: true, force: true });
    this.events.emit({ type: 'projects' });
    return { ok: true };
  }

  private assertNameFree(name: string): void {
    if (this.store.projects.findByName(name)) {
      throw new ApiError('conflict', `A project named "${name}" already exists; choose another name.`);
    }
  }
}
