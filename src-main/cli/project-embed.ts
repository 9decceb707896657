/**
 * cli/project-embed — `esm-studio embed --project P --dataset D`: the app's embedding run, from
 * the terminal. It is stored as a run the app lists; running the same command again after an
 * interruption, a failure or Ctrl-C resumes that run (its finished batches kept) instead of
 * starting over. Which jobs can be resumed is the API's answer (`resumable`), not decided here. `--out` also writes the result
 * matrices in the `embed` file layout.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Envelope, Input, MethodName, Output } from '../api/contract';
import type { EmbedSettings, Job, Model } from '../api/schemas';
import { MANIFEST_FILE } from '../models/installed';
import type { Host } from '../services';
import { checkDistinctLayers } from './engine-commands';
import { writeBytesAtomically, writingFile } from '../core/atomic';
import { CliExit } from './exit';

export async function call<M extends MethodName>(host: Host, method: M, input: Input<M>): Promise<Output<M>> {
  const envelope = (await host.dispatch(method, input)) as Envelope<Output<M>>;
  if (!envelope.ok) throw new CliExit(envelope.error.message, 1);
  return envelope.value;
}

const FINISHED = new Set(['done', 'failed', 'cancelled', 'interrupted']);

/** Waits for a job to end, printing its progress; Ctrl-C cancels it. */
export function followJob(host: Host, job: Job): Promise<Job> {
  return new Promise((resolveJob) => {
    let lastLine = '';
    const onInterrupt = (): void => void host.runner?.cancel(job.id);
    const unsubscribe = host.events.subscribe((event) => {
      if (event.type !== 'job' || event.job.id !== job.id) return;
      const { state, fraction, message } = event.job;
      const line = `${(fraction * 100).toFixed(0).padStart(3)}%  ${state}  ${message}`;
      if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(90).slice(0, 100)}`);
      else if (line.slice(0, 4) !== lastLine.slice(0, 4) || state !== 'running') process.stderr.write(`${line}\n`);
      lastLine = line;
      if (FINISHED.has(state)) {
        if (process.stderr.isTTY) process.stderr.write('\n');
        unsubscribe();
        process.off('SIGINT', onInterrupt);
        resolveJob(event.job);
      }
    });
    process.once('SIGINT', onInterrupt);
  });
}

/** An installed model by name or id, or a model folder / checkpoint installed now. */
async function findOrInstallModel(host: Host, model: string): Promise<Model> {
  const models = await call(host, 'models.list', {});
  const known = models.find((m) => m.name === model || String(m.id) === model || resolve(m.path) === resolve(model));
  if (known) return known;
  if (!existsSync(model)) {
    throw new CliExit(`No installed model is called "${model}" and no such folder exists. Installed: ${models.map((m) => m.name).join(', ') || 'none'}.`);
  }
  if (existsSync(join(model, MANIFEST_FILE))) throw new CliExit(`${model} is a converted model folder; install its checkpoint with --model <checkpoint folder> instead.`);
  console.error(`Installing ${model} …`);
  const job = await followJob(host, await call(host, 'jobs.start', { kind: 'model.install', path: resolve(model) }));
  if (job.state !== 'done') throw new CliExit(job.error ?? `Installing the model ended ${job.state}.`);
  return (await call(host, 'models.list', {})).find((m) => resolve(m.source) === resolve(model))!;
}

/** The latest resumable (interrupted, failed or cancelled) run of the same embedding. */
async function resumableJob(host: Host, projectId: number, params: Record<string, unknown>): Promise<Job | undefined> {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const jobs = await call(host, 'jobs.list', { projectId });
  return jobs
    .filter((job) => job.kind === 'embed.dataset' && job.resumable)
    .sort((a, b) => b.id - a.id)
    .find((job) => {
      const stored = host.store.jobs.record(job.id)?.params as Record<string, unknown> | undefined;
      return stored !== undefined && Object.entries(params).every(([key, value]) => same(stored[key], value));
    });
}

export interface ProjectEmbedFlags {
  project: string;
  dataset: string;
  model: string;
  out?: string;
  settings: Omit<EmbedSettings, 'modelIds'>;
}

export async function projectEmbed(host: Host, flags: ProjectEmbedFlags): Promise<void> {
  const project = host.store.projects.findByName(flags.project);
  if (!project) throw new CliExit(`No project named "${flags.project}".`);
  const dataset = (await call(host, 'datasets.list', { projectId: project.id })).find((d) => d.name === flags.dataset);
  if (!dataset) throw new CliExit(`Project "${project.name}" has no dataset named "${flags.dataset}".`);
  const model = await findOrInstallModel(host, flags.model);
  checkDistinctLayers(flags.settings.layers, model.layers, '--layers');

  const request = { kind: 'embed.dataset' as const, projectId: project.id, datasetId: dataset.id, modelIds: [model.id], ...flags.settings };
  const compare = { datasetId: dataset.id, layers: flags.settings.layers, pool: flags.settings.pool, batchTokens: flags.settings.batchTokens, long: flags.settings.long, models: [{ id: model.id, name: model.name, dir: model.path }] };
  const earlier = await resumableJob(host, project.id, compare);
  if (earlier) console.error(`Resuming run ${earlier.runId} (job ${earlier.id}, ${earlier.state}, ${(earlier.fraction * 100).toFixed(0)} % done before it stopped).`);
  const job = earlier ? await call(host, 'jobs.resume', { id: earlier.id }) : await call(host, 'jobs.start', request);
  const finished = await followJob(host, job);
  if (finished.state === 'cancelled') {
    throw new CliExit(`Cancelled run ${finished.runId}; its finished batches are kept. Run the same command again to resume it.`, 130);
  }
  if (finished.state !== 'done') throw new CliExit(`${finished.error ?? `The embedding run ended ${finished.state}.`} Run the same command again to resume it.`);

  const embeddings = await call(host, 'embeddings.list', { projectId: project.id, runId: finished.runId! });
  console.log(`Run ${finished.runId} of project "${project.name}": ${embeddings.map((e) => `${e.pooling}_layer${e.layer} [${e.rows}, ${e.cols}]`).join(', ')}`);
  if (flags.out) writeOutFolder(host, project.id, dataset.id, finished, embeddings, resolve(flags.out));
}

/** Copies the run's matrices into `out` with ids.txt and run.json, as `embed --fasta` writes them. */
function writeOutFolder(host: Host, projectId: number, datasetId: number, job: Job, embeddings: Output<'embeddings.list'>, out: string): void {
  const folder = host.store.projects.folderOf(projectId)!;
  mkdirSync(out, { recursive: true });
  for (const e of embeddings) {
    if (e.pooling === 'per-token') continue; // per-residue rows stay in the project (offsets-indexed)
    const target = join(out, `${e.pooling}_layer${e.layer}.npy`);
    writingFile(target, () => copyFileSync(join(folder, e.path), target));
  }
  const rows = host.store.datasets.sequences(datasetId, 0, host.store.datasets.get(datasetId)!.sequenceCount);
  writeBytesAtomically(join(out, 'ids.txt'), new TextEncoder().encode(rows.map((r) => `${r.seqId}\n`).join('')));
  const run = host.store.runs.get(job.runId!)!;
  writeBytesAtomically(join(out, 'run.json'), new TextEncoder().encode(JSON.stringify({ run: run.id, project: projectId, params: run.params, summary: run.summary }, null, 2)));
  console.log(`Also written to ${out}.`);
}
