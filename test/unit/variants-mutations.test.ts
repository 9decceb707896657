/**
 * Mutation parsing (one-letter, HGVS, multi-mutants, offsets, the errors users see) and applying a
 * variant column to a wild type: sequences checked by hand, every mismatch and unparsable row
 * reported with its row number, stops truncated.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import { applyVariants, describeMismatches } from '../../src-main/variants/apply';
import { formatVariant, parseMutation, parseVariant, type Mutation } from '../../src-main/variants/mutations';

/** The ApiError `fn` throws (fails the test when it throws nothing or something else). */
function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid-input');
    return error as ApiError;
  }
  throw new Error('expected an ApiError');
}

const short = (ms: Mutation[]) => ms.map(({ wt, position, mut, kind }) => ({ wt, position, mut, kind }));

describe('parseMutation', () => {
  it.each([
    ['A23V', 'A', 'V', 'missense'],
    ['A23*', 'A', '*', 'stop'],
    ['A23A', 'A', 'A', 'synonymous'],
    ['A23=', 'A', 'A', 'synonymous'],
    ['p.Ala23Val', 'A', 'V', 'missense'],
    ['p.(Ala23Val)', 'A', 'V', 'missense'],
    ['p.Ala23Ter', 'A', '*', 'stop'],
    ['p.Ala23*', 'A', '*', 'stop'],
    ['p.Ala23=', 'A', 'A', 'synonymous'],
    ['p.ALA23val', 'A', 'V', 'missense'],
    ['Ala23Val', 'A', 'V', 'missense'],
    ['p.A23V', 'A', 'V', 'missense'],
    ['U23O', 'U', 'O', 'missense'],
    ['p.Sec23Pyl', 'U', 'O', 'missense'],
  ])('%s', (text, wt, mut, kind) => {
    expect(parseMutation(text)).toEqual({ wt, position: 23, mut, kind, text });
  });

  it('keeps the text as written, trimmed', () => {
    expect(parseMutation('  G45D ').text).toBe('G45D');
  });

  it('subtracts the offset (first FASTA residue number minus 1)', () => {
    expect(parseMutation('A47V', 23).position).toBe(24);
    expect(parseMutation('p.Ala24Val', 23).position).toBe(1);
  });

  it.each([
    ['a23v', /upper case.*did you mean A23V\?/],
    ['A23v', /did you mean A23V\?/],
    ['B23V', /'B' is not an amino-acid code/],
    ['A23X', /'X' is not an amino-acid code/],
    ['p.Abc23Val', /'Abc' is not a three-letter amino-acid code/],
    ['p.Ala23Xyz', /'Xyz' is not a three-letter/],
    ['AV', /no position/],
    ['p.AlaVal', /no position/],
    ['A23', /no new amino acid/],
    ['23V', /no wild-type amino acid/],
    ['A0V', /position 0 is before the first residue/],
    ['p.Ala23del', /only substitutions/],
    ['A23fs', /only substitutions/],
    ['A23VG', /is not a mutation/],
    ['hello', /no position/],
    ['', /Empty mutation/],
  ])('rejects %j', (text, message) => {
    const error = errorOf(() => parseMutation(text));
    expect(error.message).toMatch(message);
    if (text.trim()) expect(error.message).toContain(`'${text}'`);
  });

  it('rejects a position at or before the offset, naming the offset', () => {
    expect(errorOf(() => parseMutation('A23V', 23)).message).toMatch(/position 23 minus the offset 23 is 0/);
    expect(errorOf(() => parseMutation('A5V', 23)).message).toMatch(/is -18, before the first residue/);
  });

  it('rejects an offset that is not a whole number', () => {
    expect(errorOf(() => parseMutation('A23V', 1.5)).message).toMatch(/offset must be a whole number/);
  });
});

describe('parseVariant', () => {
  const expected = [
    { wt: 'A', position: 23, mut: 'V', kind: 'missense' },
    { wt: 'G', position: 45, mut: 'D', kind: 'missense' },
  ];

  it.each(['A23V:G45D', 'A23V;G45D', 'A23V,G45D', 'A23V G45D', 'A23V\tG45D', 'A23V, G45D', 'G45D:A23V', 'p.[Ala23Val;Gly45Asp]', 'p.Ala23Val;p.Gly45Asp', 'p.[Gly45Asp;Ala23Val]'])(
    '%j (sorted by position)',
    (text) => {
      expect(short(parseVariant(text))).toEqual(expected);
    },
  );

  it('keeps each part as written', () => {
    expect(parseVariant('p.[Gly45Asp;Ala23Val]').map((m) => m.text)).toEqual(['Ala23Val', 'Gly45Asp']);
  });

  it('parses a single mutation and mixed kinds', () => {
    expect(short(parseVariant('M1A'))).toEqual([{ wt: 'M', position: 1, mut: 'A', kind: 'missense' }]);
    expect(parseVariant('A23=:G45*:K50R').map((m) => m.kind)).toEqual(['synonymous', 'stop', 'missense']);
  });

  it.each(['', '  ', 'WT', 'wt', '_wt', 'p.='])('%j is the wild type', (text) => {
    expect(parseVariant(text)).toEqual([]);
  });

  it('applies the offset to every mutation', () => {
    expect(parseVariant('A47V:G69D', 23).map((m) => m.position)).toEqual([24, 46]);
  });

  it('rejects two mutations at one position', () => {
    expect(errorOf(() => parseVariant('A23V:A23G')).message).toMatch(/'A23V:A23G' changes the same residue twice \(A23V and A23G\)/);
  });

  it('names the whole variant when one part is wrong', () => {
    const message = errorOf(() => parseVariant('A23V:B45D')).message;
    expect(message).toContain("In 'A23V:B45D'");
    expect(message).toContain("'B' is not an amino-acid code");
  });

  it('rejects a variant of separators only', () => {
    expect(errorOf(() => parseVariant(':;')).message).toMatch(/has no mutations/);
  });
});

describe('formatVariant', () => {
  it('writes the canonical sorted one-letter form', () => {
    expect(formatVariant(parseVariant('p.[Gly45Asp;Ala23Val]'))).toBe('A23V:G45D');
    expect(formatVariant(parseVariant('A23=;p.Gly45Ter'))).toBe('A23A:G45*');
    expect(formatVariant([])).toBe('WT');
  });

  it('round-trips through the offset', () => {
    expect(formatVariant(parseVariant('A47V', 23))).toBe('A24V');
    expect(formatVariant(parseVariant('A47V', 23), 23)).toBe('A47V');
  });
});

describe('applyVariants', () => {
  //               1234567890
  const wildType = 'MKTAYIAKQR';

  it('builds each mutant sequence', () => {
    const result = applyVariants(wildType, ['K2A', 'M1V:R10W', 'WT', 'T3=', 'p.(Tyr5Phe)']);
    expect(result.sequences).toEqual(['MATAYIAKQR', 'VKTAYIAKQW', 'MKTAYIAKQR', 'MKTAYIAKQR', 'MKTAFIAKQR']);
    expect(result).toMatchObject({ mismatches: [], unparsable: [], stops: [] });
  });

  it('uses the offset', () => {
    // The FASTA starts at residue 101, so residue 102 is the K at index 1.
    expect(applyVariants(wildType, ['K102A'], { offset: 100 }).sequences).toEqual(['MATAYIAKQR']);
  });

  it('matches a lower-case wild type', () => {
    expect(applyVariants('mktay', ['K2A']).sequences).toEqual(['MATAY']);
  });

  it('lists exactly the rows whose wild-type residues are wrong', () => {
    const result = applyVariants(wildType, ['K2A', 'A2V', 'T3S', 'G4D:Y5F', 'I6L', 'M1A:R9G']);
    expect(result.mismatches).toEqual([
      { row: 2, variant: 'A2V', mutation: 'A2V', position: 2, expected: 'A', found: 'K' },
      { row: 4, variant: 'G4D:Y5F', mutation: 'G4D', position: 4, expected: 'G', found: 'A' },
      { row: 6, variant: 'M1A:R9G', mutation: 'R9G', position: 9, expected: 'R', found: 'Q' },
    ]);
    expect(result.sequences).toEqual(['MATAYIAKQR', null, 'MKSAYIAKQR', null, 'MKTAYLAKQR', null]);
  });

  it('reports every wrong residue of a multi-mutant', () => {
    const result = applyVariants(wildType, ['A1V:A2V']);
    expect(result.mismatches.map((m) => [m.mutation, m.found])).toEqual([
      ['A1V', 'M'],
      ['A2V', 'K'],
    ]);
  });

  it('reports positions beyond the end', () => {
    const result = applyVariants(wildType, ['R10A', 'A11V', 'p.Gly200Asp']);
    expect(result.sequences).toEqual(['MKTAYIAKQA', null, null]);
    expect(result.mismatches).toEqual([
      { row: 2, variant: 'A11V', mutation: 'A11V', position: 11, expected: 'A', found: 'beyond the end (length 10)' },
      { row: 3, variant: 'p.Gly200Asp', mutation: 'p.Gly200Asp', position: 200, expected: 'G', found: 'beyond the end (length 10)' },
    ]);
  });

  it('reports unparsable rows with their row number and carries on', () => {
    const result = applyVariants(wildType, ['K2A', 'k2a', 'M1A', 'K2A:K2G']);
    expect(result.sequences).toEqual(['MATAYIAKQR', null, 'AKTAYIAKQR', null]);
    expect(result.unparsable).toHaveLength(2);
    expect(result.unparsable[0]).toMatchObject({ row: 2, variant: 'k2a' });
    expect(result.unparsable[0]!.message).toMatch(/did you mean K2A\?/);
    expect(result.unparsable[1]).toMatchObject({ row: 4, variant: 'K2A:K2G' });
    expect(result.mismatches).toEqual([]);
  });

  it('truncates before a stop and lists the row', () => {
    const result = applyVariants(wildType, ['Y5*', 'K2A:p.Ile6Ter:R10W', 'M1*', 'K2A']);
    expect(result.sequences).toEqual(['MKTA', 'MATAY', '', 'MATAYIAKQR']);
    expect(result.stops).toEqual([1, 2, 3]);
  });

  it('does not count a stop in a mismatched row', () => {
    const result = applyVariants(wildType, ['G5*']);
    expect(result.sequences).toEqual([null]);
    expect(result.stops).toEqual([]);
  });

  it('rejects an empty wild type', () => {
    expect(errorOf(() => applyVariants(' ', ['A1V'])).message).toMatch(/wild-type sequence is empty/);
  });
});

describe('describeMismatches', () => {
  const wildType = 'MKTAYIAKQR';

  it('writes one line per mismatch', () => {
    const { mismatches } = applyVariants(wildType, ['K2A', 'A2V', 'G4D:Y5F', 'A11V']);
    expect(describeMismatches(mismatches)).toBe(
      [
        '3 mutations in 3 rows do not match the wild-type sequence:',
        'Row 2, A2V: the wild type has K at position 2, not A.',
        'Row 3, G4D: the wild type has A at position 4, not G.',
        'Row 4, A11V: position 11 is beyond the end of the wild type (length 10).',
      ].join('\n'),
    );
  });

  it('shows the written number when an offset moved it', () => {
    const { mismatches } = applyVariants(wildType, ['A102V'], { offset: 100 });
    expect(describeMismatches(mismatches)).toContain('Row 1, A102V: the wild type has K at position 2 of the sequence (102 as written), not A.');
  });

  it('stops after the limit', () => {
    const { mismatches } = applyVariants(wildType, ['A1V', 'A2V', 'A3V', 'A5V']);
    const text = describeMismatches(mismatches, 2);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toContain('Row 2, A2V');
    expect(text).not.toContain('Row 3');
    expect(text.endsWith('… and 2 more.')).toBe(true);
  });

  it('is empty without mismatches', () => {
    expect(describeMismatches([])).toBe('');
    expect(describeMismatches(applyVariants(wildType, ['M1A']).mismatches, 1)).toBe('');
  });

  it('says "does" for a single mismatch', () => {
    expect(describeMismatches(applyVariants(wildType, ['A1V']).mismatches)).toMatch(/^1 mutation in 1 row does not match/);
  });
});
