// lib/variants-types — the variant-effect API types the renderer uses, from the back end's contract (types only).
import type { Output } from '../../../src-main/api/contract';

export type { MeasuredMap, SaturationMap, VariantEvaluation, VariantScores, ScoreMethod, VariantsInfo } from '../../../src-main/api/schemas';

/** A scoring method with its label and one-sentence explanation. */
export type ScoreMethodInfo = Output<'variants.methods'>[number];
