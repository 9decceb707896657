/**
 * `model.install` from a folder is checked when the user chooses it, not when the install job
 * finally runs: a folder that is not a checkpoint, a file that is not one, and a config.json that
 * does not fit the weights are refused by `jobs.start`, and no job is queued.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { createHost, type Host } from '../../src-main/services';
import { ROOT } from '../support/serve';

const CHECKPOINT = join(ROOT, 'test', 'fixtures', 'golden', 'tiny', 'checkpoint');

let host: Host;
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'esm-install-check-'));
  // No launcher: a request that gets past the check reaches the queue, which refuses to run it.
  host = createHost({ home: join(scratch, 'home'), transport: 'cli' });
});
afterAll(() => host?.close());

async function refusal(path: string): Promise<string> {
  const envelope = await host.dispatch('jobs.start', { kind: 'model.install', path });
  expect(envelope.ok, `installing ${path} was accepted`).toBe(false);
  return envelope.ok ? '' : envelope.error.message;
}

async function queuedJobs(): Promise<Job[]> {
  const envelope = await host.dispatch('jobs.list', {});
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as Job[];
}

describe('model.install is checked when chosen', () => {
  it('refuses a folder without a checkpoint', async () => {
    const folder = join(scratch, 'photos');
    mkdirSync(folder);
    writeFileSync(join(folder, 'notes.txt'), 'not a model');
    expect(await refusal(folder)).toBe(
      `${folder}: no model.safetensors (or model.safetensors.index.json) in this folder. Choose the folder of a Hugging Face ESM-2 model, which holds config.json and model.safetensors.`,
    );
  });

  it('refuses a file that is not a checkpoint', async () => {
    const path = join(scratch, 'notes.txt');
    writeFileSync(path, 'hello');
    expect(await refusal(path)).toMatch(/notes\.txt: not a model checkpoint\. Choose the model's folder/);
  });

  it('refuses a config.json that does not fit the weights, and one that is not JSON', async () => {
    const folder = join(scratch, 'wrong-config');
    mkdirSync(folder);
    copyFileSync(join(CHECKPOINT, 'model.safetensors'), join(folder, 'model.safetensors'));
    const config = JSON.parse(readFileSync(join(CHECKPOINT, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, hidden_size: 128, intermediate_size: 512 }));
    expect(await refusal(folder)).toMatch(/shape/i);
    writeFileSync(join(folder, 'config.json'), '{ not json');
    expect(await refusal(folder)).toBe(`${join(folder, 'config.json')}: the file is not valid JSON. Download config.json again from the model's page.`);
  });

  it('queued no job for any of them, and lets a real checkpoint through to the job queue', async () => {
    expect(await queuedJobs()).toEqual([]);
    // This host runs no jobs: the queue's own refusal shows that the checkpoint passed the check.
    const envelope = await host.dispatch('jobs.start', { kind: 'model.install', path: CHECKPOINT });
    expect(envelope.ok ? '' : envelope.error.message).toMatch(/This process runs no jobs\.$/);
  });
});
