/**
 * train/finetune-data's guard for tables that did not come through a file check: a letter that is
 * not an amino acid is an error naming the row, id, position and letter, never a silent <unk>;
 * missing regression targets (null) are left out and counted.
 */
import { describe, expect, it } from 'vitest';
import { esm2Tokenizer } from '../../src-main/models/esm2/tokenizer';
import { prepareExamples } from '../../src-main/train/finetune-data';

describe('prepareExamples', () => {
  it('refuses a letter that is not an amino acid, naming row, id, position and letter', () => {
    const table = { ids: ['a', 'P123'], sequences: ['MKV', 'MKJV'], columns: [{ name: 'y', values: [1, 2] }] };
    expect(() => prepareExamples(table, 'regression', esm2Tokenizer)).toThrow('Row 2 (id P123), position 3: "J" is not an amino acid letter (allowed: 20 standard + X B U Z O).');
  });

  it('leaves rows without a target out and counts them', () => {
    const table = { ids: ['a', 'b', 'c'], sequences: ['MKV', 'MKW', 'MKY'], columns: [{ name: 'y', values: [1, null, 3] }] };
    const prepared = prepareExamples(table, 'regression', esm2Tokenizer);
    expect(prepared.ids).toEqual(['a', 'c']);
    expect(prepared.skipped).toBe(1);
  });
});
