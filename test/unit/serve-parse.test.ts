/**
 * services/dataset-parser: large dataset files are read and parsed in a worker thread (the built
 * out/main/dataset-parse-worker.js), so the main loop keeps answering other requests meanwhile;
 * the result and the errors are exactly those of parsing in place.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportSource } from '../../src-main/api/schemas';
import { createHost, type Host } from '../../src-main/services';
import { IN_PROCESS_PARSER, OFF_THREAD_BYTES, readAndParse, workerParser } from '../../src-main/services/dataset-parser';
import { assertBuilt, ROOT } from '../support/serve';

const WORKER = join(ROOT, 'out', 'main', 'dataset-parse-worker.js');
const scratch = mkdtempSync(join(tmpdir(), 'esm-parse-'));

/** A FASTA of about `bytes` bytes, one bad record (a digit) in the middle. */
function bigFasta(bytes: number): string {
  const residues = 'ACDEFGHIKLMNPQRSTVWY';
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    let sequence = '';
    for (let j = 0; j < 300; j++) sequence += residues[(i * 7 + j * 13) % 20];
    if (i === 1000) sequence = `${sequence.slice(0, 10)}1${sequence.slice(11)}`;
    const record = `>seq${i} protein ${i}\n${sequence}\n`;
    parts.push(record);
    size += record.length;
  }
  return parts.join('');
}

const text = bigFasta(3 * OFF_THREAD_BYTES);
const source: ImportSource = { kind: 'text', fileName: 'big.fasta', text };
let host: Host;

beforeAll(() => {
  assertBuilt();
  host = createHost({ home: join(scratch, 'home'), transport: 'websocket', parseWorker: WORKER });
});

afterAll(() => host.close());

/** How many turns the main loop takes while `work` is pending (0: it was held up the whole time). */
async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let pending = true;
  const tick = (): void => {
    if (!pending) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const value = await work();
  pending = false;
  return { value, turns };
}

describe('parsing large files off the main loop', () => {
  it('gives the same records and report as parsing in place', async () => {
    const inPlace = readAndParse(source, {});
    expect(inPlace.report.errorCount).toBe(1);
    const offThread = await workerParser(WORKER).parse(source, {}, 'records');
    expect(offThread).toEqual(inPlace);
    const reportOnly = await workerParser(WORKER).parse(source, {}, 'report');
    expect(reportOnly).toEqual({ report: inPlace.report, records: [] });
  });

  it('keeps the main loop turning while it parses (in place, it does not turn at all)', async () => {
    const inPlace = await loopTurnsDuring(() => IN_PROCESS_PARSER.parse(source, {}, 'report'));
    expect(inPlace.turns).toBe(0);
    const offThread = await loopTurnsDuring(() => workerParser(WORKER).parse(source, {}, 'report'));
    expect(offThread.turns).toBeGreaterThan(10);
    expect(offThread.value.report).toEqual(inPlace.value.report);
  });

  it('reads a large path source in the worker too', async () => {
    const path = join(scratch, 'big-file.fasta');
    writeFileSync(path, text);
    const parsed = await workerParser(WORKER).parse({ kind: 'path', path }, {}, 'report');
    expect(parsed.report).toEqual({ ...readAndParse(source, {}).report, fileName: 'big-file.fasta' });
  });

  it('rethrows the worker\'s errors as the same user errors', async () => {
    const unknown: ImportSource = { kind: 'text', fileName: 'big.gz', text };
    expect(() => readAndParse(unknown, {})).toThrow(/cannot tell the file format/);
    await expect(workerParser(WORKER).parse(unknown, {}, 'report')).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('big.gz: cannot tell the file format') });
  });

  it('says so when the worker cannot run, instead of stopping the server', async () => {
    await expect(workerParser(join(scratch, 'no-such-worker.js')).parse(source, {}, 'report')).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('Reading big.fasta stopped unexpectedly') });
  });

  it('imports a large upload through dispatch, answering another request meanwhile', async () => {
    const projectId = host.projects.create('Large').id;
    let answeredMeanwhile = false;
    const importing = host.dispatch('datasets.import', { projectId, source, options: {}, accept: true }).then((envelope) => {
      expect(answeredMeanwhile).toBe(true);
      return envelope;
    });
    expect(await host.dispatch('app.info', {})).toMatchObject({ ok: true });
    answeredMeanwhile = true;
    const imported = await importing;
    expect(imported).toMatchObject({ ok: true, value: { dataset: { name: 'big', sequenceCount: readAndParse(source, {}).records.length } } });
  });
});
