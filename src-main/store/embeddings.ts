/** store/embeddings — the index of embedding matrices: run, model, layer, pooling → .npy file. */
import type { Embedding } from '../api/schemas';
import { now, type Db } from './db';

interface EmbeddingRow {
  id: number;
  run_id: number;
  dataset_id: number | null;
  model_id: number | null;
  model_name: string;
  layer: number;
  pooling: string;
  path: string;
  offsets_path: string | null;
  rows: number;
  cols: number;
  checksum: string;
  created_at: string;
}

export interface EmbeddingRecord extends Embedding {
  offsetsPath: string | null;
  checksum: string;
}

const toRecord = (r: EmbeddingRow): EmbeddingRecord => ({
  id: r.id,
  runId: r.run_id,
  datasetId: r.dataset_id,
  modelId: r.model_id,
  modelName: r.model_name,
  layer: r.layer,
  pooling: r.pooling,
  rows: r.rows,
  cols: r.cols,
  path: r.path,
  offsetsPath: r.offsets_path,
  checksum: r.checksum,
  createdAt: r.created_at,
});

export type NewEmbedding = Omit<EmbeddingRecord, 'id' | 'createdAt'>;

export class EmbeddingsRepo {
  constructor(private readonly db: Db) {}

  /** Records a matrix; recording the same (run, model, layer, pooling) again replaces it (a resumed job may report twice). */
  upsert(e: NewEmbedding): number {
    this.db
      .prepare(
        `INSERT INTO embeddings (run_id, dataset_id, model_id, model_name, layer, pooling, path, offsets_path, rows, cols, checksum, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, model_name, layer, pooling) DO UPDATE SET
           path = excluded.path, offsets_path = excluded.offsets_path, rows = excluded.rows, cols = excluded.cols, checksum = excluded.checksum`,
      )
      .run(e.runId, e.datasetId, e.modelId, e.modelName, e.layer, e.pooling, e.path, e.offsetsPath, e.rows, e.cols, e.checksum, now());
    const row = this.db
      .prepare('SELECT id FROM embeddings WHERE run_id = ? AND model_name = ? AND layer = ? AND pooling = ?')
      .get(e.runId, e.modelName, e.layer, e.pooling) as { id: number };
    return row.id;
  }

  get(id: number): EmbeddingRecord | undefined {
    const row = this.db.prepare('SELECT * FROM embeddings WHERE id = ?').get(id) as EmbeddingRow | undefined;
    return row && toRecord(row);
  }

  find(runId: number, modelName: string, layer: number, pooling: string): EmbeddingRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM embeddings WHERE run_id = ? AND model_name = ? AND layer = ? AND pooling = ?')
      .get(runId, modelName, layer, pooling) as EmbeddingRow | undefined;
    return row && toRecord(row);
  }

  list(projectId: number, runId?: number): EmbeddingRecord[] {
    const rows = this.db
      .prepare(
        `SELECT e.* FROM embeddings e JOIN runs r ON r.id = e.run_id
         WHERE r.project_id = ? AND (? IS NULL OR e.run_id = ?)
         ORDER BY e.run_id DESC, e.model_name, e.layer, e.pooling`,
      )
      .all(projectId, runId ?? null, runId ?? null) as EmbeddingRow[];
    return rows.map(toRecord);
  }

  projectOf(id: number): number | undefined {
    const row = this.db.prepare('SELECT r.project_id AS p FROM embeddings e JOIN runs r ON r.id = e.run_id WHERE e.id = ?').get(id) as { p: number } | undefined;
    return row?.p;
  }
}
