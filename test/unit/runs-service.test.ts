/**
 * services/runs over a real store and real folders: a run is renamed; its dependents (a scan of
 * its embedding matrix, a map read from its folder, a prediction from the scan's folder) are found
 * through each other; deleting is refused naming them, then done with them, folders included;
 * unrelated runs stay; a run a queued job uses is never deleted.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run, RunDependent } from '../../src-main/api/schemas';
import { createHost, type Host } from '../../src-main/services';

let host: Host | undefined;
afterEach(() => host?.close());

async function setUp() {
  const home = mkdtempSync(join(tmpdir(), 'esm-runs-'));
  host = createHost({ home, transport: 'cli' });
  const h = host;
  const call = async <T>(method: string, input: unknown): Promise<T> => {
    const envelope = await h.dispatch(method, input);
    if (!envelope.ok) throw new Error(envelope.error.message);
    return envelope.value as T;
  };
  const project = await call<{ id: number }>('projects.create', { name: 'Runs' });
  const folder = h.store.projects.folderOf(project.id)!;
  const runWithFolder = (kind: string, title: string, params: Record<string, unknown>): number => {
    const id = h.store.runs.insert({ projectId: project.id, kind, title, params: { runDir: 'runs/0', ...params } });
    mkdirSync(join(folder, 'runs', String(id)), { recursive: true });
    writeFileSync(join(folder, 'runs', String(id), 'result.txt'), title);
    return id;
  };
  const embed = runWithFolder('embed.dataset', 'Embeddings of proteins', {});
  const embedding = h.store.embeddings.upsert({ runId: embed, datasetId: null, modelId: null, modelName: 'tiny', layer: 2, pooling: 'mean', path: `runs/${embed}/mean.npy`, offsetsPath: null, rows: 3, cols: 8, checksum: 'x' });
  const scan = runWithFolder('learn.scan', 'Scan of stability', { items: [{ embeddingId: embedding, path: `runs/${embed}/mean.npy` }] });
  const map = runWithFolder('map.project', 'PCA map', { source: { path: `runs/${embed}/mean.npy`, rows: 3, cols: 8 } });
  const predict = runWithFolder('learn.predict', 'Prediction of new proteins', { trainingPath: `runs/${scan}/fit-1.json` });
  const other = runWithFolder('embed.dataset', 'Other embeddings', {});
  return { call, h, folder, embed, scan, map, predict, other };
}

describe('renaming and deleting runs', () => {
  it('renames a run, refusing an empty name', async () => {
    const { call, embed } = await setUp();
    const renamed = await call<Run>('runs.rename', { runId: embed, title: '  ESM-2 8M, last layer  ' });
    expect(renamed.title).toBe('ESM-2 8M, last layer');
    await expect(call('runs.rename', { runId: embed, title: '   ' })).rejects.toThrow('A run needs a name');
  });

  it('names what uses a run, refuses to delete it alone, and deletes it with them and their folders', async () => {
    const { call, h, folder, embed, scan, map, predict, other } = await setUp();
    const dependents = await call<RunDependent[]>('runs.dependents', { runId: embed });
    expect(dependents.map((d) => d.runId)).toEqual([scan, map, predict]);
    expect(dependents.find((d) => d.runId === predict)!.why).toBe(`uses run ${scan}, which uses it`);
    expect(dependents.find((d) => d.runId === scan)!.kind).toBe('Model scan');

    await expect(call('runs.delete', { runId: embed })).rejects.toThrow(`3 runs use "Embeddings of proteins": run ${scan} "Scan of stability", run ${map} "PCA map", run ${predict} "Prediction of new proteins"`);
    expect(h.store.runs.get(embed)).toBeDefined();

    const { deleted } = await call<{ deleted: number[] }>('runs.delete', { runId: embed, withDependents: true });
    expect(deleted).toEqual([embed, scan, map, predict]);
    for (const id of deleted) {
      expect(h.store.runs.get(id)).toBeUndefined();
      expect(existsSync(join(folder, 'runs', String(id)))).toBe(false);
    }
    expect(h.store.embeddings.list(h.store.runs.get(other)!.projectId)).toEqual([]);
    expect(h.store.runs.get(other)?.title).toBe('Other embeddings');
    expect(existsSync(join(folder, 'runs', String(other), 'result.txt'))).toBe(true);
    // A run nothing uses goes alone.
    expect(await call('runs.delete', { runId: other })).toEqual({ deleted: [other] });
  });

  it('never deletes a run that a queued job uses', async () => {
    const { call, h, scan, predict } = await setUp();
    h.store.jobs.insert({ projectId: h.store.runs.get(scan)!.projectId, runId: null, kind: 'learn.predict', title: 'Predict again', params: { trainingPath: `runs/${scan}/fit-1.json` } });
    await expect(call('runs.delete', { runId: predict })).resolves.toEqual({ deleted: [predict] });
    await expect(call('runs.delete', { runId: scan })).rejects.toThrow(`Run ${scan} "Scan of stability" is used by the job "Predict again" (queued)`);
  });
});
