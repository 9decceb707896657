/**
 * train/clip — gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_ semantics:
 * one norm over all gradients together; if it exceeds maxNorm, every gradient is scaled by
 * maxNorm / (norm + 1e-6)), and accumulation of gradients over micro-batches.
 */
import type { TensorMap } from './optimizers';

/** √(Σ g²) over every gradient, summed in float64 so large models do not lose small terms. */
export function globalNorm(grads: TensorMap): number {
  let sum = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}

/**
 * Scales the gradients in place when their global norm exceeds `maxNorm`; returns the norm
 * before clipping (what is worth logging). The 1e-6 is torch's, and keeps the clipped norm just
 * under maxNorm.
 */
export function clipGradNorm(grads: TensorMap, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`The gradient clipping norm must be > 0, got ${maxNorm}.`);
  const norm = globalNorm(grads);
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coefficient;
  return norm;
}

/**
 * Sums gradients of several micro-batches, each weighted by its share of the examples, so that k
 * micro-batches give the gradient of their mean loss — what one batch holding all their examples
 * gives, whatever the micro-batch sizes.
 */
export class GradientAccumulator {
  private sums: Map<string, Float64Array> | null = null;
  private weight = 0;
  private lossSum = 0;
  private parts = 0;

  /** `grads` and `loss` are means over `weight` examples (or loss terms). */
  add(grads: TensorMap, loss: number, weight: number): void {
    if (!(weight > 0)) throw new RangeError(`A micro-batch weight must be > 0, got ${weight}.`);
    this.sums ??= new Map([...grads].map(([name, g]) => [name, new Float64Array(g.length)]));
    if (grads.size !== this.sums.size) throw new Error(`A micro-batch returned ${grads.size} gradients, an earlier one ${this.sums.size}.`);
    for (const [name, g] of grads) {
      const sum = this.sums.get(name);
      if (!sum || sum.length !== g.length) throw new Error(`The gradient of "${name}" does not match the earlier micro-batches'.`);
      for (let i = 0; i < g.length; i++) sum[i] = sum[i]! + weight * g[i]!;
    }
    this.lossSum += weight * loss;
    this.weight += weight;
    this.parts += 1;
  }

  get count(): number {
    return this.parts;
  }

  /** The weighted means, as float32; then empties the accumulator. */
  take(): { grads: TensorMap; loss: number; weight: number } {
    if (!this.sums) throw new Error('No micro-batch was accumulated.');
    const grads: TensorMap = new Map();
    for (const [name, sum] of this.sums) grads.set(name, Float32Array.from(sum, (value) => value / this.weight));
    const result = { grads, loss: this.lossSum / this.weight, weight: this.weight };
    this.sums = null;
    this.weight = 0;
    this.lossSum = 0;
    this.parts = 0;
    return result;
  }
}
