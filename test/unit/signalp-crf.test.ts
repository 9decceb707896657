/**
 * The 37-state CRF against crf_ref.safetensors (float64 references from PEFT-SP's CRF, cross-checked
 * upstream): log Z, bitmap log Z, NLL and its gradients, marginals, Viterbi with the −20 constraints
 * re-applied, type probabilities, cleavage sites and the region regulariser with its gradients — with
 * padding, for the PEFT-SP-initialised, the drifted and a brute-forced 5-state case.
 */
import { describe, expect, it } from 'vitest';
import {
  constrainedParameters,
  crfLoss,
  crfMarginals,
  crfViterbi,
  lengthsFromMask,
  tagsToBitmap,
  type CrfParameters,
  type EmissionBatch,
} from '../../src-main/train/crf/linear-chain';
import {
  STANDARD_AMINO_ACID_TOKENS,
  cleavageSites,
  predictSignalPeptides,
  predictedTypes,
  regionRegularizer,
  signalpTrainingLoss,
  signalpViterbi,
  typeProbabilities,
} from '../../src-main/train/crf/signalp-head';
import { signalpConstraints } from '../../src-main/train/crf/signalp-states';
import { maxAbsDiff } from '../support/golden';
import { openSignalpGolden } from '../support/signalp-golden';

const golden = openSignalpGolden('crf_ref.safetensors');
const TOLERANCE = 1e-5;

interface Case {
  name: string;
  batch: EmissionBatch;
  params: CrfParameters;
  bitmap: Float64Array;
  ref: (key: string) => Float64Array;
}

function loadCase(name: string): Case {
  const ref = (key: string): Float64Array => golden.numbers(`${name}.${key}`);
  const [batchSize, steps, states] = golden.shape(`${name}.emissions`) as [number, number, number];
  const lengths = lengthsFromMask(ref('mask'), batchSize, steps);
  expect(Array.from(lengths)).toEqual(Array.from(ref('lengths')));
  return {
    name,
    batch: { batch: batchSize, steps, states, emissions: ref('emissions'), lengths },
    params: { states, transitions: ref('transitions'), start: ref('start_transitions'), end: ref('end_transitions') },
    bitmap: ref('bitmap'),
    ref,
  };
}

const CASES = ['peftsp37', 'drifted37', 'small5'] as const;

describe.each(CASES)('CRF on case %s', (name) => {
  const c = loadCase(name);

  it('log Z, bitmap log Z, NLL and its gradients match within 1e-5 (and to ~1e-12 in fact)', () => {
    const loss = crfLoss(c.batch, c.params, c.bitmap);
    const diffs = {
      logZ: maxAbsDiff(loss.logZ, c.ref('log_z')),
      logZBitmap: maxAbsDiff(loss.logZBitmap, c.ref('log_z_bitmap')),
      nllPerSequence: maxAbsDiff(loss.nllPerSequence, c.ref('nll_per_seq')),
      nll: Math.abs(loss.nll - c.ref('nll')[0]!),
      emissions: maxAbsDiff(loss.grad.emissions, c.ref('grad.emissions')),
      transitions: maxAbsDiff(loss.grad.transitions, c.ref('grad.transitions')),
      start: maxAbsDiff(loss.grad.start, c.ref('grad.start_transitions')),
      end: maxAbsDiff(loss.grad.end, c.ref('grad.end_transitions')),
      marginals: maxAbsDiff(loss.marginals, c.ref('marginals')),
      bitmapMarginals: maxAbsDiff(loss.bitmapMarginals, c.ref('bitmap_marginals')),
    };
    for (const [key, diff] of Object.entries(diffs)) expect(diff, key).toBeLessThan(TOLERANCE);
    expect(Math.max(...Object.values(diffs))).toBeLessThan(1e-9);
    expect(maxAbsDiff(crfMarginals(c.batch, c.params).marginals, c.ref('marginals'))).toBeLessThan(TOLERANCE);
  });

  it('the NLL of a single target path (tags) and its gradients match', () => {
    const loss = crfLoss(c.batch, c.params, tagsToBitmap(c.ref('tags'), c.batch));
    expect(maxAbsDiff(loss.nllPerSequence, c.ref('nll_tags_per_seq'))).toBeLessThan(TOLERANCE);
    expect(Math.abs(loss.nll - c.ref('nll_tags')[0]!)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(loss.grad.emissions, c.ref('grad_tags.emissions'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(loss.grad.transitions, c.ref('grad_tags.transitions'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(loss.grad.start, c.ref('grad_tags.start_transitions'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(loss.grad.end, c.ref('grad_tags.end_transitions'))).toBeLessThan(TOLERANCE);
  });

  it('Viterbi re-applies −20 to disallowed entries; the stored parameters give the stored-params path', () => {
    const masks = { transitions: c.ref('allowed_transitions'), start: c.ref('allowed_start'), end: c.ref('allowed_end') };
    const decoded = crfViterbi(c.batch, constrainedParameters(c.params, masks));
    expect(Array.from(decoded.paths)).toEqual(Array.from(c.ref('viterbi')));
    expect(maxAbsDiff(decoded.scores, c.ref('viterbi_score'))).toBeLessThan(TOLERANCE);
    expect(Array.from(crfViterbi(c.batch, c.params).paths)).toEqual(Array.from(c.ref('viterbi_stored_params')));
  });
});

describe.each(['peftsp37', 'drifted37'] as const)('the signal-peptide head on case %s', (name) => {
  const c = loadCase(name);

  it('uses SignalP 6.0\'s constraints: 80 allowed transitions, the listed starts and ends', () => {
    const constraints = signalpConstraints();
    expect(Array.from(constraints.transitions)).toEqual(Array.from(c.ref('allowed_transitions')));
    expect(constraints.transitions.reduce((a, b) => a + b, 0)).toBe(80);
    expect(Array.from(constraints.start)).toEqual(Array.from(c.ref('allowed_start')));
    expect(Array.from(constraints.end)).toEqual(Array.from(c.ref('allowed_end')));
    expect(Array.from(signalpViterbi(c.batch, c.params).paths)).toEqual(Array.from(c.ref('viterbi')));
  });

  it('types come from the averaged marginals and the cleavage site from the Viterbi path', () => {
    const { marginals } = crfMarginals(c.batch, c.params);
    const probabilities = typeProbabilities(c.batch, marginals);
    expect(maxAbsDiff(probabilities, c.ref('type_probs'))).toBeLessThan(TOLERANCE);
    expect(Array.from(predictedTypes(probabilities))).toEqual(Array.from(c.ref('type_pred')));
    expect(Array.from(cleavageSites(signalpViterbi(c.batch, c.params).paths, c.batch))).toEqual(Array.from(c.ref('cs_pred')));
    const predicted = predictSignalPeptides(c.batch, c.params);
    expect(Array.from(predicted.types)).toEqual(Array.from(c.ref('type_pred')));
    expect(Array.from(predicted.cleavageSites)).toEqual(Array.from(c.ref('cs_pred')));
    expect(Array.from(predicted.paths)).toEqual(Array.from(c.ref('viterbi')));
    expect(maxAbsDiff(predicted.typeProbabilities, c.ref('type_probs'))).toBeLessThan(TOLERANCE);
  });

  it('the region regulariser (PEFT-SP tokens and the 20 standard ones), total loss and its gradients match', () => {
    const aa = c.ref('aa_tokens');
    const types = c.ref('true_type');
    const { marginals } = crfMarginals(c.batch, c.params);
    const peftsp = regionRegularizer(c.batch, marginals, aa, types);
    expect(maxAbsDiff(peftsp.cosNH, c.ref('regreg.cos_nh'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(peftsp.cosHC, c.ref('regreg.cos_hc'))).toBeLessThan(TOLERANCE);
    const standard = regionRegularizer(c.batch, marginals, aa, types, { tokens: STANDARD_AMINO_ACID_TOKENS });
    expect(maxAbsDiff(standard.cosNH, c.ref('regreg_std20.cos_nh'))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(standard.cosHC, c.ref('regreg_std20.cos_hc'))).toBeLessThan(TOLERANCE);

    const total = signalpTrainingLoss(c.batch, c.params, c.bitmap, aa, types);
    expect(Math.abs(total.total - c.ref('total_loss')[0]!)).toBeLessThan(TOLERANCE);
    const diffs = {
      emissions: maxAbsDiff(total.gradTotal.emissions, c.ref('grad_total.emissions')),
      transitions: maxAbsDiff(total.gradTotal.transitions, c.ref('grad_total.transitions')),
      start: maxAbsDiff(total.gradTotal.start, c.ref('grad_total.start_transitions')),
      end: maxAbsDiff(total.gradTotal.end, c.ref('grad_total.end_transitions')),
    };
    for (const [key, diff] of Object.entries(diffs)) expect(diff, key).toBeLessThan(TOLERANCE);
    // The regulariser really moves the gradient: without it the emissions' gradient is off.
    expect(maxAbsDiff(total.grad.emissions, c.ref('grad_total.emissions'))).toBeGreaterThan(1e-4);
  });
});

describe('gradients of the total loss (NLL + regulariser) against central finite differences', () => {
  const c = loadCase('drifted37');
  const aa = c.ref('aa_tokens');
  const types = c.ref('true_type');
  const totalAt = (emissions: Float64Array, params: CrfParameters): number =>
    signalpTrainingLoss({ ...c.batch, emissions }, params, c.bitmap, aa, types).total;
  const base = signalpTrainingLoss(c.batch, c.params, c.bitmap, aa, types);
  const h = 1e-5;

  it('for emissions (including a padded step, whose gradient is 0) and for the CRF parameters', () => {
    const emissions = Float64Array.from(c.batch.emissions);
    const { steps, states } = c.batch;
    const probes: [number, number, number][] = [[0, 0, 2], [1, 5, 4], [1, 10, 5], [2, 3, 9], [3, 12, 18], [5, 42, 31], [5, 60, 3]];
    for (const [b, t, s] of probes) {
      const i = (b * steps + t) * states + s;
      const plus = Float64Array.from(emissions);
      plus[i]! += h;
      const minus = Float64Array.from(emissions);
      minus[i]! -= h;
      const numeric = (totalAt(plus, c.params) - totalAt(minus, c.params)) / (2 * h);
      expect(Math.abs(numeric - base.gradTotal.emissions[i]!), `emission ${b},${t},${s}`).toBeLessThan(1e-7);
    }
    for (const key of ['transitions', 'start', 'end'] as const) {
      for (const i of [0, 40, 152, 700].filter((k) => k < c.params[key].length)) {
        const shifted = (delta: number): CrfParameters => {
          const values = Float64Array.from(c.params[key]);
          values[i]! += delta;
          return { ...c.params, [key]: values };
        };
        const numeric = (totalAt(emissions, shifted(h)) - totalAt(emissions, shifted(-h))) / (2 * h);
        expect(Math.abs(numeric - base.gradTotal[key][i]!), `${key}[${i}]`).toBeLessThan(1e-7);
      }
    }
  });
});

describe('CRF input checks', () => {
  const c = loadCase('small5');
  it('refuses NaN emissions, a mask with a gap and an impossible bitmap, saying where', () => {
    const emissions = Float64Array.from(c.batch.emissions);
    emissions[2 * c.batch.states] = Number.NaN;
    expect(() => crfLoss({ ...c.batch, emissions }, c.params, c.bitmap)).toThrow(/Sequence 0, step 3: an emission is NaN/);
    expect(() => lengthsFromMask([1, 0, 1], 1, 3)).toThrow(/gap at step 1/);
    const bitmap = Float64Array.from(c.bitmap);
    bitmap.fill(0, 0, c.batch.states);
    expect(() => crfLoss(c.batch, c.params, bitmap)).toThrow(/Sequence 0: the target bitmap allows no state/);
  });
});
