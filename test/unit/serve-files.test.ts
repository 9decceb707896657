/**
 * serve's export and report downloads, and exports.list: only regular files of a project's
 * exports folder are listed and served; a folder or a missing name answers 404 and the server
 * goes on (a folder used to stop serve with EISDIR).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportFile, Project } from '../../src-main/api/schemas';
import { createHost, type Host } from '../../src-main/services';
import { startServer, type RunningServer } from '../../src-main/serve/server';

let host: Host;
let server: RunningServer;
let project: Project;
let exportsDir: string;

beforeAll(async () => {
  const rendererDir = mkdtempSync(join(tmpdir(), 'esm-renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>ESM Studio</title>');
  host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-serve-files-')), transport: 'websocket' });
  server = await startServer({ host, rendererDir });
  project = host.projects.create('Downloads');
  exportsDir = join(host.store.projects.folderOf(project.id)!, 'exports');
  mkdirSync(exportsDir, { recursive: true });
  writeFileSync(join(exportsDir, 'scores.csv'), 'id,score\na,1\n');
  writeFileSync(join(exportsDir, 'report-run1-20250101.html'), '<!doctype html><p>report</p>');
  mkdirSync(join(exportsDir, 'folder.csv'));
  mkdirSync(join(exportsDir, 'report-run2-20250101.html'));
  symlinkSync(join(exportsDir, 'nowhere.csv'), join(exportsDir, 'dangling.csv'));
});

afterAll(async () => {
  await server.close();
  host.close();
});

const get = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${server.port}${path}${path.includes('?') ? '&' : '?'}token=${server.token}`);

describe('serve: export and report files', () => {
  it('serves a regular export file as a download', async () => {
    const answer = await get(`/exports/${project.id}/scores.csv`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="scores.csv"');
    expect(answer.headers.get('content-length')).toBe('13');
    expect(await answer.text()).toBe('id,score\na,1\n');
  });

  it('answers 404 for a folder, a missing file, a dangling link and a bad escape, and goes on', async () => {
    for (const path of [
      `/exports/${project.id}/folder.csv`,
      `/exports/${project.id}/missing.csv`,
      `/exports/${project.id}/dangling.csv`,
      `/exports/${project.id}/%E0%A4%A`,
      `/exports/999/scores.csv`,
      `/reports/${project.id}/report-run2-20250101.html`,
      `/reports/${project.id}/report-run3-20250101.html`,
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(await answer.text()).toMatch(/^No such (export|report)\.$/);
    }
    expect((await get(`/exports/${project.id}/scores.csv`)).status).toBe(200);
  });

  it('shows a report page under its own CSP', async () => {
    const answer = await get(`/reports/${project.id}/report-run1-20250101.html`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await answer.text()).toContain('<p>report</p>');
  });

  it('exports.list lists the regular files only', async () => {
    const answer = await host.dispatch('exports.list', { projectId: project.id });
    expect(answer.ok).toBe(true);
    const names = (answer as { value: ExportFile[] }).value.map((file) => file.name).sort();
    expect(names).toEqual(['report-run1-20250101.html', 'scores.csv']);
  });

  it('exports.reveal refuses a folder as it refuses a missing file', async () => {
    expect(await host.dispatch('exports.reveal', { projectId: project.id, name: 'folder.csv' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});
