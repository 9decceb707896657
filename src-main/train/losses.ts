/**
 * train/losses — training losses as graph code, each with PyTorch's reduction semantics so
 * numbers compare with a PyTorch run of the same model:
 *   - MSE, mean over every element (`nn.MSELoss()`);
 *   - cross-entropy with optional class weights: Σ w_y·nll / Σ w_y (`nn.CrossEntropyLoss(weight)`);
 *   - multi-label BCE-with-logits with optional pos_weight, mean over every element
 *     (`nn.BCEWithLogitsLoss(pos_weight)`), computed stably through LogSoftmax;
 *   - token cross-entropy over the positions a mask keeps (padding, <cls>, <eos>, unlabelled).
 * Every loss is a scalar float32. Only Add/Sub/Mul/Div/ReduceSum/LogSoftmax/Concat/Slice lie on
 * the gradient path; class indices become one-hot masks (Equal, off the gradient path) rather
 * than a Gather, so the backward graph needs no scatter rule.
 */
import type { GraphBuilder, Value } from '../onnx';

/** Σ over the given axes to a scalar. */
const sumAll = (g: GraphBuilder, x: Value, rank: number): Value =>
  g.reduceSum(x, Array.from({ length: rank }, (_, i) => i), false);

/** The number of elements of `x` as a float32 scalar (x must not need a gradient). */
const countOf = (g: GraphBuilder, x: Value): Value => g.cast(g.op('Size', [x], {}, { dtype: 'int64' }), 'float32');

/** mean((pred − target)²); `pred` and `target` have the same shape, of rank `rank`. */
export function mseLoss(g: GraphBuilder, pred: Value, target: Value, rank: number): Value {
  const diff = g.sub(pred, target);
  return g.div(sumAll(g, g.mul(diff, diff), rank), countOf(g, target));
}

/** [..., C] float32: 1 where the class index `labels` [...] (int64) equals c; all 0 for −100 and other out-of-range ids. */
export function oneHot(g: GraphBuilder, labels: Value, classes: number): Value {
  const ids = g.constant('int64', Array.from({ length: classes }, (_, c) => c));
  return g.cast(g.equal(g.unsqueeze(labels, [-1]), ids), 'float32');
}

/**
 * Weighted cross-entropy over the last axis of `logits` [..., C] (rank `rank`), counting only
 * positions where `keep` (float32, labels' shape; omit for all) is 1:
 * Σ keep·w_y·(−log p_y) / Σ keep·w_y, PyTorch's weighted mean.
 */
export function crossEntropyLoss(
  g: GraphBuilder,
  logits: Value,
  labels: Value,
  rank: number,
  options: { classes: number; classWeights?: readonly number[]; keep?: Value },
): Value {
  const hot = oneHot(g, labels, options.classes);
  const weightedHot = options.classWeights ? g.mul(hot, g.constant('float32', checkedWeights(options.classWeights, options.classes))) : hot;
  let weight = g.reduceSum(weightedHot, [rank - 1], false); // w_y per position, 0 where the label is out of range
  if (options.keep) weight = g.mul(weight, options.keep);
  const logProbs = g.logSoftmax(logits, -1);
  const logProbOfLabel = g.reduceSum(g.mul(logProbs, hot), [rank - 1], false);
  const nllWeighted = g.neg(g.mul(logProbOfLabel, weight));
  // Zero weight everywhere would divide 0 by 0; PyTorch returns NaN there too, but a batch of
  // only unlabelled tokens is legal here, so it counts as loss 0.
  const denominator = g.op('Max', [sumAll(g, weight, rank - 1), g.scalar(1e-12)]);
  return g.div(sumAll(g, nllWeighted, rank - 1), denominator);
}

function checkedWeights(weights: readonly number[], classes: number): number[] {
  if (weights.length !== classes) throw new RangeError(`Expected ${classes} class weights, got ${weights.length}.`);
  if (weights.some((w) => !(w >= 0))) throw new RangeError('Class weights must be ≥ 0.');
  return [...weights];
}

/**
 * log σ(−x) and log σ(x), computed as LogSoftmax over the pair (0, x): stable for any x
 * (log σ(x) = x − logsumexp(0, x)), and its gradient is LogSoftmax's.
 */
function logSigmoids(g: GraphBuilder, x: Value): { logNeg: Value; logPos: Value } {
  const pair = g.concat([g.unsqueeze(g.mul(x, g.scalar(0)), [-1]), g.unsqueeze(x, [-1])], -1);
  const [logNeg, logPos] = g.split(g.logSoftmax(pair, -1), -1, 2) as [Value, Value];
  return { logNeg: g.squeeze(logNeg, [-1]), logPos: g.squeeze(logPos, [-1]) };
}

/**
 * Multi-label BCE with logits [B, K] and targets [B, K] in [0, 1]:
 * mean of −(pos_weight_k · y · log σ(x) + (1 − y) · log σ(−x)).
 */
export function bceWithLogitsLoss(g: GraphBuilder, logits: Value, targets: Value, options: { labels: number; posWeight?: readonly number[] }): Value {
  const { logNeg, logPos } = logSigmoids(g, logits);
  let positive = g.mul(targets, logPos);
  if (options.posWeight) {
    if (options.posWeight.length !== options.labels) throw new RangeError(`Expected ${options.labels} pos_weight values, got ${options.posWeight.length}.`);
    positive = g.mul(positive, g.constant('float32', [...options.posWeight]));
  }
  const negative = g.mul(g.sub(g.scalar(1), targets), logNeg);
  const total = sumAll(g, g.add(positive, negative), 2);
  return g.neg(g.div(total, countOf(g, targets)));
}
