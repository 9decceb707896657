/** store/fits — the results of cross-validated fits (one row per embedding × learner of a scan). */
import type { Fit } from '../api/schemas';
import { now, type Db } from './db';

interface FitRow {
  id: number;
  run_id: number;
  embedding_id: number | null;
  model_name: string;
  model_family: string;
  model_parameters: number;
  layer: number;
  pooling: string;
  learner: string;
  task: 'regression' | 'classification';
  target: string;
  metrics: string;
  predictions_path: string;
  models_path: string;
}

export type NewFit = Omit<Fit, 'id'> & { modelsPath: string };

export class FitsRepo {
  constructor(private readonly db: Db) {}

  upsert(fit: NewFit): void {
    this.db
      .prepare(
        `INSERT INTO fits (run_id, embedding_id, model_name, model_family, model_parameters, layer, pooling, learner, task, target, metrics, predictions_path, models_path, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, embedding_id, learner) DO UPDATE SET metrics = excluded.metrics,
           predictions_path = excluded.predictions_path, models_path = excluded.models_path`,
      )
      .run(
        fit.runId,
        fit.embeddingId,
        fit.modelName,
        fit.modelFamily,
        fit.modelParameters,
        fit.layer,
        fit.pooling,
        fit.learner,
        fit.task,
        fit.target,
        JSON.stringify({ summary: fit.summary, perFold: fit.perFold }),
        fit.predictionsPath,
        fit.modelsPath,
        now(),
      );
  }

  get(id: number): (Fit & { modelsPath: string }) | undefined {
    const row = this.db.prepare('SELECT * FROM fits WHERE id = ?').get(id) as FitRow | undefined;
    return row && { ...this.toFit(row), modelsPath: row.models_path };
  }

  list(runId: number): Fit[] {
    const rows = this.db.prepare('SELECT * FROM fits WHERE run_id = ? ORDER BY model_parameters, model_name, layer, pooling, learner').all(runId) as FitRow[];
    return rows.map((r) => this.toFit(r));
  }

  private toFit(r: FitRow): Fit {
      const metrics = JSON.parse(r.metrics) as Pick<Fit, 'summary' | 'perFold'>;
      return {
        id: r.id,
        runId: r.run_id,
        embeddingId: r.embedding_id,
        modelName: r.model_name,
        modelFamily: r.model_family,
        modelParameters: r.model_parameters,
        layer: r.layer,
        pooling: r.pooling,
        learner: r.learner,
        task: r.task,
        target: r.target,
        summary: metrics.summary,
        perFold: metrics.perFold,
        predictionsPath: r.predictions_path,
      };
  }
}
