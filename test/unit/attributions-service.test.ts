/**
 * The `train.attributions` method over a real store and the real compute process: an imported
 * LoRA run (the golden tiny-lora reference's adapter and head, merged on the tiny golden model)
 * explains ubiquitin. The first call queues a `train.explain` job (onnxruntime runs only in the
 * compute process) and a second call while it runs follows the same job; once it is done the call
 * answers with the values: per residue, passing the completeness check, predicting PyTorch's
 * `pred`, and written to the project's exports as a CSV the exports methods list. Unfinished or
 * unknown runs are refused.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src-main/models/esm2/checkpoint';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint } from '../../src-main/models/installed';
import type { Job } from '../../src-main/api/schemas';
import { nodeComputeLauncher } from '../../src-main/jobs/node-launcher';
import { createHost, type Host } from '../../src-main/services';
import { assertBuilt, ROOT } from '../support/serve';
import { buildMergedModel } from '../../src-main/train/import';
import { readHeadConfig } from '../../src-main/train/head-config';
import { writePeftAdapter } from '../../src-main/train/peft';
import { GOLDEN } from '../support/golden';

const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';
const ref = openSafetensors(join(GOLDEN, 'tiny-lora', 'lora_ref.safetensors'));
const tensor = (name: string) => ({ shape: ref.get(`init.${name}`)!.shape, data: Float32Array.from(readFloat32(ref.get(`init.${name}`)!)) });
const PARAMS = [...ref.keys()].filter((n) => n.startsWith('init.')).map((n) => n.slice('init.'.length));

let host: Host | undefined;
afterEach(() => host?.close());

/** The reference adapter and head as a finished run folder with merged/ built on the converted tiny model. */
async function writeRun(dir: string, modelDir: string): Promise<void> {
  const lora = new Map(PARAMS.filter((n) => !n.startsWith('head.')).map((n) => [n, tensor(n)]));
  const head = new Map(PARAMS.filter((n) => n.startsWith('head.')).map((n) => [n, tensor(n)]));
  const settings = { baseModel: 'tiny', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['query', 'value'], layersToTransform: [0, 1], taskType: 'SEQ_CLS' };
  writePeftAdapter(dir, { settings, lora, head, headConfig: null });
  const headConfig = { task: { kind: 'regression', outputs: 1 }, taskKind: 'regression', targets: ['y'], classes: null, head: { kind: 'linear', pool: 'mean' }, hiddenSize: 64, mode: 'lora', peft: 'lora' };
  writeFileSync(join(dir, 'head_config.json'), JSON.stringify(headConfig));
  await buildMergedModel(dir, readHeadConfig(dir), modelDir);
}

describe('train.attributions', () => {
  it('returns per-residue integrated gradients of a finished run and writes them to the exports', async () => {
    const home = mkdtempSync(join(tmpdir(), 'esm-attr-'));
    const modelDir = join(home, 'tiny-model');
    await convertCheckpoint(join(GOLDEN, 'tiny', 'checkpoint'), modelDir, { appVersion: 'test' });
    assertBuilt();
    host = createHost({ home, transport: 'cli', launcher: nodeComputeLauncher(join(ROOT, 'out', 'main', 'compute.js')) });
    const h = host;
    const call = async <T>(method: string, input: unknown): Promise<T> => {
      const envelope = await h.dispatch(method, input);
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.value as T;
    };
    const project = await call<{ id: number }>('projects.create', { name: 'Attributions' });
    const folder = h.store.projects.folderOf(project.id)!;
    const runId = h.store.runs.insert({ projectId: project.id, kind: 'train.import', title: 'Imported tiny-lora', params: { sourceDir: home, runDir: 'runs/x', modelDir, targets: ['y'] } });
    await expect(call('train.attributions', { runId, sequence: UBIQUITIN })).rejects.toThrow(/is queued; only a finished fine-tuning run can be explained/);
    h.store.runs.setState(runId, 'done');
    mkdirSync(join(folder, 'runs', 'x'), { recursive: true });
    await writeRun(join(folder, 'runs', 'x'), modelDir);

    type Answer = { ready: boolean; job: Job | null; result: { residues: number[]; prediction: number; baselinePrediction: number; completeness: number } | null; exportName: string };
    const request = { runId, sequence: UBIQUITIN.toLowerCase(), label: 'ubiquitin' };
    const finished = new Promise<Job>((resolve) => h.events.subscribe((e) => e.type === 'job' && e.job.kind === 'train.explain' && ['done', 'failed'].includes(e.job.state) && resolve(e.job)));
    const first = await call<Answer>('train.attributions', request);
    expect(first.ready).toBe(false);
    expect(first.job?.kind).toBe('train.explain');
    // Asked again while it runs: the same job, not a second one.
    const again = await call<Answer>('train.attributions', request);
    if (!again.ready) expect(again.job?.id).toBe(first.job!.id);
    const job = await finished;
    expect(job.state, job.error ?? '').toBe('done');
    const answer = await call<Answer>('train.attributions', request);
    expect(answer.ready).toBe(true);
    const result = { ...answer.result!, exportName: answer.exportName };
    expect(result.residues).toHaveLength(UBIQUITIN.length);
    expect(Math.abs(result.prediction - readFloat32(ref.get('pred')!)[0]!)).toBeLessThan(1e-4);
    const sum = result.residues.reduce((s, v) => s + v, 0);
    const difference = result.prediction - result.baselinePrediction;
    expect(Math.abs(sum - difference) / Math.abs(difference)).toBeLessThan(0.01);
    expect(result.exportName).toBe(`run${runId}-attributions-ubiquitin.csv`);
    const lines = readFileSync(join(folder, 'exports', result.exportName), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('position,residue,attribution');
    expect(lines[1]).toBe(`1,M,${result.residues[0]}`);
    const listed = await call<{ name: string }[]>('exports.list', { projectId: project.id });
    expect(listed.map((e) => e.name)).toContain(result.exportName);

    await expect(call('train.attributions', { runId: runId + 100, sequence: UBIQUITIN })).rejects.toThrow(/Fine-tuning run/);
    await expect(call('train.attributions', { runId, sequence: 'MK1' })).rejects.toThrow(/amino-acid letters only/);
  }, 120_000);
});
