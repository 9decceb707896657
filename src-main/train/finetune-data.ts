/**
 * train/finetune-data — a labelled table (IDs, sequences, target columns; from a CSV on the
 * command line or a dataset in the app) as the examples a fine-tuning run trains on:
 *   - regression: one numeric column;
 *   - classification: one column of categories (classes sorted by name);
 *   - multilabel: one or more columns of 0/1 (true/false, yes/no), one label each;
 *   - token: one column with a string of one class character per residue ('?' = unlabelled).
 * Rows without a usable target are left out (and counted); sequences longer than ESM-2's 1,022
 * residues are cut to their first 1,022 (and counted), as the model cannot read more at once.
 * A letter that is not an amino acid is an error naming the row and position, never a silent
 * `<unk>` (the command line and the app check files on reading; this guards every other caller).
 */
import { cleanSequence, showCharacter } from '../datasets/residues';
import type { Tokenizer } from '../models/family';
import type { ExampleTargets, Examples } from './onnx-step';

export const FINETUNE_TASKS = ['regression', 'classification', 'multilabel', 'token'] as const;
export type FinetuneTask = (typeof FINETUNE_TASKS)[number];

/** In a token-task label string, a residue without a label. */
export const UNLABELLED = '?';

export type Cell = string | number | boolean | null;

export interface FinetuneTable {
  ids: string[];
  sequences: string[];
  /** The target column(s), values by row. */
  columns: { name: string; values: Cell[] }[];
}

export interface PreparedExamples {
  examples: Examples;
  /** Row of the table each example came from. */
  rows: number[];
  ids: string[];
  skipped: number;
  truncated: number;
}

const blank = (cell: Cell): boolean => cell === null || (typeof cell === 'string' && cell.trim() === '');

function numberOf(cell: Cell): number | null {
  if (blank(cell)) return null;
  const value = typeof cell === 'number' ? cell : Number(String(cell).trim());
  return Number.isFinite(value) ? value : null;
}

function binaryOf(cell: Cell): 0 | 1 | null {
  if (blank(cell)) return null;
  const text = String(cell).trim().toLowerCase();
  if (['1', 'true', 'yes', 'y'].includes(text)) return 1;
  if (['0', 'false', 'no', 'n'].includes(text)) return 0;
  return null;
}

/** Turns the table into examples for `task`; throws with a readable message when nothing is usable. */
export function prepareExamples(table: FinetuneTable, task: FinetuneTask, tokenizer: Tokenizer): PreparedExamples {
  if (table.columns.length === 0) throw new Error('Choose the target column to fine-tune on.');
  if (task !== 'multilabel' && table.columns.length > 1) throw new Error(`A ${task} task has one target column; got ${table.columns.map((c) => c.name).join(', ')}.`);
  const column = table.columns[0]!;
  const keep: number[] = [];
  let targets: ExampleTargets;
  if (task === 'regression') {
    const values: number[] = [];
    column.values.forEach((cell, row) => {
      const value = numberOf(cell);
      if (value === null) return;
      keep.push(row);
      values.push(value);
    });
    targets = { kind: 'regression', values: Float32Array.from(values) };
  } else if (task === 'classification') {
    column.values.forEach((cell, row) => !blank(cell) && keep.push(row));
    const names = keep.map((row) => String(column.values[row]).trim());
    const classes = [...new Set(names)].sort();
    if (classes.length < 2) throw new Error(`Column "${column.name}" has ${classes.length} class(es); classification needs at least 2.`);
    targets = { kind: 'classification', labels: Int32Array.from(names, (name) => classes.indexOf(name)), classes };
  } else if (task === 'multilabel') {
    const width = table.columns.length;
    const values: number[] = [];
    table.sequences.forEach((_, row) => {
      const bits = table.columns.map((c) => binaryOf(c.values[row] ?? null));
      if (!bits.every((bit) => bit !== null)) return;
      keep.push(row);
      values.push(...(bits as number[]));
    });
    targets = { kind: 'multilabel', values: Float32Array.from(values), labels: table.columns.map((c) => c.name) };
    if (keep.length > 0 && values.length !== keep.length * width) throw new Error('Internal error: multi-label targets are ragged.');
  } else {
    targets = tokenTargets(table, column, keep, tokenizer);
  }
  if (keep.length === 0) throw new Error(`No row has a usable "${column.name}" value for a ${task} task.`);
  for (const row of keep) checkResidues(table, row);
  let truncated = 0;
  const tokens = keep.map((row) => {
    const encoded = modelTokens(table.sequences[row]!, tokenizer);
    if (encoded.truncated) truncated += 1;
    return encoded.ids;
  });
  if (targets.kind === 'token') targets.labels = targets.labels.map((labels) => labels.subarray(0, tokenizer.maxResidues));
  return { examples: { tokens, targets }, rows: keep, ids: keep.map((row) => table.ids[row] ?? String(row + 1)), skipped: table.sequences.length - keep.length, truncated };
}

/** The datasets' residue rule (20 amino acids + X B U Z O), for rows that did not come through a file check. */
function checkResidues(table: FinetuneTable, row: number): void {
  const { invalid } = cleanSequence([{ text: table.sequences[row] ?? '', line: row + 1 }]);
  if (invalid) {
    throw new Error(`Row ${row + 1} (id ${table.ids[row] ?? ''}), position ${invalid.position}: ${showCharacter(invalid.char)} is not an amino acid letter (allowed: 20 standard + X B U Z O).`);
  }
}

/** The token ids the model reads, training and predicting alike: <cls> residues <eos>, at most the model's limit (1,022 residues for ESM-2). */
export function modelTokens(sequence: string, tokenizer: Tokenizer): { ids: Int32Array; truncated: boolean } {
  const ids = tokenizer.encode(sequence);
  const limit = tokenizer.maxResidues;
  if (ids.length <= limit + 2) return { ids, truncated: false };
  const cut = ids.slice(0, limit + 2);
  cut[cut.length - 1] = ids[ids.length - 1]!; // keep <eos>
  return { ids: cut, truncated: true };
}

/** Per-residue class strings → class indices (rows whose string does not fit the sequence are an error). */
function tokenTargets(table: FinetuneTable, column: FinetuneTable['columns'][number], keep: number[], tokenizer: Tokenizer): ExampleTargets {
  const strings: string[] = [];
  column.values.forEach((cell, row) => {
    if (blank(cell)) return;
    const text = String(cell).trim();
    const residues = tokenizer.encode(table.sequences[row]!).length - 2;
    if (text.length !== residues) {
      throw new Error(`Row ${row + 1} (${table.ids[row] ?? ''}): "${column.name}" has ${text.length} labels for ${residues} residues; give one character per residue ('${UNLABELLED}' for none).`);
    }
    if ([...text].every((c) => c === UNLABELLED)) return;
    keep.push(row);
    strings.push(text);
  });
  const classes = [...new Set(strings.join('').replaceAll(UNLABELLED, ''))].sort();
  if (classes.length < 2) throw new Error(`Column "${column.name}" has ${classes.length} residue class(es); a token task needs at least 2.`);
  const labels = strings.map((text) => Int32Array.from(text, (c) => (c === UNLABELLED ? -1 : classes.indexOf(c))));
  return { kind: 'token', labels, classes };
}
