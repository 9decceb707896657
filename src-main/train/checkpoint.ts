/**
 * train/checkpoint — saves and loads everything a training run needs to continue exactly where it
 * stopped: parameters and optimizer buffers (a safetensors file) and the rest — step, epoch,
 * position in the epoch, random generator state, early-stopping state, best metric — as JSON.
 * Two slots per run folder: "last" (written as training goes) and "best" (the best epoch).
 *
 * Two files cannot be renamed into place together, so the JSON is the commit point: the tensors
 * go to a new `<slot>-step<N>.safetensors` first (atomically), then `<slot>.json` (atomically)
 * names that file and its step, then older tensor files of the slot are deleted. A crash at any
 * moment leaves a JSON that names a complete tensor file of the same step.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, readFloat32 } from '../models/formats/safetensors';
import { writeSafetensorsFile, type WritableTensor } from '../models/formats/safetensors-write';
import { writeBytesAtomically } from '../core/atomic';
import type { EarlyStoppingState } from './early-stopping';
import type { OptimizerState, TensorMap } from './optimizers';

export type CheckpointSlot = 'last' | 'best';

/** Where the loop is; all counters are 0-based counts of finished work. */
export interface LoopPosition {
  /** Optimizer steps taken (also the scheduler's position). */
  step: number;
  /** The epoch in progress (or, when `batchInEpoch` is 0, about to start). */
  epoch: number;
  /** Micro-batches of this epoch already done; always a multiple of the accumulation count. */
  batchInEpoch: number;
  /** Generator state when this epoch's batches were drawn, to draw the same batches again. */
  epochRngState: number;
  /** Generator state now. */
  rngState: number;
  /** Σ weight·loss and Σ weight over this epoch's finished micro-batches (the epoch's mean loss). */
  epochLossSum: number;
  epochLossWeight: number;
  earlyStopping: EarlyStoppingState | null;
  /** One line per finished epoch, so that a resumed run reports the whole history. */
  history: EpochSummary[];
  /** Set once training has ended (all epochs, or early stop): resuming then does nothing. */
  finished: boolean;
}

export interface EpochSummary {
  epoch: number;
  /** Optimizer steps taken by the end of this epoch. */
  step: number;
  trainLoss: number;
  /** null without a validation set (or when undefined, e.g. Spearman of constant predictions). */
  valLoss: number | null;
  valMetric: number | null;
}

export interface TrainingCheckpoint {
  params: TensorMap;
  optimizer: OptimizerState;
  position: LoopPosition;
  /** Anything else the caller wants restored (run settings, for a consistency check). */
  extra?: Record<string, unknown>;
}

interface CheckpointJson {
  format: 'esm-studio-training-checkpoint';
  version: 1;
  tensors: string;
  step: number;
  paramNames: string[];
  optimizer: Omit<OptimizerState, 'tensors'> & { tensorNames: string[] };
  position: LoopPosition;
  extra?: Record<string, unknown>;
}

const PARAM = 'param.';
const OPTIM = 'optim.';

export function checkpointJsonPath(dir: string, slot: CheckpointSlot): string {
  return join(dir, `${slot}.json`);
}

export function saveCheckpoint(dir: string, slot: CheckpointSlot, checkpoint: TrainingCheckpoint): void {
  const { params, optimizer, position } = checkpoint;
  const tensorsName = `${slot}-step${position.step}.safetensors`;
  const tensors: WritableTensor[] = [
    ...[...params].map(([name, data]) => ({ name: PARAM + name, shape: [data.length], data })),
    ...[...optimizer.tensors].map(([name, data]) => ({ name: OPTIM + name, shape: [data.length], data })),
  ];
  writeSafetensorsFile(join(dir, tensorsName), tensors, { format: 'pt', step: String(position.step) });
  const json: CheckpointJson = {
    format: 'esm-studio-training-checkpoint',
    version: 1,
    tensors: tensorsName,
    step: position.step,
    paramNames: [...params.keys()],
    optimizer: { kind: optimizer.kind, step: optimizer.step, hyper: optimizer.hyper, tensorNames: [...optimizer.tensors.keys()] },
    position,
    ...(checkpoint.extra ? { extra: checkpoint.extra } : {}),
  };
  writeBytesAtomically(checkpointJsonPath(dir, slot), new TextEncoder().encode(`${JSON.stringify(json, null, 1)}\n`));
  removeStaleTensorFiles(dir, slot, tensorsName);
}

/** The checkpoint in this slot, or null when none was saved. */
export function loadCheckpoint(dir: string, slot: CheckpointSlot): TrainingCheckpoint | null {
  const jsonPath = checkpointJsonPath(dir, slot);
  if (!existsSync(jsonPath)) return null;
  const json = parseCheckpointJson(jsonPath);
  const tensorsPath = join(dir, json.tensors);
  const table = openSafetensors(tensorsPath);
  const read = (name: string): Float32Array => {
    const info = table.get(name);
    if (!info) throw new Error(`${tensorsPath}: tensor "${name}" listed in ${jsonPath} is missing; the checkpoint is damaged.`);
    return readFloat32(info);
  };
  const params: TensorMap = new Map(json.paramNames.map((name) => [name, read(PARAM + name)]));
  const optimizerTensors: TensorMap = new Map(json.optimizer.tensorNames.map((name) => [name, read(OPTIM + name)]));
  const { tensorNames: _names, ...optimizer } = json.optimizer;
  return {
    params,
    optimizer: { ...optimizer, tensors: optimizerTensors },
    position: json.position,
    ...(json.extra ? { extra: json.extra } : {}),
  };
}

function parseCheckpointJson(path: string): CheckpointJson {
  let json: Partial<CheckpointJson>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Partial<CheckpointJson>;
  } catch (error) {
    throw new Error(`${path}: cannot read the training checkpoint (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
  if (json.format !== 'esm-studio-training-checkpoint' || json.version !== 1) {
    throw new Error(`${path} is not a training checkpoint this version of ESM Studio can read (format ${JSON.stringify(json.format)}, version ${json.version}).`);
  }
  const complete = typeof json.tensors === 'string' && Array.isArray(json.paramNames) && json.optimizer && json.position;
  if (!complete || json.position?.step !== json.step || json.tensors?.includes('/') || json.tensors?.includes('\\')) {
    throw new Error(`${path}: the training checkpoint is incomplete or inconsistent; start the training again.`);
  }
  return json as CheckpointJson;
}

/** Deletes this slot's tensor files other than `keep` (left over from earlier saves or a crash). */
function removeStaleTensorFiles(dir: string, slot: CheckpointSlot, keep: string): void {
  const pattern = new RegExp(`^${slot}-step\\d+\\.safetensors(\\.partial)?$`);
  for (const name of readdirSync(dir)) {
    if (name !== keep && pattern.test(name)) rmSync(join(dir, name), { force: true });
  }
}
