/**
 * autodiff/rules/context — what a gradient rule sees of its node (forward inputs and outputs,
 * the gradients that reached its outputs, which inputs need a gradient) and the small helpers
 * rules share. A rule returns one entry per input: a gradient of that input's shape and type, or
 * null/undefined where none is needed or none exists (integer inputs, conditions, constants).
 */
import type { Node } from '../../onnx';
import type { Emitter } from '../emitter';
import type { TensorInfo } from '../shapes';

export interface RuleContext {
  /** Adds backward nodes. */
  readonly e: Emitter;
  /** The forward node. */
  readonly node: Node;
  /** Forward input `i`; throws when the node omits it. */
  x(i: number): TensorInfo;
  /** Forward input `i`, or null when omitted. */
  maybe(i: number): TensorInfo | null;
  /** Forward output `i`. */
  y(i: number): TensorInfo;
  /** Whether input `i` needs a gradient (it depends on a parameter); rules skip the others. */
  wants(i: number): boolean;
  /** The gradient of output 0; throws when none reached it. */
  readonly g: TensorInfo;
  /** The gradient of output `i`, or null when that output does not reach the loss. */
  dy(i: number): TensorInfo | null;
}

export type InputGradient = TensorInfo | null | undefined;

export type GradRule = (c: RuleContext) => readonly InputGradient[];

/** Computes input `i`'s gradient only when it is needed (so frozen weights cost nothing). */
export function when(c: RuleContext, i: number, gradient: () => TensorInfo): InputGradient {
  return c.wants(i) ? gradient() : null;
}

/** The gradient of input `i` of a broadcasting op, from `full` (the gradient at the output's shape). */
export function reduced(c: RuleContext, i: number, full: () => TensorInfo): InputGradient {
  return when(c, i, () => c.e.unbroadcast(full(), c.x(i)));
}
