/**
 * models/soft-prompt — the graph plumbing of soft prompts (models/family `SoftPrompt`) that every
 * family's graph shares: token ids with stand-ins at the prompt positions (so padding masks,
 * sequence-id masks and rotary positions count them as real tokens), the prompt rows put in front
 * of (or in place of) the first `length` hidden positions, and those positions dropped again before
 * anything leaves the graph. A family decides where its blocks start and end; this file knows
 * nothing about any family.
 */
import type { GraphBuilder, Value } from '../onnx';
import type { SoftPrompt } from './family';

/** A Slice end this large means "to the end" (what autodiff's Slice rule reads as such). */
const TO_END = 2 ** 31 - 1;

/**
 * `tokens` [batch, T] with `length` copies of `stand_in` (a non-padding id, e.g. `<cls>`) in front:
 * [batch, length + T]. Only masks and positions read these ids; the prompt rows replace their embeddings.
 */
export function promptedTokens(g: GraphBuilder, tokens: Value, length: number, standIn: number): Value {
  const row = g.constant('int64', new Array<number>(length).fill(standIn), [1, length]);
  const shape = g.concat([g.dim(tokens, 0), g.constant('int64', [length])], 0);
  return g.concat([g.expand(row, shape), tokens], 1);
}

/**
 * The hidden states [batch, T', D] with the prompt [length, D] at the first `length` positions: put
 * in front when the sequence has no prompt positions yet (`present` false), in place of them otherwise.
 */
export function placePrompt(g: GraphBuilder, hidden: Value, prompt: Value, length: number, present: boolean): Value {
  const rows = g.cast(prompt, hidden.dtype);
  const shape = g.concat([g.dim(hidden, 0), g.shape(rows)], 0);
  const batched = g.expand(g.unsqueeze(rows, [0]), shape);
  const body = present ? g.slice(hidden, [length], [TO_END], [1]) : hidden;
  return g.concat([batched, body], 1);
}

/** `x` without its first `length` positions along each of `axes` (the prompt leaves no trace in outputs). */
export function withoutPrompt(g: GraphBuilder, x: Value, length: number, axes: readonly number[]): Value {
  return g.slice(
    x,
    axes.map(() => length),
    axes.map(() => TO_END),
    axes,
  );
}

/** Refuses a prompt without virtual tokens (a family graph checks before it builds). */
export function checkPrompt(prompt: SoftPrompt | undefined): void {
  if (prompt && !(Number.isInteger(prompt.length) && prompt.length >= 1)) throw new RangeError(`A soft prompt needs at least one virtual token, got ${prompt.length}.`);
}
