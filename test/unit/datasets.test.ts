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
  detectFormat,
  MAX_RESIDUES,
  parseSequenceFile,
  VALID_RESIDUES,
  type ParsedFile,
} from '../../src-main/datasets';

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
  it('joins multi-line records and takes the ID from the first word of the header', () => {
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
      { seqId: 'sp|P69905|HBA_HUMAN', sequence: hba, labels: {}, record: 1, line: 1 },
      { seqId: 'sp|P68871|HBB_HUMAN', sequence: hbb, labels: {}, record: 2, line: 6 },
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
      labelColumns: [],
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
    const expectedRecords = [{ seqId: 'a', sequence: 'MKVLLA', labels: {}, record: 1, line: 1 }];
    for (const text of [unix, unix.replaceAll('\n', '\r\n'), unix.replaceAll('\n', '\r')]) {
      const parsed = parse('s.fasta', text);
      expect(parsed.records).toEqual(expectedRecords);
      expect(parsed.report.errors).toMatchObject([{ record: 2, line: 6, position: 3 }]);
    }
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
