/**
 * services — one service per use case, wired once over the store and the job runner. Every
 * transport (Electron IPC, serve's WebSocket, the CLI) calls the same `dispatch`.
 */
import { z } from 'zod';
import { JobRequest, type AppInfo } from '../api/schemas';
import { notFound } from '../api/errors';
import { JobRunner } from '../jobs/runner';
import type { ComputeLauncher } from '../jobs/protocol';
import { openStore, type Store } from '../store';
import type { OpenOptions } from '../store/db';
import { DatasetsService } from './datasets';
import { createDispatch, type Dispatch, type Handlers } from './dispatch';
import { Events } from './events';
import { ProjectsService } from './projects';
import { APP_VERSION } from './version';

export interface HostOptions extends OpenOptions {
  home: string;
  transport: AppInfo['transport'];
  /** Starts compute processes; without one (e.g. a CLI command that runs no job) jobs stay queued. */
  launcher?: ComputeLauncher;
}

export interface Host {
  store: Store;
  events: Events;
  projects: ProjectsService;
  datasets: DatasetsService;
  runner: JobRunner | null;
  dispatch: Dispatch;
  close(): void;
}

function jobTitle(request: z.output<typeof JobRequest>): string {
  switch (request.kind) {
    case 'system.benchmark':
      return `Benchmark this computer (${request.seconds} s)`;
  }
}

export function createHost(options: HostOptions): Host {
  const store = openStore(options.home, options);
  const events = new Events();
  const projects = new ProjectsService(store, events);
  const datasets = new DatasetsService(store, events);
  const runner = options.launcher ? new JobRunner(store, options.launcher, (event) => events.emit(event)) : null;

  const requireRunner = (): JobRunner => {
    if (!runner) throw new Error('This process runs no jobs.');
    return runner;
  };

  const handlers: Handlers = {
    'app.info': () => ({ name: 'ESM Studio', version: APP_VERSION, home: store.home.root, transport: options.transport }),
    'projects.list': () => projects.list(),
    'projects.create': ({ name }) => projects.create(name),
    'projects.rename': ({ id, name }) => projects.rename(id, name),
    'projects.delete': ({ id }) => projects.delete(id),
    'datasets.list': ({ projectId }) => datasets.list(projectId),
    'datasets.preview': ({ source, options: importOptions }) => datasets.preview(source, importOptions),
    'datasets.import': (input) => datasets.import(input),
    'datasets.sequences': ({ datasetId, offset, limit }) => datasets.sequences(datasetId, offset, limit),
    'datasets.delete': ({ id }) => datasets.delete(id),
    'models.list': () => store.models.list(),
    'jobs.list': ({ projectId }) => store.jobs.list(projectId),
    'jobs.start': (request) => {
      projects.get(request.projectId);
      const { kind, projectId, ...params } = request;
      return requireRunner().enqueue({ projectId, kind, title: jobTitle(request), params });
    },
    'jobs.cancel': ({ id }) => requireRunner().cancel(id),
    'jobs.resume': ({ id }) => requireRunner().resume(id),
    'runs.list': ({ projectId }) => {
      projects.get(projectId);
      return store.runs.list(projectId);
    },
    'runs.metrics': ({ runId }) => {
      if (!store.runs.get(runId)) throw notFound(`Run ${runId}`);
      return store.runs.metrics(runId);
    },
  };

  runner?.start();
  return {
    store,
    events,
    projects,
    datasets,
    runner,
    dispatch: createDispatch(handlers),
    close() {
      runner?.stop();
      store.close();
    },
  };
}
