/**
 * autodiff/rules/nn — the neural-network ops with a closed-form backward: Softmax and
 * LogSoftmax along one axis, LayerNormalization (statistics recomputed from x, which is cheaper
 * than keeping them), and Dropout (the forward mask reused, scaled by 1/(1 − ratio)).
 */
import { int } from '../../onnx';
import { attrFloat, attrInt, type TensorInfo } from '../shapes';
import { reduced, when, type GradRule, type RuleContext } from './context';

/**
 * y = softmax(x): dx = y · (dy − Σ dy·y), the sum along the softmax axis. Written so that each
 * full-size temporary dies at once (dy·y into the sum; dy − sum can overwrite dy, and the product
 * y): for attention, every one of them is [batch, heads, tokens, tokens].
 */
const softmax: GradRule = (c) => {
  const { e, g } = c;
  const axis = attrInt(c.node, 'axis', -1);
  return [
    when(c, 0, () => {
      const y = c.y(0);
      const dot = e.reduceSum(e.mul(g, y), [axis], true);
      return e.mul(y, e.sub(g, dot));
    }),
  ];
};

/** y = log softmax(x): dx = dy − exp(y) · Σ dy. */
const logSoftmax: GradRule = (c) => {
  const { e, g } = c;
  const axis = attrInt(c.node, 'axis', -1);
  return [when(c, 0, () => e.sub(g, e.mul(e.op('Exp', [c.y(0)]), e.reduceSum(g, [axis], true))))];
};

/** The normalised axes, from `axis` to the last (negative, so the rank need not be known). */
function normalisedAxes(c: RuleContext): number[] {
  const axis = attrInt(c.node, 'axis', -1);
  if (axis < 0) return Array.from({ length: -axis }, (_, i) => axis + i);
  const rank = c.x(0).shape?.length;
  if (rank === undefined) throw new Error(`autodiff: the gradient of LayerNormalization ${c.node.name} needs the rank of its input.`);
  return Array.from({ length: rank - axis }, (_, i) => axis + i);
}

/**
 * y = x̂·γ + β with x̂ = (x − μ)·σ⁻¹, σ² the variance + epsilon (a float32 attribute, used as such): dβ = Σ dy, dγ = Σ dy·x̂ (over the leading axes), and
 * dx = σ⁻¹ · (dx̂ − mean(dx̂) − x̂ · mean(dx̂·x̂)) with dx̂ = dy·γ, means over the normalised axes.
 */
const layerNorm: GradRule = (c) => {
  const { e, g } = c;
  if (c.dy(1) || c.dy(2)) throw new Error(`autodiff: LayerNormalization ${c.node.name}: gradients through its Mean/InvStdDev outputs are not supported.`);
  const [x, scale] = [c.x(0), c.x(1)];
  const axes = e.ints(normalisedAxes(c));
  const mean = (v: TensorInfo): TensorInfo => e.op('ReduceMean', [v, axes], { keepdims: int(1) });
  let stats: { xhat: TensorInfo; inv: TensorInfo } | undefined;
  const normalised = (): { xhat: TensorInfo; inv: TensorInfo } => {
    if (stats) return stats;
    const centred = e.sub(x, mean(x));
    const variance = mean(e.mul(centred, centred));
    const inv = e.op('Reciprocal', [e.op('Sqrt', [e.add(variance, e.scalar(Math.fround(attrFloat(c.node, 'epsilon', 1e-5)), x.dtype))])]);
    return (stats = { xhat: e.mul(centred, inv), inv });
  };
  const gradX = (): TensorInfo => {
    const { xhat, inv } = normalised();
    const dxhat = e.mul(g, scale);
    return e.mul(inv, e.sub(e.sub(dxhat, mean(dxhat)), e.mul(xhat, mean(e.mul(dxhat, xhat)))));
  };
  return [when(c, 0, gradX), reduced(c, 1, () => e.mul(g, normalised().xhat)), reduced(c, 2, () => g)];
};

/**
 * Dropout: dx = dy · mask / (1 − ratio) in training mode, dy otherwise. The forward node's mask
 * output is used (differentiate adds it to the node when the graph did not ask for it).
 */
const dropout: GradRule = (c) => {
  const { e, g } = c;
  const training = c.maybe(2);
  if (!training) return [when(c, 0, () => g)];
  const x = c.x(0);
  const ratio = c.maybe(1);
  const one = e.scalar(1, x.dtype);
  const keepScale = ratio ? e.op('Reciprocal', [e.sub(one, e.cast(ratio, x.dtype))]) : e.scalar(2, x.dtype);
  const scale = e.op('Where', [training, keepScale, one]);
  return [when(c, 0, () => e.mul(e.mul(g, e.cast(c.y(1), x.dtype)), scale)), null, null];
};

export const NN_RULES: Record<string, GradRule> = {
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  LayerNormalization: layerNorm,
  Dropout: dropout,
};
