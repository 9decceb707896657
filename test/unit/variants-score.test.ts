/**
 * Zero-shot scores against the original implementation (test/fixtures/golden): wild-type-marginal
 * and PLL scores equal those derived from the golden `log_probs` / `pll_log_probs` within 1e-4, and
 * masked-marginal scores equal a direct masked forward pass of the model.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, DEFAULT_GRAPH_FILE } from '../../src-main/models/installed';
import { encode, residueToken, TOKENS, VOCAB_SIZE } from '../../src-main/models/esm2/tokenizer';
import { ZeroShotModel } from '../../src-main/variants/model';
import { parseVariant, type Mutation } from '../../src-main/variants/mutations';
import { ensembleMean, pseudoLogLikelihood, SATURATION_AMINO_ACIDS, saturationScores, scoreVariants } from '../../src-main/variants/score';
import { loadGolden, logSoftmaxRows, maxAbsDiff, runGraph, seqKey, type Golden, type GoldenSequence } from '../support/golden';
import { createRng } from '../../src-main/core/rng';
import { randomProtein } from '../support/random-proteins';

const TOLERANCE = 1e-4;

/** A few single and multiple mutants of `sequence` at standard residues, chosen deterministically. */
function someVariants(sequence: string): Mutation[][] {
  const standard = [...sequence].map((aa, i) => ({ aa, i })).filter(({ aa }) => SATURATION_AMINO_ACIDS.includes(aa));
  const pick = (k: number) => standard[(k * 7) % standard.length]!;
  const mutant = (k: number): string => {
    const { aa, i } = pick(k);
    const to = SATURATION_AMINO_ACIDS.find((x, j) => x !== aa && j === (k * 3) % 20) ?? SATURATION_AMINO_ACIDS.find((x) => x !== aa)!;
    return `${aa}${i + 1}${to}`;
  };
  const texts = [mutant(1), mutant(2), mutant(3), `${mutant(4)}:${mutant(5)}`, `${mutant(6)}:${mutant(7)}:${mutant(8)}`];
  return texts.map((t) => parseVariant(t)).filter((v) => new Set(v.map((m) => m.position)).size === v.length);
}

/** Σ over sites of lp[site][mut] − lp[site][wt] from a [L × 33] table of golden log-probs. */
function goldenMarginal(variant: readonly Mutation[], logProbs: ArrayLike<number>): number {
  return variant.reduce((sum, m) => sum + logProbs[(m.position - 1) * VOCAB_SIZE + residueToken(m.mut)]! - logProbs[(m.position - 1) * VOCAB_SIZE + residueToken(m.wt)]!, 0);
}

for (const name of ['tiny', 'esm2-8M-random'] as const) {
  describe(`zero-shot scores, golden ${name}`, () => {
    let golden: Golden;
    let modelDir: string;
    let model: ZeroShotModel;
    let withPll: GoldenSequence[];

    beforeAll(async () => {
      golden = loadGolden(name);
      modelDir = join(mkdtempSync(join(tmpdir(), 'esm-zeroshot-')), 'model');
      await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
      model = await ZeroShotModel.open(modelDir, { batchTokens: 2048 });
      withPll = golden.sequences.filter((s) => golden.has(seqKey(s.index, 'pll_log_probs')));
    });
    afterAll(async () => model?.close());

    it('has golden sequences with PLL references', () => {
      expect(withPll.length).toBeGreaterThan(0);
    });

    it('wild-type-marginal scores equal those from the golden log_probs', async () => {
      let worst = 0;
      for (const seq of golden.sequences) {
        const logProbs = golden.array(seqKey(seq.index, 'log_probs')).data.subarray(VOCAB_SIZE, (seq.length + 1) * VOCAB_SIZE);
        const variants = someVariants(seq.sequence);
        const scores = await scoreVariants(model, seq.sequence, variants, 'wt-marginal');
        variants.forEach((v, i) => (worst = Math.max(worst, Math.abs(scores[i]! - goldenMarginal(v, logProbs)))));
      }
      expect(worst).toBeLessThan(TOLERANCE);
    });

    it('masked log-probs at every position equal the golden pll_log_probs, and so do PLL and masked-marginal scores', async () => {
      let worstRow = 0;
      let worstPll = 0;
      let worstMasked = 0;
      for (const seq of withPll) {
        const reference = golden.array(seqKey(seq.index, 'pll_log_probs')).data;
        const positions = Array.from({ length: seq.length }, (_, j) => j);
        const masked = await model.maskedLogProbs(seq.sequence, positions);
        for (const j of positions) worstRow = Math.max(worstRow, maxAbsDiff(masked.get(j)!, reference.subarray(j * VOCAB_SIZE, (j + 1) * VOCAB_SIZE)));
        const goldenPll = golden.array(seqKey(seq.index, 'pll_wt_log_probs')).data.reduce((a, b) => a + b, 0);
        worstPll = Math.max(worstPll, Math.abs((await pseudoLogLikelihood(model, seq.sequence)) - goldenPll));
        const variants = someVariants(seq.sequence);
        const scores = await scoreVariants(model, seq.sequence, variants, 'masked-marginal');
        variants.forEach((v, i) => (worstMasked = Math.max(worstMasked, Math.abs(scores[i]! - goldenMarginal(v, reference)))));
      }
      expect(worstRow).toBeLessThan(TOLERANCE);
      expect(worstPll).toBeLessThan(TOLERANCE);
      expect(worstMasked).toBeLessThan(TOLERANCE);
    });

    it('a PLL score is the mutant PLL minus the wild-type PLL', async () => {
      const seq = withPll[0]!;
      const variant = someVariants(seq.sequence)[3]!;
      const [score] = await scoreVariants(model, seq.sequence, [variant], 'pll');
      const mutant = [...seq.sequence];
      for (const m of variant) mutant[m.position - 1] = m.mut;
      const goldenWt = golden.array(seqKey(seq.index, 'pll_wt_log_probs')).data.reduce((a, b) => a + b, 0);
      const expected = (await pseudoLogLikelihood(model, mutant.join(''))) - goldenWt;
      expect(Math.abs(score! - expected)).toBeLessThan(TOLERANCE);
      expect(Math.abs(score!)).toBeGreaterThan(1e-3);
    });
  });
}

describe('masked marginals against a direct masked forward pass (tiny)', () => {
  it('each site equals log-softmax of the logits with that site masked, summed over the sites', async () => {
    const golden = loadGolden('tiny');
    const modelDir = join(mkdtempSync(join(tmpdir(), 'esm-direct-')), 'model');
    await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
    const seq = golden.sequences.find((s) => s.length > 200)!; // not covered by the PLL references
    const variant = parseVariant(`${seq.sequence[9]}10A:${seq.sequence[119]}120W:${seq.sequence[199]}200G`);
    let expected = 0;
    for (const m of variant) {
      const tokens = Array.from(encode(seq.sequence));
      tokens[m.position] = TOKENS.MASK; // <cls> is token 0, so residue p (1-based) is token p
      const out = await runGraph(join(modelDir, DEFAULT_GRAPH_FILE), [tokens]);
      const lp = logSoftmaxRows(out.logits!.data as Float32Array, VOCAB_SIZE).subarray(m.position * VOCAB_SIZE, (m.position + 1) * VOCAB_SIZE);
      expected += lp[residueToken(m.mut)]! - lp[residueToken(m.wt)]!;
    }
    const model = await ZeroShotModel.open(modelDir);
    const [score] = await scoreVariants(model, seq.sequence, [variant], 'masked-marginal');
    await model.close();
    expect(Math.abs(score! - expected)).toBeLessThan(1e-5);
  });
});

describe('saturation scan and ensembles (tiny)', () => {
  let model: ZeroShotModel;
  let wildType: string;
  beforeAll(async () => {
    const golden = loadGolden('tiny');
    const modelDir = join(mkdtempSync(join(tmpdir(), 'esm-sat-')), 'model');
    await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
    model = await ZeroShotModel.open(modelDir);
    wildType = golden.sequences.find((s) => s.length === 30)!.sequence;
  });
  afterAll(async () => model?.close());

  it('scores 19 × L single mutants, 0 at the wild type, equal to scoring them one by one', async () => {
    const matrix = await saturationScores(model, wildType, 'masked-marginal');
    expect(matrix.length).toBe(30 * 20);
    let nonZero = 0;
    for (let p = 0; p < 30; p++) {
      for (const [a, aa] of SATURATION_AMINO_ACIDS.entries()) {
        const value = matrix[p * 20 + a]!;
        if (aa === wildType[p]) expect(value).toBe(0);
        else if (value !== 0) nonZero += 1;
      }
    }
    expect(nonZero).toBe(570);
    const single = parseVariant(`${wildType[4]}5${wildType[4] === 'W' ? 'A' : 'W'}`);
    const [one] = await scoreVariants(model, wildType, [single], 'masked-marginal');
    expect(matrix[4 * 20 + SATURATION_AMINO_ACIDS.indexOf(single[0]!.mut)]).toBeCloseTo(one!, 12);
  });

  it('scores synonymous variants 0 and stop variants NaN; an ensemble is the mean', async () => {
    const variants = [parseVariant(`${wildType[0]}1${wildType[0]}`), parseVariant(`${wildType[2]}3*`)];
    for (const method of ['wt-marginal', 'masked-marginal', 'pll'] as const) {
      const scores = await scoreVariants(model, wildType, variants, method);
      expect(scores[0]).toBe(0);
      expect(scores[1]).toBeNaN();
    }
    expect(Array.from(ensembleMean([Float64Array.of(1, 2), Float64Array.of(3, NaN)]))).toEqual([2, NaN]);
  });
});

describe('proteins longer than 1022 residues (tiny)', () => {
  it('reads each masked position from the window where it has the most context', async () => {
    const golden = loadGolden('tiny');
    const modelDir = join(mkdtempSync(join(tmpdir(), 'esm-long-')), 'model');
    await convertCheckpoint(golden.checkpoint, modelDir, { appVersion: 'test' });
    const protein = randomProtein(createRng(3), 1100);
    // Windows are residues [0, 1022) and [78, 1100): residue 600 (0-based) has 421 residues of
    // context to the right in the first, 522 to the left in the second, so the second is used.
    const direct = async (start: number, end: number, position: number): Promise<Float64Array> => {
      const tokens = Array.from(encode(protein.slice(start, end)));
      tokens[position - start + 1] = TOKENS.MASK;
      const out = await runGraph(join(modelDir, DEFAULT_GRAPH_FILE), [tokens]);
      const t = position - start + 1;
      return logSoftmaxRows(out.logits!.data as Float32Array, VOCAB_SIZE).subarray(t * VOCAB_SIZE, (t + 1) * VOCAB_SIZE);
    };
    const model = await ZeroShotModel.open(modelDir);
    const masked = await model.maskedLogProbs(protein, [10, 600, 1090]);
    await model.close();
    expect(maxAbsDiff(masked.get(10)!, await direct(0, 1022, 10))).toBeLessThan(1e-5);
    expect(maxAbsDiff(masked.get(600)!, await direct(78, 1100, 600))).toBeLessThan(1e-5);
    expect(maxAbsDiff(masked.get(1090)!, await direct(78, 1100, 1090))).toBeLessThan(1e-5);
    expect(maxAbsDiff(masked.get(600)!, await direct(0, 1022, 600))).toBeGreaterThan(1e-4);
  });
});
