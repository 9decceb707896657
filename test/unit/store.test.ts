import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion } from '../../src-main/store/db';
import { migrations } from '../../src-main/store/migrations';
import { openStore } from '../../src-main/store';

const tempDir = () => mkdtempSync(join(tmpdir(), 'esm-store-'));

describe('store', () => {
  it('opens in WAL mode at the latest schema version, and migrating again changes nothing', () => {
    const file = join(tempDir(), 'db.sqlite');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const latest = Math.max(...migrations.map((m) => m.version));
    expect(schemaVersion(db)).toBe(latest);
    migrate(db, migrations);
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({ n: migrations.length });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    for (const table of ['projects', 'datasets', 'sequences', 'models', 'jobs', 'runs', 'metrics', 'artifacts']) {
      expect(tables).toContain(table);
    }
    db.close();
  });

  it('applies only migrations newer than the recorded version', () => {
    const db = openDatabase(join(tempDir(), 'db.sqlite'));
    const next = { version: 999, description: 'test column', sql: 'ALTER TABLE projects ADD COLUMN note TEXT' };
    migrate(db, [...migrations, next]);
    migrate(db, [...migrations, next]);
    expect(schemaVersion(db)).toBe(999);
    expect(() => db.prepare('SELECT note FROM projects').all()).not.toThrow();
    db.close();
  });

  it('deleting a project removes its datasets, sequences, runs, metrics and jobs', () => {
    const store = openStore(tempDir());
    const projectId = store.projects.insert('P', join(store.home.projects, 'p'));
    const report = { fileName: 'a.fasta', format: 'fasta', labelColumns: [] } as never;
    const datasetId = store.datasets.insert(projectId, 'a', report, [{ seqId: 's1', sequence: 'MK', labels: {} }]);
    const runId = store.runs.insert({ projectId, kind: 'k', title: 't', params: {} });
    store.runs.addMetrics(runId, [{ step: 1, name: 'loss', value: 0.5 }]);
    store.jobs.insert({ projectId, runId, kind: 'k', title: 't', params: {} });
    store.projects.delete(projectId);
    for (const table of ['datasets', 'sequences', 'runs', 'metrics', 'jobs']) {
      expect(store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    }
    expect(store.datasets.get(datasetId)).toBeUndefined();
    store.close();
  });

  it('metrics reported twice for a step keep one value (a resumed job may repeat a step)', () => {
    const store = openStore(tempDir());
    const projectId = store.projects.insert('P', 'p');
    const runId = store.runs.insert({ projectId, kind: 'k', title: 't', params: {} });
    store.runs.addMetrics(runId, [{ step: 1, name: 'loss', value: 0.5 }]);
    store.runs.addMetrics(runId, [{ step: 1, name: 'loss', value: 0.4 }, { step: 2, name: 'loss', value: 0.3 }]);
    expect(store.runs.metrics(runId)).toEqual([
      { step: 1, name: 'loss', value: 0.4 },
      { step: 2, name: 'loss', value: 0.3 },
    ]);
    store.close();
  });

  it('marks running jobs of dead processes interrupted, and leaves live owners alone', () => {
    const store = openStore(tempDir());
    const projectId = store.projects.insert('P', 'p');
    const mine = store.jobs.insert({ projectId, runId: null, kind: 'k', title: 'a', params: {} });
    const other = store.jobs.insert({ projectId, runId: null, kind: 'k', title: 'b', params: {} });
    const dead = store.jobs.insert({ projectId, runId: null, kind: 'k', title: 'c', params: {} });
    store.jobs.claim(mine, process.pid);
    store.jobs.claim(other, 4242);
    store.jobs.claim(dead, 4343);
    const interrupted = store.jobs.markOrphansInterrupted((pid) => pid === 4242);
    expect(interrupted.sort()).toEqual([mine, dead].sort());
    expect(store.jobs.get(other)?.state).toBe('running');
    expect(store.jobs.get(dead)?.state).toBe('interrupted');
    expect(store.jobs.claim(other, 1)).toBe(false);
    store.close();
  });
});
