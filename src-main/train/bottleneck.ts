/**
 * train/bottleneck — bottleneck adapters (Houlsby et al. 2019, as PEFT-SP uses them): two small
 * networks per block, one on the attention's output projection and one on the feed-forward's
 * output projection, each applied to that sublayer's output before the residual add:
 *
 *   h ← h + up(gelu(down(h))),   down [size, D] + bias, up [D, size] + bias
 *
 * on the top K blocks (or all). `up` starts at zero, so the adapted model starts equal to the
 * frozen one. The adapters sit on the family's 'attention-output' and 'output' linear layers through
 * the same `adaptLinear` hook LoRA uses: every family adds those layers' outputs to its residual
 * stream (ESM C after dividing by its residual scale), so "after the projection" is "before the add".
 *
 * Owns the spec, the tensor names (`<linear>.adapter.down.weight`, …), the init and the hook.
 * Adapters cannot be folded into the model's weights (the GELU sits between them): a saved model
 * carries them in its prediction graph (train/merge).
 */
import { createRng } from '../core/rng';
import type { GraphBuilder, Value } from '../onnx';
import type { AdaptLinear, AdapterRole, ModelConfig, ModelFamily } from '../models/family';
import type { ParamSpec } from './lora';

export interface BottleneckSpec {
  /** Width of the bottleneck. */
  size: number;
  /** 'all' blocks or the top K. */
  layers: 'all' | number;
}

/** The two sublayer outputs each adapted block gets an adapter on. */
export const BOTTLENECK_ROLES: readonly AdapterRole[] = ['attention-output', 'output'];

/** The activation between down and up (recorded in the saved config). */
export const BOTTLENECK_ACTIVATION = 'gelu';

export interface BottleneckAdapter {
  /** The linear layer whose output it adapts (tensor name without `.weight`). */
  base: string;
  layer: number;
  role: AdapterRole;
  downWeight: string;
  downBias: string;
  upWeight: string;
  upBias: string;
}

export function validateBottleneckSpec(spec: BottleneckSpec, config: ModelConfig): void {
  if (!Number.isInteger(spec.size) || spec.size < 1 || spec.size > 4096) throw new RangeError(`The adapter size must be a whole number from 1 to 4096, got ${spec.size}.`);
  if (spec.layers !== 'all' && !(Number.isInteger(spec.layers) && spec.layers >= 1 && spec.layers <= config.numLayers)) {
    throw new RangeError(`Adapter layers must be 'all' or 1 to ${config.numLayers} top layers, got ${spec.layers}.`);
  }
}

/** 0-based blocks that carry adapters, ascending. */
export function bottleneckLayers(spec: BottleneckSpec, numLayers: number): number[] {
  const count = spec.layers === 'all' ? numLayers : spec.layers;
  return Array.from({ length: count }, (_, i) => numLayers - count + i);
}

/** Every adapter, block by block, attention's then the feed-forward's. */
export function bottleneckAdapters(spec: BottleneckSpec, config: ModelConfig, family: ModelFamily): BottleneckAdapter[] {
  validateBottleneckSpec(spec, config);
  return bottleneckLayers(spec, config.numLayers).flatMap((layer) =>
    BOTTLENECK_ROLES.map((role) => {
      const linear = family.adaptableLinear(config, layer, role);
      if (!linear || linear.outDim !== config.hiddenSize) throw new Error(`${family.label} models have no ${role} projection back to the hidden size for a bottleneck adapter.`);
      const name = (part: string): string => `${linear.base}.adapter.${part}`;
      return { base: linear.base, layer, role, downWeight: name('down.weight'), downBias: name('down.bias'), upWeight: name('up.weight'), upBias: name('up.bias') };
    }),
  );
}

export function bottleneckParameters(spec: BottleneckSpec, config: ModelConfig, family: ModelFamily): ParamSpec[] {
  const D = config.hiddenSize;
  return bottleneckAdapters(spec, config, family).flatMap((a) => [
    { name: a.downWeight, shape: [spec.size, D] },
    { name: a.downBias, shape: [spec.size] },
    { name: a.upWeight, shape: [D, spec.size] },
    { name: a.upBias, shape: [D] },
  ]);
}

/** down ~ U(−1/√D, 1/√D) (PyTorch's Linear bound), its bias 0; up and its bias 0: the identity at start. */
export function initBottleneck(spec: BottleneckSpec, config: ModelConfig, family: ModelFamily, seed: number): Map<string, Float32Array> {
  const D = config.hiddenSize;
  const rng = createRng(seed);
  const bound = 1 / Math.sqrt(D);
  const out = new Map<string, Float32Array>();
  for (const a of bottleneckAdapters(spec, config, family)) {
    out.set(a.downWeight, Float32Array.from({ length: spec.size * D }, () => (2 * rng.next() - 1) * bound));
    out.set(a.downBias, new Float32Array(spec.size));
    out.set(a.upWeight, new Float32Array(D * spec.size));
    out.set(a.upBias, new Float32Array(D));
  }
  return out;
}

/** The hook: each adapted projection's output y becomes y + up(gelu(down(y))), computed in float32. */
export function bottleneckHook(g: GraphBuilder, spec: BottleneckSpec, config: ModelConfig, family: ModelFamily, param: (name: string) => Value): AdaptLinear {
  const adapters = new Map(bottleneckAdapters(spec, config, family).map((a) => [a.base, a]));
  return (base, _x, y) => {
    const a = adapters.get(base);
    if (!a) return y;
    const h = g.cast(y, 'float32');
    const down = g.add(g.matmul(h, g.transpose(param(a.downWeight), [1, 0])), param(a.downBias));
    const up = g.add(g.matmul(g.gelu(down), g.transpose(param(a.upWeight), [1, 0])), param(a.upBias));
    return g.add(y, g.cast(up, y.dtype));
  };
}

/** Two hooks one after the other (LoRA's change, then the adapter on the changed output). */
export function chainHooks(first: AdaptLinear | undefined, second: AdaptLinear | undefined): AdaptLinear | undefined {
  if (!first || !second) return first ?? second;
  return (base, x, y) => second(base, x, first(base, x, y));
}
