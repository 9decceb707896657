// lib/reports.svelte — the reports made in the open project (HTML files in its exports folder), making new ones and, in the desktop app, saving them as PDF.
import { api } from './transport';
import type { ReportFile } from '../../../src-main/api/schemas';

class ReportsStore {
  projectId = $state<number | null>(null);
  list = $state.raw<ReportFile[]>([]);
  loaded = $state(false);
  /** Runs whose report is being made. */
  creating = $state<number[]>([]);
  #request = 0;
  #subscribed = false;

  async load(projectId: number): Promise<void> {
    this.#subscribe();
    if (projectId !== this.projectId) {
      this.projectId = projectId;
      this.list = [];
      this.loaded = false;
    }
    const request = ++this.#request;
    const list = await api.call('reports.list', { projectId });
    if (request !== this.#request || projectId !== this.projectId) return;
    this.list = list;
    this.loaded = true;
  }

  async create(runId: number): Promise<ReportFile> {
    this.creating = [...this.creating, runId];
    try {
      const report = await api.call('reports.create', { runId });
      if (report.projectId === this.projectId) await this.load(report.projectId);
      return report;
    } finally {
      this.creating = this.creating.filter((id) => id !== runId);
    }
  }

  async pdf(report: ReportFile): Promise<ReportFile> {
    const updated = await api.call('reports.pdf', { projectId: report.projectId, name: report.name });
    await this.load(report.projectId);
    return updated;
  }

  /** A new report or PDF of this project (made here or elsewhere) arrives with a 'runs' event. */
  #subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    api.onEvent((event) => {
      const id = this.projectId;
      if (id !== null && ((event.type === 'runs' && event.projectId === id) || event.type === 'projects')) void this.load(id).catch(() => undefined);
    });
  }
}

export const reports = new ReportsStore();

/** Where serve mode shows a report (inline, under a CSP that allows no script) and where it downloads a file. */
export const reportHref = (report: ReportFile): string => `/reports/${report.projectId}/${encodeURIComponent(report.name)}`;
export const downloadHref = (projectId: number, name: string): string => `/exports/${projectId}/${encodeURIComponent(name)}`;
