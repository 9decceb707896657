/**
 * cli/variants — `score` (zero-shot scores of the mutations in a CSV/TSV: every input column kept,
 * a `score` column added) and `saturate` (all 19 × L single mutants of a wild type: position, wt,
 * mut, score). Several `--model` folders make an ensemble (the mean of their scores). Wrong
 * wild-type residues stop the command with the full list, unless --skip-mismatches.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ApiError } from '../api/errors';
import { parseSequenceFile } from '../datasets';
import { DEVICES, type Device } from '../engine/session';
import { csvField } from '../exports';
import { applyVariants, describeMismatches } from '../variants/apply';
import { ZeroShotModel } from '../variants/model';
import { parseVariant, type Mutation } from '../variants/mutations';
import { ensembleMean, SCORE_METHODS, saturationScores, scoreVariants, type ScoreMethod } from '../variants/score';
import { saturationLongCsv } from '../variants/tables';
import { endProgress, interruptible, modelFolder, parseList, progressLine } from './engine-commands';
import { CliExit } from './exit';

interface Common {
  model: string[];
  wt: string;
  method: string;
  offset: string;
  out: string;
  device: string;
  batchTokens: string;
}

export interface ScoreFlags extends Common {
  variants: string;
  mutationCol: string;
  skipMismatches?: boolean;
}

function readWildType(file: string): { id: string; sequence: string } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliExit(`Cannot read ${path}.`);
  }
  const parsed = parseSequenceFile(path, text, { format: 'fasta' });
  const first = parsed.records[0];
  if (!first || parsed.report.errors.some((e) => e.record === 1)) {
    throw new CliExit(`${path}: the first record is not a valid protein sequence. ${parsed.report.errors[0]?.message ?? ''}`.trim());
  }
  return { id: first.seqId, sequence: first.sequence };
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

/** Scores with each model in turn (one in memory at a time) and returns their mean. */
async function withEnsemble(flags: Common, settings: ReturnType<typeof options>, score: (model: ZeroShotModel, signal: AbortSignal, label: string) => Promise<Float64Array>): Promise<Float64Array> {
  const interrupt = interruptible();
  const perModel: Float64Array[] = [];
  try {
    for (const given of flags.model) {
      const model = await ZeroShotModel.open(await modelFolder(given), { device: settings.device, batchTokens: settings.batchTokens });
      if (model.fallbackReason) console.error(model.fallbackReason);
      try {
        perModel.push(await score(model, interrupt.signal, flags.model.length > 1 ? `${model.name}: ` : ''));
      } finally {
        await model.close();
      }
      endProgress();
      if (interrupt.signal.aborted) throw new CliExit('Scoring cancelled; nothing was written.', 130);
    }
  } catch (error) {
    if (error instanceof ApiError || error instanceof RangeError) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
  return ensembleMean(perModel);
}

const formatScore = (value: number): string => (Number.isFinite(value) ? String(value) : '');

export async function scoreCommand(flags: ScoreFlags): Promise<void> {
  const settings = options(flags);
  const wildType = readWildType(flags.wt);
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
  const applied = applyVariants(wildType.sequence, rows.map((r) => r[column] ?? ''), { offset: settings.offset });
  const problems = applied.unparsable.map((u) => `Row ${u.row} (line ${u.row + 1}): ${u.message}`);
  if (applied.mismatches.length > 0 || problems.length > 0) {
    const report = [describeMismatches(applied.mismatches), ...problems.slice(0, 20)].filter(Boolean).join('\n');
    if (!flags.skipMismatches) throw new CliExit(`${path}:\n${report}\nNothing was scored. Check --offset and the wild type, or re-run with --skip-mismatches to leave those rows unscored.`);
    console.error(`${report}\nThose rows are left unscored (--skip-mismatches).`);
  }
  const variants: (Mutation[] | null)[] = rows.map((r, i) => (applied.sequences[i] === null ? null : parseVariant(r[column] ?? '', settings.offset)));
  const scores = await withEnsemble(flags, settings, (model, signal, label) =>
    scoreVariants(model, wildType.sequence, variants, settings.method, { signal, onProgress: (f, m) => progressLine(f, `${label}${m}`) }),
  );
  const lines = [[...header, 'score'].map(csvField).join(',')];
  rows.forEach((r, i) => lines.push([...r.map(csvField), formatScore(scores[i]!)].join(',')));
  writeFileSync(resolve(flags.out), `${lines.join('\n')}\n`);
  const scored = scores.filter(Number.isFinite).length;
  console.log(`Scored ${scored} of ${rows.length} variants (${settings.method}${flags.model.length > 1 ? `, mean of ${flags.model.length} models` : ''}) into ${resolve(flags.out)}.`);
  if (applied.stops.length > 0) console.log(`${applied.stops.length} variant(s) with a stop are left unscored: ESM-2 has no stop token.`);
}

export async function saturateCommand(flags: Common): Promise<void> {
  const settings = options(flags);
  const wildType = readWildType(flags.wt);
  const scores = await withEnsemble(flags, settings, (model, signal, label) =>
    saturationScores(model, wildType.sequence, settings.method, { signal, onProgress: (f, m) => progressLine(f, `${label}${m}`) }),
  );
  writeFileSync(resolve(flags.out), saturationLongCsv({ wildType: wildType.sequence, offset: settings.offset, scores }));
  console.log(`Scored all ${19 * wildType.sequence.length} single mutants of ${wildType.id} (${settings.method}) into ${resolve(flags.out)}.`);
}
