/**
 * services/paths in serve mode: requests that name a file or folder on this computer (dataset
 * path sources, model installs from a folder, adapter folders, fine-tune imports) may read only
 * inside the data folder and the allowed folders, symlinks resolved; the desktop app and the CLI
 * read any path. The refusal names the path and ESM_STUDIO_ALLOW.
 */
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope } from '../../src-main/api/contract';
import { createHost, type Host } from '../../src-main/services';
import { allowedFoldersFromEnv, realPath, requestPaths } from '../../src-main/services/paths';
import { startServer } from '../../src-main/serve/server';

const FASTA = '>a\nMKTAYIAKQR\n>b\nGSHMLEDPVD\n';
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'esm-paths-')));
const home = join(scratch, 'home');
const allowed = join(scratch, 'allowed');
const outside = join(scratch, 'outside');
let served: Host;
let desktop: Host;
let projectId: number;

beforeAll(() => {
  for (const folder of [home, allowed, outside, join(allowed, 'models')]) mkdirSync(folder, { recursive: true });
  writeFileSync(join(allowed, 'ok.fasta'), FASTA);
  writeFileSync(join(outside, 'secret.fasta'), FASTA);
  symlinkSync(join(outside, 'secret.fasta'), join(allowed, 'link-out.fasta'));
  symlinkSync(outside, join(allowed, 'folder-link'));
  symlinkSync(join(allowed, 'ok.fasta'), join(outside, 'link-in.fasta'));
  mkdirSync(`${allowed}-sibling`);
  writeFileSync(join(`${allowed}-sibling`, 'x.fasta'), FASTA);
  served = createHost({ home, transport: 'websocket', allowedFolders: [allowed] });
  desktop = createHost({ home: join(scratch, 'desktop-home'), transport: 'ipc' });
  projectId = served.projects.create('Paths').id;
  writeFileSync(join(home, 'in-home.fasta'), FASTA);
});

afterAll(() => {
  served.close();
  desktop.close();
});

const preview = (host: Host, path: string): Promise<Envelope> => host.dispatch('datasets.preview', { source: { kind: 'path', path }, options: {} });

function expectRefused(envelope: Envelope, path: string): void {
  expect(envelope.ok).toBe(false);
  if (envelope.ok) return;
  expect(envelope.error.code).toBe('refused');
  expect(envelope.error.message).toContain(path);
  expect(envelope.error.message).toContain('ESM_STUDIO_ALLOW');
}

describe('serve mode reads only inside the allowed folders', () => {
  it('refuses system files and files outside, whether they exist or not', async () => {
    for (const path of ['/etc/passwd', '/etc/shadow', join(outside, 'secret.fasta'), join(outside, 'missing.fasta'), '/nowhere/at/all.fasta']) {
      expectRefused(await preview(served, path), path);
    }
  });

  it('reads files in the data folder and in the allowed folders', async () => {
    for (const path of [join(home, 'in-home.fasta'), join(allowed, 'ok.fasta'), join(outside, 'link-in.fasta')]) {
      expect(await preview(served, path), path).toMatchObject({ ok: true, value: { records: 2, importable: 2 } });
    }
    expect(await served.dispatch('datasets.import', { projectId, source: { kind: 'path', path: join(allowed, 'ok.fasta') }, options: {}, accept: false })).toMatchObject({ ok: true });
  });

  it('says a missing file inside an allowed folder is missing', async () => {
    expect(await preview(served, join(allowed, 'missing.fasta'))).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringContaining('no such file') } });
  });

  it('follows symlinks and ".." before comparing, and does not mistake a sibling folder for an allowed one', async () => {
    for (const path of [join(allowed, 'link-out.fasta'), join(allowed, 'folder-link', 'secret.fasta'), join(allowed, '..', 'outside', 'secret.fasta'), join(`${allowed}-sibling`, 'x.fasta')]) {
      expectRefused(await preview(served, path), path);
    }
  });

  it('refuses the same for dataset imports, model installs, adapter folders and fine-tune imports', async () => {
    expectRefused(await served.dispatch('datasets.import', { projectId, source: { kind: 'path', path: '/etc/passwd' }, options: {}, accept: true }), '/etc/passwd');
    expectRefused(await served.dispatch('jobs.start', { kind: 'model.install', path: '/etc' }), '/etc');
    expectRefused(await served.dispatch('jobs.start', { kind: 'train.import', projectId, modelId: 1, path: outside }), outside);
    const finetune = { kind: 'train.finetune', projectId, datasetId: 1, modelId: 1, targets: ['y'], initAdapter: { kind: 'folder', path: outside } };
    expectRefused(await served.dispatch('jobs.start', finetune), outside);
  });

  it('carries the refusal over the WebSocket', async () => {
    const server = await startServer({ host: served, rendererDir: scratch });
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    await new Promise((resolve) => socket.once('open', resolve));
    const answer = new Promise<{ envelope: Envelope }>((resolve) => socket.once('message', (data) => resolve(JSON.parse(String(data)))));
    socket.send(JSON.stringify({ id: 1, method: 'datasets.preview', input: { source: { kind: 'path', path: '/etc/shadow' }, options: {} } }));
    expectRefused((await answer).envelope, '/etc/shadow');
    socket.close();
    await server.close();
  });
});

describe('the desktop app and the CLI read what the user chose', () => {
  it('does not restrict path sources', async () => {
    expect(await preview(desktop, join(outside, 'secret.fasta'))).toMatchObject({ ok: true, value: { records: 2 } });
  });
});

describe('paths helpers', () => {
  it('reads ESM_STUDIO_ALLOW like PATH', () => {
    expect(allowedFoldersFromEnv({ ESM_STUDIO_ALLOW: ['/data/a', ' /data/b ', '', '/data/c'].join(delimiter) })).toEqual(['/data/a', '/data/b', '/data/c']);
    expect(allowedFoldersFromEnv({})).toEqual([]);
    expect(allowedFoldersFromEnv({ ESM_STUDIO_ALLOW: `~${sep}data` })).toEqual([join(homedir(), 'data')]);
  });

  it('finds every path field of a request, at any depth', () => {
    expect(requestPaths({ kind: 'x', path: '/a', initAdapter: { kind: 'folder', path: '/b' }, list: [{ path: '/c' }], other: 'path' })).toEqual(['/a', '/b', '/c']);
    expect(requestPaths(null)).toEqual([]);
  });

  it('resolves a path that does not exist through its nearest existing folder', () => {
    expect(realPath(join(allowed, 'folder-link', 'new', 'file.csv'))).toBe(join(outside, 'new', 'file.csv'));
  });
});
