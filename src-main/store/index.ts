/**
 * store — SQLite state (better-sqlite3, WAL, numbered migrations) plus array files under each
 * project's folder. Large arrays never go into the database: only their paths and checksums.
 */
import { openDatabase, type Db, type OpenOptions } from './db';
import { DatasetsRepo } from './datasets';
import { EmbeddingsRepo } from './embeddings';
import { FitsRepo } from './fits';
import { JobsRepo } from './jobs';
import { ModelsRepo } from './models';
import { homeLayout, type HomeLayout } from './paths';
import { ProjectsRepo } from './projects';
import { RunsRepo } from './runs';

export interface Store {
  db: Db;
  home: HomeLayout;
  projects: ProjectsRepo;
  datasets: DatasetsRepo;
  jobs: JobsRepo;
  runs: RunsRepo;
  models: ModelsRepo;
  embeddings: EmbeddingsRepo;
  fits: FitsRepo;
  close(): void;
}

export function openStore(homeRoot: string, options: OpenOptions = {}): Store {
  const home = homeLayout(homeRoot);
  const db = openDatabase(home.database, options);
  return {
    db,
    home,
    projects: new ProjectsRepo(db),
    datasets: new DatasetsRepo(db),
    jobs: new JobsRepo(db),
    runs: new RunsRepo(db),
    models: new ModelsRepo(db),
    embeddings: new EmbeddingsRepo(db),
    fits: new FitsRepo(db),
    close: () => db.close(),
  };
}

export type { Db } from './db';
export { integrityCheck } from './db';
export { defaultHome } from './paths';
