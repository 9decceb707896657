/**
 * models/esmc/weights — how each ESM C tensor is stored for the ONNX graphs: linear weights
 * transposed to [in, out] (MatMul needs no Transpose at run time), big matrices in float16 for
 * fp16 models, everything that feeds a LayerNorm in float32. int8 models store the trunk's linear
 * weights and the head's first dense layer as int8 with one float32 scale per output channel
 * (`<base>.weight_scale`, symmetric: w ≈ q · scale); the 64-logit output layer stays float32.
 * One table serves conversion (bytes from the checkpoint) and graph generation.
 */
import type { DType } from '../../onnx';
import type { Precision, StoredTensor } from '../family';
import type { EsmcConfig } from './config';
import { blockNames, TOP } from './names';
import { quantScaleName } from '../stored-weights';


export function storedTensors(config: EsmcConfig, precision: Precision): StoredTensor[] {
  const big: DType = precision === 'fp16' ? 'float16' : 'float32';
  const d = config.hiddenSize;
  const F = config.intermediateSize;
  const V = config.vocabSize;
  const vector = (name: string, size = d, dtype: DType = 'float32'): StoredTensor => ({ name, dims: [size], dtype, transposed: false });
  /** A linear weight [out, in] stored [in, out]; int8 (with scales) where `quantisable` in int8 models. */
  const weight = (base: string, inDim: number, outDim: number, quantisable = true): StoredTensor[] =>
    precision === 'int8' && quantisable
      ? [
          { name: `${base}.weight`, dims: [inDim, outDim], dtype: 'int8', transposed: true },
          vector(quantScaleName(base), outDim),
        ]
      : [{ name: `${base}.weight`, dims: [inDim, outDim], dtype: precision === 'int8' ? 'float32' : big, transposed: true }];
  const tensors: StoredTensor[] = [{ name: TOP.embed, dims: [V, d], dtype: big, transposed: false }];
  for (let n = 0; n < config.numLayers; n++) {
    const b = blockNames(n);
    tensors.push(
      vector(`${b.attentionNorm}.weight`),
      vector(`${b.attentionNorm}.bias`),
      ...weight(b.qkv, d, 3 * d),
      vector(`${b.queryNorm}.weight`),
      vector(`${b.keyNorm}.weight`),
      ...weight(b.attentionOut, d, d),
      vector(`${b.ffnNorm}.weight`),
      vector(`${b.ffnNorm}.bias`),
      ...weight(b.ffnIn, d, 2 * F),
      ...weight(b.ffnOut, F, d),
    );
  }
  tensors.push(
    vector(`${TOP.finalNorm}.weight`),
    ...weight(TOP.headDense, d, d),
    vector(`${TOP.headDense}.bias`, d, precision === 'int8' ? 'float32' : big),
    vector(`${TOP.headNorm}.weight`),
    vector(`${TOP.headNorm}.bias`),
    ...weight(TOP.headOut, d, V, false),
    vector(`${TOP.headOut}.bias`, V, precision === 'int8' ? 'float32' : big),
  );
  return tensors;
}

/** Weights in a model of this config (the parameter count of the catalogue). */
export function parameterCount(config: EsmcConfig): number {
  return storedTensors(config, 'fp32').reduce((sum, tensor) => sum + tensor.dims.reduce((n, size) => n * size, 1), 0);
}
