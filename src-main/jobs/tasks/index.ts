/**
 * jobs/tasks — the registry of task bodies, one per job kind (api/tasks). The compute process,
 * the command line and the cluster worker run them through jobs/task's runTask. Only processes
 * that compute import this file: it loads onnxruntime.
 */
import { TASK_KINDS, type TaskKind } from '../../api/tasks';
import type { RunnableTask } from '../task';
import { benchmark } from './benchmark';
import { embedDataset } from './embed-dataset';
import { compressEmbeddings, exportEmbeddings } from './embedding-files';
import { finetuneTask, trainImportTask, trainPredictTask } from './finetune';
import { learnPredict } from './learn-predict';
import { learnScan } from './learn-scan';
import { mapProject } from './map-project';
import { signalPeptideCvTask, signalPeptidePredictTask, signalPeptideTask } from './signal-peptide';
import { downloadAndInstallModel, installModel } from './models';
import { structureInspect } from './structure-inspect';
import { trainExplain } from './train-explain';
import { saturateProtein, scoreDataset } from './variants';

const ALL: readonly RunnableTask[] = [
  structureInspect,
  trainExplain,
  scoreDataset,
  saturateProtein,
  benchmark,
  embedDataset,
  installModel,
  downloadAndInstallModel,
  compressEmbeddings,
  learnScan,
  learnPredict,
  exportEmbeddings,
  mapProject,
  finetuneTask,
  trainImportTask,
  trainPredictTask,
  signalPeptideTask,
  signalPeptideCvTask,
  signalPeptidePredictTask,
];

export const tasks: ReadonlyMap<TaskKind, RunnableTask> = new Map(ALL.map((task) => [task.kind, task]));

for (const kind of TASK_KINDS) {
  if (!tasks.has(kind)) throw new Error(`No task body for job kind ${kind}.`);
}
