/**
 * variants/score — zero-shot variant effects from a masked language model, as in Meier et al. 2021:
 * - wild-type marginals: one unmasked pass over the wild type;
 * - masked marginals: one pass per mutated position with that position masked;
 * - pseudo-log-likelihood (PLL): Σ_j log p(x_j | x with j masked) of the mutant minus the wild type's,
 *   which scores any multi-mutant (L passes per distinct sequence).
 * A site scores log p(mutant aa) − log p(wild-type aa); the marginal methods sum over the sites.
 * Synonymous variants score 0; variants with a stop are not scored (NaN): ESM-2 has no stop token.
 * The saturation scan gives all 19 × L single mutants; an ensemble averages several models.
 */
import type { Tokenizer } from '../models/family';
import type { Mutation } from './mutations';
import type { MaskedControl, ZeroShotModel } from './model';

export const SCORE_METHODS = ['wt-marginal', 'masked-marginal', 'pll'] as const;
export type ScoreMethod = (typeof SCORE_METHODS)[number];

export const METHOD_LABELS: Record<ScoreMethod, string> = {
  'wt-marginal': 'Wild-type marginal',
  'masked-marginal': 'Masked marginal',
  pll: 'Pseudo-log-likelihood',
};

export const METHOD_EXPLANATIONS: Record<ScoreMethod, string> = {
  'wt-marginal': 'One pass over the wild type; the fastest, slightly less accurate.',
  'masked-marginal': 'Masks each mutated position in turn; the usual best choice for single mutants.',
  pll: 'Compares how natural the whole mutant and wild-type sequences look; handles any combination of mutations, but needs one pass per residue of every mutant.',
};

export interface ScoreControl {
  signal?: AbortSignal;
  /** Fraction of the work done, and what is being done. */
  onProgress?: (fraction: number, message: string) => void;
}

/** Every mutated 0-based position of the scorable variants, sorted. */
function mutatedPositions(variants: readonly (readonly Mutation[] | null)[]): number[] {
  const positions = new Set<number>();
  for (const v of variants) if (v && scorable(v)) for (const m of v) if (m.kind === 'missense') positions.add(m.position - 1);
  return [...positions].sort((a, b) => a - b);
}

const scorable = (mutations: readonly Mutation[]): boolean => mutations.every((m) => m.kind !== 'stop');

/** Σ over missense sites of lp(mut) − lp(wt), reading a site's log-probs (one per token) with `at`. */
function marginalScore(mutations: readonly Mutation[], at: (position: number) => Float64Array, tokenizer: Tokenizer): number {
  let score = 0;
  for (const m of mutations) {
    if (m.kind !== 'missense') continue;
    const lp = at(m.position - 1);
    score += lp[tokenizer.residueToken(m.mut)]! - lp[tokenizer.residueToken(m.wt)]!;
  }
  return score;
}

/**
 * One score per variant (null = a row that could not be parsed or applied: NaN). `wildType` is the
 * sequence the mutations were checked against.
 */
export async function scoreVariants(
  model: ZeroShotModel,
  wildType: string,
  variants: readonly (readonly Mutation[] | null)[],
  method: ScoreMethod,
  control: ScoreControl = {},
): Promise<Float64Array> {
  const scores = new Float64Array(variants.length).fill(NaN);
  if (method === 'pll') return pllScores(model, wildType, variants, scores, control);
  const table = await siteLogProbs(model, wildType, mutatedPositions(variants), method, control);
  variants.forEach((v, i) => {
    if (v && scorable(v)) scores[i] = marginalScore(v, (p) => table.get(p)!, model.tokenizer);
  });
  return scores;
}

/** The log-probs of every token at each position, unmasked (wt-marginal) or with the position masked. */
async function siteLogProbs(
  model: ZeroShotModel,
  wildType: string,
  positions: readonly number[],
  method: Exclude<ScoreMethod, 'pll'>,
  control: ScoreControl,
): Promise<Map<number, Float64Array>> {
  if (method === 'masked-marginal') {
    return model.maskedLogProbs(wildType, positions, maskedProgress(control, 0, 1, 'Masked passes'));
  }
  control.onProgress?.(0, 'One pass over the wild type');
  const all = await model.unmaskedLogProbs(wildType);
  control.onProgress?.(1, 'One pass over the wild type');
  const width = model.tokenizer.vocabSize;
  return new Map(positions.map((p) => [p, all.subarray(p * width, (p + 1) * width)]));
}

function maskedProgress(control: ScoreControl, from: number, span: number, what: string): MaskedControl {
  return {
    signal: control.signal,
    onProgress: (done, total) => control.onProgress?.(from + (span * done) / Math.max(1, total), `${what}: ${done} of ${total} positions`),
  };
}

/** Σ_j log p(x_j | x without j) over every residue of `sequence`. */
export async function pseudoLogLikelihood(model: ZeroShotModel, sequence: string, control?: MaskedControl): Promise<number> {
  const positions = Array.from({ length: sequence.length }, (_, j) => j);
  const lp = await model.maskedLogProbs(sequence, positions, control);
  let total = 0;
  for (const j of positions) total += lp.get(j)![model.tokenizer.residueToken(sequence[j]!)]!;
  return total;
}

function applyMutations(wildType: string, mutations: readonly Mutation[]): string {
  const residues = [...wildType];
  for (const m of mutations) residues[m.position - 1] = m.mut;
  return residues.join('');
}

async function pllScores(
  model: ZeroShotModel,
  wildType: string,
  variants: readonly (readonly Mutation[] | null)[],
  scores: Float64Array,
  control: ScoreControl,
): Promise<Float64Array> {
  const distinct = new Map<string, number[]>();
  variants.forEach((v, i) => {
    if (!v || !scorable(v)) return;
    if (v.every((m) => m.kind === 'synonymous')) return void (scores[i] = 0);
    const sequence = applyMutations(wildType, v);
    distinct.set(sequence, [...(distinct.get(sequence) ?? []), i]);
  });
  const steps = distinct.size + 1;
  const reference = await pseudoLogLikelihood(model, wildType, maskedProgress(control, 0, 1 / steps, 'Wild type'));
  let step = 1;
  for (const [sequence, rows] of distinct) {
    if (control.signal?.aborted) break;
    const pll = await pseudoLogLikelihood(model, sequence, maskedProgress(control, step / steps, 1 / steps, `Mutant ${step} of ${distinct.size}`));
    for (const i of rows) scores[i] = pll - reference;
    step += 1;
  }
  return scores;
}

/**
 * The 20 standard amino acids in the order of saturation maps: ESM-2's alphabet order, kept as the
 * app's one column order whatever the model's family.
 */
export const SATURATION_AMINO_ACIDS: readonly string[] = Object.freeze([...'LAGVSERTIDPKQNFYMHWC']);

/**
 * All single mutants: [L × 20] scores, row = position, column = SATURATION_AMINO_ACIDS; the
 * wild-type cell is 0 (and positions whose wild type is not a standard amino acid stay 0 too).
 */
export async function saturationScores(model: ZeroShotModel, wildType: string, method: ScoreMethod, control: ScoreControl & { positions?: readonly number[] | null } = {}): Promise<Float64Array> {
  const L = wildType.length;
  const variants: Mutation[][] = [];
  const cells: number[] = [];
  // A cluster shard scores only its positions (0-based); the other rows of its map stay 0.
  const only = control.positions ? new Set(control.positions) : null;
  for (let p = 0; p < L; p++) {
    if (only && !only.has(p)) continue;
    const wt = wildType[p]!;
    SATURATION_AMINO_ACIDS.forEach((mut, a) => {
      if (mut === wt || !SATURATION_AMINO_ACIDS.includes(wt)) return;
      variants.push([{ wt, position: p + 1, mut, kind: 'missense', text: `${wt}${p + 1}${mut}` }]);
      cells.push(p * SATURATION_AMINO_ACIDS.length + a);
    });
  }
  const scores = await scoreVariants(model, wildType, variants, method, control);
  const matrix = new Float64Array(L * SATURATION_AMINO_ACIDS.length);
  cells.forEach((cell, i) => (matrix[cell] = scores[i]!));
  return matrix;
}

/** The mean of several models' scores (an ensemble); NaN where any model has NaN. */
export function ensembleMean(perModel: readonly Float64Array[]): Float64Array {
  if (perModel.length === 0) throw new Error('An ensemble needs at least one model.');
  const n = perModel[0]!.length;
  return Float64Array.from({ length: n }, (_, i) => perModel.reduce((sum, scores) => sum + scores[i]!, 0) / perModel.length);
}
