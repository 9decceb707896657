/**
 * train/graph-recompute — which forward values of a training graph its backward pass recomputes
 * instead of keeping (autodiff's `recompute` option). Kept values stay in memory from the forward
 * pass to their backward reader; the biggest are, per layer:
 *
 * - attention: the scores Q·Kᵀ and the softmax probabilities, [batch, heads, tokens, tokens].
 *   Recomputed from Q and Kᵀ (kept anyway, small: the backward of Q·Kᵀ reads them) by one
 *   batched product, the key-padding bias and a softmax.
 * - feed-forward: the GELU input, [batch, tokens, 4·hidden]. Recomputed from the layer's
 *   residual stream (kept anyway for the LayerNorm backward) by the LayerNorm and the first
 *   linear layer (one GEMM, about a sixth of the layer's forward cost).
 *
 * - attention inputs: Q and Kᵀ after the rotation and V split into heads, [batch, heads,
 *   tokens, head dim]. Recomputed from the LayerNorm output by the three projections (and their
 *   adapters) and the rotation: three GEMMs of hidden × hidden per layer.
 * - LayerNorm outputs, [batch, tokens, hidden]: what the adapters' A-gradients read. Recomputed
 *   from the LayerNorm's input (kept anyway for its own backward), a cheap normalisation.
 *
 * Found by the graph's structure, not by names, so any family graph built from plain ops gets
 * the same treatment: attention is a Softmax fed (through element-wise ops) by a MatMul of two
 * computed values; the GELU input is what a Gelu reads, traced through Add/Cast/Mul and the
 * activation side of MatMuls back to a LayerNormalization.
 */
import type { Graph, Node } from '../onnx';

/** Element-wise ops between a product and a softmax or GELU (bias, mask, casts, scaling). */
const PASS_THROUGH = new Set(['Add', 'Cast', 'Mul', 'Div', 'Sub', 'Where']);

export interface RecomputePolicy {
  attention: boolean;
  /** Q, K and V (needs `attention`: the probabilities' copies read them). */
  projections: boolean;
  gelu: boolean;
  layerNorm: boolean;
}

export const RECOMPUTE_ALL: RecomputePolicy = { attention: true, projections: true, gelu: true, layerNorm: true };

/** Shape and element-wise ops between a LayerNorm and what reads its projections (rotary embedding, head split). */
const TO_NORM = new Set([...PASS_THROUGH, 'Transpose', 'Reshape', 'Split', 'Concat', 'Neg', 'Unsqueeze', 'Squeeze']);

export function recomputedValues(graph: Graph, policy: RecomputePolicy = RECOMPUTE_ALL): Set<string> {
  const producers = new Map<string, Node>();
  for (const node of graph.nodes) for (const name of node.outputs) if (name) producers.set(name, node);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const computed = (name: string): boolean => producers.has(name);
  const marked = new Set<string>();
  const mark = (name: string): void => {
    if (!outputs.has(name)) marked.add(name);
  };

  /** Values from a Softmax's input back to an activation × activation MatMul; null when there is none. */
  const attentionChain = (name: string, seen: string[] = []): string[] | null => {
    const node = producers.get(name);
    if (!node) return null;
    if (node.op === 'MatMul') return node.inputs.every((input) => computed(input)) ? [...seen, name] : null;
    if (!PASS_THROUGH.has(node.op)) return null;
    for (const input of node.inputs) {
      const chain = input ? attentionChain(input, [...seen, name]) : null;
      if (chain) return chain;
    }
    return null;
  };

  /** Values from `name` back to a LayerNormalization's output, through `through` and the activation side of MatMuls. */
  const chainToNorm = (name: string, through: ReadonlySet<string>, into: Set<string>): boolean => {
    const node = producers.get(name);
    if (!node) return false;
    if (node.op === 'LayerNormalization') return (into.add(name), true);
    const inputs = node.op === 'MatMul' ? node.inputs.slice(0, 1) : through.has(node.op) ? node.inputs : [];
    let reached = false;
    for (const input of inputs) if (input && computed(input) && chainToNorm(input, through, into)) reached = true;
    if (reached) into.add(name);
    return reached;
  };
  const markChain = (name: string, through: ReadonlySet<string>): void => {
    const chain = new Set<string>();
    if (chainToNorm(name, through, chain)) chain.forEach(mark);
  };

  // A cast of the probabilities (fp16 models) is what the product with V reads: recompute it too.
  const castsOf = (name: string): string[] => graph.nodes.filter((n) => n.op === 'Cast' && n.inputs[0] === name).map((n) => n.outputs[0]!);
  for (const node of graph.nodes) {
    if (policy.attention && node.op === 'Softmax') {
      const chain = attentionChain(node.inputs[0]!);
      if (!chain) continue;
      [...chain, node.outputs[0]!, ...castsOf(node.outputs[0]!)].forEach(mark);
      if (!policy.projections) continue;
      // Q and Kᵀ: the inputs of the scores product; V: what the probabilities are multiplied with.
      for (const input of producers.get(chain.at(-1)!)!.inputs) markChain(input, TO_NORM);
      for (const reader of graph.nodes.filter((n) => n.op === 'MatMul' && [node.outputs[0]!, ...castsOf(node.outputs[0]!)].includes(n.inputs[0]!))) markChain(reader.inputs[1]!, TO_NORM);
    }
    if (policy.layerNorm && node.op === 'LayerNormalization') mark(node.outputs[0]!);
    if (policy.gelu && node.op === 'Gelu') markChain(node.inputs[0]!, PASS_THROUGH);
  }
  return marked;
}
