/**
 * cli/fit — `esm-studio fit`: cross-validates one learner on an embedding matrix against a label
 * column with the app's scan task (learn.scan, one embedding × one learner, run in this process)
 * and writes predictions.csv (id, fold, y, yhat) and models.json (the fold models) as the scan
 * writes them, plus metrics.json (per fold and mean ± sd). Inputs are files, or a project run's
 * embeddings. A labels
 * file is read with the import's label rule (datasets/readLabelTable): empty, NA, NaN… are missing
 * values, whose rows are left out (and counted); an infinity is an error naming its row.
 * `--annotations` (with `--ontology`) takes GO / EC terms as the multi-label targets instead.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ApiError } from '../api/errors';
import { writeTextAtomically } from '../core/atomic';
import { readNumberCell } from '../datasets';
import { readLabelTable } from '../datasets/table';
import type { LabelValue } from '../datasets/types';
import { runTaskHere } from '../jobs/run-here';
import { LEARNERS } from '../learn/learners';
import type { Scaling } from '../learn/scale';
import type { SplitSpec } from '../learn/splits';
import { readNpy } from '../store/npy';
import type { Host } from '../services';
import { MUTATION_COLUMNS, mutationPositions } from '../variants/positions';
import { endProgress, interruptible, progressLine } from './engine-commands';
import { clusterRunner, type ClusterFlags } from './cluster-options';
import { CliExit } from './exit';
import { annotationTargets, type AnnotationFlags } from './fit-annotations';
import type { LabelMatrix } from '../datasets/ontology';

export interface FitFlags extends ClusterFlags {
  embeddings?: string;
  ids?: string;
  labels?: string;
  idCol: string;
  target: string;
  learner: string;
  cv: string;
  split: string;
  scale: Scaling;
  seed: string;
  out: string;
  project?: string;
  run?: string;
  model?: string;
  layer?: string;
  pool: string;
}

interface FitInput {
  ids: string[];
  /** The embedding matrix (absolute path), float32 [rows, D]. */
  matrix: { path: string; layer: number; pooling: string };
  /** Label columns of each row. */
  rows: Record<string, string | number | null>[];
  /** Protein sequences (a project's dataset, or a "sequence" column of the labels file); null when unknown. */
  sequences?: string[] | null;
}

function readLabelFile(file: string, idCol: string): Map<string, Record<string, LabelValue>> {
  if (!existsSync(file)) throw new CliExit(`Cannot read ${file}.`);
  const delimiter = /\.(tsv|tab)$/i.test(file) ? '\t' : ',';
  try {
    const table = readLabelTable(file, readFileSync(file, 'utf8'), delimiter, idCol);
    return new Map(table.rows.map((row) => [row.id, row.labels]));
  } catch (error) {
    if (error instanceof ApiError) throw new CliExit(error.message);
    throw error;
  }
}

/** A regression target's value by the import's rule: a number, missing (null), or an error naming the row. */
function targetNumber(value: LabelValue | undefined, row: number, id: string, target: string): number | null {
  if (typeof value === 'number') return value;
  const read = readNumberCell(String(value ?? '').trim());
  if (read.kind === 'number') return read.value;
  if (read.kind === 'missing') return null;
  throw new CliExit(`Row ${row + 1} (${id}): "${String(value)}" in column "${target}" is not a number${read.kind === 'infinite' ? ' (it is infinite)' : ''}.`);
}

function fromFiles(flags: FitFlags & AnnotationFlags): FitInput {
  if (!flags.embeddings || !flags.ids || (!flags.labels && !flags.annotations)) throw new CliExit('Give --embeddings, --ids and --labels (or --annotations), or --project and --run.', 2);
  const array = readNpy(resolve(flags.embeddings));
  if (array.shape.length !== 2) throw new CliExit(`${flags.embeddings}: expected a 2-D matrix [sequences, features], found shape [${array.shape.join(', ')}].`);
  const [n, d] = array.shape as [number, number];
  const ids = readFileSync(resolve(flags.ids), 'utf8').split(/\r?\n/).filter((line) => line.length > 0);
  if (ids.length !== n) throw new CliExit(`${flags.ids} has ${ids.length} ids but ${flags.embeddings} has ${n} rows.`);
  // With --annotations alone, the rows have no label columns: the terms come from the annotation file.
  if (!flags.labels) return { ids, matrix: { path: resolve(flags.embeddings), layer: 0, pooling: 'file' }, rows: ids.map(() => ({})) };
  const labels = readLabelFile(resolve(flags.labels), flags.idCol);
  const missing = ids.filter((id) => !labels.has(id));
  if (missing.length === ids.length) throw new CliExit(`None of the ids in ${flags.ids} appear in column "${flags.idCol}" of ${flags.labels}.`);
  void d;
  const rows = ids.map((id) => labels.get(id) ?? {});
  const sequences = rows.every((r) => typeof r.sequence === 'string' && r.sequence.length > 0) ? rows.map((r) => String(r.sequence)) : null;
  return { ids, matrix: { path: resolve(flags.embeddings), layer: 0, pooling: 'file' }, rows, sequences };
}

/** The run `flags.run` of the project, or an error naming the runs it has. */
function projectRun(host: Host, projectId: number, projectName: string, run: string | undefined): number {
  const runs = host.store.runs.list(projectId);
  const runId = Number(run);
  if (run === undefined || !Number.isInteger(runId)) throw new CliExit('--project needs --run <id> (the run whose embeddings to use; see `esm-studio runs --project NAME`).', 2);
  if (runs.some((r) => r.id === runId)) return runId;
  const embeddingRuns = runs.filter((r) => r.kind === 'embed.dataset').map((r) => `${r.id} (${r.title})`);
  throw new CliExit(`Project "${projectName}" has no run ${runId}. Its embedding runs: ${embeddingRuns.join(', ') || 'none yet'}. \`esm-studio runs --project "${projectName}"\` lists them all.`);
}

function fromProject(host: Host, flags: FitFlags): FitInput {
  const project = host.store.projects.findByName(flags.project!);
  if (!project) throw new CliExit(`No project named "${flags.project}".`);
  const runId = projectRun(host, project.id, project.name, flags.run);
  const all = host.store.embeddings.list(project.id, runId).filter((e) => !e.offsetsPath);
  const available = all.map((e) => `${e.pooling}_layer${e.layer}${new Set(all.map((x) => x.modelName)).size > 1 ? ` (${e.modelName})` : ''}`);
  if (all.length === 0) throw new CliExit(`Run ${runId} of "${project.name}" has no embedding matrices (it is not a finished embedding run).`);
  const candidates = all.filter((e) => e.pooling === flags.pool && (!flags.model || e.modelName === flags.model));
  if (candidates.length === 0) throw new CliExit(`Run ${runId} of "${project.name}" has no "${flags.pool}" matrix${flags.model ? ` for ${flags.model}` : ''}; it has ${available.join(', ')}. Choose with --pool and --model.`);
  const layers = [...new Set(candidates.map((e) => e.layer))];
  const layer = flags.layer === undefined ? Math.max(...layers) : Number(flags.layer) < 0 ? Math.max(...layers) + 1 + Number(flags.layer) : Number(flags.layer);
  const chosen = candidates.filter((e) => e.layer === layer);
  if (chosen.length !== 1) {
    const what = chosen.length === 0 ? `no "${flags.pool}" matrix of layer ${layer}` : `${chosen.length} "${flags.pool}" matrices of layer ${layer} (one per model)`;
    throw new CliExit(`Run ${runId} of "${project.name}" has ${what}; it has ${available.join(', ')}. Choose with --model, --layer and --pool.`);
  }
  const e = chosen[0]!;
  const dataset = host.store.datasets.get(e.datasetId!)!;
  const rows = host.store.datasets.sequences(dataset.id, 0, dataset.sequenceCount);
  return { ids: rows.map((r) => r.seqId), matrix: { path: join(host.store.projects.folderOf(project.id)!, e.path), layer: e.layer, pooling: e.pooling }, rows: rows.map((r) => r.labels), sequences: rows.map((r) => r.sequence) };
}

function splitSpec(flags: FitFlags): SplitSpec {
  const k = Number(flags.cv);
  const seed = Number(flags.seed);
  if (flags.split.startsWith('column:')) return { scheme: 'column', k, seed, column: flags.split.slice('column:'.length) };
  // cluster:30 or cluster:30:80: similarity folds at 30 % identity (over 80 % coverage of both sequences).
  const cluster = /^cluster:(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(flags.split);
  if (cluster) {
    const identity = Number(cluster[1]);
    const coverage = cluster[2] === undefined ? 80 : Number(cluster[2]);
    if (identity < 10 || identity > 100 || coverage > 100) throw new CliExit(`--split ${flags.split}: the identity must be 10 to 100 (%) and the coverage 0 to 100 (%), e.g. cluster:30 or cluster:30:80.`, 2);
    return { scheme: 'homology', k, seed, identity, coverage };
  }
  // temporal:<column>:<date>: train on rows dated before the date, test on the rest.
  const temporal = /^temporal:(.+):(\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?)$/.exec(flags.split);
  if (temporal) return { scheme: 'temporal', k, seed, column: temporal[1]!, date: temporal[2]! };
  if (flags.split.startsWith('temporal')) throw new CliExit(`--split ${flags.split}: write temporal:<date column>:<YYYY-MM-DD>, e.g. temporal:released:2020-01-01.`, 2);
  if (!['random', 'stratified', 'contiguous', 'modulo'].includes(flags.split)) throw new CliExit(`Unknown --split "${flags.split}"; choose random, stratified, contiguous, modulo, column:<name>, cluster:<identity %> or temporal:<column>:<date>.`, 2);
  return { scheme: flags.split as SplitSpec['scheme'], k, seed };
}

function positionsOf(rows: FitInput['rows']): number[][] | null {
  const column = MUTATION_COLUMNS.find((name) => rows.every((r) => typeof r[name] === 'string' && mutationPositions(r[name] as string)));
  return column ? rows.map((r) => mutationPositions(r[column] as string)!) : null;
}

/** The target of each row as the scan reads it: a number or a class, null when missing (left out). */
function targetValues(input: FitInput, target: string, regression: boolean): (number | string | null)[] {
  return input.rows.map((r, i) => {
    const value = r[target];
    if (value === undefined || value === null || value === '') return null;
    return regression ? targetNumber(value, i, input.ids[i]!, target) : String(value);
  });
}

/** The GO/EC labels of an --annotations fit, for metrics.json: id, name, namespace and how many proteins have it. */
function termsOf(m: LabelMatrix): { id: string; name: string; namespace: string; proteins: number }[] {
  return m.labels.map((id, l) => ({ id, name: m.names[l]!, namespace: m.namespaces[l]!, proteins: m.counts[l]! }));
}

/** The scan task's files for the one fit, under the names `fit` documents. */
function publishResults(staging: string, out: string, learner: string, metrics: Record<string, unknown>): void {
  mkdirSync(out, { recursive: true });
  renameSync(join(staging, `0-${learner}-predictions.csv`), join(out, 'predictions.csv'));
  renameSync(join(staging, `0-${learner}-models.json`), join(out, 'models.json'));
  // Similarity folds: the cluster and fold of every sequence.
  if (existsSync(join(staging, 'homology-clusters.csv'))) renameSync(join(staging, 'homology-clusters.csv'), join(out, 'clusters.csv'));
  writeTextAtomically(join(out, 'metrics.json'), JSON.stringify(metrics, null, 2));
  rmSync(staging, { recursive: true, force: true });
}

export async function fitCommand(flags: FitFlags & AnnotationFlags, openHost: () => Host): Promise<void> {
  const learner = LEARNERS.find((l) => l.id === flags.learner);
  if (!learner) throw new CliExit(`Unknown --learner "${flags.learner}"; choose from ${LEARNERS.map((l) => l.id).join(', ')}.`, 2);
  let input: FitInput;
  if (flags.project) {
    const host = openHost();
    try {
      input = fromProject(host, flags);
    } finally {
      host.close();
    }
  } else input = fromFiles(flags);
  // GO / EC terms from --annotations (cli/fit-annotations), as the multi-label target columns.
  if (flags.annotations && learner.task !== 'multilabel') throw new CliExit(`--annotations gives several GO/EC labels per protein: use a multi-label learner (${LEARNERS.filter((l) => l.task === 'multilabel').map((l) => l.id).join(', ')}).`, 2);
  if (!flags.annotations && !flags.target) throw new CliExit('Give --target (the label column to predict), or --annotations for GO/EC terms.', 2);
  const fromAnnotations = flags.annotations ? annotationTargets(flags, input.ids) : null;
  if (fromAnnotations) flags = { ...flags, target: `${fromAnnotations.labels.length} terms of ${basename(flags.annotations!)}` };
  // Multi-label (--learner ovr-logreg): --target names several 0/1 columns, comma-separated.
  const targets = fromAnnotations ? fromAnnotations.labels : learner.task === 'multilabel' ? flags.target.split(',').map((name) => name.trim()).filter(Boolean) : null;
  if (targets && targets.length < 2) throw new CliExit(`${learner.label} predicts several yes/no labels: give --target as two or more 0/1 columns, comma-separated.`, 2);
  const targetColumns = fromAnnotations ? fromAnnotations.targetColumns : targets ? targets.map((name) => targetValues(input, name, true)) : null;
  const target = targetColumns ? input.rows.map((_, i) => (targetColumns.every((column) => column[i] !== null) ? 1 : null)) : targetValues(input, flags.target, learner.task === 'regression');
  const used = target.filter((value) => value !== null).length;
  if (used === 0) throw new CliExit(`No row has a value in column "${flags.target}".`);
  const leftOut = input.rows.length - used;
  if (leftOut > 0) console.log(`${leftOut} of ${input.rows.length} rows have no value in "${flags.target}" and were left out.`);
  const spec = splitSpec(flags);
  const item = { embeddingId: 0, modelName: 'embeddings', modelParameters: 0, layer: input.matrix.layer, pooling: input.matrix.pooling, path: input.matrix.path };
  const params = { runDir: '.', target: flags.target, targets: targets ?? undefined, task: learner.task, learners: [learner.id], split: spec, scaling: flags.scale, classWeight: null, items: [item] };
  if (spec.scheme === 'homology' && !input.sequences) throw new CliExit(`--split ${flags.split} needs the protein sequences: give --project, or a "sequence" column in the labels file.`, 2);
  const sequences = spec.scheme === 'homology' ? input.sequences : null;
  const scanInput = { ids: input.ids, target, positions: positionsOf(input.rows), splitValues: spec.column ? input.rows.map((r) => r[spec.column!] ?? null) : null, targetColumns, labelStructure: fromAnnotations?.structure ?? null, sequences };
  const out = resolve(flags.out);
  const staging = join(out, `.fit-staging-${process.pid}`);
  const started = performance.now();
  let metrics: { perFold: Record<string, number>[]; summary: Record<string, { mean: number; sd: number }> } | null = null;
  // On a cluster (--cluster) the fit is one array task: its folds are cross-validated together.
  const cluster = clusterRunner(flags, flags.out);
  const run = cluster ?? ((kind, taskParams, taskInput, workDir, hooks) => runTaskHere('learn.scan', taskParams as typeof params, taskInput, workDir, hooks));
  const interrupt = interruptible();
  let splitNote: string | null;
  try {
    const summary = await run('learn.scan', params, scanInput, staging, {
      signal: interrupt.signal,
      // The scan's progress says "…: fold 2 of 5 done"; a terminal shows the fold part.
      onProgress: (fraction, message) => progressLine(fraction, message.replace(/^.*: (?=fold )/, '')),
      onArtifact: (_kind, _path, meta) => void (metrics = (meta as { metrics: NonNullable<typeof metrics> }).metrics),
    });
    splitNote = typeof summary?.split === 'string' ? summary.split : null;
  } catch (error) {
    endProgress();
    rmSync(staging, { recursive: true, force: true });
    if (interrupt.signal.aborted) throw new CliExit('Fit cancelled; nothing was written.', 130);
    if (error instanceof CliExit) throw error;
    throw new CliExit((error as Error).message);
  } finally {
    interrupt.done();
  }
  endProgress();
  const seconds = (performance.now() - started) / 1000;
  const fit = metrics!;
  const meta = { learner: learner.id, task: learner.task, target: flags.target, split: spec, scaling: flags.scale, rows: used, seconds, ...(fromAnnotations ? { terms: termsOf(fromAnnotations.matrix) } : {}) };
  publishResults(staging, out, learner.id, { ...meta, perFold: fit.perFold, mean: fit.summary });
  // GO/EC terms: CAFA's Fmax and Smin, and Fmax per namespace (fmaxMF, fmaxBP, …) when there are several.
  const cafa = fromAnnotations ? ['smin', ...Object.keys(fit.summary).filter((m) => /^fmax[A-Z]/.test(m))] : ['macroF1'];
  const headline = learner.task === 'regression' ? ['r2', 'spearman'] : learner.task === 'multilabel' ? ['fmax', ...cafa] : ['accuracy', 'balancedAccuracy'];
  if (splitNote) console.log(splitNote);
  // "r2 0.712 ± 0.040 (0.650–0.770)": fold mean ± sd, then the 95 % bootstrap interval over proteins when there is one.
  const interval = (m: string): string => {
    const s = fit.summary[m] as { low?: number; high?: number } | undefined;
    return s?.low !== undefined && s.high !== undefined ? ` (${s.low.toFixed(3)}–${s.high.toFixed(3)})` : '';
  };
  console.log(headline.map((m) => `${m} ${fit.summary[m]?.mean.toFixed(3)} ± ${fit.summary[m]?.sd.toFixed(3)}${interval(m)}`).join(', ') + ` (${used} rows, ${fit.perFold.length} folds, ${seconds.toFixed(1)} s) → ${out}`);
}
