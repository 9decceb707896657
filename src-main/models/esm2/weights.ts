/**
 * models/esm2/weights — how each checkpoint tensor is stored for the ONNX graphs: linear weights
 * transposed to [in, out] (so MatMul needs no Transpose at run time), big matrices in float16
 * for fp16 models, and everything that feeds LayerNorm, rotary or the contact head kept in
 * float32. int8 models store the linear layers' weights (layers and LM head dense) as int8 with
 * one float32 scale per output channel (`<base>.weight_scale`, symmetric: w ≈ q · scale), and
 * everything else in float32. One table serves conversion (bytes from the checkpoint) and graph
 * generation (bytes already in the model's data file).
 */
import type { DType } from '../../onnx';
import type { Precision, StoredTensor } from '../family';
import type { EsmConfig } from './checkpoint/config';
import { quantScaleName } from '../stored-weights';

export type { Precision, StoredTensor };

const layerPrefix = (layer: number): string => `esm.encoder.layer.${layer}`;

/** Names of one layer's tensors, by role. */
export function layerTensorNames(layer: number) {
  const p = layerPrefix(layer);
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    invFreq: `${p}.attention.self.rotary_embeddings.inv_freq`,
    attentionOut: `${p}.attention.output.dense`,
    attentionNorm: `${p}.attention.LayerNorm`,
    intermediate: `${p}.intermediate.dense`,
    output: `${p}.output.dense`,
    outputNorm: `${p}.LayerNorm`,
  };
}

export const TOP_LEVEL = {
  wordEmbeddings: 'esm.embeddings.word_embeddings.weight',
  finalNorm: 'esm.encoder.emb_layer_norm_after',
  contactRegression: 'esm.contact_head.regression',
  lmDense: 'lm_head.dense',
  lmNorm: 'lm_head.layer_norm',
  lmDecoder: 'lm_head.decoder.weight',
  lmBias: 'lm_head.bias',
} as const;


export function storedTensors(config: EsmConfig, precision: Precision): StoredTensor[] {
  const big: DType = precision === 'fp16' ? 'float16' : 'float32';
  const D = config.hiddenSize;
  const F = config.intermediateSize;
  const V = config.vocabSize;
  const linear = (base: string, inDim: number, outDim: number): StoredTensor[] =>
    precision === 'int8'
      ? [
          { name: `${base}.weight`, dims: [inDim, outDim], dtype: 'int8', transposed: true },
          { name: quantScaleName(base), dims: [outDim], dtype: 'float32', transposed: false },
          { name: `${base}.bias`, dims: [outDim], dtype: 'float32', transposed: false },
        ]
      : [
          { name: `${base}.weight`, dims: [inDim, outDim], dtype: big, transposed: true },
          { name: `${base}.bias`, dims: [outDim], dtype: big, transposed: false },
        ];
  const norm = (base: string, size: number): StoredTensor[] => [
    { name: `${base}.weight`, dims: [size], dtype: 'float32', transposed: false },
    { name: `${base}.bias`, dims: [size], dtype: 'float32', transposed: false },
  ];
  const tensors: StoredTensor[] = [{ name: TOP_LEVEL.wordEmbeddings, dims: [V, D], dtype: big, transposed: false }];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const n = layerTensorNames(layer);
    tensors.push(
      ...norm(n.attentionNorm, D),
      ...linear(n.query, D, D),
      ...linear(n.key, D, D),
      ...linear(n.value, D, D),
      { name: n.invFreq, dims: [config.headDim / 2], dtype: 'float32', transposed: false },
      ...linear(n.attentionOut, D, D),
      ...norm(n.outputNorm, D),
      ...linear(n.intermediate, D, F),
      ...linear(n.output, F, D),
    );
  }
  tensors.push(
    ...norm(TOP_LEVEL.finalNorm, D),
    { name: `${TOP_LEVEL.contactRegression}.weight`, dims: [config.numLayers * config.numHeads, 1], dtype: 'float32', transposed: true },
    { name: `${TOP_LEVEL.contactRegression}.bias`, dims: [1], dtype: 'float32', transposed: false },
    ...linear(TOP_LEVEL.lmDense, D, D),
    ...norm(TOP_LEVEL.lmNorm, D),
    { name: TOP_LEVEL.lmDecoder, dims: [D, V], dtype: big, transposed: true },
    { name: TOP_LEVEL.lmBias, dims: [V], dtype: big, transposed: false },
  );
  return tensors;
}
