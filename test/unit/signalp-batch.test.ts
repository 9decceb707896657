/**
 * SignalP records → a PEFT-SP batch: tokens equal labels_ref's, bitmaps and residue tokens equal the
 * CRF cases' inputs (built from the same records), the CRF's initialisation, the six partition orders.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/core/rng';
import { readSignalpFasta } from '../../src-main/datasets/signalp';
import { familyById } from '../../src-main/models/registry';
import { DISALLOWED_SCORE } from '../../src-main/train/crf/linear-chain';
import { initialSignalpCrf, partitionArrangements, signalpBatch } from '../../src-main/train/crf/signalp-batch';
import { signalpConstraints } from '../../src-main/train/crf/signalp-states';
import { openSignalpGolden, readSignalpGoldenText } from '../support/signalp-golden';

const tokenizer = familyById('esm2')!.tokenizer;
const { records } = readSignalpFasta('data.fasta', readSignalpGoldenText('data.fasta'));

describe('signalpBatch', () => {
  it('tokens are <cls> + residues + <eos> padded with <pad>, as labels_ref has them', () => {
    const golden = openSignalpGolden('labels_ref.safetensors');
    const batch = signalpBatch(records, tokenizer, { steps: 70 });
    expect(golden.shape('tokens')).toEqual([117, 72]);
    expect(Array.from(batch.tokens)).toEqual(Array.from(golden.numbers('tokens')));
    expect(Array.from(batch.lengths)).toEqual(Array.from(golden.numbers('lengths')));
    expect(Array.from(batch.types)).toEqual(Array.from(golden.numbers('types')));
    expect(Array.from(batch.trueCs)).toEqual(Array.from(golden.numbers('true_cs')));
    expect(Array.from(batch.kingdoms)).toEqual(Array.from(golden.numbers('kingdoms')));
  });

  it('bitmaps (padding all 1) and residue tokens equal the inputs of the CRF case peftsp37', () => {
    const crf = openSignalpGolden('crf_ref.safetensors');
    const ids = ['SYN0007', 'SYN0072', 'SYN0062', 'SYN0075', 'SYN0116', 'SYN0056'];
    const batch = signalpBatch(ids.map((id) => records.find((r) => r.id === id)!), tokenizer);
    expect(batch.steps).toBe(70);
    expect(Array.from(batch.bitmap)).toEqual(Array.from(crf.numbers('peftsp37.bitmap')));
    expect(Array.from(batch.aaTokens)).toEqual(Array.from(crf.numbers('peftsp37.aa_tokens')));
    expect(Array.from(batch.types)).toEqual(Array.from(crf.numbers('peftsp37.true_type')));
    expect(Array.from(batch.trueCs)).toEqual(Array.from(crf.numbers('peftsp37.true_cs')));
  });

  it('the CRF starts at U(−0.577, 0.577) with every disallowed entry at −20', () => {
    const params = initialSignalpCrf(createRng(1));
    const masks = signalpConstraints();
    const check = (values: ArrayLike<number>, allowed: Uint8Array): void => {
      Array.from(values).forEach((value, i) => {
        if (allowed[i]) expect(Math.abs(value)).toBeLessThanOrEqual(1 / Math.sqrt(3));
        else expect(value).toBe(DISALLOWED_SCORE);
      });
    };
    check(params.transitions, masks.transitions);
    check(params.start, masks.start);
    check(params.end, masks.end);
  });

  it('cross-validation uses all six train/validation/test orders of the three partitions', () => {
    const orders = partitionArrangements();
    expect(orders).toHaveLength(6);
    expect(new Set(orders.map((o) => `${o.train}${o.validation}${o.test}`)).size).toBe(6);
    for (const o of orders) expect(new Set([o.train, o.validation, o.test]).size).toBe(3);
  });
});
