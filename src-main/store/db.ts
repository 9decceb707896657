/**
 * store/db — opens the one SQLite database of an app home (WAL, foreign keys, busy timeout) and
 * brings its schema up to date. Several processes may open it at once (app, serve, CLI).
 */
import Database from 'better-sqlite3';
import { migrations, type Migration } from './migrations';

export type Db = Database.Database;

export interface OpenOptions {
  /** Path of a better-sqlite3 addon built for the running runtime (Electron uses its own build). */
  nativeBinding?: string;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash may lose the
  // last transactions, never corrupt the file.
  db.pragma('synchronous = NORMAL');
  migrate(db, migrations);
  return db;
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

export function migrate(db: Db, all: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  // IMMEDIATE takes the write lock first, so two processes starting together cannot both apply
  // the same migration; each re-reads the version under the lock.
  const applyPending = db.transaction(() => {
    for (const migration of all) {
      if (migration.version <= schemaVersion(db)) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
    }
  });
  applyPending.immediate();
}

export function integrityCheck(db: Db): string {
  return (db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
}

export const now = (): string => new Date().toISOString();
