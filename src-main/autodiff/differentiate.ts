/**
 * autodiff/differentiate — the graph walk of reverse-mode differentiation. It marks the values
 * that depend on a parameter (float values downstream of `wrt`) and those the loss depends on,
 * then visits the nodes on both sets in reverse order, asking each op's rule for the gradients
 * of its inputs from the (summed) gradients of its outputs. Everything else — frozen weights,
 * integer paths, constant subgraphs such as the rotary tables — gets no backward node.
 */
import { GraphBuilder, isFloat, type Graph, type Node } from '../onnx';
import { Emitter, type SizeSource } from './emitter';
import { Recomputer } from './recompute';
import { GRAD_RULES } from './rules';
import type { RuleContext } from './rules/context';
import { allNumbers, FreshDims, inferGraph, type TensorInfo } from './shapes';

export interface DifferentiateOptions {
  /** Name of a scalar float value of the graph (shape [] or all 1s). */
  loss: string;
  /** Graph inputs or initializers (the trainable parameters) to differentiate with respect to. */
  wrt: readonly string[];
  /**
   * Forward values the backward pass computes again from their inputs instead of keeping them
   * from the forward pass (autodiff/recompute): memory for a little time. Default: none.
   */
  recompute?: (value: string) => boolean;
  /**
   * A graph input holding d(objective)/d(`loss`), in the loss's shape: the backward starts from
   * it instead of 1, and `loss` may then be any float value (say emissions whose loss is computed
   * outside the graph, as the signal-peptide CRF's is). The outputs are then vector–Jacobian products.
   */
  seed?: string;
}

/** The output holding d(loss)/d(`name`). */
export const gradName = (name: string): string => `grad.${name}`;

/**
 * Returns `graph` with backward nodes appended and, after its own outputs, one output
 * `grad.<name>` per entry of `wrt` (in that order), of the parameter's type and shape. A
 * parameter the loss does not depend on gets zeros, so that a training loop can treat every
 * parameter alike. Throws when a node on a path from a parameter to the loss has no rule.
 */
export function differentiate(graph: Graph, options: DifferentiateOptions): Graph {
  const fresh = new FreshDims();
  const infos = inferGraph(graph, fresh);
  checkOptions(graph, infos, options);
  const needs = dependingOnParameters(graph, infos, options.wrt);
  const reaches = reachingLoss(graph, options.loss);
  const relevant = (name: string): boolean => needs.has(name) && reaches.has(name);
  const nodes = withDropoutMasks(graph.nodes, relevant, infos);

  const g = new GraphBuilder(graph.name);
  g.scope(freePrefix(graph), () => {
    const e = new Emitter(g, fresh, sizeSources(graph, infos));
    const recomputer = new Recomputer(e, nodes, infos, options.recompute ?? (() => false));
    const start = options.seed ? infos.get(options.seed)! : seed(e, infos.get(options.loss)!);
    const grads = backward(e, nodes, infos, options.loss, start, needs, relevant, recomputer);
    for (const name of options.wrt) {
      const param = infos.get(name)!;
      g.output(grads.take(name) ?? e.zerosLike(param), gradName(name), param.shape);
    }
  });
  const back = g.build();
  return {
    name: graph.name,
    inputs: graph.inputs,
    outputs: [...graph.outputs, ...back.outputs],
    nodes: [...nodes, ...back.nodes],
    initializers: [...graph.initializers, ...back.initializers],
  };
}

/** Gradient contributions per value, summed when taken (a value used n times gets n terms). */
class Accumulator {
  private readonly terms = new Map<string, TensorInfo[]>();
  constructor(private readonly e: Emitter) {}

  push(name: string, gradient: TensorInfo): void {
    const list = this.terms.get(name);
    if (list) list.push(gradient);
    else this.terms.set(name, [gradient]);
  }

  take(name: string): TensorInfo | null {
    const list = this.terms.get(name);
    if (!list) return null;
    this.terms.delete(name);
    return list.reduce((sum, term) => ({ ...this.e.add(sum, term), shape: sum.shape }));
  }
}

function backward(
  e: Emitter,
  nodes: readonly Node[],
  infos: Map<string, TensorInfo>,
  loss: string,
  start: TensorInfo,
  needs: ReadonlySet<string>,
  relevant: (name: string) => boolean,
  recomputer: Recomputer,
): Accumulator {
  const grads = new Accumulator(e);
  grads.push(loss, start);
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n]!;
    const dy = node.outputs.map((name) => (name && relevant(name) ? grads.take(name) : null));
    if (dy.every((d) => !d)) continue;
    const rule = GRAD_RULES[node.op];
    if (!rule) throw new Error(`autodiff: no gradient rule for ${node.op} (node ${node.name}), which lies between a parameter and the loss.`);
    const dx = rule(ruleContext(e, node, infos, needs, dy, recomputer));
    node.inputs.forEach((name, i) => {
      const gradient = dx[i];
      if (gradient && name && needs.has(name)) grads.push(name, gradient);
    });
  }
  return grads;
}

/** d(loss)/d(loss) = 1, in the loss's type and shape. */
function seed(e: Emitter, loss: TensorInfo): TensorInfo {
  const one = e.scalar(1, loss.dtype);
  return loss.shape?.length === 0 ? one : e.expandLike(one, loss);
}

function ruleContext(
  e: Emitter,
  node: Node,
  infos: Map<string, TensorInfo>,
  needs: ReadonlySet<string>,
  dy: readonly (TensorInfo | null)[],
  recomputer: Recomputer,
): RuleContext {
  // Recomputed copies are anchored on a gradient that reached this node, so they run now, not in the forward pass.
  const anchor = dy.find((d) => !!d) ?? null;
  const info = (name: string | undefined, what: string): TensorInfo => {
    if (!name || !infos.has(name)) throw new Error(`autodiff: node ${node.name} (${node.op}) has no ${what}.`);
    return recomputer.read(name, anchor);
  };
  return {
    e,
    node,
    x: (i) => info(node.inputs[i], `input ${i}`),
    maybe: (i) => (node.inputs[i] ? info(node.inputs[i], `input ${i}`) : null),
    y: (i) => info(node.outputs[i], `output ${i}`),
    wants: (i) => !!node.inputs[i] && needs.has(node.inputs[i]),
    get g() {
      return dy[0] ?? info(undefined, 'gradient at its first output');
    },
    dy: (i) => dy[i] ?? null,
  };
}

// ---------- which values take part ----------
/** Float values computed from a parameter: the only ones that can carry a gradient. */
function dependingOnParameters(graph: Graph, infos: Map<string, TensorInfo>, wrt: readonly string[]): Set<string> {
  const needs = new Set(wrt);
  for (const node of graph.nodes) {
    if (!node.inputs.some((name) => name && needs.has(name))) continue;
    for (const name of node.outputs) if (name && isFloat(infos.get(name)!.dtype)) needs.add(name);
  }
  return needs;
}

/** Values the loss depends on, by any path. */
function reachingLoss(graph: Graph, loss: string): Set<string> {
  const reaches = new Set([loss]);
  for (let n = graph.nodes.length - 1; n >= 0; n--) {
    const node = graph.nodes[n]!;
    if (node.outputs.some((name) => reaches.has(name))) for (const name of node.inputs) if (name) reaches.add(name);
  }
  return reaches;
}

/** Training-mode Dropout nodes on the path get a mask output (their backward reuses the mask). */
function withDropoutMasks(nodes: readonly Node[], relevant: (name: string) => boolean, infos: Map<string, TensorInfo>): Node[] {
  return nodes.map((node) => {
    if (node.op !== 'Dropout' || !relevant(node.outputs[0]!) || !node.inputs[2] || node.outputs[1]) return node;
    let mask = `${node.outputs[0]}.mask`;
    while (infos.has(mask)) mask += '_';
    infos.set(mask, { name: mask, dtype: 'bool', shape: infos.get(node.outputs[0]!)!.shape });
    return { ...node, outputs: [node.outputs[0]!, mask] };
  });
}

/** The first graph input (and axis) of each named size, such as 'batch' and 'tokens'. */
function sizeSources(graph: Graph, infos: Map<string, TensorInfo>): Map<string, SizeSource> {
  const sources = new Map<string, SizeSource>();
  for (const input of graph.inputs) {
    input.shape?.forEach((dim, axis) => {
      if (typeof dim === 'string' && !sources.has(dim)) sources.set(dim, { input: infos.get(input.name)!, axis });
    });
  }
  return sources;
}

// ---------- checks and names ----------
function checkOptions(graph: Graph, infos: Map<string, TensorInfo>, options: DifferentiateOptions): void {
  const loss = infos.get(options.loss);
  if (!loss) throw new Error(`autodiff: the loss ${options.loss} is not a value of graph ${graph.name}.`);
  if (!isFloat(loss.dtype)) throw new Error(`autodiff: the loss ${options.loss} is ${loss.dtype}; it must be a float.`);
  if (options.seed !== undefined) {
    const seedInput = graph.inputs.find((v) => v.name === options.seed);
    if (!seedInput) throw new Error(`autodiff: the seed ${options.seed} is not an input of graph ${graph.name}.`);
    if (seedInput.dtype !== loss.dtype) throw new Error(`autodiff: the seed ${options.seed} is ${seedInput.dtype}; the loss ${options.loss} is ${loss.dtype}.`);
  } else if (loss.shape && allNumbers(loss.shape) && loss.shape.some((d) => d !== 1)) {
    throw new Error(`autodiff: the loss ${options.loss} has shape [${loss.shape.join(', ')}]; it must be a scalar.`);
  }
  const parameters = new Set([...graph.inputs.map((v) => v.name), ...graph.initializers.map((i) => i.name)]);
  const seen = new Set<string>();
  for (const name of options.wrt) {
    if (!parameters.has(name)) throw new Error(`autodiff: ${name} is neither an input nor an initializer of graph ${graph.name}.`);
    if (!isFloat(infos.get(name)!.dtype)) throw new Error(`autodiff: ${name} is ${infos.get(name)!.dtype}; only float parameters have gradients.`);
    if (seen.has(name)) throw new Error(`autodiff: ${name} is listed twice in wrt.`);
    if (infos.has(gradName(name))) throw new Error(`autodiff: graph ${graph.name} already has a value named ${gradName(name)}.`);
    seen.add(name);
  }
}

/** A scope for backward node names that no forward name uses ("grad", else "grad2", …). */
function freePrefix(graph: Graph): string {
  const names = [...graph.nodes.flatMap((n) => [n.name, ...n.outputs]), ...graph.initializers.map((i) => i.name)];
  for (let k = 1; ; k++) {
    const prefix = k === 1 ? 'grad' : `grad${k}`;
    if (!names.some((name) => name.startsWith(`${prefix}/`))) return prefix;
  }
}
