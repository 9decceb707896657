/**
 * store/migrations — the numbered schema changes, applied in order inside one transaction each.
 * Never edit a released migration: add the next number instead.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'projects, datasets, sequences, models, jobs, runs, metrics, artifacts',
    sql: `
      CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        folder TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        source_file TEXT NOT NULL,
        format TEXT NOT NULL,
        sequence_count INTEGER NOT NULL,
        label_columns TEXT NOT NULL DEFAULT '[]',
        report TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        UNIQUE (project_id, name)
      );
      CREATE TABLE sequences (
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        seq_id TEXT NOT NULL,
        sequence TEXT NOT NULL,
        length INTEGER NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (dataset_id, idx)
      ) WITHOUT ROWID;
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        family TEXT NOT NULL,
        layers INTEGER NOT NULL,
        hidden_size INTEGER NOT NULL,
        path TEXT NOT NULL,
        manifest TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        state TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        params TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled','interrupted')),
        fraction REAL NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        eta_seconds REAL,
        error TEXT,
        checkpoint TEXT,
        owner_pid INTEGER,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX jobs_state ON jobs(state);
      CREATE TABLE metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step REAL NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (run_id, name, step)
      ) WITHOUT ROWID;
      CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        checksum TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'installed model details; embedding matrices indexed by run, model, layer and pooling',
    sql: `
      ALTER TABLE models ADD COLUMN catalog_id TEXT;
      ALTER TABLE models ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32';
      ALTER TABLE models ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE models ADD COLUMN source TEXT NOT NULL DEFAULT '';
      CREATE TABLE embeddings (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
        model_name TEXT NOT NULL,
        layer INTEGER NOT NULL,
        -- mean, bos, max, per-token, or a compression of per-token rows (pca1, pca2, idct_5x44)
        pooling TEXT NOT NULL,
        -- relative to the project folder; row i belongs to the dataset's sequence idx i
        -- (per-token matrices: rows offsets[i]..offsets[i+1] of [total residues, D], offsets in offsets_path)
        path TEXT NOT NULL,
        offsets_path TEXT,
        rows INTEGER NOT NULL,
        cols INTEGER NOT NULL,
        checksum TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, model_name, layer, pooling)
      );
    `,
  },
  {
    version: 3,
    description: 'cross-validated fits of learners on embedding matrices (scan results)',
    sql: `
      CREATE TABLE fits (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        embedding_id INTEGER REFERENCES embeddings(id) ON DELETE SET NULL,
        model_name TEXT NOT NULL,
        model_parameters INTEGER NOT NULL,
        layer INTEGER NOT NULL,
        pooling TEXT NOT NULL,
        learner TEXT NOT NULL,
        task TEXT NOT NULL,
        target TEXT NOT NULL,
        -- { perFold: [...], summary: { metric: { mean, sd, n } } }
        metrics TEXT NOT NULL,
        -- relative to the project folder: predictions.csv (id, fold, y, yhat) and the fold models (JSON)
        predictions_path TEXT NOT NULL,
        models_path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, embedding_id, learner)
      );
    `,
  },
  {
    version: 4,
    description: 'job revisions (clients keep the newest state of a job) and cleared finished jobs',
    sql: `
      ALTER TABLE jobs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE jobs ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;
      -- Every change of a job counts, whoever makes it: clients order the states they receive by it.
      -- (SQLite's recursive_triggers is off, so this update does not fire the trigger again.)
      CREATE TRIGGER jobs_revision AFTER UPDATE ON jobs
      BEGIN
        UPDATE jobs SET revision = OLD.revision + 1 WHERE id = NEW.id;
      END;
    `,
  },
  {
    version: 5,
    description: 'the model family of each fit (the scan plot draws ESM-2 and ESM C apart)',
    sql: `
      -- Fits scored before this were of ESM-2 models (ESM C could not be scanned apart from them).
      ALTER TABLE fits ADD COLUMN model_family TEXT NOT NULL DEFAULT 'ESM-2';
    `,
  },
];
