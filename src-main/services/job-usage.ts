/**
 * services/job-usage — whether a queued or running job of any kind uses a project, dataset or
 * model, so that nothing a job reads or writes is deleted under it. One rule for every delete.
 *
 * Job parameters differ by kind, so they are read generically: ids under `…datasetId` keys, model
 * ids under `models[].id`/`modelId`, embedding ids (`embeddingId`, `sourceId`, `items[].embeddingId`)
 * that lead to their dataset, and every path-like string (model folders are referred to by path).
 */
import { isAbsolute, relative } from 'node:path';
import { ApiError } from '../api/errors';
import type { Store } from '../store';
import type { JobRecord } from '../store/jobs';

export type UsedThing = { projectId: number } | { datasetId: number } | { modelId: number } | { runId: number };

interface Mentions {
  datasetIds: Set<number>;
  modelIds: Set<number>;
  embeddingIds: Set<number>;
  strings: Set<string>;
}

function collect(value: unknown, key: string, parentKey: string, into: Mentions): void {
  if (typeof value === 'number') {
    if (/datasetId$/i.test(key)) into.datasetIds.add(value);
    if (key === 'modelId' || (key === 'id' && parentKey === 'models')) into.modelIds.add(value);
    if (key === 'embeddingId' || key === 'sourceId') into.embeddingIds.add(value);
  } else if (typeof value === 'string') {
    into.strings.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, key, key, into);
  } else if (value && typeof value === 'object') {
    for (const [childKey, child] of Object.entries(value)) collect(child, childKey, key, into);
  }
}

function mentionsOf(params: unknown): Mentions {
  const mentions: Mentions = { datasetIds: new Set(), modelIds: new Set(), embeddingIds: new Set(), strings: new Set() };
  collect(params, '', '', mentions);
  return mentions;
}

const inside = (path: string, folder: string): boolean => {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

function uses(store: Store, job: JobRecord, thing: UsedThing): boolean {
  if ('projectId' in thing) return job.job.projectId === thing.projectId;
  const mentions = mentionsOf(job.params);
  if ('runId' in thing) return job.job.runId === thing.runId || mentionsRun(store, mentions, thing.runId);
  if ('datasetId' in thing) {
    if (mentions.datasetIds.has(thing.datasetId)) return true;
    return [...mentions.embeddingIds].some((id) => store.embeddings.get(id)?.datasetId === thing.datasetId);
  }
  if (mentions.modelIds.has(thing.modelId)) return true;
  const folder = store.models.get(thing.modelId)?.path;
  return folder !== undefined && [...mentions.strings].some((text) => isAbsolute(text) && inside(text, folder));
}

/** Whether parameters name one of the run's embedding matrices or a file in the run's folder (`runs/<id>/…`). */
function mentionsRun(store: Store, mentions: Mentions, runId: number): boolean {
  if ([...mentions.embeddingIds].some((id) => store.embeddings.get(id)?.runId === runId)) return true;
  const folder = new RegExp(`(^|[\\/])runs[\\/]${runId}([\\/]|$)`);
  return [...mentions.strings].some((text) => folder.test(text));
}

/** Whether a run's parameters use another run (its embeddings or files), by the same reading as jobs. */
export function runUses(store: Store, params: unknown, runId: number): boolean {
  return mentionsRun(store, mentionsOf(params), runId);
}

/** The first queued or running job that uses the thing, if any. */
export function jobUsing(store: Store, thing: UsedThing): JobRecord | undefined {
  return store.jobs.active().find((job) => uses(store, job, thing));
}

/** Refuses to delete what a queued or running job uses, naming the job (`what` is e.g. `Dataset "TEM-1"`). */
export function assertNoJobUses(store: Store, thing: UsedThing, what: string): void {
  const job = jobUsing(store, thing);
  if (!job) return;
  const progress = job.job.state === 'running' ? `running, ${Math.floor(job.job.fraction * 100)} %` : 'queued';
  throw new ApiError('refused', `${what} is used by the job "${job.job.title}" (${progress}). Cancel that job or wait for it to finish, then delete.`);
}
