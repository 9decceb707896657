/**
 * SignalP 6.0 3-line FASTA: reading the golden file, every validation problem naming file, line and
 * field, and the 37-state target bitmaps equal to SignalP 6.0's (labels_ref.safetensors), record by record.
 */
import { describe, expect, it } from 'vitest';
import { parseSequenceFile } from '../../src-main/datasets';
import { SIGNALP_KINGDOMS, SIGNALP_TYPES, looksLikeSignalpFasta, readSignalpFasta, trueCleavageSite } from '../../src-main/datasets/signalp';
import { SIGNALP_STATE_COUNT } from '../../src-main/train/crf/signalp-states';
import { hydrophobicCoreCentre, signalpTargetBitmap, twinArginineStart } from '../../src-main/train/crf/signalp-targets';
import { openSignalpGolden, readSignalpGoldenText } from '../support/signalp-golden';

const GOOD = '>P1|NEGATIVE|LIPO|2\nMKKLLAACSGA\nLLLLLLLOOOO\n>P2|EUKARYA|NO_SP|0\nMAAAK\nIIIII\n';

function problemsOf(text: string) {
  return readSignalpFasta('train.fasta', text).problems;
}

describe('readSignalpFasta', () => {
  it('reads all 117 golden records with kingdom, type, partition and labels, as labels_ref has them', () => {
    const file = readSignalpFasta('data.fasta', readSignalpGoldenText('data.fasta'));
    expect(file.problems).toEqual([]);
    expect(file.records).toHaveLength(117);
    const golden = openSignalpGolden('labels_ref.safetensors');
    const [kingdoms, types, partitions, lengths, trueCs] = ['kingdoms', 'types', 'partitions', 'lengths', 'true_cs'].map((n) => golden.numbers(n));
    file.records.forEach((record, i) => {
      expect(SIGNALP_KINGDOMS.indexOf(record.kingdom)).toBe(kingdoms![i]);
      expect(SIGNALP_TYPES.indexOf(record.type)).toBe(types![i]);
      expect(record.partition).toBe(partitions![i]);
      expect(record.sequence.length).toBe(lengths![i]);
      expect(trueCleavageSite(record)).toBe(trueCs![i]);
    });
    expect(file.records[0]).toMatchObject({ id: 'SYN0007', kingdom: 'POSITIVE', type: 'NO_SP', partition: 0, line: 1, record: 1 });
  });

  it('accepts a well-formed file with CRLF line ends and a final newline', () => {
    const file = readSignalpFasta('x.fasta', GOOD.replace(/\n/g, '\r\n'));
    expect(file.problems).toEqual([]);
    expect(file.records.map((r) => [r.id, r.kingdom, r.type, r.partition, r.line])).toEqual([
      ['P1', 'NEGATIVE', 'LIPO', 2, 1],
      ['P2', 'EUKARYA', 'NO_SP', 0, 4],
    ]);
    expect(trueCleavageSite(file.records[0]!)).toBe(7);
  });

  it.each([
    ['label line shorter than the sequence', '>A|NEGATIVE|SP|0\nMKKLLA\nSSSOO\n', 3, 'labels', /5 letters but the sequence has 6/],
    ['label letter outside S T L P I M O', '>A|NEGATIVE|SP|0\nMKKLLA\nSSSOXO\n', 3, 'labels', /"X" at residue 5/],
    ['unknown kingdom', '>A|BACTERIA|SP|0\nMKKLLA\nSSSOOO\n', 1, 'kingdom', /unknown kingdom "BACTERIA"/],
    ['unknown type', '>A|NEGATIVE|SEC|0\nMKKLLA\nSSSOOO\n', 1, 'type', /unknown type "SEC"/],
    ['partition not an integer', '>A|NEGATIVE|SP|one\nMKKLLA\nSSSOOO\n', 1, 'partition', /"one" is not a whole number/],
    ['header with 3 fields', '>A|NEGATIVE|SP\nMKKLLA\nSSSOOO\n', 1, 'header', /4 fields/],
    ['NO_SP with signal-peptide labels', '>A|NEGATIVE|NO_SP|0\nMKKLLA\nSSSOOO\n', 3, 'labels', /NO_SP\) has no S, T, L or P/],
    ['SP type with L labels', '>A|NEGATIVE|SP|0\nMKKLLA\nLLLOOO\n', 3, 'labels', /type SP uses only "S"/],
    ['TAT without T labels', '>A|NEGATIVE|TAT|0\nMKKLLA\nIIIOOO\n', 3, 'labels', /starting at residue 1/],
    ['signal peptide interrupted', '>A|NEGATIVE|SP|0\nMKKLLA\nSSOSOO\n', 3, 'labels', /interrupted at residue 3/],
    ['lower-case residue', '>A|NEGATIVE|SP|0\nMKkLLA\nSSSOOO\n', 2, 'sequence', /"k" at residue 3/],
  ])('reports %s with file, line and field', (_, text, line, field, message) => {
    const [problem, ...rest] = problemsOf(text);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line, field, record: 1 });
    expect(problem!.message).toMatch(/^train\.fasta, line \d+: /);
    expect(problem!.message).toMatch(message);
  });

  it('reports a wrapped sequence and keeps reading at the next header', () => {
    const text = '>A|NEGATIVE|SP|0\nMKKLLA\nGG\nSSSOOOOO\n' + GOOD;
    const file = readSignalpFasta('train.fasta', text);
    expect(file.records.map((r) => r.id)).toEqual(['P1', 'P2']);
    expect(file.problems).toHaveLength(1);
    expect(file.problems[0]).toMatchObject({ line: 3, field: 'labels' });
    expect(file.recordCount).toBe(3);
  });

  it('reports a blank line between records and a missing label line', () => {
    const blank = readSignalpFasta('t.fasta', '>A|NEGATIVE|SP|0\nMKKLLA\nSSSOOO\n\n>B|NEGATIVE|SP|0\nMKKLLA\nSSSOOO\n');
    expect(blank.records.map((r) => r.id)).toEqual(['A', 'B']);
    expect(blank.problems).toEqual([expect.objectContaining({ line: 4, field: 'header', message: expect.stringMatching(/line 4: a blank line/) })]);
    const missing = readSignalpFasta('t.fasta', '>A|NEGATIVE|SP|0\nMKKLLA\n>B|NEGATIVE|SP|0\nMKKLLA\nSSSOOO\n');
    expect(missing.records.map((r) => r.id)).toEqual(['B']);
    expect(missing.problems).toEqual([expect.objectContaining({ line: 3, field: 'labels', message: expect.stringMatching(/label line is missing/) })]);
  });

  it('says so when there is no record at all', () => {
    expect(problemsOf('MKKLLA\n')[0]!.message).toMatch(/line 1: a line that is not part of a 3-line record/);
    expect(problemsOf('MKKLLA\n').at(-1)!.message).toMatch(/no records found/);
  });
});

describe('signalpTargetBitmap', () => {
  it('equals labels_ref for every record of data.fasta', () => {
    const { records } = readSignalpFasta('data.fasta', readSignalpGoldenText('data.fasta'));
    const golden = openSignalpGolden('labels_ref.safetensors');
    const expected = golden.numbers('bitmaps');
    const [, steps, states] = golden.shape('bitmaps') as [number, number, number];
    expect(states).toBe(SIGNALP_STATE_COUNT);
    const mismatches: string[] = [];
    records.forEach((record, b) => {
      const bitmap = signalpTargetBitmap(record);
      const want = expected.subarray(b * steps * states, (b + 1) * steps * states);
      for (let i = 0; i < steps * states; i++) {
        const got = i < bitmap.length ? bitmap[i]! : 0;
        if (got !== want[i]) {
          mismatches.push(`${record.id} (${record.type}) residue ${Math.floor(i / states) + 1} state ${i % states}: got ${got}, want ${want[i]}`);
          break;
        }
      }
    });
    expect(mismatches).toEqual([]);
  });

  it('finds the hydrophobic core and the twin-arginine motif as specified', () => {
    // Windows start at 0 … length − 8: the LLLLLLL window at 1 is the first maximum.
    expect(hydrophobicCoreCentre('KLLLLLLLKK')).toBe(5);
    expect(twinArginineStart('MSRRKRLL')).toBe(2);
    expect(twinArginineStart('MSKRLL')).toBe(2);
    expect(twinArginineStart('MSQRLL')).toBe(2);
  });
});

describe('importing a SignalP file (parseSequenceFile)', () => {
  it('gives kingdom, type, partition and the per-residue labels as text columns', () => {
    const parsed = parseSequenceFile('data.fasta', readSignalpGoldenText('data.fasta'), {});
    expect(parsed.records).toHaveLength(117);
    expect(parsed.report.errors).toEqual([]);
    expect(parsed.records[1]).toMatchObject({
      seqId: 'SYN0011',
      sequence: 'MRKTAMAILLALLFLILCAAALETQEPDAKGNHEKGLDPSQPPIREIVDVFPGVAIKFVVPQRN',
      labels: { kingdom: 'POSITIVE', type: 'SP', partition: '0', residue_labels: 'SSSSSSSSSSSSSSSSSSSSSOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO' },
      line: 4,
    });
  });

  it('reports a bad record with its line instead of joining the label line to the sequence', () => {
    const parsed = parseSequenceFile('train.fasta', '>A|BACTERIA|SP|0\nMKKLLA\nSSSOOO\n>B|NEGATIVE|SP|1\nMKKLLA\nSSSOOO\n', {});
    expect(parsed.records.map((r) => [r.seqId, r.sequence])).toEqual([['B', 'MKKLLA']]);
    expect(parsed.report.errors).toEqual([expect.objectContaining({ line: 1, kind: 'bad-value', message: expect.stringMatching(/unknown kingdom "BACTERIA"/) })]);
  });

  it('leaves ordinary FASTA (UniProt headers) to the FASTA reader', () => {
    expect(looksLikeSignalpFasta('>sp|P69905|HBA_HUMAN Hemoglobin\nMVLS\n')).toBe(false);
    expect(looksLikeSignalpFasta('>P1|NEGATIVE|SP|0\nMKK\nSSO\n')).toBe(true);
    expect(parseSequenceFile('x.fasta', '>sp|P69905|HBA_HUMAN\nMVLS\nPPP\n', {}).records[0]!.sequence).toBe('MVLSPPP');
  });
});
