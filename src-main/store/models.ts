/** store/models — installed ESM-2 models (converted ONNX graphs under the app home's models/). */
import type { Model } from '../api/schemas';
import type { Db } from './db';

interface ModelRow {
  id: number;
  name: string;
  family: string;
  layers: number;
  hidden_size: number;
  path: string;
  created_at: string;
}

export class ModelsRepo {
  constructor(private readonly db: Db) {}

  list(): Model[] {
    const rows = this.db.prepare('SELECT * FROM models ORDER BY name').all() as ModelRow[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      family: r.family,
      layers: r.layers,
      hiddenSize: r.hidden_size,
      path: r.path,
      createdAt: r.created_at,
    }));
  }
}
