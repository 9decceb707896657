/**
 * Deep-mutational-scan import: a CSV of mutations + a wild-type FASTA becomes a dataset of mutant
 * sequences. Rows whose wild-type residue is wrong are listed (row, line, mutation, residue found);
 * the import is refused until accepted, then the rest is imported with positions kept.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSequenceFile } from '../../src-main/datasets';
import { createHost, type Host } from '../../src-main/services';
import { datasetPositions } from '../../src-main/services/learn';

const WILD_TYPE = '>GB1_fragment first 20 residues\nMTYKLILNGK\nTLKGETTTEA\n';
// Rows 3, 5 and 7 state a wrong wild-type residue (the wild type has T at 2, K at 4, G at 9).
const SCAN = [
  'mutant,score,replicate',
  'M1A,0.5,1',
  'T2V,-1.25,1',
  'A2V,0.1,1',
  'Y3F:K4R,0.75,2',
  'W4R,1.5,2',
  'p.Leu5Pro,-2.0,2',
  'L7A:A9G,0.3,3',
  'E15D,0.0,3',
].join('\n');

let host: Host | undefined;
afterEach(() => host?.close());

describe('mutation-scan import', () => {
  it('builds mutant sequences and lists the 3 wrong wild-type residues with row, line and residue found', () => {
    const parsed = parseSequenceFile('scan.csv', SCAN, { mutations: { wildType: WILD_TYPE, offset: 0 } });
    const { report } = parsed;
    expect(report.records).toBe(8);
    expect(report.errorCount).toBe(3);
    expect(report.errors.map((e) => [e.record, e.line, e.kind])).toEqual([
      [3, 4, 'wild-type-mismatch'],
      [5, 6, 'wild-type-mismatch'],
      [7, 8, 'wild-type-mismatch'],
    ]);
    expect(report.errors[0]!.message).toBe('Row 3 ("A2V", line 4): A2V expects A at position 2, but the wild type has T.');
    expect(report.errors[1]!.message).toContain('W4R expects W at position 4, but the wild type has K.');
    expect(report.errors[2]!.message).toContain('A9G expects A at position 9, but the wild type has G.');
    // What the importable rows cover: M1A, T2V, L5P and E15D single, Y3F:K4R multiple; positions 1–5 and 15.
    const summary = { positions: 6, length: 20, singles: 4, multiples: 1, synonymous: 0, stops: 0, wildTypeRows: 0 };
    expect(report.variants).toEqual({ wildTypeId: 'GB1_fragment', wildType: 'MTYKLILNGKTLKGETTTEA', mutationColumn: 'mutant', offset: 0, mismatches: 3, summary });
    const byId = new Map(parsed.records.map((r) => [r.seqId, r]));
    expect(byId.get('M1A')!.sequence).toBe('ATYKLILNGKTLKGETTTEA');
    expect(byId.get('Y3F:K4R')!.sequence).toBe('MTFRLILNGKTLKGETTTEA');
    expect(byId.get('p.Leu5Pro')!.sequence).toBe('MTYKPILNGKTLKGETTTEA');
    expect(byId.get('T2V')!.labels).toEqual({ mutant: 'T2V', score: -1.25, replicate: 1 });
  });

  it('applies an offset and reports stops and unparsable rows', () => {
    const text = 'variant\tfitness\nT12V\t1\nK14*\t0\nhello\t2\n';
    const parsed = parseSequenceFile('scan.tsv', text, { mutations: { wildType: 'MTYKLILNGK', offset: 10 } });
    expect(parsed.records.map((r) => r.sequence)).toEqual(['MVYKLILNGK']);
    expect(parsed.report.errors.map((e) => e.kind)).toEqual(['bad-mutation', 'bad-mutation']);
    expect(parsed.report.errors[0]!.message).toContain('stop');
  });

  it('refuses a FASTA file and a table without a mutation column, naming the columns', () => {
    expect(() => parseSequenceFile('x.fasta', '>a\nMK\n', { mutations: { wildType: 'MK', offset: 0 } })).toThrow(/not a FASTA file/);
    expect(() => parseSequenceFile('x.csv', 'name,score\nA1V,1\n', { mutations: { wildType: 'MK', offset: 0 } })).toThrow(/no mutation column found.*"name", "score"/);
  });

  it('is refused until accepted, then imports the other rows with their positions', async () => {
    host = createHost({ home: mkdtempSync(join(tmpdir(), 'esm-dms-')), transport: 'cli' });
    const project = await host.dispatch('projects.create', { name: 'GB1' });
    if (!project.ok) throw new Error(project.error.message);
    const projectId = (project.value as { id: number }).id;
    const request = { projectId, source: { kind: 'text', fileName: 'scan.csv', text: SCAN }, options: { mutations: { wildType: WILD_TYPE } } };
    const refused = await host.dispatch('datasets.import', { ...request, accept: false });
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });
    const imported = await host.dispatch('datasets.import', { ...request, accept: true });
    if (!imported.ok) throw new Error(imported.error.message);
    const dataset = (imported.value as { dataset: { id: number; sequenceCount: number; variants: unknown } }).dataset;
    expect(dataset.sequenceCount).toBe(5);
    expect(dataset.variants).toMatchObject({ mutationColumn: 'mutant', wildType: 'MTYKLILNGKTLKGETTTEA', mismatches: 3 });
    const rows = host.store.datasets.sequences(dataset.id, 0, 10);
    expect(datasetPositions(rows, 'mutant')).toEqual([[1], [2], [3, 4], [5], [15]]);
  });
});
