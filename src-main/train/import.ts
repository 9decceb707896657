/**
 * train/import — a fine-tuned model from elsewhere (a colleague's run, a run of another project,
 * the small files of a run without its merged/ folder) made usable on an installed base model:
 * its adapter and head files checked against that model and copied into a run folder, and the
 * merged model built there (for a head-only run, head.onnx is all it needs; it is re-pointed at
 * the chosen base model). Also builds a missing merged/ in place for `predict --model`.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { familyOfManifest, readManifest } from '../models/installed';
import { adapterLoraSpecFor } from './finetune-adapter';
import { MERGED_DIR } from './finetune';
import type { HeadConfig } from './head-config';
import { checkImportable, filesOf } from './importable';
import { writeMergedModel } from './merge';
import { HEAD_CONFIG, HEAD_WEIGHTS, readHeadTensors, readPeftAdapter } from './peft';
import { peftMethodOfFolder, readPromptOrAdapter } from './peft-methods';

/**
 * merged/ of a folder that holds an adapter and a head but no merged model (e.g. the small files
 * of a run, shared): the adapter, checked against the base model, folded into a copy of it; a soft
 * prompt or bottleneck adapters (which cannot be folded) carried by its prediction.onnx instead.
 */
export async function buildMergedModel(runDir: string, config: HeadConfig, baseModelDir: string): Promise<void> {
  const base = readManifest(baseModelDir);
  if (peftMethodOfFolder(runDir) !== 'lora') {
    const saved = readPromptOrAdapter(runDir, base.config, familyOfManifest(base));
    const head = readHeadTensors(runDir);
    if (head.size === 0) throw new Error(`${runDir} has no ${HEAD_WEIGHTS}: without the head it was trained with, the prompt or adapters cannot predict.`);
    await writeMergedModel(baseModelDir, join(runDir, MERGED_DIR), {
      lora: null,
      carried: { prompt: saved.parts.prompt, adapter: saved.parts.adapter },
      adapters: saved.tensors,
      head: { spec: config.head, task: config.task, weights: new Map([...head].map(([name, t]) => [name, t.data])) },
      name: `${base.name} + ${basename(resolve(runDir))}`,
    });
    return;
  }
  const spec = adapterLoraSpecFor(runDir, base.config);
  const adapter = readPeftAdapter(runDir);
  if (adapter.head.size === 0) throw new Error(`${runDir} has no ${HEAD_WEIGHTS}: without the head it was trained with, the adapter cannot predict.`);
  const data = (tensors: typeof adapter.lora): Map<string, Float32Array> => new Map([...tensors].map(([name, t]) => [name, t.data]));
  await writeMergedModel(baseModelDir, join(runDir, MERGED_DIR), {
    lora: { ...spec, dropout: 0 },
    adapters: data(adapter.lora),
    head: { spec: config.head, task: config.task, weights: data(adapter.head) },
    name: `${base.name} + ${basename(resolve(runDir))}`,
  });
}

/** Copies the model's files into `runDir` and makes it predict on `baseModelDir`; returns the run's summary. */
/** What an imported run reports (api/tasks' train.import summary, less the run folder). */
export interface ImportSummary {
  mode: 'lora' | 'head-only';
  task: string;
  targets: string[];
  classes: string[] | null;
  importedFrom: string;
  baseModel: string;
}

export async function importFinetuned(sourceDir: string, runDir: string, baseModelDir: string): Promise<ImportSummary> {
  const config = checkImportable(sourceDir, baseModelDir);
  mkdirSync(runDir, { recursive: true });
  for (const file of filesOf(config)) copyFileSync(join(resolve(sourceDir), file), join(runDir, file));
  const base = readManifest(baseModelDir);
  const imported: HeadConfig = { ...config, baseModel: { name: base.name, dir: resolve(baseModelDir) } };
  writeFileSync(join(runDir, HEAD_CONFIG), `${JSON.stringify(imported, null, 2)}\n`);
  if (config.mode !== 'head-only') await buildMergedModel(runDir, imported, baseModelDir);
  return {
    mode: config.mode ?? 'lora',
    task: config.taskKind,
    targets: config.targets,
    classes: config.classes,
    importedFrom: resolve(sourceDir),
    baseModel: base.name,
  };
}
