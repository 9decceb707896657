/**
 * cli/explain — `esm-studio explain --finetuned <run folder> --sequence …`: integrated gradients
 * (train/attributions) of a fine-tuned LoRA model's prediction for one protein, written as a CSV
 * (position, residue, attribution) with the prediction, the baseline's prediction and the
 * completeness check printed, and the residues that matter most listed.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEVICES } from '../core/devices';
import { MANIFEST_FILE } from '../models/installed';
import { explainFinetuned, writeAttributionsCsv, type Baseline } from '../train/attributions';
import { MERGED_DIR } from '../train/finetune';
import { readHeadConfig } from '../train/head-config';
import { buildMergedModel } from '../train/import';
import { modelFolder, parseList, readFasta } from './engine-commands';
import { CliExit } from './exit';

export interface ExplainFlags {
  finetuned: string;
  sequence?: string;
  fasta?: string;
  id?: string;
  model?: string;
  target?: string;
  baseline: string;
  steps: string;
  device: string;
  out: string;
}

/** The protein to explain: --sequence, or the --fasta record named --id (default its first). */
function chosenSequence(flags: ExplainFlags): { id: string; sequence: string } {
  if (!flags.sequence === !flags.fasta) throw new CliExit('Give the protein with --sequence <residues> or --fasta <file> (one of them).', 2);
  if (flags.sequence) return { id: 'sequence', sequence: flags.sequence.trim().toUpperCase() };
  const fasta = readFasta(resolve(flags.fasta!));
  const index = flags.id === undefined ? 0 : fasta.ids.indexOf(flags.id);
  if (index < 0 || index >= fasta.ids.length) throw new CliExit(`${flags.fasta} has no record ${flags.id === undefined ? '' : `"${flags.id}"`}; its records are ${fasta.ids.slice(0, 5).join(', ')}${fasta.ids.length > 5 ? ', …' : ''}.`, 2);
  return { id: fasta.ids[index]!, sequence: fasta.sequences[index]! };
}

function wholeNumber(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new CliExit(`${flag} must be a whole number of at least ${min}, got "${text}".`, 2);
  return value;
}

/** Builds merged/ from the adapter when the run folder lacks it and --model names the base model. */
async function ensureMerged(runDir: string, model: string | undefined): Promise<void> {
  if (existsSync(join(runDir, MERGED_DIR, MANIFEST_FILE)) || !model) return;
  await buildMergedModel(runDir, readHeadConfig(runDir), await modelFolder(model));
}

export async function explainCommand(flags: ExplainFlags): Promise<void> {
  const runDir = resolve(flags.finetuned);
  const { id, sequence } = chosenSequence(flags);
  if (flags.baseline !== 'mask' && flags.baseline !== 'zero') throw new CliExit(`--baseline must be mask or zero, got "${flags.baseline}".`, 2);
  const steps = wholeNumber(flags.steps, '--steps', 1)!;
  const target = wholeNumber(flags.target, '--target', 0);
  const device = parseList(flags.device, DEVICES, 'device')[0] ?? 'cpu';
  try {
    await ensureMerged(runDir, flags.model);
    const result = await explainFinetuned(runDir, sequence, { steps, baseline: flags.baseline as Baseline, device, ...(target === undefined ? {} : { target }) });
    const out = writeAttributionsCsv(resolve(flags.out), sequence, result);
    const strongest = [...result.residues.keys()].sort((a, b) => Math.abs(result.residues[b]!) - Math.abs(result.residues[a]!)).slice(0, 10);
    console.log(`${id}: output ${result.target} = ${result.prediction.toPrecision(6)} (all-${result.baseline === 'mask' ? '<mask>' : 'zero'} baseline: ${result.baselinePrediction.toPrecision(6)}).`);
    if (Math.abs(result.prediction - result.baselinePrediction) < 1e-4) {
      console.log('The prediction barely differs from the baseline\'s (a saturated probability?): the attributions are all near zero and say little.');
    } else {
      console.log(`Attributions sum to the difference within ${(100 * result.completeness).toFixed(2)} % (${steps} steps)${result.completeness > 0.01 ? '; above 1 %: try more --steps' : ''}.`);
    }
    console.log(`Strongest residues: ${strongest.map((i) => `${sequence[i]}${i + 1} ${result.residues[i]!.toPrecision(3)}`).join(', ')}.`);
    if (result.truncated) console.log('The sequence was cut to its first 1,022 residues, as in training.');
    console.log(`Wrote ${result.residues.length} attributions to ${out}.`);
  } catch (error) {
    if (error instanceof Error && !(error instanceof TypeError)) throw new CliExit(error.message);
    throw error;
  }
}
