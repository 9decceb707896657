/**
 * models/esmc/weights — how each ESM C tensor is stored for the ONNX graphs: linear weights
 * transposed to [in, out] (MatMul needs no Transpose at run time), big matrices in float16 for
 * fp16 models, everything that feeds a LayerNorm in float32. int8 models store the trunk's linear
 * weights and the head's first dense layer as int8 with one float32 scale per output channel
 * (`<base>.weight_scale`, symmetric: w ≈ q · scale); the 64-logit output layer stays float32.
 * One table serves conversion (bytes from the checkpoint) and graph generation.
 */
import { byteView, float32ToFloat16, type DType } from '../../onnx';
import type { Precision, StoredTensor } from '../family';
import type { EsmcCheckpoint } from './checkpoint';
import type { EsmcConfig } from './config';
import { blockNames, TOP } from './names';

export const quantScaleName = (base: string): string => `${base}.weight_scale`;

function scaledWeightOf(name: string): string | null {
  return name.endsWith('.weight_scale') ? name.slice(0, -'_scale'.length) : null;
}

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

/** The int8 values and scales of one weight, kept while its two stored tensors are written. */
export type Quantised = { name: string; values: Int8Array; scales: Float32Array };

/** Bytes of a stored tensor, read from the checkpoint and laid out as the graph wants. */
export function storedBytes(checkpoint: EsmcCheckpoint, tensor: StoredTensor, last: { current: Quantised | null }): Uint8Array {
  const quantised = (name: string, rows: number): Quantised => {
    if (last.current?.name !== name) {
      const data = checkpoint.readFloat32(name);
      last.current = { name, ...quantiseRows(data, rows, data.length / rows) };
    }
    return last.current;
  };
  const scaled = scaledWeightOf(tensor.name);
  if (scaled) return byteView(quantised(scaled, tensor.dims[0]!).scales);
  if (tensor.dtype === 'int8') return byteView(quantised(tensor.name, tensor.dims[1]!).values);
  let data = checkpoint.readFloat32(tensor.name);
  if (tensor.transposed) data = transpose2d(data, tensor.dims[1]!, tensor.dims[0]!);
  return tensor.dtype === 'float16' ? byteView(float32ToFloat16(data)) : byteView(data);
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** Symmetric per-row int8 of a row-major [out, in] weight; values returned transposed to [in, out]. */
export function quantiseRows(data: Float32Array, rows: number, cols: number): { values: Int8Array; scales: Float32Array } {
  const values = new Int8Array(data.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(data[r * cols + c]!));
    const scale = max > 0 ? max / 127 : 1;
    scales[r] = scale;
    for (let c = 0; c < cols; c++) values[c * rows + r] = Math.round(data[r * cols + c]! / scale);
  }
  return { values, scales };
}

/** Weights in a model of this config (the parameter count of the catalogue). */
export function parameterCount(config: EsmcConfig): number {
  return storedTensors(config, 'fp32').reduce((sum, tensor) => sum + tensor.dims.reduce((n, size) => n * size, 1), 0);
}
