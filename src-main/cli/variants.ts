/**
 * cli/variants — `score` (zero-shot scores of the mutations in a CSV/TSV, written as the app
 * exports a scan's scores: id, mutant, the measured columns, one score_<model>_<method> column per
 * model and, for several models, the ensemble's) and `saturate` (all 19 × L single mutants of a wild type: position, wt,
 * mut, score). Several `--model` folders make an ensemble (the mean of their scores). Wrong
 * wild-type residues and unreadable (or empty) mutation cells stop the command with the full list
 * and, when most rows are wrong, the offset that would fit; --skip-mismatches leaves them
 * unscored instead, and the summary accounts for every row the output lists. The wild type is
 * chosen from `--wt` as on import (a several-record FASTA needs a name match or --wild-type-record).
 * The scores come from the app's own tasks (variants.score, variants.saturate) run in this process,
 * so the command and the app cannot score differently or average an ensemble differently.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ApiError } from '../api/errors';
import { chooseWildType, ID_COLUMN_NAMES, measuredValues, type WildTypeChoice } from '../datasets';
import { DEVICES, type Device } from '../core/devices';
import { applyVariants, describeMismatches } from '../variants/apply';
import { SCORE_METHODS, type ScoreMethod } from '../variants/score';
import { saturationLongCsv } from '../variants/tables';
import { offsetHint } from '../variants/wild-type';
import { endProgress, interruptible, modelFolder, parseList, progressLine } from './engine-commands';
import { CliExit } from './exit';
import { runTaskHere } from '../jobs/run-here';
import type { SaturationResults, ScoreInput, ScoreResults } from '../jobs/tasks/variants';
import { readManifest } from '../models/installed';
import { writeBytesAtomically } from '../core/atomic';
import { clusterRunner, type ClusterFlags, type TaskRunner } from './cluster-options';

interface Common extends ClusterFlags {
  model: string[];
  wt: string;
  wildTypeRecord?: string;
  method: string;
  offset: string;
  out: string;
  device: string;
  batchTokens: string;
}

export interface ScoreFlags extends Common {
  variants: string;
  mutationCol: string;
  idCol?: string;
  skipMismatches?: boolean;
}

/** The wild type of --wt: its only record, the one chosen with --wild-type-record, or the one the scan is named after. */
function readWildType(file: string, choice: WildTypeChoice): { id: string; sequence: string } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliExit(`Cannot read ${path}.`);
  }
  try {
    const chosen = chooseWildType(text, choice);
    return { id: chosen.id, sequence: chosen.residues };
  } catch (error) {
    if (error instanceof ApiError) throw new CliExit(`${path}: ${error.message}`);
    throw error;
  }
}

function options(flags: Common): { method: ScoreMethod; offset: number; device: Device; batchTokens: number } {
  const method = parseList(flags.method, SCORE_METHODS, 'method')[0];
  if (!method) throw new CliExit(`Give --method: ${SCORE_METHODS.join(', ')}.`, 2);
  const offset = Number(flags.offset);
  if (!Number.isInteger(offset) || offset < 0) throw new CliExit('--offset must be a whole number ≥ 0 (the number of the first residue minus 1).', 2);
  const batchTokens = Number(flags.batchTokens);
  if (!Number.isInteger(batchTokens) || batchTokens < 1) throw new CliExit('--batch-tokens must be a positive whole number.', 2);
  const device = (parseList(flags.device, DEVICES, 'device')[0] ?? 'cpu') as Device;
  return { method, offset, device, batchTokens };
}

/**
 * One of the app's zero-shot tasks (variants.score or variants.saturate) run in this process with
 * every --model (one in memory at a time, their mean as the ensemble); returns the scores `pick`
 * reads from the task's results file (the ensemble, last, when there are several models).
 */
async function runZeroShot<R, T>(
  flags: Common,
  resultsFile: string,
  run: (models: { id: number; name: string; dir: string }[], workDir: string, signal: AbortSignal) => Promise<{ notes: string[] }>,
  pick: (results: R, workDir: string) => T,
): Promise<T> {
  const models: { id: number; name: string; dir: string }[] = [];
  for (const [id, given] of flags.model.entries()) {
    const dir = await modelFolder(given);
    models.push({ id, name: readManifest(dir).name, dir });
  }
  // On a cluster the work folder is merged into by the cluster's nodes too: beside --out, on the shared filesystem.
  const workDir = mkdtempSync(join(flags.cluster ? dirname(resolve(flags.out)) : tmpdir(), '.esm-studio-zero-shot-'));
  const interrupt = interruptible();
  try {
    const summary = await run(models, workDir, interrupt.signal);
    endProgress();
    for (const note of summary.notes) console.error(note);
    return pick(JSON.parse(readFileSync(join(workDir, resultsFile), 'utf8')) as R, workDir);
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit('Scoring cancelled; nothing was written.', 130);
    if (error instanceof ApiError || error instanceof RangeError) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The zero-shot task here, or as a Slurm job array when --cluster names a profile. */
function taskRunner(flags: Common): TaskRunner {
  const cluster = clusterRunner(flags, flags.out);
  return cluster ?? ((kind, params, input, workDir, hooks) => runTaskHere(kind, params as never, input, workDir, hooks) as Promise<Record<string, unknown>>);
}

/** The output CSV, complete or not at all (a full disk is reported naming it). */
function writeText(path: string, text: string): void {
  writeBytesAtomically(path, new TextEncoder().encode(text));
}

/**
 * The row IDs and measured columns of a mutation table, by the import's rules: IDs from the ID
 * column (--id-col, or one named id, name, …), else the mutation text, else row_<n>; measured
 * columns are the numeric ones that are not row counters. So the CSV written has the app's
 * export columns for the same scan: id, mutant, the measured columns, score_<model>_<method>.
 */
function tableColumns(header: string[], rows: string[][], mutationColumn: number, idColumn: string | undefined): Pick<ScoreInput, 'ids' | 'measured'> {
  const names = header.map((name) => name.trim());
  const id = idColumn === undefined ? names.findIndex((name) => ID_COLUMN_NAMES.includes(name.toLowerCase())) : names.indexOf(idColumn);
  if (idColumn !== undefined && id < 0) throw new CliExit(`There is no column "${idColumn}" (--id-col). Columns found: ${names.join(', ')}.`, 2);
  const ids = rows.map((row, i) => (id >= 0 ? row[id]?.trim() : '') || (row[mutationColumn] ?? '').trim() || `row_${i + 1}`);
  const labelNames = names.filter((name, i) => i !== id && name !== '');
  const cells = rows.map((row) => Object.fromEntries(labelNames.map((name) => [name, (row[names.indexOf(name)] ?? '').trim()])));
  return { ids, measured: measuredValues(labelNames, cells) };
}

export async function scoreCommand(flags: ScoreFlags): Promise<void> {
  const settings = options(flags);
  const run = taskRunner(flags);
  const path = resolve(flags.variants);
  const delimiter = /\.(tsv|tab)$/i.test(path) ? '\t' : ',';
  let table: string[][];
  try {
    table = parse(readFileSync(path, 'utf8'), { delimiter, skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (error) {
    throw new CliExit(`Cannot read ${path}: ${(error as Error).message}`);
  }
  const [header, ...rows] = table;
  const column = header?.findIndex((name) => name.trim() === flags.mutationCol) ?? -1;
  if (!header || column < 0) throw new CliExit(`${path}: there is no column "${flags.mutationCol}" (--mutation-col). Columns found: ${(header ?? []).join(', ')}.`);
  const texts = rows.map((r) => r[column] ?? '');
  const wildType = readWildType(flags.wt, { record: flags.wildTypeRecord, tableName: basename(path), variants: texts, offset: settings.offset });
  const applied = applyVariants(wildType.sequence, texts, { offset: settings.offset });
  const problems = applied.unparsable.map((u) => `Row ${u.row} (line ${u.row + 1}): ${u.message}`);
  const mismatchedRows = new Set(applied.mismatches.map((m) => m.row)).size;
  if (applied.mismatches.length > 0 || problems.length > 0) {
    const hint = offsetHint(wildType.sequence, texts, settings.offset, mismatchedRows, rows.length - problems.length);
    const report = [describeMismatches(applied.mismatches), ...problems.slice(0, 20), problems.length > 20 ? `… and ${problems.length - 20} more.` : '', hint ?? ''].filter(Boolean).join('\n');
    if (!flags.skipMismatches) throw new CliExit(`${path}:\n${report}\nNothing was scored. Check --offset and the wild type, or re-run with --skip-mismatches to leave those rows unscored.`);
    console.error(`${report}\nThose rows are left unscored (--skip-mismatches).`);
  }
  // Rows with a wrong wild type or no readable mutation stay unscored (--skip-mismatches); the task scores the rest.
  const leftOut = rows.flatMap((_, i) => (applied.sequences[i] === null ? [i] : []));
  const input: ScoreInput = { wildType: wildType.sequence, offset: settings.offset, ...tableColumns(header, rows, column, flags.idCol), variants: texts, unscored: leftOut };
  const { csv, scores } = await runZeroShot(
    flags,
    'results.json',
    async (models, workDir, signal) =>
      (await run('variants.score', { runDir: '.', models, methods: [settings.method], device: settings.device, batchTokens: settings.batchTokens }, input, workDir, { signal, onProgress: progressLine })) as { notes: string[] },
    // The task's own scores.csv: the file the app exports for a scan's scores.
    (results: ScoreResults, workDir) => ({ csv: readFileSync(join(workDir, 'scores.csv'), 'utf8'), scores: results.columns.at(-1)!.values }),
  );
  writeText(resolve(flags.out), csv);
  const scored = scores.filter((score) => score !== null).length;
  console.log(`Scored ${scored} of the ${rows.length} rows listed (${settings.method}${flags.model.length > 1 ? `, mean of ${flags.model.length} models` : ''}) into ${resolve(flags.out)}.`);
  const unscored = unscoredReasons(rows.length - scored, { mismatched: mismatchedRows, unreadable: applied.unparsable.length, stops: applied.stops.length });
  if (unscored) console.log(unscored);
}

/** "3 rows are left unscored: 1 does not match the wild type, 2 have a stop (ESM-2 has no stop token)." */
function unscoredReasons(unscored: number, counts: { mismatched: number; unreadable: number; stops: number }): string | null {
  if (unscored === 0) return null;
  const other = unscored - counts.mismatched - counts.unreadable - counts.stops;
  const reasons = [
    counts.mismatched > 0 ? `${counts.mismatched} ${counts.mismatched === 1 ? 'does' : 'do'} not match the wild type` : '',
    counts.unreadable > 0 ? `${counts.unreadable} ${counts.unreadable === 1 ? 'has' : 'have'} no readable mutation` : '',
    counts.stops > 0 ? `${counts.stops} ${counts.stops === 1 ? 'has' : 'have'} a stop (ESM-2 has no stop token)` : '',
    other > 0 ? `${other} could not be scored` : '',
  ].filter(Boolean);
  return `${unscored} ${unscored === 1 ? 'row is' : 'rows are'} left unscored (empty score cell): ${reasons.join(', ')}.`;
}

export async function saturateCommand(flags: Common): Promise<void> {
  const settings = options(flags);
  const wildType = readWildType(flags.wt, { record: flags.wildTypeRecord });
  const run = taskRunner(flags);
  const scores = await runZeroShot(flags, 'saturation.json', async (models, workDir, signal) =>
    (await run('variants.saturate', { runDir: '.', models, method: settings.method, wildType: wildType.sequence, wildTypeName: wildType.id, offset: settings.offset, device: settings.device, batchTokens: settings.batchTokens }, null, workDir, { signal, onProgress: progressLine })) as { notes: string[] },
    (results: SaturationResults) => Float64Array.from(results.maps.at(-1)!.scores, (value) => value ?? Number.NaN),
  );
  writeText(resolve(flags.out), saturationLongCsv({ wildType: wildType.sequence, offset: settings.offset, scores }));
  console.log(`Scored all ${19 * wildType.sequence.length} single mutants of ${wildType.id} (${settings.method}) into ${resolve(flags.out)}.`);
}
