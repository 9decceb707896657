/**
 * services/structure — the Structure page's back end: `structure.inspect` queues a short job in
 * the compute process (kind `structure.inspect`; onnxruntime never runs in the main or serve
 * process) that writes one sequence's predicted contacts and per-layer attention under the
 * project folder, or answers at once when those files already exist; `structure.contacts` and
 * `structure.attention` read them back as small JSON (the L×L contact map, or one per-residue
 * attention track for a chosen layer and head); `structure.attentionMap` one layer's whole map.
 * A family without a contact head (ESM C) gets attention only: `hasContacts` false, contacts null.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, notFound } from '../api/errors';
import type { AttentionMap, AttentionTrack, StructureAnalysis, StructureContacts } from '../api/schemas';
import type { JobRunner } from '../jobs/runner';
import type { StructureInspectParams, StructureMeta } from '../jobs/tasks/structure-inspect';
import { paramsOf } from '../api/tasks';
import type { Store } from '../store';
import { readNpy } from '../store/npy';
import { describeModel } from './model-facts';

export const STRUCTURE_JOB_KIND = 'structure.inspect' as const;
/** Attention files grow with H·L² per layer; beyond this the page would wait minutes and hold gigabytes. */
export const MAX_STRUCTURE_RESIDUES = 2000;

const KEY = /^m\d+-[0-9a-f]{16}$/;

/** Results are cached per model and sequence: the same request twice computes once. */
export const analysisKey = (modelId: number, sequence: string): string => `m${modelId}-${createHash('sha256').update(sequence).digest('hex').slice(0, 16)}`;

/** Contact probabilities travel as JSON; 4 decimals are more than a colour or a threshold needs. */
const round = (value: number): number => Math.round(value * 1e4) / 1e4;

export class StructureService {
  constructor(
    private readonly store: Store,
    private readonly runner: () => JobRunner,
  ) {}

  inspect(input: { projectId: number; modelId: number; sequence: string; label?: string | undefined }): StructureAnalysis {
    const folder = this.projectFolder(input.projectId);
    const model = this.store.models.get(input.modelId);
    if (!model) throw notFound(`Model ${input.modelId}`);
    const sequence = input.sequence.toUpperCase();
    if (sequence.length > MAX_STRUCTURE_RESIDUES) {
      throw new ApiError('invalid-input', `The sequence has ${sequence.length} residues; attention maps are offered up to ${MAX_STRUCTURE_RESIDUES}.`);
    }
    const key = analysisKey(model.id, sequence);
    const outDir = join('structure', key);
    const base = { key, modelId: model.id, modelName: model.name, length: sequence.length };
    const meta = this.meta(folder, key);
    if (meta) return { ...base, ready: true, job: null, layers: meta.layers, heads: meta.heads, hasContacts: hasContacts(meta) };
    // The same analysis already queued or running (e.g. a second click): wait for that one.
    const active = this.store.jobs
      .list(input.projectId)
      .find((job) => job.kind === STRUCTURE_JOB_KIND && (job.state === 'queued' || job.state === 'running') && paramsOf(STRUCTURE_JOB_KIND, { kind: job.kind, params: this.store.jobs.record(job.id)?.params })?.outDir === outDir);
    const params: StructureInspectParams = { modelDir: model.path, modelName: model.name, sequence, outDir };
    const withContacts = describeModel(model).hasContacts;
    const title = `${withContacts ? 'Attention and contacts' : 'Attention'} of ${input.label ?? `a sequence of ${sequence.length} residues`} (${model.name})`;
    const job = active ? this.runner().describe(active) : this.runner().enqueue({ projectId: input.projectId, kind: STRUCTURE_JOB_KIND, title, params: { ...params }, createsRun: false });
    return { ...base, ready: false, job, layers: model.layers, heads: null, hasContacts: withContacts };
  }

  contacts(input: { projectId: number; key: string }): StructureContacts {
    const { dir, meta } = this.result(input.projectId, input.key);
    const contacts = hasContacts(meta) ? Array.from(readNpy(join(dir, 'contacts.npy')).data as Float32Array, round) : null;
    return { key: input.key, length: meta.length, layers: meta.layers, heads: meta.heads, sequence: meta.sequence, contacts };
  }

  /**
   * One value per residue from layer `layer`'s attention (one head, or the mean of the heads):
   * "from" = how residue `position` spreads its attention over the others (its row), "to" = how
   * much every residue attends to `position` (its column). Without a position: the attention
   * each residue receives, averaged over all residues.
   */
  attention(input: { projectId: number; key: string; layer: number; head: number | null; position: number | null; direction: 'from' | 'to' }): AttentionTrack {
    const { meta, maps, heads } = this.layerMaps(input);
    const L = meta.length;
    if (input.position !== null && input.position >= L) throw new ApiError('invalid-input', `Position ${input.position + 1} is beyond the sequence's ${L} residues.`);
    const values = new Float64Array(L);
    for (const h of heads) {
      const base = h * L * L;
      for (let j = 0; j < L; j++) values[j]! += cell(maps, base, L, input.position, input.direction, j) / heads.length;
    }
    return { key: input.key, layer: input.layer, head: input.head, position: input.position, direction: input.direction, values: Array.from(values, (v) => Math.round(v * 1e6) / 1e6) };
  }

  /** Layer `layer`'s whole [L × L] attention map: one head, or the mean of the heads. */
  attentionMap(input: { projectId: number; key: string; layer: number; head: number | null }): AttentionMap {
    const { meta, maps, heads } = this.layerMaps(input);
    const size = meta.length * meta.length;
    const values = new Float64Array(size);
    for (const h of heads) for (let k = 0; k < size; k++) values[k]! += maps[h * size + k]! / heads.length;
    return { key: input.key, layer: input.layer, head: input.head, length: meta.length, values: Array.from(values, (v) => Math.round(v * 1e6) / 1e6) };
  }

  /** A layer's attention stack [H, L, L] and the heads asked for, after checking layer and head exist. */
  private layerMaps(input: { projectId: number; key: string; layer: number; head: number | null }): { meta: StructureMeta; maps: Float32Array; heads: number[] } {
    const { dir, meta } = this.result(input.projectId, input.key);
    if (input.layer < 1 || input.layer > meta.layers) throw new ApiError('invalid-input', `Layer ${input.layer} does not exist; this model has layers 1 to ${meta.layers}.`);
    if (input.head !== null && input.head >= meta.heads) throw new ApiError('invalid-input', `Head ${input.head + 1} does not exist; this model has ${meta.heads} heads.`);
    const maps = readNpy(join(dir, `attention_layer${input.layer}.npy`)).data as Float32Array;
    const heads = input.head === null ? Array.from({ length: meta.heads }, (_, h) => h) : [input.head];
    return { meta, maps, heads };
  }

  private result(projectId: number, key: string): { dir: string; meta: StructureMeta } {
    if (!KEY.test(key)) throw new ApiError('invalid-input', `"${key}" is not a structure analysis key.`);
    const folder = this.projectFolder(projectId);
    const meta = this.meta(folder, key);
    if (!meta) throw notFound(`The attention and contacts for this sequence (${key}); compute them first`);
    return { dir: join(folder, 'structure', key), meta };
  }

  private meta(folder: string, key: string): StructureMeta | null {
    const file = join(folder, 'structure', key, 'meta.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StructureMeta) : null;
  }

  private projectFolder(projectId: number): string {
    const folder = this.store.projects.folderOf(projectId);
    if (!folder) throw notFound(`Project ${projectId}`);
    return folder;
  }
}

/** Results written before ESM C existed have no flag: they are ESM-2's, with contacts. */
const hasContacts = (meta: StructureMeta): boolean => meta.hasContacts !== false;

/** Attention of one head's [L, L] map (at `base`) that the track shows at residue j. */
function cell(maps: Float32Array, base: number, L: number, position: number | null, direction: 'from' | 'to', j: number): number {
  if (position === null) {
    let sum = 0;
    for (let i = 0; i < L; i++) sum += maps[base + i * L + j]!;
    return sum / L;
  }
  return direction === 'from' ? maps[base + position * L + j]! : maps[base + j * L + position]!;
}
