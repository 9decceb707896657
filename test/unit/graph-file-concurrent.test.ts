/**
 * models/installed graphFile when another process is making the same graph at the same moment, as
 * the shards of a cluster job do when they start together on a model that lacks the graph for
 * their outputs: that writer's half-written file is neither overwritten nor renamed into place
 * (each writer has a file of its own), and the graph left is whole.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphFile, readManifest } from '../../src-main/models/installed';
import { loadGolden } from '../support/golden';
import { assertBuilt, ROOT } from '../support/serve';

const OUTPUTS = { layers: [1, 2], pool: ['mean' as const] };

describe('a graph made while another process makes it', () => {
  let model: string;

  beforeAll(() => {
    assertBuilt();
    const home = mkdtempSync(join(tmpdir(), 'esm-graph-race-'));
    model = join(home, 'model');
    const converted = spawnSync(process.execPath, [join(ROOT, 'bin', 'esm-studio.js'), 'convert', loadGolden('tiny').checkpoint, '--out', model], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
    expect(converted.status, converted.stderr).toBe(0);
  }, 60_000);

  it('leaves the other writer\'s file alone and ends with the whole graph', async () => {
    // The graph as one writer alone makes it, in a copy of the model.
    const alone = `${model}-alone`;
    cpSync(model, alone, { recursive: true });
    const expected = readFileSync(await graphFile(alone, readManifest(alone), OUTPUTS));
    const name = basename(await graphFile(alone, readManifest(alone), OUTPUTS));
    // Another shard is half-way through writing the same graph (the old shared `<graph>.partial`).
    const theirs = join(model, `${name}.partial`);
    writeFileSync(theirs, 'half a graph');
    const file = await graphFile(model, readManifest(model), OUTPUTS);
    expect(basename(file)).toBe(name);
    expect(readFileSync(file).equals(expected)).toBe(true);
    expect(readFileSync(theirs, 'utf8')).toBe('half a graph');
    // Nothing of this writer is left beside the graph.
    expect(readdirSync(model).filter((entry) => entry.startsWith(name)).sort()).toEqual([name, `${name}.partial`]);
    expect(existsSync(file)).toBe(true);
  });
});
