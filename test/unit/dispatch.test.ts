import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src-main/api/contract';
import { createHost, type Host } from '../../src-main/services';

let host: Host;
afterEach(() => host?.close());

function newHost(): Host {
  host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-dispatch-')), transport: 'cli' });
  return host;
}

describe('dispatch: the one entry of every transport', () => {
  it('rejects unknown methods and invalid input with a readable message', async () => {
    const { dispatch } = newHost();
    expect(await dispatch('projects.explode', {})).toMatchObject({ ok: false, error: { code: 'invalid-input', message: 'Unknown request "projects.explode".' } });
    const blank = await dispatch('projects.create', { name: '   ' });
    expect(blank).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(!blank.ok && blank.error.message).toContain('name: A project needs a name.');
    const extra = await dispatch('projects.create', { name: 'x', admin: true });
    expect(extra.ok).toBe(false);
  });

  it('creates, renames and deletes projects, with their folders, and pushes events', async () => {
    const { dispatch, events, store } = newHost();
    const seen: ApiEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const created = await dispatch('projects.create', { name: 'Enzymes' });
    expect(created).toMatchObject({ ok: true, value: { name: 'Enzymes', datasetCount: 0 } });
    const id = (created as { value: { id: number } }).value.id;
    const folder = store.projects.folderOf(id)!;
    expect(folder.startsWith(store.home.projects)).toBe(true);

    expect(await dispatch('projects.create', { name: 'enzymes' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await dispatch('projects.rename', { id, name: 'Kinases' })).toMatchObject({ ok: true, value: { name: 'Kinases' } });
    expect(await dispatch('projects.delete', { id })).toEqual({ ok: true, value: { ok: true } });
    expect(await dispatch('projects.list', {})).toEqual({ ok: true, value: [] });
    const { existsSync } = await import('node:fs');
    expect(existsSync(folder)).toBe(false);
    expect(seen.filter((e) => e.type === 'projects')).toHaveLength(3);
  });

  it('previews without writing, refuses files with errors unless accepted, and imports the rest', async () => {
    const { dispatch, store } = newHost();
    const project = (await dispatch('projects.create', { name: 'P' })) as { value: { id: number } };
    const source = { kind: 'text', fileName: 'set.fasta', text: '>a\nMKV\n>b\nMK#V\n>c\nGGG\n' };
    const preview = await dispatch('datasets.preview', { source });
    expect(preview).toMatchObject({ ok: true, value: { records: 3, importable: 2, errorCount: 1 } });
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM datasets').get()).toEqual({ n: 0 });

    const refused = await dispatch('datasets.import', { projectId: project.value.id, source });
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM datasets').get()).toEqual({ n: 0 });

    const imported = await dispatch('datasets.import', { projectId: project.value.id, source, accept: true });
    expect(imported).toMatchObject({ ok: true, value: { dataset: { name: 'set', sequenceCount: 2 } } });
    const datasetId = (imported as { value: { dataset: { id: number } } }).value.dataset.id;
    const page = await dispatch('datasets.sequences', { datasetId, offset: 1, limit: 10 });
    expect(page).toMatchObject({ ok: true, value: { total: 2, rows: [{ index: 1, seqId: 'c', sequence: 'GGG', length: 3 }] } });

    const again = await dispatch('datasets.import', { projectId: project.value.id, source, accept: true });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('names the missing file when a path cannot be read', async () => {
    const { dispatch } = newHost();
    const result = await dispatch('datasets.preview', { source: { kind: 'path', path: '/nonexistent/x.fasta' } });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-input', message: 'Cannot read /nonexistent/x.fasta: no such file.' } });
  });
});
