/**
 * train/optimizers — AdamW, Adamax and SGD (with momentum) over named float32 parameters, with the
 * exact update rules of torch.optim.AdamW, Adamax and SGD (default, non-foreach code path), and
 * their state as named tensors plus a small JSON object, so that checkpoints can save and
 * restore it bit for bit.
 *
 * Parameters are updated in place. Every parameter must receive a gradient at every step: a
 * missing one is an error (torch silently skips it, which here would hide a wiring bug in the
 * training graph). Arithmetic is float64 per element, stored as float32, so results agree with
 * torch's float32 kernels to about one rounding.
 */

/** Parameter (or gradient) name → values; the names are the internal ones (`head.weight`...). */
export type TensorMap = Map<string, Float32Array>;

export interface AdamWOptions {
  kind: 'adamw';
  betas?: [number, number];
  eps?: number;
  /** torch.optim.AdamW's default is 0.01. */
  weightDecay?: number;
}

export interface SgdOptions {
  kind: 'sgd';
  momentum?: number;
  weightDecay?: number;
}

/** torch.optim.Adamax: PEFT-SP's optimizer for signal peptides. */
export interface AdamaxOptions {
  kind: 'adamax';
  betas?: [number, number];
  eps?: number;
  /** torch's default is 0 (L2, added to the gradient). */
  weightDecay?: number;
}

export type OptimizerOptions = AdamWOptions | SgdOptions | AdamaxOptions;
export type OptimizerKind = OptimizerOptions['kind'];

/** What a checkpoint stores: the JSON part, and tensors named `<buffer>.<parameter>`. */
export interface OptimizerState {
  kind: OptimizerKind;
  /** Optimizer steps taken (AdamW's bias correction depends on it). */
  step: number;
  hyper: Record<string, number>;
  tensors: TensorMap;
}

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Steps taken so far. */
  readonly stepCount: number;
  /** One update of every parameter with learning rate `lr` (from the schedule). */
  step(params: TensorMap, grads: TensorMap, lr: number): void;
  state(): OptimizerState;
  /** Restores a state saved by `state()`; checks it belongs to these parameters. */
  load(state: OptimizerState, params: TensorMap): void;
}

export function createOptimizer(options: OptimizerOptions): Optimizer {
  if (options.kind === 'adamax') return new Adamax(options);
  return options.kind === 'adamw' ? new AdamW(options) : new Sgd(options);
}

/** The Adam family's settings with torch's defaults (weight decay: AdamW 0.01, Adamax 0), range-checked. */
function adamSettings(options: { betas?: readonly [number, number]; eps?: number; weightDecay?: number }, defaultWeightDecay: number) {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  const settings = { beta1, beta2, eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? defaultWeightDecay };
  checkRange('beta1', settings.beta1, 0, 1);
  checkRange('beta2', settings.beta2, 0, 1);
  checkRange('eps', settings.eps, 0, Infinity);
  checkRange('weight decay', settings.weightDecay, 0, Infinity);
  return settings;
}

/**
 * torch.optim.AdamW (amsgrad off), per element:
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
 * Note eps is added after the bias correction of √v, as torch does (not to √v itself).
 */
export class AdamW implements Optimizer {
  readonly kind = 'adamw';
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private steps = 0;
  private exp = new Map<string, Float32Array>();
  private expSq = new Map<string, Float32Array>();

  constructor(options: Omit<AdamWOptions, 'kind'> = {}) {
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = adamSettings(options, 0.01));
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: TensorMap, grads: TensorMap, lr: number): void {
    checkGrads(params, grads);
    this.steps += 1;
    const stepSize = lr / (1 - this.beta1 ** this.steps);
    const correction2Sqrt = Math.sqrt(1 - this.beta2 ** this.steps);
    const decay = 1 - lr * this.weightDecay;
    for (const [name, p] of params) {
      const g = grads.get(name)!;
      const m = bufferFor(this.exp, name, p.length);
      const v = bufferFor(this.expSq, name, p.length);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        // Each store rounds to float32, as torch's in-place float32 ops do.
        p[i] = p[i]! * decay;
        m[i] = this.beta1 * m[i]! + (1 - this.beta1) * gi;
        v[i] = this.beta2 * v[i]! + (1 - this.beta2) * gi * gi;
        p[i] = p[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / correction2Sqrt + this.eps);
      }
    }
  }

  state(): OptimizerState {
    const tensors: TensorMap = new Map();
    for (const [name, m] of this.exp) tensors.set(`exp_avg.${name}`, m.slice());
    for (const [name, v] of this.expSq) tensors.set(`exp_avg_sq.${name}`, v.slice());
    return {
      kind: 'adamw',
      step: this.steps,
      hyper: { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay },
      tensors,
    };
  }

  load(state: OptimizerState, params: TensorMap): void {
    checkStateKind(state, 'adamw');
    this.steps = state.step;
    this.exp = loadBuffers(state, 'exp_avg', params, state.step > 0);
    this.expSq = loadBuffers(state, 'exp_avg_sq', params, state.step > 0);
  }
}

/**
 * torch.optim.SGD (dampening 0, no Nesterov), per element:
 *   g ← g + wd·p;  buf ← μ·buf + g (buf = g on the first step);  p ← p − lr·buf
 * With μ = 0 there is no buffer and the update is p ← p − lr·g.
 */
export class Sgd implements Optimizer {
  readonly kind = 'sgd';
  private readonly momentum: number;
  private readonly weightDecay: number;
  private steps = 0;
  private buffers = new Map<string, Float32Array>();

  constructor(options: Omit<SgdOptions, 'kind'> = {}) {
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    checkRange('momentum', this.momentum, 0, Infinity);
    checkRange('weight decay', this.weightDecay, 0, Infinity);
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: TensorMap, grads: TensorMap, lr: number): void {
    checkGrads(params, grads);
    this.steps += 1;
    for (const [name, p] of params) {
      const g = grads.get(name)!;
      const buffer = this.momentum > 0 ? this.buffers.get(name) : undefined;
      const fresh = this.momentum > 0 && !buffer ? new Float32Array(p.length) : undefined;
      if (fresh) this.buffers.set(name, fresh);
      for (let i = 0; i < p.length; i++) {
        // torch computes g + wd·p in float32 (a new tensor) before the momentum update.
        const d = Math.fround(this.weightDecay === 0 ? g[i]! : g[i]! + this.weightDecay * p[i]!);
        let update = d;
        if (buffer) update = buffer[i] = this.momentum * buffer[i]! + d;
        else if (fresh) update = fresh[i] = d;
        p[i] = p[i]! - lr * update;
      }
    }
  }

  state(): OptimizerState {
    const tensors: TensorMap = new Map();
    for (const [name, buffer] of this.buffers) tensors.set(`momentum_buffer.${name}`, buffer.slice());
    return { kind: 'sgd', step: this.steps, hyper: { momentum: this.momentum, weightDecay: this.weightDecay }, tensors };
  }

  load(state: OptimizerState, params: TensorMap): void {
    checkStateKind(state, 'sgd');
    this.steps = state.step;
    this.buffers = loadBuffers(state, 'momentum_buffer', params, this.momentum > 0 && state.step > 0);
  }
}

/**
 * torch.optim.Adamax, per element:
 *   g ← g + wd·p;  m ← β1·m + (1 − β1)·g;  u ← max(β2·u, |g| + eps)
 *   p ← p − (lr / (1 − β1ᵗ)) · m / u
 */
export class Adamax implements Optimizer {
  readonly kind = 'adamax';
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private steps = 0;
  private exp = new Map<string, Float32Array>();
  private expInf = new Map<string, Float32Array>();

  constructor(options: Omit<AdamaxOptions, 'kind'> = {}) {
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = adamSettings(options, 0));
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: TensorMap, grads: TensorMap, lr: number): void {
    checkGrads(params, grads);
    this.steps += 1;
    const stepSize = lr / (1 - this.beta1 ** this.steps);
    for (const [name, p] of params) {
      const g = grads.get(name)!;
      const m = bufferFor(this.exp, name, p.length);
      const u = bufferFor(this.expInf, name, p.length);
      for (let i = 0; i < p.length; i++) {
        const gi = Math.fround(this.weightDecay === 0 ? g[i]! : g[i]! + this.weightDecay * p[i]!);
        m[i] = this.beta1 * m[i]! + (1 - this.beta1) * gi;
        u[i] = Math.max(this.beta2 * u[i]!, Math.abs(gi) + this.eps);
        p[i] = p[i]! - (stepSize * m[i]!) / u[i]!;
      }
    }
  }

  state(): OptimizerState {
    const tensors: TensorMap = new Map();
    for (const [name, m] of this.exp) tensors.set(`exp_avg.${name}`, m.slice());
    for (const [name, u] of this.expInf) tensors.set(`exp_inf.${name}`, u.slice());
    return { kind: 'adamax', step: this.steps, hyper: { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay }, tensors };
  }

  load(state: OptimizerState, params: TensorMap): void {
    checkStateKind(state, 'adamax');
    this.steps = state.step;
    this.exp = loadBuffers(state, 'exp_avg', params, state.step > 0);
    this.expInf = loadBuffers(state, 'exp_inf', params, state.step > 0);
  }
}

// ---------------------------------------------------------------------------------------------

function bufferFor(buffers: Map<string, Float32Array>, name: string, length: number): Float32Array {
  let buffer = buffers.get(name);
  if (!buffer) {
    buffer = new Float32Array(length);
    buffers.set(name, buffer);
  }
  return buffer;
}

function checkGrads(params: TensorMap, grads: TensorMap): void {
  for (const [name, p] of params) {
    const g = grads.get(name);
    if (!g) throw new Error(`No gradient for parameter "${name}": the training step must return grad.${name}.`);
    if (g.length !== p.length) throw new Error(`The gradient of "${name}" has ${g.length} values, the parameter ${p.length}.`);
  }
  for (const name of grads.keys()) {
    if (!params.has(name)) throw new Error(`Gradient for "${name}", which is not a trained parameter.`);
  }
}

function checkRange(what: string, value: number, low: number, high: number): void {
  if (!(value >= low && value < high)) throw new RangeError(`Optimizer ${what} must be in [${low}, ${high}), got ${value}.`);
}

function checkStateKind(state: OptimizerState, kind: OptimizerKind): void {
  if (state.kind !== kind) throw new Error(`The saved optimizer state is for ${state.kind}, but this run uses ${kind}.`);
  if (!Number.isSafeInteger(state.step) || state.step < 0) throw new Error(`The saved optimizer step ${state.step} is not a count.`);
}

/** Copies the `<prefix>.<param>` tensors of a saved state, each checked against its parameter. */
function loadBuffers(state: OptimizerState, prefix: string, params: TensorMap, required: boolean): Map<string, Float32Array> {
  const buffers = new Map<string, Float32Array>();
  for (const [name, p] of params) {
    const saved = state.tensors.get(`${prefix}.${name}`);
    if (!saved) {
      if (required) throw new Error(`The saved optimizer state has no ${prefix} for parameter "${name}".`);
      continue;
    }
    if (saved.length !== p.length) {
      throw new Error(`The saved optimizer ${prefix} of "${name}" has ${saved.length} values, the parameter ${p.length}.`);
    }
    buffers.set(name, saved.slice());
  }
  return buffers;
}
