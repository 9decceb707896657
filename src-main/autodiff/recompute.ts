/**
 * autodiff/recompute — rematerialisation: forward values that the backward pass computes again
 * from their inputs instead of keeping them alive from the forward pass. A value the backward
 * reads is held in memory from the forward node that makes it until its last backward reader;
 * for attention probabilities ([batch, heads, tokens, tokens] per layer) that is most of a
 * training step's memory, while recomputing them costs one Q·Kᵀ product and a softmax.
 *
 * When a gradient rule reads a value marked for recomputation, a copy of its producing node is
 * emitted (and, recursively, copies of its marked inputs); unmarked inputs are the stored
 * forward values. Two things make the copy really run late and really be a copy:
 * - each stored input the copies read is first "anchored" on the gradient that reached the
 *   rule: `Reshape(x, Shape(x) + 0·Size(gradient))`, an alias that costs nothing but cannot
 *   run before the gradient exists, so onnxruntime cannot schedule the recomputation during the
 *   forward pass (where it would hold the memory we mean to free);
 * - the copies therefore read differently named inputs, so onnxruntime's common-subexpression
 *   elimination cannot merge them back into the forward nodes.
 * Copies are made once per value (the first backward reader's anchor) and shared by the later
 * readers, which belong to the same layer's backward.
 */
import type { Node } from '../onnx';
import type { Emitter } from './emitter';
import type { TensorInfo } from './shapes';

/** Ops whose outputs differ between two runs on the same inputs: never recomputed. */
const RANDOM_OPS = new Set(['Dropout', 'RandomUniform', 'RandomUniformLike', 'RandomNormal', 'RandomNormalLike', 'Multinomial', 'Bernoulli']);

export class Recomputer {
  private readonly producers = new Map<string, Node>();
  private readonly copies = new Map<string, TensorInfo>();
  private readonly anchoredCopies = new Map<string, TensorInfo>();

  constructor(
    private readonly e: Emitter,
    nodes: readonly Node[],
    private readonly infos: ReadonlyMap<string, TensorInfo>,
    private readonly marked: (value: string) => boolean,
  ) {
    for (const node of nodes) for (const name of node.outputs) if (name) this.producers.set(name, node);
  }

  /** Whether reads of `name` get a recomputed copy. */
  recomputes(name: string): boolean {
    const node = this.producers.get(name);
    return !!node && !RANDOM_OPS.has(node.op) && this.marked(name);
  }

  /**
   * The value `name` for a backward rule reached by `anchor`: the stored value, or for a marked
   * one, its type and shape with a name that makes the copy when first read. Rules often look at
   * an input only for its shape (to unbroadcast a gradient); that must not cost a recomputation.
   */
  read(name: string, anchor: TensorInfo | null): TensorInfo {
    const stored = this.infos.get(name)!;
    if (!anchor || !this.recomputes(name)) return stored;
    const made = this.copies.get(name);
    if (made) return made;
    const { name: _stored, ...described } = stored;
    return Object.defineProperty(described, 'name', { get: () => this.made(name, anchor).name, enumerable: true }) as TensorInfo;
  }

  /** The copy of `name` (a node with several outputs, such as Split, is copied once for all). */
  private made(name: string, anchor: TensorInfo): TensorInfo {
    if (!this.copies.has(name)) this.copy(this.producers.get(name)!, anchor);
    return this.copies.get(name)!;
  }

  private copy(node: Node, anchor: TensorInfo): void {
    const inputs = node.inputs.map((name) => (!name ? null : this.recomputes(name) ? this.made(name, anchor) : this.anchored(name, anchor)));
    const outputs = this.e.opN(node.op, inputs, node.outputs.length, node.attributes);
    node.outputs.forEach((name, i) => {
      if (name) this.copies.set(name, { ...outputs[i]!, shape: this.infos.get(name)?.shape ?? outputs[i]!.shape });
    });
  }

  /**
   * A stored forward value that cannot be read before `anchor` exists. Graph inputs and
   * initializers are not anchored (they exist from the start; a copy reads at least one
   * computed value, which is).
   */
  private anchored(name: string, anchor: TensorInfo): TensorInfo {
    const stored = this.infos.get(name)!;
    if (!this.producers.has(name)) return stored;
    const known = this.anchoredCopies.get(name);
    if (known) return known;
    const { e } = this;
    const zero = e.op('Mul', [e.op('Size', [anchor]), e.intScalar(0)]);
    const shape = e.op('Add', [e.op('Shape', [stored]), zero]);
    const value = { ...e.op('Reshape', [stored, shape]), shape: stored.shape };
    this.anchoredCopies.set(name, value);
    return value;
  }
}
