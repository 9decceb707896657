/**
 * services — one service per use case, wired once over the store and the job runner. Every
 * transport (Electron IPC, serve's WebSocket, the CLI) calls the same `dispatch`.
 */
import { totalmem } from 'node:os';
import type { AppInfo } from '../api/schemas';
import { ApiError, notFound } from '../api/errors';
import { COMPRESSION_INFO } from '../core/compression';
import { catalogEntries } from '../models/catalog';
import { familyById } from '../models/registry';
import { describeModel } from './model-facts';
import { describeJob, JobRunner, type RunnerOptions } from '../jobs/runner';
import type { ComputeLauncher } from '../jobs/protocol';
import { openStore, type Store } from '../store';
import type { OpenOptions } from '../store/db';
import { lockDataFolder, type FolderLock } from '../store/lock';
// Transports find the data folder through the services, never the store.
export { defaultHome, homeLayout } from '../store/paths';
import { IN_PROCESS_PARSER, workerParser } from './dataset-parser';
import { DatasetsService } from './datasets';
import { createDispatch, type Dispatch, type Handlers } from './dispatch';
import { Events } from './events';
import { exportFilePath, exportTable, listExports } from './exports';
import { JobsService } from './jobs';
import { allowedFolders, allowedFoldersFromEnv, checkingPaths, UNRESTRICTED, type PathPolicy } from './paths';
import { learnOptions } from './learn';
import { MapService } from './map';
import { ProjectsService } from './projects';
import { StructureService } from './structure';
import { ClusterService } from './cluster';
import { SignalPeptideService } from './signal-peptide';
import { ReportsService, type PrintPdf } from './reports';
import { RunsService } from './runs';
import { APP_VERSION } from '../core/version';

export interface HostOptions extends OpenOptions {
  home: string;
  transport: AppInfo['transport'];
  /** Starts compute processes; without one (e.g. a CLI command that runs no job) jobs stay queued. */
  launcher?: ComputeLauncher;
  /** Shows a file in the system's file manager (only the desktop app can). */
  reveal?: (path: string) => void;
  /** Prints a report's HTML to PDF (only the desktop app can; see electron/report-pdf). */
  printPdf?: PrintPdf;
  /**
   * Serve mode only: the folders besides the data folder that requests may name paths in
   * (default: ESM_STUDIO_ALLOW). The desktop app and the CLI read any path (services/paths).
   */
  allowedFolders?: readonly string[];
  /** The built dataset-parse-worker.js: large dataset files are parsed in it, off the main loop (else here). */
  parseWorker?: string;
  /** How many jobs run at once (see jobs/runner; default: ESM_STUDIO_HEAVY_JOBS heavy jobs, 2 light ones). */
  runner?: RunnerOptions;
}

export interface Host {
  store: Store;
  events: Events;
  projects: ProjectsService;
  datasets: DatasetsService;
  jobs: JobsService;
  reports: ReportsService;
  runner: JobRunner | null;
  dispatch: Dispatch;
  close(): void;
}

const HOLDERS: Record<AppInfo['transport'], string> = { ipc: 'the desktop app', websocket: 'serve mode', cli: 'the command line' };

/** A process that runs jobs holds the data folder's lock (store/lock), so that no two run jobs side by side. */
function lockIfRunningJobs(store: Store, options: HostOptions): FolderLock | null {
  if (!options.launcher) return null;
  try {
    return lockDataFolder(store.home.root, HOLDERS[options.transport]);
  } catch (error) {
    store.close();
    throw error;
  }
}

/** Serve mode reads only inside the data folder and the allowed folders; the other transports read what the user chose. */
function pathPolicy(store: Store, options: HostOptions): PathPolicy {
  if (options.transport !== 'websocket') return UNRESTRICTED;
  return allowedFolders([store.home.root, ...(options.allowedFolders ?? allowedFoldersFromEnv())]);
}

export function createHost(options: HostOptions): Host {
  const store = openStore(options.home, options);
  const lock = lockIfRunningJobs(store, options);
  const events = new Events();
  const projects = new ProjectsService(store, events);
  const datasets = new DatasetsService(store, events, options.parseWorker ? workerParser(options.parseWorker) : IN_PROCESS_PARSER);
  const requireRunner = (): JobRunner => {
    if (!runner) throw new Error('This process runs no jobs.');
    return runner;
  };
  const jobs = new JobsService(store, events, requireRunner);
  const reports = new ReportsService(store, events, options.printPdf);
  const runs = new RunsService(store, events);
  const map = new MapService(store);
  const structure = new StructureService(store, requireRunner);
  const signalPeptides = new SignalPeptideService(store, events, requireRunner);
  const cluster = new ClusterService(store, requireRunner);
  const jobHooks = { ...jobs.hooks(), ...signalPeptides.hooks() };
  const runner = options.launcher ? new JobRunner(store, options.launcher, (event) => events.emit(event), jobHooks, options.runner) : null;

  const handlers: Handlers = {
    'app.info': () => ({ name: 'ESM Studio', version: APP_VERSION, home: store.home.root, transport: options.transport }),
    'projects.list': () => projects.list(),
    'projects.create': ({ name }) => projects.create(name),
    'projects.rename': ({ id, name }) => projects.rename(id, name),
    'projects.delete': ({ id }) => projects.delete(id),
    'datasets.list': ({ projectId }) => datasets.list(projectId),
    'datasets.preview': ({ source, options: importOptions }) => datasets.previewRequest(source, importOptions),
    'datasets.import': (input) => datasets.importRequest(input),
    'datasets.sequences': ({ datasetId, offset, limit }) => datasets.sequences(datasetId, offset, limit),
    'datasets.delete': ({ id }) => datasets.delete(id),
    'models.list': () => store.models.list().map(describeModel),
    'models.catalog': () => {
      const installed = store.models.list();
      const memoryGB = Math.round(totalmem() / 1e9);
      return catalogEntries().map((entry) => ({
        ...entry,
        family: familyById(entry.family)?.label ?? entry.family,
        installed: installed.filter((m) => m.catalogId === entry.id).map((m) => m.id),
        fitsThisComputer: memoryGB >= entry.minMemoryGB,
        computerMemoryGB: memoryGB,
      }));
    },
    'models.delete': ({ id }) => jobs.deleteModel(id),
    'embeddings.list': ({ projectId, runId }) => {
      projects.get(projectId);
      return store.embeddings.list(projectId, runId);
    },
    'embeddings.compressions': () => Object.entries(COMPRESSION_INFO).map(([kind, info]) => ({ kind, ...info })),
    'exports.list': ({ projectId }) => listExports(store, projects.get(projectId).id),
    'exports.table': ({ projectId, name, limit }) => exportTable(store, projects.get(projectId).id, name, limit),
    'exports.reveal': ({ projectId, name }) => {
      const path = exportFilePath(store, projectId, name);
      if (!options.reveal) throw new ApiError('refused', `The file is at ${path}.`);
      options.reveal(path);
      return { ok: true as const };
    },
    'jobs.list': ({ projectId }) => (runner ? runner.list(projectId) : store.jobs.list(projectId).map((job) => describeJob(job, jobHooks))),
    'jobs.start': (request) => jobs.start(request),
    'jobs.cancel': ({ id }) => requireRunner().cancel(id),
    'jobs.resume': ({ id }) => requireRunner().resume(id),
    'jobs.clear': ({ ids }) => ({ cleared: store.jobs.clear(ids) }),
    'fits.list': ({ runId }) => {
      if (!store.runs.get(runId)) throw notFound(`Run ${runId}`);
      return store.fits.list(runId);
    },
    'learn.options': ({ datasetId }) => learnOptions(store, datasetId),
    'runs.list': ({ projectId }) => {
      projects.get(projectId);
      return store.runs.list(projectId);
    },
    'runs.metrics': ({ runId }) => {
      if (!store.runs.get(runId)) throw notFound(`Run ${runId}`);
      return store.runs.metrics(runId);
    },
    'runs.withMetrics': ({ projectId }) => reports.runsWithMetrics(projectId),
    'runs.rename': ({ runId, title }) => runs.rename(runId, title),
    'runs.dependents': ({ runId }) => runs.dependents(runId),
    'runs.delete': ({ runId, withDependents }) => runs.delete(runId, withDependents),
    'fits.predictions': ({ fitId }) => reports.predictions(fitId),
    'train.options': () => jobs.train.options(),
    'train.attributions': (input) => jobs.train.attributions(input),
    'variants.methods': () => jobs.variants.methods(),
    'variants.saturation': ({ runId }) => jobs.variants.saturation(runId),
    'variants.measured': ({ datasetId, column, wildType, aminoAcids }) => jobs.variants.measured(datasetId, column, wildType, aminoAcids),
    'variants.scores': ({ runId, threshold }) => jobs.variants.scores(runId, threshold),
    'variants.export': ({ runId, layout, model }) => jobs.variants.export(runId, layout, model),
    'reports.create': ({ runId }) => reports.create(runId),
    'reports.list': ({ projectId }) => reports.list(projectId),
    'reports.pdf': ({ projectId, name }) => reports.pdf(projectId, name),
    'structure.inspect': (input) => structure.inspect(input),
    'structure.contacts': (input) => structure.contacts(input),
    'structure.attention': (input) => structure.attention(input),
    'structure.attentionMap': (input) => structure.attentionMap(input),
    'map.list': ({ projectId }) => map.list(projectId),
    'map.points': ({ projectionId }) => map.points(projectionId),
    'map.predictions': ({ projectionId, fitId }) => map.predictions(projectionId, fitId),
    'datasets.subset': (input) => datasets.subset(input),
    'datasets.annotate': (input) => datasets.annotate(input),
    'cluster.profiles': () => cluster.profiles(),
    'jobs.cluster': ({ id }) => cluster.view(id),
    'signalPeptide.options': () => signalPeptides.options(),
    'signalPeptide.train': (input) => signalPeptides.startTraining(input),
    'signalPeptide.crossValidate': (input) => signalPeptides.startCrossValidation(input),
    'signalPeptide.predict': (input) => signalPeptides.startPrediction(input),
    'signalPeptide.results': ({ runId }) => signalPeptides.results(runId),
    'signalPeptide.protein': ({ runId, index }) => signalPeptides.protein(runId, index),
    'signalPeptide.export': ({ runId, format }) => signalPeptides.export(runId, format),
  };

  runner?.start();
  // The app and serve mode follow cluster arrays they were following when they ended; a command resumes its own job.
  if (runner && options.transport !== 'cli') cluster.pickUp();
  return {
    store,
    events,
    projects,
    datasets,
    jobs,
    reports,
    runner,
    dispatch: createDispatch(checkingPaths(handlers, pathPolicy(store, options))),
    close() {
      runner?.stop();
      store.close();
      lock?.release();
    },
  };
}
