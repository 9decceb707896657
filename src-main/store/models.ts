/**
 * store/models — installed models of every family (converted ONNX folders under the app home's
 * models/). `family` holds the family's label ('ESM-2', 'ESM C'); what only the model folder knows
 * (its parameter count, its family's heads) services/model-facts reads from its manifest.
 */
import type { Model } from '../api/schemas';

/** A model as the database keeps it. */
export type ModelRecord = Omit<Model, 'parameters' | 'hasContacts' | 'loraTargets' | 'defaultLoraTargets'>;
import { now, type Db } from './db';

interface ModelRow {
  id: number;
  name: string;
  family: string;
  catalog_id: string | null;
  layers: number;
  hidden_size: number;
  precision: 'fp32' | 'fp16' | 'int8';
  size_bytes: number;
  source: string;
  path: string;
  created_at: string;
}

const toModel = (r: ModelRow): ModelRecord => ({
  id: r.id,
  name: r.name,
  family: r.family,
  catalogId: r.catalog_id,
  layers: r.layers,
  hiddenSize: r.hidden_size,
  precision: r.precision,
  sizeBytes: r.size_bytes,
  source: r.source,
  path: r.path,
  createdAt: r.created_at,
});

export interface NewModel {
  name: string;
  /** The family's label, e.g. 'ESM C'. */
  family: string;
  catalogId: string | null;
  layers: number;
  hiddenSize: number;
  precision: 'fp32' | 'fp16' | 'int8';
  sizeBytes: number;
  source: string;
  path: string;
}

export class ModelsRepo {
  constructor(private readonly db: Db) {}

  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY layers, name').all() as ModelRow[]).map(toModel);
  }

  get(id: number): ModelRecord | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
    return row && toModel(row);
  }

  nameTaken(name: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM models WHERE name = ?').get(name);
  }

  insert(model: NewModel): number {
    const result = this.db
      .prepare(
        `INSERT INTO models (name, family, catalog_id, layers, hidden_size, precision, size_bytes, source, path, manifest, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)`,
      )
      .run(model.name, model.family, model.catalogId, model.layers, model.hiddenSize, model.precision, model.sizeBytes, model.source, model.path, now());
    return Number(result.lastInsertRowid);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
  }
}
