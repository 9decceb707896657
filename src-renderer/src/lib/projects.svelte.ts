// lib/projects.svelte — the project list and which project is open (remembered by id).
import { api } from './transport';
import { readSetting, writeSetting } from './storage';
import type { Project } from './types';

const KEY = 'currentProjectId';

function storedId(): number | null {
  const id = Number(readSetting(KEY));
  return Number.isInteger(id) && id > 0 ? id : null;
}

class ProjectsStore {
  list = $state<Project[]>([]);
  loaded = $state(false);
  currentId = $state<number | null>(storedId());
  current = $derived(this.list.find((project) => project.id === this.currentId) ?? null);
  #request = 0;

  async load(): Promise<void> {
    const request = ++this.#request;
    const list = await api.call('projects.list', {});
    if (request !== this.#request) return;
    this.list = list;
    this.loaded = true;
    if (this.currentId !== null && !list.some((project) => project.id === this.currentId)) this.open(null);
  }

  open(id: number | null): void {
    this.currentId = id;
    writeSetting(KEY, id === null ? null : String(id));
  }

  async create(name: string): Promise<Project> {
    const project = await api.call('projects.create', { name });
    if (!this.list.some((p) => p.id === project.id)) this.list = [...this.list, project];
    return project;
  }

  async rename(id: number, name: string): Promise<Project> {
    const project = await api.call('projects.rename', { id, name });
    this.list = this.list.map((p) => (p.id === id ? project : p));
    return project;
  }

  async remove(id: number): Promise<void> {
    await api.call('projects.delete', { id });
    this.list = this.list.filter((p) => p.id !== id);
    if (this.currentId === id) this.open(null);
  }
}

export const projects = new ProjectsStore();
