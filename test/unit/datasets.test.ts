/**
 * Unit tests for src-main/datasets: reading FASTA / CSV / TSV files before import and the report
 * that describes them. Expected values are worked out by hand from the inputs, not taken from the
 * code under test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import { ImportReport } from '../../src-main/api/schemas';
import type { ImportOptions } from '../../src-main/api/schemas';
import {
  chooseWildType,
  detectFormat,
  MAX_RESIDUES,
  measurementColumns,
  parseSequenceFile,
  requireValidFile,
  VALID_RESIDUES,
  type ParsedFile,
} from '../../src-main/datasets';
import { readLabelTable } from '../../src-main/datasets/table';

/** Joins lines with LF so each test can count line numbers by eye. */
const lines = (...content: string[]): string => content.join('\n');

function parse(fileName: string, text: string, options: ImportOptions = {}): ParsedFile {
  const parsed = parseSequenceFile(fileName, text, options);
  // Every report must satisfy the API contract exactly.
  expect(() => ImportReport.parse(parsed.report)).not.toThrow();
  return parsed;
}

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/datasets/${name}`, import.meta.url)), 'utf8');
}

/** The ApiError a call throws (fails the test when it throws something else or nothing). */
function thrownBy(call: () => unknown): ApiError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected an ApiError, but nothing was thrown');
}

const ids = (parsed: ParsedFile): string[] => parsed.records.map((record) => record.seqId);
const noticesOf = (parsed: ParsedFile, kind: string) => parsed.report.notices.filter((notice) => notice.kind === kind);

describe('constants', () => {
  it('allows the 20 standard amino acids plus X B U Z O, and the ESM-2 residue limit', () => {
    expect([...VALID_RESIDUES].sort().join('')).toBe('ABCDEFGHIKLMNOPQRSTUVWXYZ');
    expect(MAX_RESIDUES).toBe(1022);
  });
});

describe('detectFormat', () => {
  it('knows the protein FASTA, CSV and TSV extensions, in any case', () => {
    for (const name of ['a.fasta', 'a.fa', 'a.faa', 'a.fas', 'dir/B.FASTA']) expect(detectFormat(name)).toBe('fasta');
    expect(detectFormat('x.csv')).toBe('csv');
    expect(detectFormat('x.CSV')).toBe('csv');
    expect(detectFormat('x.tsv')).toBe('tsv');
    expect(detectFormat('x.tab')).toBe('tsv');
  });

  it('rejects nucleotide, compressed and unknown files', () => {
    for (const name of ['a.fna', 'a.fasta.gz', 'a.xlsx', 'fasta', 'a.']) expect(detectFormat(name)).toBeNull();
  });

  it('reads .txt as FASTA only when the first non-blank character is ">"', () => {
    expect(detectFormat('seqs.txt', '\n  \n>a\nMKV\n')).toBe('fasta');
    expect(detectFormat('seqs.txt', '\uFEFF>a\nMKV\n')).toBe('fasta');
    expect(detectFormat('seqs.txt', 'id,sequence\n')).toBeNull();
    expect(detectFormat('seqs.txt')).toBeNull();
  });
});

describe('FASTA', () => {
  it('joins multi-line records, takes the ID from the first word of the header and keeps the rest as its description', () => {
    const parsed = parse('globins.fasta', fixture('globins.fasta'));
    const hba =
      'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHG' +
      'KKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTP' +
      'AVHASLDKFLASVSTVLTSKYR';
    const hbb =
      'MVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRFFESFGDLSTPDAVMGNPK' +
      'VKAHGKKVLGAFSDGLAHLDNLKGTFATLSELHCDKLHVDPENFRLLGNVLVCVLAHHFG' +
      'KEFTPPVQAAYQKVVAGVANALAHKYH';
    expect(parsed.records).toEqual([
      { seqId: 'sp|P69905|HBA_HUMAN', sequence: hba, labels: { description: 'Hemoglobin subunit alpha OS=Homo sapiens' }, record: 1, line: 1 },
      { seqId: 'sp|P68871|HBB_HUMAN', sequence: hbb, labels: { description: 'Hemoglobin subunit beta OS=Homo sapiens' }, record: 2, line: 6 },
    ]);
    expect(parsed.report).toMatchObject({
      fileName: 'globins.fasta',
      format: 'fasta',
      records: 2,
      importable: 2,
      errors: [],
      errorCount: 0,
      notices: [],
      duplicateIds: 0,
      duplicateSequences: 0,
      tooLong: 0,
      lengths: { min: 142, max: 147, mean: 144.5, median: 144.5 },
      // A column of text, never offered as a target or a measurement.
      labelColumns: [{ name: 'description', type: 'category', missing: 0, role: 'description' }],
      sequenceColumn: null,
      idColumn: null,
    });
  });

  it('ignores blank lines and whitespace inside sequence lines', () => {
    const parsed = parse('s.fasta', lines('', '>a', 'MKT AYI', '', '\tAKQ R  ', '', '>b', ' MKV', ''));
    expect(parsed.records.map((record) => record.sequence)).toEqual(['MKTAYIAKQR', 'MKV']);
    expect(parsed.records.map((record) => record.line)).toEqual([2, 7]);
  });

  it('names records with an empty header record_<n>', () => {
    const parsed = parse('s.fasta', lines('>first', 'MKV', '>', 'MKL', '>   ', 'MKI'));
    expect(ids(parsed)).toEqual(['first', 'record_2', 'record_3']);
  });

  it('reports the exact line and residue position of an invalid character', () => {
    const text = lines(
      '>seq1', //   line 1
      'MKVLA', //   line 2
      '>seq2', //   line 3
      'MKTAY', //   line 4, residues 1-5
      'IAK QR', //  line 5, residues 6-10 (the space is not a residue)
      'LLJ', //     line 6, residues 11-13: the J is residue 13
      '>seq3', //   line 7
      'MKVLL',
    );
    const parsed = parse('s.fasta', text);
    expect(parsed.report.errors).toEqual([
      {
        record: 2,
        line: 6,
        id: 'seq2',
        kind: 'invalid-character',
        position: 13,
        message: 'Record 2 ("seq2", line 6): character "J" at residue 13 is not an amino acid (allowed: 20 standard + X B U Z O).',
      },
    ]);
    expect(parsed.report.errorCount).toBe(1);
    expect(ids(parsed)).toEqual(['seq1', 'seq3']);
    expect(parsed.report).toMatchObject({ records: 3, importable: 2 });
  });

  it('counts every invalid character of a record but reports the first', () => {
    const parsed = parse('s.fasta', lines('>a', 'MK1', 'V-2J'));
    expect(parsed.report.errors).toHaveLength(1);
    const [problem] = parsed.report.errors;
    expect(problem).toMatchObject({ record: 1, line: 2, position: 3, kind: 'invalid-character' });
    expect(problem?.message).toContain('character "1" at residue 3');
    expect(problem?.message).toContain('4 invalid characters');
  });

  it('locates a lower-case invalid character and quotes it as written', () => {
    const parsed = parse('s.fasta', lines('>a', 'mkvj'));
    expect(parsed.report.errors[0]).toMatchObject({ line: 2, position: 4 });
    expect(parsed.report.errors[0]?.message).toContain('character "j" at residue 4');
  });

  it('strips a trailing stop "*" with one aggregated notice, but rejects "*" inside a sequence', () => {
    const text = lines('>a', 'MKV*', '>b', 'MK', 'L*', '>c', 'MK*LL', '>d', 'MKI');
    const parsed = parse('s.fasta', text);
    expect(parsed.records.map((record) => [record.seqId, record.sequence])).toEqual([
      ['a', 'MKV'],
      ['b', 'MKL'],
      ['d', 'MKI'],
    ]);
    expect(noticesOf(parsed, 'stop-stripped')).toHaveLength(1);
    expect(noticesOf(parsed, 'stop-stripped')[0]?.message).toContain('2 sequences');
    expect(parsed.report.errors).toMatchObject([
      { record: 3, id: 'c', line: 7, position: 3, kind: 'invalid-character' },
    ]);
  });

  it('treats a record holding only a stop as an empty sequence', () => {
    const parsed = parse('s.fasta', lines('>a', '*', '>b', 'MKV'));
    expect(parsed.report.errors).toMatchObject([{ record: 1, line: 1, id: 'a', kind: 'empty-sequence' }]);
  });

  it('upper-cases lower-case sequences with one notice giving the count', () => {
    const parsed = parse('s.fasta', lines('>a', 'mkv', '>b', 'MkV', '>c', 'MKV'));
    expect(parsed.records.map((record) => record.sequence)).toEqual(['MKV', 'MKV', 'MKV']);
    expect(noticesOf(parsed, 'lower-case')).toHaveLength(1);
    expect(noticesOf(parsed, 'lower-case')[0]?.message).toContain('2 sequences');
  });

  it('accepts Windows (CRLF) and old Mac (CR) line endings with the same lines as LF', () => {
    const unix = lines('>a desc', 'MKV', 'LLA', '', '>b', 'MKJ');
    const expectedRecords = [{ seqId: 'a', sequence: 'MKVLLA', labels: { description: 'desc' }, record: 1, line: 1 }];
    for (const text of [unix, unix.replaceAll('\n', '\r\n'), unix.replaceAll('\n', '\r')]) {
      const parsed = parse('s.fasta', text);
      expect(parsed.records).toEqual(expectedRecords);
      expect(parsed.report.errors).toMatchObject([{ record: 2, line: 6, position: 3 }]);
    }
  });

  it('adds no description column when no header has words after its ID, and no missing-value note when some lack one', () => {
    expect(parse('s.fasta', lines('>a', 'MKV', '>b', 'MKL')).report.labelColumns).toEqual([]);
    const some = parse('s.fasta', lines('>a kinase', 'MKV', '>b', 'MKL'));
    expect(some.records.map((r) => r.labels)).toEqual([{ description: 'kinase' }, { description: null }]);
    expect(some.report.notices).toEqual([]);
  });

  it('imports X, B, Z, U and O with one note naming the letters found and how the models read them', () => {
    const parsed = parse('s.fasta', lines('>a', 'MKVX', '>b', 'MKL', '>c', 'MUKZ'));
    expect(parsed.report.importable).toBe(3);
    const notes = parsed.report.notices.filter((n) => n.kind === 'unusual-residues');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ record: 1 });
    expect(notes[0]!.message).toMatch(/^2 sequences have X \(unknown\), Z \(E or Q\), U \(selenocysteine\) \(first: record 1 "a"\)\. They are imported as written: ESM-2 and ESM C have a token/);
  });

  it('ignores a UTF-8 byte-order mark', () => {
    const parsed = parse('s.fasta', '\uFEFF>a\nMKV\n');
    expect(ids(parsed)).toEqual(['a']);
  });

  it('reports an empty record as empty-sequence at its header line', () => {
    const parsed = parse('s.fasta', lines('>a', 'MKV', '>b', '', '>c', 'MKL'));
    expect(parsed.report.errors).toEqual([
      expect.objectContaining({ record: 2, line: 3, id: 'b', kind: 'empty-sequence' }),
    ]);
    expect(ids(parsed)).toEqual(['a', 'c']);
  });

  it('reports text before the first header as a bad row at its line and keeps the records', () => {
    const parsed = parse('s.fasta', lines('', 'some notes', 'MKV', '>a', 'MKL'));
    expect(parsed.report.errors).toEqual([expect.objectContaining({ line: 2, kind: 'bad-row' })]);
    expect(parsed.report.errors[0]?.message).toContain('Line 2');
    expect(parsed.report).toMatchObject({ records: 1, importable: 1, errorCount: 1 });
  });

  it('throws when the file is empty or has no header at all', () => {
    for (const text of ['', '  \n\n', 'MKVLLA\nMKV\n']) {
      const error = thrownBy(() => parseSequenceFile('none.fasta', text, {}));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toMatch(/^none\.fasta: no sequences found/);
    }
  });

  it('reports the base name of the file, for POSIX and Windows paths', () => {
    expect(parse('/home/me/data/a.fasta', '>a\nMKV').report.fileName).toBe('a.fasta');
    expect(parse('C:\\Users\\me\\b.fa', '>a\nMKV').report.fileName).toBe('b.fa');
  });
});

describe('duplicate IDs', () => {
  it('renames later occurrences ID_2, ID_3 with one notice each', () => {
    const parsed = parse('s.fasta', lines('>x', 'MKA', '>x', 'MKC', '>y', 'MKD', '>x', 'MKE'));
    expect(ids(parsed)).toEqual(['x', 'x_2', 'y', 'x_3']);
    expect(parsed.report.duplicateIds).toBe(2);
    const renames = noticesOf(parsed, 'renamed-duplicate-id');
    expect(renames.map((notice) => notice.record)).toEqual([2, 4]);
    expect(renames[0]?.message).toContain('"x_2"');
  });

  it('skips suffixes that already exist in the file, even later on', () => {
    const parsed = parse('s.fasta', lines('>x', 'MKA', '>x', 'MKC', '>x_2', 'MKD', '>x', 'MKE'));
    expect(ids(parsed)).toEqual(['x', 'x_3', 'x_2', 'x_4']);
    expect(new Set(ids(parsed)).size).toBe(4);
    expect(parsed.report.duplicateIds).toBe(2);
  });

  it('does not rename because of a record that is skipped for errors', () => {
    const parsed = parse('s.fasta', lines('>x', 'MKJ', '>x', 'MKC'));
    expect(ids(parsed)).toEqual(['x']);
    expect(parsed.report.duplicateIds).toBe(0);
  });

  it('caps rename notices at 200 but counts every duplicate', () => {
    const text = Array.from({ length: 301 }, (_, i) => `>same\nMK${'A'.repeat(i + 1)}`).join('\n');
    const parsed = parse('s.fasta', text);
    expect(parsed.report.duplicateIds).toBe(300);
    expect(parsed.report.notices).toHaveLength(200);
    expect(ids(parsed)[300]).toBe('same_301');
  });
});

describe('duplicate sequences and long sequences', () => {
  it('counts records whose sequence appeared earlier, with one notice', () => {
    const text = lines('>a', 'MKA', '>b', 'MKA', '>c', 'MKC', '>d', 'mka', '>e', 'MKC', '>f', 'MKD');
    const parsed = parse('s.fasta', text);
    expect(parsed.report.duplicateSequences).toBe(3); // b and d repeat a, e repeats c
    expect(noticesOf(parsed, 'duplicate-sequence')).toHaveLength(1);
    expect(parsed.report.importable).toBe(6);
  });

  it('flags sequences longer than 1022 residues but still imports them', () => {
    const text = lines('>ok', 'M'.repeat(1022), '>long', 'M'.repeat(1023), '>longer', 'A'.repeat(2000));
    const parsed = parse('s.fasta', text);
    expect(parsed.report.tooLong).toBe(2);
    expect(parsed.report.importable).toBe(3);
    const notices = noticesOf(parsed, 'too-long');
    expect(notices.map((notice) => notice.record)).toEqual([2, 3]);
    expect(notices[0]?.message).toMatch(/1023 residues.*windowed or truncated/);
    expect(parsed.report.lengths).toEqual({ min: 1022, max: 2000, mean: (1022 + 1023 + 2000) / 3, median: 1023 });
  });
});

describe('error reporting limits', () => {
  it('keeps 200 errors in the report but counts them all', () => {
    const text = Array.from({ length: 250 }, (_, i) => `>bad${i}\nMKJ`).join('\n') + '\n>good\nMKV';
    const parsed = parse('s.fasta', text);
    expect(parsed.report.errors).toHaveLength(200);
    expect(parsed.report.errorCount).toBe(250);
    expect(parsed.report.errors[199]).toMatchObject({ record: 200, line: 400 });
    expect(ids(parsed)).toEqual(['good']);
  });

  it('gives null length statistics when nothing is importable', () => {
    const parsed = parse('s.fasta', lines('>a', 'J'));
    expect(parsed.report).toMatchObject({ records: 1, importable: 0, lengths: null });
  });
});

describe('CSV', () => {
  it('handles quoted fields with commas, quotes and newlines with correct line numbers', () => {
    const parsed = parse('variants.csv', fixture('variants.csv'));
    expect(parsed.report).toMatchObject({
      format: 'csv',
      records: 4,
      importable: 3,
      sequenceColumn: 'mutated_sequence',
      idColumn: null,
    });
    // "variant" is not an ID column name, so rows are numbered and it becomes a label.
    expect(parsed.records.map((record) => [record.seqId, record.line])).toEqual([
      ['row_1', 2],
      ['row_2', 3],
      ['row_3', 5],
    ]);
    expect(parsed.records[1]?.labels.note).toBe('two-line\nnote, with a comma');
    expect(parsed.records[2]?.labels.note).toBe('He said "fine"');
    expect(parsed.report.errors).toEqual([
      expect.objectContaining({ record: 4, line: 6, position: 2, kind: 'invalid-character', id: 'row_4' }),
    ]);
    expect(parsed.report.errors[0]?.message).toMatch(/^Row 4 \("row_4", line 6\): character "J" at residue 2/);
  });

  it('finds the line of an invalid character inside a multi-line quoted sequence', () => {
    const text = lines(
      'id,note,sequence', //          line 1
      'a,"one', //                    line 2
      'two",MKV', //                  line 3
      'b,"x, y","MKTAY', //           line 4
      'IAKJR"', //                    line 5: J is residue 9
      'c,plain,MKL', //               line 6
    );
    const parsed = parse('t.csv', text);
    expect(parsed.report.errors).toEqual([
      expect.objectContaining({ record: 2, id: 'b', line: 5, position: 9, kind: 'invalid-character' }),
    ]);
    expect(parsed.records.map((record) => [record.seqId, record.line])).toEqual([
      ['a', 2],
      ['c', 6],
    ]);
  });

  it('types label columns as numbers or categories and counts missing values', () => {
    const text = lines(
      'Name,Sequence,fitness,class,mixed,replicate',
      'a,MKA,1.5,stable,1,',
      'b,MKC,-2e-3,unstable,x,',
      'c,MKD,,stable,3,',
      'd,MKE,NA,,4,',
      'e,MKF, 7 ,stable,5,',
    );
    const parsed = parse('t.csv', text);
    expect(parsed.report.labelColumns).toEqual([
      { name: 'fitness', type: 'number', missing: 2 },
      { name: 'class', type: 'category', missing: 1 },
      { name: 'mixed', type: 'category', missing: 0 },
      { name: 'replicate', type: 'number', missing: 5 },
    ]);
    expect(parsed.report).toMatchObject({ sequenceColumn: 'Sequence', idColumn: 'Name' });
    expect(parsed.records.map((record) => record.labels)).toEqual([
      { fitness: 1.5, class: 'stable', mixed: '1', replicate: null },
      { fitness: -0.002, class: 'unstable', mixed: 'x', replicate: null },
      { fitness: null, class: 'stable', mixed: '3', replicate: null },
      { fitness: null, class: null, mixed: '4', replicate: null },
      { fitness: 7, class: 'stable', mixed: '5', replicate: null },
    ]);
  });

  it('types labels from the importable rows only', () => {
    const parsed = parse('t.csv', lines('id,sequence,score', 'a,MKA,1', 'b,MKJ,high', 'c,MKC,2'));
    expect(parsed.report.labelColumns).toEqual([{ name: 'score', type: 'number', missing: 0 }]);
  });

  it('uses the first matching sequence and id column names, case-insensitively', () => {
    const parsed = parse('t.csv', lines('label,ACCESSION,Seq,sequence', '1,P1,MKA,MKC'));
    expect(parsed.report).toMatchObject({ sequenceColumn: 'Seq', idColumn: 'ACCESSION' });
    expect(parsed.records[0]).toMatchObject({ seqId: 'P1', sequence: 'MKA', labels: { label: 1, sequence: 'MKC' } });
  });

  it('uses the columns given in the options, falling back to a case-insensitive match', () => {
    const text = lines('protein,aa,code', 'MKA,x,p1', 'MKC,y,p2');
    const parsed = parse('t.csv', text, { sequenceColumn: 'Protein', idColumn: 'code' });
    expect(parsed.report).toMatchObject({ sequenceColumn: 'protein', idColumn: 'code' });
    expect(parsed.records.map((record) => [record.seqId, record.sequence, record.labels])).toEqual([
      ['p1', 'MKA', { aa: 'x' }],
      ['p2', 'MKC', { aa: 'y' }],
    ]);
  });

  it('names rows without an ID column, or with an empty ID cell, row_<n>', () => {
    const parsed = parse('t.csv', lines('sequence,id', 'MKA,', 'MKC,b', 'MKD,  '));
    expect(ids(parsed)).toEqual(['row_1', 'b', 'row_3']);
  });

  it('throws naming the file, the column and the columns found when a chosen column is missing', () => {
    const text = lines('id,sequence,score', 'a,MKV,1');
    for (const options of [{ sequenceColumn: 'aa_sequence' }, { idColumn: 'uniprot' }]) {
      const error = thrownBy(() => parseSequenceFile('/data/scores.csv', text, options));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toContain('scores.csv');
      expect(error.message).not.toContain('/data/');
      expect(error.message).toContain(`"${options.sequenceColumn ?? options.idColumn}"`);
      expect(error.message).toContain('"id", "sequence", "score"');
    }
  });

  it('throws naming the file and listing the columns when no sequence column can be found', () => {
    const error = thrownBy(() => parseSequenceFile('plate.csv', lines('well,protein_seq,od', 'A1,MKV,0.3'), {}));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toMatch(/^plate\.csv: no sequence column/);
    expect(error.message).toContain('"well", "protein_seq", "od"');
  });

  it('hints when a .csv file is really tab-separated', () => {
    const error = thrownBy(() => parseSequenceFile('x.csv', 'id\tsequence\na\tMKV\n', {}));
    expect(error.message).toContain('.tsv');
  });

  it('reports a row with the wrong number of fields as a bad row and keeps the others', () => {
    const text = lines('id,sequence,score', 'a,MKA,1', 'b,MKC,2,extra', '', 'c,MKD', 'd,MKE,4');
    const parsed = parse('t.csv', text);
    expect(parsed.report.errors).toEqual([
      expect.objectContaining({ record: 2, line: 3, id: 'b', kind: 'bad-row' }),
      expect.objectContaining({ record: 3, line: 5, id: 'c', kind: 'bad-row' }),
    ]);
    expect(parsed.report.errors[0]?.message).toContain('line 3');
    expect(ids(parsed)).toEqual(['a', 'd']);
    expect(parsed.report).toMatchObject({ records: 4, importable: 2, errorCount: 2 });
  });

  it('reports an empty sequence cell as missing-sequence', () => {
    const parsed = parse('t.csv', lines('id,sequence', 'a,MKA', 'b,', 'c,"  "', 'd,*'));
    expect(parsed.report.errors).toEqual([
      expect.objectContaining({ record: 2, line: 3, id: 'b', kind: 'missing-sequence' }),
      expect.objectContaining({ record: 3, line: 4, id: 'c', kind: 'missing-sequence' }),
      expect.objectContaining({ record: 4, line: 5, id: 'd', kind: 'empty-sequence' }),
    ]);
  });

  it('cleans table sequences like FASTA ones: case, stop, inner whitespace', () => {
    const parsed = parse('t.csv', lines('id,sequence', 'a, mkv l* '));
    expect(parsed.records[0]?.sequence).toBe('MKVL');
    expect(parsed.report.notices.map((notice) => notice.kind)).toEqual(['lower-case', 'stop-stripped']);
  });

  it('skips blank lines and all-empty rows, and drops an unnamed empty trailing column', () => {
    const text = lines('id,sequence,score,', '', 'a,MKA,1,', ',,,', 'b,MKC,2,', '');
    const parsed = parse('t.csv', text);
    expect(parsed.records.map((record) => [record.seqId, record.record, record.line])).toEqual([
      ['a', 1, 3],
      ['b', 2, 5],
    ]);
    expect(parsed.report.labelColumns.map((column) => column.name)).toEqual(['score']);
  });

  it('gives repeated or empty header names distinct label names', () => {
    const parsed = parse('t.csv', lines('id,sequence,score,score,', 'a,MKA,1,2,x'));
    expect(parsed.records[0]?.labels).toEqual({ score: 1, score_2: 2, column_5: 'x' });
  });

  it('accepts CRLF line endings and a byte-order mark', () => {
    const parsed = parse('t.csv', '\uFEFFid,sequence\r\na,MKA\r\n\r\nb,"MK\r\nJ"\r\nc,MKC\r\n');
    expect(parsed.report.idColumn).toBe('id');
    expect(parsed.records.map((record) => [record.seqId, record.line])).toEqual([
      ['a', 2],
      ['c', 6],
    ]);
    expect(parsed.report.errors).toEqual([expect.objectContaining({ id: 'b', line: 5, position: 3 })]);
  });

  it('throws naming the line when a quote is never closed', () => {
    const error = thrownBy(() => parseSequenceFile('q.csv', lines('id,sequence', 'a,MKA', 'b,"MKC', 'c,MKD'), {}));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toMatch(/^q\.csv, line 3: .*never closed/);
  });

  it('throws when there is a header but no data rows', () => {
    const error = thrownBy(() => parseSequenceFile('h.csv', 'id,sequence\n\n', {}));
    expect(error.message).toMatch(/^h\.csv: no sequences found/);
  });
});

describe('TSV', () => {
  it('reads tab-separated files, including a quoted multi-line sequence', () => {
    const parsed = parse('peptides.tsv', fixture('peptides.tsv'));
    expect(parsed.report).toMatchObject({
      format: 'tsv',
      records: 3,
      importable: 3,
      sequenceColumn: 'sequence',
      idColumn: 'name',
      labelColumns: [
        { name: 'activity', type: 'number', missing: 0 },
        { name: 'class', type: 'category', missing: 0 },
      ],
    });
    expect(parsed.records).toEqual([
      { seqId: 'P1', sequence: 'MKTAYIAKQR', labels: { activity: 3.5, class: 'active' }, record: 1, line: 2 },
      { seqId: 'P2', sequence: 'MKTAYIAKQL', labels: { activity: -0.25, class: 'inactive' }, record: 2, line: 3 },
      { seqId: 'P3', sequence: 'MKTAYIAKQE', labels: { activity: 0.001, class: 'active' }, record: 3, line: 4 },
    ]);
  });

  it('reads .tab files as TSV and keeps commas inside values', () => {
    const parsed = parse('x.tab', 'id\tsequence\tnote\na\tMKV\tone, two\n');
    expect(parsed.report.format).toBe('tsv');
    expect(parsed.records[0]?.labels).toEqual({ note: 'one, two' });
  });
});

describe('format choice', () => {
  it('lets options.format override the file name', () => {
    const parsed = parse('export.dat', 'id,sequence\na,MKV\n', { format: 'csv' });
    expect(parsed.report.format).toBe('csv');
    expect(ids(parsed)).toEqual(['a']);
  });

  it('reads a .txt file starting with ">" as FASTA', () => {
    expect(parse('seqs.txt', '>a\nMKV\n').report.format).toBe('fasta');
  });

  it('throws naming the file when the format cannot be told', () => {
    for (const name of ['seqs.xlsx', 'seqs.fasta.gz', 'genes.fna']) {
      const error = thrownBy(() => parseSequenceFile(name, '>a\nMKV\n', {}));
      expect(error.code).toBe('invalid-input');
      expect(error.message.startsWith(`${name}: `)).toBe(true);
    }
  });
});

describe('missing numbers: one rule', () => {
  it('reads NaN, NA, N/A, n/a, nan, null, None, "-" and empty as missing values of a numeric column, naming their rows', () => {
    const markers = ['NaN', 'NA', 'N/A', 'n/a', 'nan', 'null', 'None', '-', ''];
    const text = lines('id,sequence,y', 'a,MKA,1.5', ...markers.map((marker, i) => `m${i},MKC,${marker}`), 'z,MKD,-2');
    const parsed = parse('t.csv', text);
    expect(parsed.report.labelColumns).toEqual([{ name: 'y', type: 'number', missing: 9 }]);
    expect(parsed.records.map((r) => r.labels.y)).toEqual([1.5, ...markers.map(() => null), -2]);
    const [notice] = noticesOf(parsed, 'missing-values');
    // Rows 2..10 hold the markers; the first ten rows with a missing value are named.
    expect(notice?.message).toBe('Column "y" has no value in 9 rows (rows 2, 3, 4, 5, 6, 7, 8, 9, 10); they are left out when "y" is what a model learns or is compared with.');
    expect(parsed.report.errorCount).toBe(0);
  });

  it('makes inf, -inf, Infinity and -Infinity errors naming the row and column, and keeps the column numeric', () => {
    const text = lines('id,sequence,y,note', 'a,MKA,1,x', 'b,MKC,inf,x', 'c,MKD,-Infinity,x', 'd,MKE,2,x', 'e,MKF,+INF,x', 'f,MKG,Infinity,x');
    const parsed = parse('t.csv', text);
    expect(parsed.report.labelColumns[0]).toEqual({ name: 'y', type: 'number', missing: 0 });
    expect(parsed.report.errors.map((e) => [e.record, e.kind])).toEqual([[2, 'bad-value'], [3, 'bad-value'], [5, 'bad-value'], [6, 'bad-value']]);
    expect(parsed.report.errors[0]?.message).toBe(
      'Row 2 ("b", line 3): "inf" in column "y" is infinite, which no model can learn from. Write the measured value, or leave the cell empty (or NA) if there is none.',
    );
    expect(ids(parsed)).toEqual(['a', 'd']);
  });

  it('leaves "inf" alone in a column of categories', () => {
    const parsed = parse('t.csv', lines('id,sequence,tag', 'a,MKA,inf', 'b,MKC,low'));
    expect(parsed.report.labelColumns).toEqual([{ name: 'tag', type: 'category', missing: 0 }]);
    expect(parsed.report.errorCount).toBe(0);
  });

  it('reads a labels-only table (fit) with the same rule', () => {
    const table = readLabelTable('labels.csv', lines('id,y,group', 'p0,1.5,a', 'p1,NA,b', 'p2,,a', 'p3,None,b'), ',', 'id');
    expect(table.columns).toEqual([
      { name: 'y', type: 'number', missing: 3 },
      { name: 'group', type: 'category', missing: 0 },
    ]);
    expect(table.rows.map((r) => [r.id, r.labels.y])).toEqual([['p0', 1.5], ['p1', null], ['p2', null], ['p3', null]]);
    const error = thrownBy(() => readLabelTable('labels.csv', lines('id,y', 'p0,1', 'p1,-inf'), ',', 'id'));
    expect(error.message).toBe('labels.csv, row 2 (id p1, line 3): "-inf" in column "y" is infinite, which no model can learn from. Write the measured value, or leave the cell empty (or NA) if there is none.');
  });
});

describe('index columns', () => {
  it('marks a column named like a row counter, or holding 0..n-1 or 1..n in order, and never offers it as a measurement', () => {
    const rows = ['a,MKA,0,1,7,3,0.5', 'b,MKC,1,2,8,1,0.1', 'c,MKD,2,3,9,2,0.9', 'd,MKE,3,4,10,4,0.3', 'e,MKF,4,5,11,5,0.7'];
    const parsed = parse('t.csv', lines('id,sequence,counter,rank,idx,shuffled,y', ...rows));
    expect(parsed.report.labelColumns).toEqual([
      { name: 'counter', type: 'number', missing: 0, role: 'index' },
      { name: 'rank', type: 'number', missing: 0, role: 'index' },
      { name: 'idx', type: 'number', missing: 0, role: 'index' },
      { name: 'shuffled', type: 'number', missing: 0 },
      { name: 'y', type: 'number', missing: 0 },
    ]);
    expect(measurementColumns(parsed.report.labelColumns).map((c) => c.name)).toEqual(['shuffled', 'y']);
    expect(noticesOf(parsed, 'index-column').map((n) => n.message)).toContain('Column "idx" only numbers the rows, so it is not offered as a target or a measurement.');
  });

  it('recognises the row numbers even when rows before them were skipped, but not in a table of four rows', () => {
    const skipped = parse('t.csv', lines('id,sequence,row_number_like', 'a,MKA,0', 'b,MJK,1', 'c,MKD,2', 'd,MKE,3', 'e,MKF,4', 'f,MKG,5'));
    expect(skipped.report.labelColumns[0]?.role).toBe('index');
    const small = parse('t.csv', lines('id,sequence,n', 'a,MKA,1', 'b,MKC,2', 'c,MKD,3', 'd,MKE,4'));
    expect(small.report.labelColumns[0]?.role).toBeUndefined();
  });
});

describe('requireValidFile (embed, finetune, predict)', () => {
  it('refuses a file with any bad record, naming the file, the row, the position and the letter', () => {
    const parsed = parseSequenceFile('new.csv', lines('id,sequence,y', 'P1,MKV,1', 'P123,MKTAJV,2'), {});
    const error = thrownBy(() => requireValidFile('/data/new.csv', parsed));
    expect(error.message).toBe(
      [
        '/data/new.csv: 1 row cannot be used:',
        '  Row 2 ("P123", line 3): character "J" at residue 5 is not an amino acid (allowed: 20 standard + X B U Z O).',
        'Nothing was run. Fix or remove that row and run again.',
      ].join('\n'),
    );
    const clean = parseSequenceFile('ok.fasta', '>a\nMKV\n', {});
    expect(requireValidFile('ok.fasta', clean)).toBe(clean);
  });
});

describe('mutation scans: which wild type', () => {
  const wildTypes = fixture('two_wild_types.fasta');
  const scan = fixture('TOYA_HUMAN_Smith2020.csv');
  const TOYA = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ';

  it('takes the record the table is named after, never silently the first', () => {
    const parsed = parse('TOYA_HUMAN_Smith2020.csv', scan, { mutations: { wildType: wildTypes, offset: 0 } });
    expect(parsed.report.variants).toMatchObject({ wildTypeId: 'TOYA_HUMAN', wildType: TOYA, mismatches: 0 });
    expect(parsed.report.importable).toBe(6);
    // A UniProt-style name: the table is named after the entry name inside "sp|…|…".
    const b = parse('TOYB_ECOLI.csv', 'mutant,score\nS2A,1\n', { mutations: { wildType: wildTypes, offset: 0 } });
    expect(b.report.variants?.wildTypeId).toBe('sp|P99999|TOYB_ECOLI');
  });

  it('refuses when no record is named like the table, saying how well each record fits', () => {
    const error = thrownBy(() => parse('scan.csv', scan, { mutations: { wildType: wildTypes, offset: 0 } }));
    expect(error.message).toBe(
      'The wild-type FASTA has 2 records ("TOYA_HUMAN", "sp|P99999|TOYB_ECOLI") and none is named like scan.csv. ' +
        'Choose the record this scan mutates ("Wild-type record" when importing, --wild-type-record NAME on the command line), or keep only that record in the FASTA. ' +
        'Share of the scan\'s stated wild-type residues each record has: "TOYA_HUMAN" 100 %, "sp|P99999|TOYB_ECOLI" 17 %.',
    );
  });

  it('uses the record chosen by name, and refuses a name the FASTA does not have', () => {
    const parsed = parse('scan.csv', scan, { mutations: { wildType: wildTypes, wildTypeRecord: 'toya_human', offset: 0 } });
    expect(parsed.report.variants?.wildTypeId).toBe('TOYA_HUMAN');
    expect(chooseWildType(wildTypes, { record: 'sp|P99999|TOYB_ECOLI' }).residues.startsWith('MSHHW')).toBe(true);
    expect(thrownBy(() => chooseWildType(wildTypes, { record: 'TOYC' })).message).toBe(
      'The wild-type FASTA has no record named "TOYC"; its records are "TOYA_HUMAN", "sp|P99999|TOYB_ECOLI".',
    );
  });

  it('says which offset would match when most rows do not', () => {
    const parsed = parse('TOYA_HUMAN_Smith2020.csv', scan, { mutations: { wildType: wildTypes, offset: 2 } });
    expect(parsed.report.notices[0]).toEqual({
      kind: 'offset-hint',
      message:
        'Most rows (4 of 4) state wild-type residues that this wild type does not have at offset 2. ' +
        "With offset 0 (the wild type's first residue numbered 1), 6 of 6 stated wild-type residues match: set the numbering offset to 0.",
    });
    expect(noticesOf(parse('TOYA_HUMAN_Smith2020.csv', scan, { mutations: { wildType: wildTypes, offset: 0 } }), 'offset-hint')).toEqual([]);
  });

  it('makes an empty mutation cell an error naming the row, and names the rows of missing scores and the index column', () => {
    const parsed = parse('TOYA_HUMAN_Smith2020.csv', `${scan.trimEnd()}\n6,,0.2\n`, { mutations: { wildType: wildTypes, offset: 0 } });
    expect(parsed.report.errors).toEqual([
      expect.objectContaining({ record: 7, line: 8, kind: 'bad-mutation', message: 'Row 7 ("row_7", line 8): the mutation cell is empty. Write the mutation (e.g. A23V), WT for the wild type, or remove the row.' }),
    ]);
    expect(parsed.report.labelColumns).toEqual([
      { name: 'row_index', type: 'number', missing: 0, role: 'index' },
      { name: 'mutant', type: 'category', missing: 0 },
      { name: 'score', type: 'number', missing: 1 },
    ]);
    expect(noticesOf(parsed, 'missing-values')[0]?.message).toMatch(/^Column "score" has no value in 1 row \(row 6\)/);
  });
});
