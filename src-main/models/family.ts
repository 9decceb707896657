/**
 * models/family — the seam between the app and a protein language model family (ESM-2 today;
 * ESM C next). A `ModelFamily` owns everything that differs between families: reading its
 * checkpoints and config, the names and layout of its weights, its alphabet and tokenizer, the
 * longest sequence it reads, the ONNX graph of its forward pass (embeddings, logits, contacts and
 * attention where it has them), the linear layers LoRA may adapt, and its catalogue entries.
 *
 * Everything outside `models/` works through this file's types and `models/registry` (which family
 * a model folder or checkpoint belongs to); nothing outside imports a family's folder. The graph
 * contract every family honours: one input `input_ids` int64 [batch, tokens] (`<cls>` + residues +
 * `<eos>`, right-padded with the family's `<pad>`), outputs named by `outputName`, hidden layer 0 =
 * the embedding output, layer k = after block k, layer numLayers = after the final norm.
 */
import type { DType, GraphBuilder, Value } from '../onnx';
import type { CatalogEntry } from './catalog';

/** How per-residue hidden states become one vector per sequence (or stay per residue). */
export type Pooling = 'mean' | 'bos' | 'max' | 'per-token';

/**
 * How a converted model stores its big weights: fp32, fp16 (activations in fp16 too), or int8
 * (linear weights as int8 with per-channel scales; activations, LayerNorm and softmax in fp32).
 */
export type Precision = 'fp32' | 'fp16' | 'int8';

export interface GraphOutputs {
  /** Hidden-state layers to return: 0 = embeddings, k = after layer k, numLayers = after the final norm. */
  layers: number[];
  pool: Pooling[];
  logits?: boolean;
  /** Only for families with a contact head (`heads.contacts`). */
  contacts?: boolean;
  /** 1-based layers whose softmax attention [batch, heads, tokens, tokens] to return. */
  attentionLayers?: number[];
}

/** Output names of every family's graphs, shared with the engine that reads them. */
export const outputName = {
  pooled: (pool: Pooling, layer: number): string => (pool === 'per-token' ? `hidden_${layer}` : `${pool}_${layer}`),
  attention: (layer: number): string => `attention_${layer}`,
  logits: 'logits',
  contacts: 'contacts',
};

/**
 * Lets another module change a linear layer's output (train/lora adds low-rank adapters):
 * `base` is the tensor name without `.weight`, `x` the input, `y` = x Wᵀ + b. Returns the value
 * used in place of `y`; return `y` itself to leave that layer alone.
 */
export type AdaptLinear = (base: string, x: Value, y: Value) => Value;

/**
 * Soft prompts (train/prompt): `length` virtual tokens placed before `<cls>`. `before(layer)` gives
 * the prompt [length, hidden] to put at the prompt positions before 0-based block `layer`, or null
 * to leave them as the previous block made them. The prompt positions appear before the first block
 * that has a prompt (shallow prompts: block 0 only; deep: every block, or the top K); they attend
 * and are attended to like residues, and every output (hidden layers, pooled vectors, logits,
 * attention maps, contacts) leaves them out, so outputs have the positions they have without prompts.
 * Family graphs place them with models/soft-prompt.
 */
export interface SoftPrompt {
  length: number;
  before(layer: number): Value | null;
}

/** Where prompt tuning starts its virtual tokens: a stored [vocab, hidden] tensor of token embeddings and the factor the graph scales its rows by at the input. */
export interface InputEmbedding {
  /** A `StoredTensor.name`. */
  tensor: string;
  /** ESM-2 multiplies embeddings by 0.88 (token dropout undone); 1 for families without it. */
  scale: number;
}

/**
 * The sizes every family's parsed config has; a family's own config extends it with what only its
 * graph needs. Manifests store the whole config; `ModelFamily.readConfig` checks it back.
 */
export interface ModelConfig {
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  headDim: number;
  intermediateSize: number;
  /** Width of the logits (33 for ESM-2, 64 for ESM C). */
  vocabSize: number;
  /** Where the checkpoint says it comes from, else its folder name. */
  sourceName: string;
}

/** A weight as a converted model stores it (see a family's weight table). */
export interface StoredTensor {
  /** Name of the source tensor in the checkpoint. */
  name: string;
  /** Shape as stored (transposed for linear weights). */
  dims: number[];
  dtype: DType;
  /** A [out, in] linear weight stored as [in, out]. */
  transposed: boolean;
}

/** Name of the per-output-channel scales int8 models store beside a linear weight (not a parameter). */
export const isQuantScale = (name: string): boolean => name.endsWith('.weight_scale');

/** The elements of the tensors `counts` accepts: a family's `parameterCount` with its own exclusions. */
export function countParameters(tensors: readonly { name: string; dims: readonly number[] }[], counts: (name: string) => boolean): number {
  let total = 0;
  for (const tensor of tensors) if (counts(tensor.name)) total += tensor.dims.reduce((n, size) => n * size, 1);
  return total;
}

/** Special token ids of an alphabet. */
export interface SpecialTokens {
  CLS: number;
  PAD: number;
  EOS: number;
  UNK: number;
  MASK: number;
}

export interface EncodedBatch {
  /** Row-major [batch, length] int64, right-padded with `<pad>`. */
  ids: BigInt64Array;
  batch: number;
  length: number;
}

/** A family's alphabet and how sequences become token ids. */
export interface Tokenizer {
  /** Token strings by id. */
  readonly alphabet: readonly string[];
  /** Width of the logits (may exceed the alphabet: ESM C has 64 logits for 33 tokens). */
  readonly vocabSize: number;
  readonly tokens: Readonly<SpecialTokens>;
  /** The 20 standard amino acids in this alphabet's id order. */
  readonly aminoAcids: readonly string[];
  /** The most residues one forward pass reads (without `<cls>` and `<eos>`); longer ones are windowed. */
  readonly maxResidues: number;
  /** `<cls>` + one id per residue + `<eos>`; no length limit applied. */
  encode(sequence: string): Int32Array;
  encodeBatch(sequences: readonly string[]): EncodedBatch;
  /** Id of one residue letter; an input error for anything not in the alphabet. */
  residueToken(aa: string): number;
  /** Token string of an id; a RangeError outside the alphabet. */
  tokenToResidue(id: number): string;
}

/** A checkpoint opened for conversion: checked, read lazily one tensor at a time. */
export interface FamilyCheckpoint {
  config: ModelConfig;
  /** Names in the files the model does not use. */
  ignoredKeys: string[];
  /** True when the decoder was absent and the word embeddings stand in for it. */
  tiedDecoder: boolean;
  /** sha256 over the checkpoint's files (for the manifest). */
  checksum(onProgress?: (fraction: number) => void): Promise<string>;
  /** The bytes of a stored tensor, laid out and typed as `tensor` says. */
  storedBytes(tensor: StoredTensor): Uint8Array;
}

export interface FamilyGraphOptions {
  config: ModelConfig;
  precision: Precision;
  outputs: GraphOutputs;
  /** The graph value of a stored weight (by its `StoredTensor.name`). */
  param: (name: string) => Value;
  /** Optional hook on every linear layer; without it the graph is the plain forward pass. */
  adaptLinear?: AdaptLinear;
  /** Optional soft prompts before `<cls>` (see SoftPrompt); the plain graph has none. */
  prompt?: SoftPrompt;
  /**
   * Use onnxruntime's fused kernels where the outputs allow (no attention maps or contacts, no
   * adaptLinear); a family without them ignores it. The values agree with the plain graph's to ~1e-5.
   */
  fused?: boolean;
}

/** A linear layer LoRA can adapt: its tensor name without `.weight`, and its sizes. */
export interface AdaptableLinear {
  base: string;
  inDim: number;
  outDim: number;
}

/**
 * The roles of the linear layers LoRA can target (PEFT's `target_modules`, by meaning). 'qkv' is
 * a packed q/k/v projection ([3d, d], ESM C's `layernorm_qkv.1`), adapted as one linear layer with
 * one A [r, d] and one B [3d, r] exactly as PEFT adapts that module; families with separate
 * projections (ESM-2) answer null for it, and packed families answer null for query/key/value.
 */
export const ADAPTER_ROLES = ['query', 'key', 'value', 'qkv', 'attention-output', 'intermediate', 'output'] as const;
export type AdapterRole = (typeof ADAPTER_ROLES)[number];

export interface ModelFamily {
  /** Stored in manifests (`family`); a manifest without one is 'esm2'. */
  readonly id: string;
  /** For people: 'ESM-2'. */
  readonly label: string;
  readonly tokenizer: Tokenizer;
  /** Which optional heads its graphs can output. */
  readonly heads: { contacts: boolean };
  /** Models of this family that can be downloaded. */
  readonly catalog: readonly CatalogEntry[];
  /** Whether a checkpoint folder or file looks like this family's (cheap: config or headers only). */
  recognises(source: string): boolean;
  /** Opens and checks a checkpoint; a message a biologist can act on when it is not usable. */
  openCheckpoint(source: string): FamilyCheckpoint;
  /** Checks a config stored in a manifest (written by this family's conversion). */
  readConfig(stored: unknown, where: string): ModelConfig;
  /** Every stored weight, in graph order. */
  storedTensors(config: ModelConfig, precision: Precision): StoredTensor[];
  /**
   * The learned parameters among a model's stored tensors (its `storedTensors`, or the weight table
   * of a manifest), counted as the original counts them: int8 scales, buffers (ESM-2's rotary
   * frequencies) and tied copies (ESM-2's decoder, which is its word embeddings) do not count.
   * What the scan's "score against model size" plot and the reports use as a model's size.
   */
  parameterCount(tensors: readonly { name: string; dims: readonly number[] }[]): number;
  /** Adds the forward pass to `g` (the graph contract in this file's header). */
  buildGraph(g: GraphBuilder, options: FamilyGraphOptions): void;
  /** The token embeddings soft prompts start from (train/prompt). */
  inputEmbedding(config: ModelConfig): InputEmbedding;
  /** The linear layer with this role in 0-based block `layer`, or null when the family has none. */
  adaptableLinear(config: ModelConfig, layer: number, role: AdapterRole): AdaptableLinear | null;
  /**
   * PEFT's `target_modules` entry of each role this family adapts: a suffix of the module names in
   * its own tensor names (PEFT matches by suffix), so a saved adapter says which layout it belongs
   * to. Absent for ESM-2, whose Hugging Face names (with the shared `dense`) train/finetune-adapter maps.
   */
  readonly peftModules?: Readonly<Partial<Record<AdapterRole, string>>>;
}
