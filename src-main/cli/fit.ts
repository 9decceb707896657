/**
 * cli/fit — `esm-studio fit`: cross-validates one learner on an embedding matrix against a label
 * column and writes predictions.csv (id, fold, y, yhat), metrics.json (per fold and mean ± sd)
 * and models.json (the fold models). Inputs are files, or a project run's embeddings. A labels
 * file is read with the import's label rule (datasets/readLabelTable): empty, NA, NaN… are missing
 * values, whose rows are left out (and counted); an infinity is an error naming its row.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../api/errors';
import { readNumberCell } from '../datasets';
import { readLabelTable } from '../datasets/table';
import type { LabelValue } from '../datasets/types';
import { csvField, formatFloat32 } from '../exports';
import { evaluateClassification, evaluateRegression, type Evaluation } from '../learn/evaluate';
import { classifierFor, LEARNERS, regressorFor } from '../learn/learners';
import { takeRows, type Matrix } from '../learn/matrix';
import type { Scaling } from '../learn/scale';
import { buildFolds, type SplitSpec } from '../learn/splits';
import { readNpy } from '../store/npy';
import type { Host } from '../services';
import { MUTATION_COLUMNS, mutationPositions } from '../variants/positions';
import { writeBytesAtomically } from '../core/atomic';
import { endProgress, progressLine } from './engine-commands';
import { CliExit } from './exit';

export interface FitFlags {
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
  X: Matrix;
  /** Label columns of each row. */
  rows: Record<string, string | number | null>[];
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

function fromFiles(flags: FitFlags): FitInput {
  if (!flags.embeddings || !flags.ids || !flags.labels) throw new CliExit('Give --embeddings, --ids and --labels, or --project and --run.', 2);
  const array = readNpy(resolve(flags.embeddings));
  if (array.shape.length !== 2) throw new CliExit(`${flags.embeddings}: expected a 2-D matrix [sequences, features], found shape [${array.shape.join(', ')}].`);
  const [n, d] = array.shape as [number, number];
  const ids = readFileSync(resolve(flags.ids), 'utf8').split(/\r?\n/).filter((line) => line.length > 0);
  if (ids.length !== n) throw new CliExit(`${flags.ids} has ${ids.length} ids but ${flags.embeddings} has ${n} rows.`);
  const labels = readLabelFile(resolve(flags.labels), flags.idCol);
  const missing = ids.filter((id) => !labels.has(id));
  if (missing.length === ids.length) throw new CliExit(`None of the ids in ${flags.ids} appear in column "${flags.idCol}" of ${flags.labels}.`);
  const X: Matrix = { data: Float64Array.from(array.data as Float32Array), rows: n, cols: d };
  return { ids, X, rows: ids.map((id) => labels.get(id) ?? {}) };
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
  const array = readNpy(join(host.store.projects.folderOf(project.id)!, e.path));
  return { ids: rows.map((r) => r.seqId), X: { data: Float64Array.from(array.data as Float32Array), rows: e.rows, cols: e.cols }, rows: rows.map((r) => r.labels) };
}

function splitSpec(flags: FitFlags): SplitSpec {
  const k = Number(flags.cv);
  const seed = Number(flags.seed);
  if (flags.split.startsWith('column:')) return { scheme: 'column', k, seed, column: flags.split.slice('column:'.length) };
  if (!['random', 'stratified', 'contiguous', 'modulo'].includes(flags.split)) throw new CliExit(`Unknown --split "${flags.split}".`, 2);
  return { scheme: flags.split as SplitSpec['scheme'], k, seed };
}

function positionsOf(rows: FitInput['rows']): number[][] | null {
  const column = MUTATION_COLUMNS.find((name) => rows.every((r) => typeof r[name] === 'string' && mutationPositions(r[name] as string)));
  return column ? rows.map((r) => mutationPositions(r[column] as string)!) : null;
}

function writeResults(out: string, ids: string[], participating: number[], evaluation: Evaluation, y: (number | string)[], yhat: (number | string)[], meta: Record<string, unknown>): void {
  const show = (v: number | string): string => (typeof v === 'number' ? formatFloat32(v) : csvField(v));
  const lines = ['id,fold,y,yhat', ...participating.map((row, i) => `${csvField(ids[row]!)},${evaluation.fold[i]},${show(y[i]!)},${show(yhat[i]!)}`)];
  const text = (value: string): Uint8Array => new TextEncoder().encode(value);
  writeBytesAtomically(join(out, 'predictions.csv'), text(`${lines.join('\n')}\n`));
  writeBytesAtomically(join(out, 'metrics.json'), text(JSON.stringify({ ...meta, perFold: evaluation.perFold, mean: evaluation.summary }, null, 2)));
  writeBytesAtomically(join(out, 'models.json'), text(JSON.stringify({ ...meta, folds: evaluation.models }, null, 2)));
}

/** "fold 3 of 5 done" as the learner works through the outer folds. */
function foldProgress(total: number): (fraction: number) => void {
  return (fraction) => progressLine(fraction, `fold ${Math.min(total, Math.floor(fraction * total + 1e-9))} of ${total} done`);
}

export function fitCommand(flags: FitFlags, openHost: () => Host): void {
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
  const regression = learner.task === 'regression';
  const participating = input.rows.flatMap((r, i) => {
    const value = r[flags.target];
    if (value === undefined || value === null || value === '') return [];
    return regression && targetNumber(value, i, input.ids[i]!, flags.target) === null ? [] : [i];
  });
  if (participating.length === 0) throw new CliExit(`No row has a value in column "${flags.target}".`);
  const leftOut = input.rows.length - participating.length;
  if (leftOut > 0) console.log(`${leftOut} of ${input.rows.length} rows have no value in "${flags.target}" and were left out.`);
  const X = takeRows(input.X, participating);
  const spec = splitSpec(flags);
  const positions = positionsOf(input.rows);
  const started = performance.now();
  let evaluation: Evaluation;
  let y: (number | string)[];
  let yhat: (number | string)[];
  try {
    if (learner.task === 'regression') {
      const values = Float64Array.from(participating, (i) => targetNumber(input.rows[i]![flags.target], i, input.ids[i]!, flags.target)!);
      const folds = buildFolds(spec, { rows: participating, labels: null, classes: [], positions, splitValues: spec.column ? input.rows.map((r) => r[spec.column!] ?? null) : null });
      evaluation = evaluateRegression(regressorFor(learner.id), values, { X, folds, scaling: flags.scale, onProgress: foldProgress(folds.length) });
      y = Array.from(values);
      yhat = Array.from(evaluation.yhat);
    } else {
      const names = participating.map((i) => String(input.rows[i]![flags.target]));
      const classes = [...new Set(names)].sort();
      const labels = Int32Array.from(names, (n) => classes.indexOf(n));
      const folds = buildFolds(spec, { rows: participating, labels, classes, positions, splitValues: spec.column ? input.rows.map((r) => r[spec.column!] ?? null) : null });
      evaluation = evaluateClassification(classifierFor(learner.id), labels, classes, { X, folds, scaling: flags.scale, onProgress: foldProgress(folds.length) });
      y = names;
      yhat = Array.from(evaluation.yhat, (c) => classes[c] ?? '');
    }
  } catch (error) {
    endProgress();
    if (error instanceof CliExit) throw error;
    throw new CliExit((error as Error).message);
  }
  endProgress();
  const seconds = (performance.now() - started) / 1000;
  writeResults(resolve(flags.out), input.ids, participating, evaluation, y, yhat, { learner: learner.id, task: learner.task, target: flags.target, split: spec, scaling: flags.scale, rows: participating.length, seconds });
  const headline = learner.task === 'regression' ? ['r2', 'spearman'] : ['accuracy', 'balancedAccuracy'];
  console.log(headline.map((m) => `${m} ${evaluation.summary[m]?.mean.toFixed(3)} ± ${evaluation.summary[m]?.sd.toFixed(3)}`).join(', ') + ` (${participating.length} rows, ${evaluation.perFold.length} folds, ${seconds.toFixed(1)} s) → ${resolve(flags.out)}`);
}
