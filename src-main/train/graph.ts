/**
 * train/graph — the graphs a fine-tuning run executes, as ONNX for onnxruntime:
 *
 *   input_ids → the model (its family's graph; frozen weights; LoRA, bottleneck adapters or a soft prompt as inputs) → pool → head → prediction
 *                                                                          └→ loss (+ gradients)
 *
 * and the head-only variant that starts from stored embedding vectors [batch, D] (the fast path
 * when the backbone stays frozen). Three modes: 'train' (loss, predictions, dropout on, and one
 * `grad.<name>` output per trainable tensor through autodiff), 'eval' (loss and predictions, no
 * dropout: validation) and 'predict' (predictions only, no targets needed).
 *
 * Trainable tensors (adapters, head) are graph inputs fed each step from TypeScript, or baked in
 * as constants for a saved model; frozen weights are the caller's (for an installed model, the
 * external data in its weights.data, see train/graph-files). Owns the input/output contract
 * listed in `IO`.
 */
import { differentiate as autodiff } from '../autodiff';
import { byteView, GraphBuilder, type Dim, type DType, type Graph, type Value } from '../onnx';
import { outputName, type FamilyGraphOptions, type ModelConfig, type ModelFamily, type Precision, type SpecialTokens } from '../models/family';
import { headParameters, sequenceHead, tokenHead, type HeadSpec } from './heads';
import { loraHook, loraParameters, type LoraHookOptions, type LoraSpec, type ParamSpec } from './lora';
import { promptParameters, softPrompt, type PromptSpec } from './prompt';
import { bottleneckHook, bottleneckParameters, chainHooks, type BottleneckSpec } from './bottleneck';
import { DROPOUT_SEED_INPUT } from './graph-dropout';
import { recomputedValues, type RecomputePolicy } from './graph-recompute';
import { bceWithLogitsLoss, crossEntropyLoss, mseLoss } from './losses';

export type TaskSpec =
  | { kind: 'regression'; outputs: number }
  | { kind: 'classification'; classes: number; classWeights?: readonly number[] }
  | { kind: 'multilabel'; labels: number; posWeight?: readonly number[] }
  /** One class per residue; positions outside `label_mask` (and <cls>, <eos>, padding) are ignored. */
  | { kind: 'token'; classes: number; classWeights?: readonly number[] }
  /**
   * Per-residue emission scores for a CRF that lives outside the graph (signal peptides): the
   * `prediction` is the raw scores [batch, tokens, classes]; a 'train' graph has no loss but takes
   * d(loss)/d(emissions) as the input `emissions_grad` and returns the gradients it implies.
   */
  | { kind: 'crf'; classes: number };

export type GraphMode = 'train' | 'eval' | 'predict';

/** Names of the graphs' inputs and outputs. */
export const IO = {
  tokens: 'input_ids',
  embeddings: 'embeddings',
  /** float32 [batch, outputs] (regression) or [batch, labels] in [0, 1] (multilabel). */
  targets: 'targets',
  /** int64 [batch] (classification) or [batch, tokens] (token task). */
  labels: 'labels',
  /** float32 [batch, tokens], 1 at labelled residues (token task). */
  labelMask: 'label_mask',
  /** float32 [batch, tokens, classes]: d(loss)/d(prediction), the backward's seed ('crf' train graphs). */
  emissionsGrad: 'emissions_grad',
  /** int64 scalar: the step's dropout seed ('train' graphs with dropout only). */
  dropoutSeed: DROPOUT_SEED_INPUT,
  loss: 'loss',
  /** Regression: values [batch, outputs]; classification: probabilities [batch, classes];
   * multilabel: probabilities [batch, labels]; token: probabilities [batch, tokens, classes]. */
  prediction: 'prediction',
  /** Sequence tasks: the pooled final representation [batch, D]. */
  pooled: 'pooled',
  grad: (name: string): string => `grad.${name}`,
} as const;

export interface DataInput {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface TrainingGraph {
  graph: Graph;
  /** Tensors fed as inputs each run (empty when all are baked in). */
  trainable: ParamSpec[];
  /** The data inputs, in graph order. */
  inputs: DataInput[];
  outputs: { loss: string | null; prediction: string; pooled: string | null; gradients: Record<string, string> };
  /** The `<pad>` id `input_ids` rows are padded with (backbone graphs; null for head-only graphs). */
  padToken: number | null;
}

/** forward graph → forward + backward (src-main/autodiff's `differentiate`). */
export type Differentiate = (graph: Graph, options: { loss: string; wrt: readonly string[]; recompute?: (value: string) => boolean; seed?: string }) => Graph;

/** Makes the frozen-weight lookup for a builder (initializers of the model's stored weights). */
export type FrozenParams = (g: GraphBuilder) => (name: string) => Value;

export interface BuildOptions {
  /** Builds the backward pass in 'train' mode; default src-main/autodiff's `differentiate`. */
  differentiate?: Differentiate;
  /** Trainable tensors to store as constants instead of inputs (a saved, fine-tuned model). */
  baked?: ReadonlyMap<string, Float32Array>;
  /** Which big forward values the backward recomputes instead of keeping (default: all it can; train/graph-recompute). */
  recompute?: RecomputePolicy;
  /**
   * A run's seed, salted into every dropout site so two runs fed the same step seeds still draw
   * different masks (default 0). The masks themselves follow the `dropout_seed` fed each step.
   */
  seed?: number;
}

export interface BackboneGraphSpec {
  /** The model's family: its forward graph, tokens and adaptable layers. */
  family: ModelFamily;
  config: ModelConfig;
  precision: Precision;
  /** null: the backbone stays frozen (only the head trains). */
  lora: LoraSpec | null;
  /** Soft prompts before `<cls>` (train/prompt); absent or null: none. */
  prompt?: PromptSpec | null;
  /** Bottleneck adapters (train/bottleneck); absent or null: none. */
  adapter?: BottleneckSpec | null;
  head: HeadSpec;
  task: TaskSpec;
  mode: GraphMode;
}

export interface HeadGraphSpec {
  /** Width of the stored embedding vectors. */
  inDim: number;
  head: HeadSpec;
  task: Exclude<TaskSpec, { kind: 'token' | 'crf' }>;
  mode: GraphMode;
}

/** Numbers the head gives per sequence (or per residue). */
export function taskOutDim(task: TaskSpec): number {
  switch (task.kind) {
    case 'regression':
      return task.outputs;
    case 'multilabel':
      return task.labels;
    default:
      return task.classes;
  }
}

/** Token heads are always a single Linear (SWAT's head is defined on pooled vectors). */
const effectiveHead = (head: HeadSpec, task: TaskSpec): HeadSpec => (task.kind === 'token' || task.kind === 'crf' ? { ...head, kind: 'linear' } : head);

/** Trainable tensors of a backbone graph: LoRA, bottleneck adapters (layer order), the prompt, then the head. */
export function trainableParameters(spec: Pick<BackboneGraphSpec, 'family' | 'config' | 'lora' | 'prompt' | 'adapter' | 'head' | 'task'>): ParamSpec[] {
  const lora = spec.lora ? loraParameters(spec.lora, spec.config, spec.family) : [];
  const adapter = spec.adapter ? bottleneckParameters(spec.adapter, spec.config, spec.family) : [];
  const prompt = spec.prompt ? promptParameters(spec.prompt, spec.config) : [];
  return [...lora, ...adapter, ...prompt, ...headParameters(effectiveHead(spec.head, spec.task), spec.config.hiddenSize, taskOutDim(spec.task))];
}

/** Salt of the head's dropout site; adapters use their index (0, 1, …), so heads sit far above. */
const HEAD_DROPOUT_SALT = 1_000_003;

/** The `dropout_seed` input (int64 scalar), created the first time a dropout site needs it. */
function lazySeedInput(g: GraphBuilder): () => Value {
  let seed: Value | null = null;
  return () => (seed ??= g.input(DROPOUT_SEED_INPUT, 'int64', []));
}

/** A reference to a value by name (one the ESM graph made, or a graph input). */
const ref = (name: string, dtype: DType, shape?: readonly Dim[]): Value => ({ name, dtype, ...(shape ? { shape } : {}) });

/** Trainable tensors as graph inputs (each created once) or baked constants. */
function trainableLookup(g: GraphBuilder, params: readonly ParamSpec[], baked: ReadonlyMap<string, Float32Array> | undefined) {
  const shapes = new Map(params.map((p) => [p.name, p.shape]));
  const made = new Map<string, Value>();
  const fed: ParamSpec[] = [];
  const lookup = (name: string): Value => {
    const known = made.get(name);
    if (known) return known;
    const shape = shapes.get(name);
    if (!shape) throw new Error(`No trainable tensor ${name}.`);
    const value = baked?.has(name)
      ? g.initializer(name, 'float32', shape, { kind: 'inline', bytes: byteView(checkedSize(baked.get(name)!, name, shape)) })
      : g.input(name, 'float32', shape);
    if (!baked?.has(name)) fed.push({ name, shape });
    made.set(name, value);
    return value;
  };
  return { lookup, fed };
}

function checkedSize(data: Float32Array, name: string, shape: readonly number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new RangeError(`${name}: expected ${size} values (${shape.join('×')}), got ${data.length}.`);
  return data;
}

/** 1 at residues of `input_ids`, 0 at <cls>, <eos> and padding (float32 [batch, tokens]). */
function residueMask(g: GraphBuilder, tokens: Value, special: Readonly<SpecialTokens>): Value {
  const is = (id: number): Value => g.cast(g.equal(tokens, g.scalar(id, 'int64')), 'float32');
  const notResidue = g.add(g.add(is(special.CLS), is(special.EOS)), is(special.PAD));
  return g.sub(g.scalar(1), notResidue);
}

interface TaskResult {
  prediction: Value;
  loss: Value | null;
  inputs: DataInput[];
  /** The input that seeds the backward from `prediction` (a loss computed outside the graph). */
  seedInput?: string;
}

/** Prediction and loss of a sequence-level task from the head's raw output [batch, outDim]. */
function sequenceTask(g: GraphBuilder, task: Exclude<TaskSpec, { kind: 'token' | 'crf' }>, raw: Value, withLoss: boolean): TaskResult {
  const outDim = taskOutDim(task);
  if (task.kind === 'classification') {
    const prediction = g.softmax(raw, -1);
    if (!withLoss) return { prediction, loss: null, inputs: [] };
    const labels = g.input(IO.labels, 'int64', ['batch']);
    const loss = crossEntropyLoss(g, raw, labels, 2, { classes: outDim, ...(task.classWeights ? { classWeights: task.classWeights } : {}) });
    return { prediction, loss, inputs: [{ name: IO.labels, dtype: 'int64', shape: ['batch'] }] };
  }
  const prediction = task.kind === 'multilabel' ? g.sigmoid(raw) : raw;
  if (!withLoss) return { prediction, loss: null, inputs: [] };
  const targets = g.input(IO.targets, 'float32', ['batch', outDim]);
  const loss =
    task.kind === 'regression'
      ? mseLoss(g, raw, targets, 2)
      : bceWithLogitsLoss(g, raw, targets, { labels: outDim, ...(task.posWeight ? { posWeight: task.posWeight } : {}) });
  return { prediction, loss, inputs: [{ name: IO.targets, dtype: 'float32', shape: ['batch', outDim] }] };
}

/** Token task: per-residue probabilities and the masked cross-entropy. */
function tokenTask(g: GraphBuilder, task: Extract<TaskSpec, { kind: 'token' }>, raw: Value, tokens: Value, special: Readonly<SpecialTokens>, withLoss: boolean): TaskResult {
  const prediction = g.softmax(raw, -1);
  if (!withLoss) return { prediction, loss: null, inputs: [] };
  const labels = g.input(IO.labels, 'int64', ['batch', 'tokens']);
  const labelMask = g.input(IO.labelMask, 'float32', ['batch', 'tokens']);
  const keep = g.mul(labelMask, residueMask(g, tokens, special));
  const loss = crossEntropyLoss(g, raw, labels, 3, { classes: task.classes, keep, ...(task.classWeights ? { classWeights: task.classWeights } : {}) });
  return {
    prediction,
    loss,
    inputs: [
      { name: IO.labels, dtype: 'int64', shape: ['batch', 'tokens'] },
      { name: IO.labelMask, dtype: 'float32', shape: ['batch', 'tokens'] },
    ],
  };
}

/** CRF emissions: the raw scores are the prediction; a 'train' graph takes their gradient as an input. */
function crfTask(g: GraphBuilder, task: Extract<TaskSpec, { kind: 'crf' }>, raw: Value, mode: GraphMode): TaskResult {
  if (mode !== 'train') return { prediction: raw, loss: null, inputs: [] };
  const shape: Dim[] = ['batch', 'tokens', task.classes];
  g.input(IO.emissionsGrad, 'float32', shape);
  return { prediction: raw, loss: null, inputs: [{ name: IO.emissionsGrad, dtype: 'float32', shape }], seedInput: IO.emissionsGrad };
}

/**
 * Keeps only the outputs in `keep` and removes the Identity nodes that named outputs: the ESM
 * graph's own outputs (the representation the head reads) are dropped and their readers wired
 * to the value itself; each kept output is produced directly by the node that computes it. This
 * is tidier, and it matters: onnxruntime 1.30's optimizers (any level above 'disabled') rejected
 * a valid graph where one value fed both the head and an Identity naming the `pooled` output.
 */
function dropIntermediateOutputs(built: Graph, keep: ReadonlySet<string>): Graph {
  const produced = new Set(built.nodes.flatMap((n) => n.outputs));
  const outputNames = new Set(built.outputs.map((o) => o.name));
  const rename = new Map<string, string>();
  const removed = new Set<string>();
  const resolve = (name: string): string => {
    let current = name;
    for (let hops = 0; rename.has(current) && hops < 8; hops++) current = rename.get(current)!;
    return current;
  };
  const identities = built.nodes.filter((node) => node.op === 'Identity');
  for (const node of identities) {
    if (!outputNames.has(node.outputs[0]!) || keep.has(node.outputs[0]!)) continue;
    rename.set(node.outputs[0]!, node.inputs[0]!); // dropped: readers take the value itself
    removed.add(node.name);
  }
  for (const node of identities) {
    const [input, output] = [resolve(node.inputs[0]!), node.outputs[0]!];
    if (!keep.has(output) || !produced.has(input) || outputNames.has(input) || rename.has(input)) continue;
    rename.set(input, output); // kept: the producer writes the output name directly
    removed.add(node.name);
  }
  const nodes = built.nodes
    .filter((node) => !removed.has(node.name))
    .map((node) => ({ ...node, inputs: node.inputs.map(resolve), outputs: node.outputs.map(resolve) }));
  return { ...built, nodes, outputs: built.outputs.filter((o) => keep.has(o.name)) };
}

/** Marks the graph outputs, keeps only those (the ESM graph's own outputs were intermediate), and differentiates in 'train' mode. */
function finish(
  g: GraphBuilder,
  result: TaskResult & { pooled: Value | null; fed: ParamSpec[]; dataInputs: DataInput[] },
  mode: GraphMode,
  options: BuildOptions,
  padToken: number | null,
): TrainingGraph {
  const keep = new Set<string>();
  const mark = (value: Value, name: string): string => (keep.add(name), g.output(value, name).name);
  const loss = result.loss ? mark(result.loss, IO.loss) : null;
  const prediction = mark(result.prediction, IO.prediction);
  const pooled = result.pooled ? mark(result.pooled, IO.pooled) : null;
  let graph = dropIntermediateOutputs(g.build(), keep);
  const gradients: Record<string, string> = {};
  if (mode === 'train') {
    const objective = loss ?? (result.seedInput ? prediction : null);
    if (!objective || result.fed.length === 0) throw new Error('A training graph needs a loss (or a seeded prediction) and at least one trainable tensor.');
    const recomputed = recomputedValues(graph, options.recompute);
    const seeded = !loss && result.seedInput ? { seed: result.seedInput } : {};
    graph = (options.differentiate ?? autodiff)(graph, { loss: objective, wrt: result.fed.map((p) => p.name), recompute: (name) => recomputed.has(name), ...seeded });
    for (const p of result.fed) gradients[p.name] = IO.grad(p.name);
  }
  const seedInputs: DataInput[] = graph.inputs.some((i) => i.name === DROPOUT_SEED_INPUT) ? [{ name: DROPOUT_SEED_INPUT, dtype: 'int64', shape: [] }] : [];
  const inputs = [...result.dataInputs, ...result.inputs, ...seedInputs];
  return { graph, trainable: result.fed, inputs, outputs: { loss, prediction, pooled, gradients }, padToken };
}

/** The family graph's hooks for the spec's PEFT methods: LoRA then adapters on its linear layers, soft prompts before `<cls>`. */
function peftHooks(g: GraphBuilder, spec: BackboneGraphSpec, param: (name: string) => Value, dropout: LoraHookOptions['dropout']): Pick<FamilyGraphOptions, 'adaptLinear' | 'prompt'> {
  const { config, family } = spec;
  const lora = spec.lora ? loraHook(g, spec.lora, config, family, { param, dropout }) : undefined;
  const adapter = spec.adapter ? bottleneckHook(g, spec.adapter, config, family, param) : undefined;
  const adaptLinear = chainHooks(lora, adapter);
  return { ...(adaptLinear ? { adaptLinear } : {}), ...(spec.prompt ? { prompt: softPrompt(g, spec.prompt, config, param) } : {}) };
}

/**
 * The model (its family's forward graph) with LoRA adapters (optional) and a head. `frozen` gives the stored weights; the
 * trainable tensors are inputs unless `options.baked` holds them.
 */
export function buildTrainingGraph(spec: BackboneGraphSpec, frozen: FrozenParams, options: BuildOptions = {}): TrainingGraph {
  const { config, family, task, mode } = spec;
  const g = new GraphBuilder(`${family.id}-${task.kind}-${mode}`);
  const seed = mode === 'train' ? lazySeedInput(g) : null;
  const trainables = trainableLookup(g, trainableParameters(spec), options.baked);
  const tokens = ref(IO.tokens, 'int64', ['batch', 'tokens']);
  const head = effectiveHead(spec.head, task);
  const pool = task.kind === 'token' || task.kind === 'crf' ? 'per-token' : head.pool;
  family.buildGraph(g, {
    config,
    precision: spec.precision,
    outputs: { layers: [config.numLayers], pool: [pool] },
    param: frozen(g),
    ...peftHooks(g, spec, trainables.lookup, seed && { seed, tokens, salt: options.seed ?? 0 }),
  });
  // The family's graph made the representation an output with this name; read it from there.
  const representation = ref(outputName.pooled(pool, config.numLayers), 'float32');
  const dataInputs: DataInput[] = [{ name: IO.tokens, dtype: 'int64', shape: ['batch', 'tokens'] }];
  const withLoss = mode !== 'predict';
  if (task.kind === 'crf') {
    const raw = tokenHead(g, representation, trainables.lookup);
    return finish(g, { ...crfTask(g, task, raw, mode), pooled: null, fed: trainables.fed, dataInputs }, mode, options, family.tokenizer.tokens.PAD);
  }
  if (task.kind === 'token') {
    const raw = tokenHead(g, representation, trainables.lookup);
    return finish(g, { ...tokenTask(g, task, raw, tokens, family.tokenizer.tokens, withLoss), pooled: null, fed: trainables.fed, dataInputs }, mode, options, family.tokenizer.tokens.PAD);
  }
  const headDropout = seed && { seed, batchSource: tokens, salt: (options.seed ?? 0) + HEAD_DROPOUT_SALT };
  const raw = sequenceHead(g, head, representation, config.hiddenSize, { param: trainables.lookup, dropout: headDropout });
  return finish(g, { ...sequenceTask(g, task, raw, withLoss), pooled: representation, fed: trainables.fed, dataInputs }, mode, options, family.tokenizer.tokens.PAD);
}

/** The head alone on stored embedding vectors (`embeddings` [batch, inDim] float32). */
export function buildHeadGraph(spec: HeadGraphSpec, options: BuildOptions = {}): TrainingGraph {
  const { task, mode } = spec;
  const g = new GraphBuilder(`head-${task.kind}-${mode}`);
  const trainables = trainableLookup(g, headParameters(spec.head, spec.inDim, taskOutDim(task)), options.baked);
  const embeddings = g.input(IO.embeddings, 'float32', ['batch', spec.inDim]);
  const raw = sequenceHead(g, spec.head, embeddings, spec.inDim, {
    param: trainables.lookup,
    dropout: mode === 'train' ? { seed: lazySeedInput(g), batchSource: embeddings, salt: (options.seed ?? 0) + HEAD_DROPOUT_SALT } : null,
  });
  const dataInputs: DataInput[] = [{ name: IO.embeddings, dtype: 'float32', shape: ['batch', spec.inDim] }];
  return finish(g, { ...sequenceTask(g, task, raw, mode !== 'predict'), pooled: null, fed: trainables.fed, dataInputs }, mode, options, null);
}
