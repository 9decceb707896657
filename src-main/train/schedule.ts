/**
 * train/schedule — the learning rate at each optimizer step: constant, or linear warmup followed
 * by a constant, cosine or linear decay. The formulas are those of Hugging Face transformers'
 * get_{constant,cosine,linear}_schedule_with_warmup, so recipes written for HF carry over:
 *
 *   warmup (t < W):  lr · t / W          (t = 0 is the first step, so its rate is 0, as in HF)
 *   constant:        lr
 *   linear:          lr · max(0, (T − t) / (T − W))
 *   cosine:          lr · ½ · (1 + cos(π · min(1, (t − W) / (T − W))))
 *
 * where T is the total number of optimizer steps. Steps past T keep the final rate (0 for the
 * decays) instead of HF's cosine rising again, since T can be an estimate (early stopping).
 */

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleSpec {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** Optimizer steps of linear warmup from 0 (0 for none). */
  warmupSteps: number;
  /** Optimizer steps in the whole run (epochs × steps per epoch). */
  totalSteps: number;
}

export function checkSchedule(spec: ScheduleSpec): void {
  if (!(spec.lr >= 0) || !Number.isFinite(spec.lr)) throw new RangeError(`The learning rate must be a finite number ≥ 0, got ${spec.lr}.`);
  if (!Number.isSafeInteger(spec.warmupSteps) || spec.warmupSteps < 0) throw new RangeError(`Warmup steps must be a count, got ${spec.warmupSteps}.`);
  if (!Number.isSafeInteger(spec.totalSteps) || spec.totalSteps < 1) throw new RangeError(`Total steps must be ≥ 1, got ${spec.totalSteps}.`);
}

/** The learning rate of optimizer step `t` (0-based: the t-th update uses this rate). */
export function learningRate(spec: ScheduleSpec, t: number): number {
  const { lr, warmupSteps: w, totalSteps: total } = spec;
  if (t < w) return (lr * t) / w;
  if (spec.kind === 'constant') return lr;
  const decaySteps = Math.max(1, total - w);
  const progress = Math.min(1, (t - w) / decaySteps);
  if (spec.kind === 'linear') return lr * Math.max(0, 1 - progress);
  return lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Warmup given as a fraction of the run (HF's warmup_ratio), rounded up as HF does. */
export function warmupStepsFromRatio(ratio: number, totalSteps: number): number {
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`The warmup ratio must be in [0, 1], got ${ratio}.`);
  return Math.ceil(ratio * totalSteps);
}
