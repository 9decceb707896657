/**
 * models/stored-weights — how every family lays a checkpoint's weights out for its graphs:
 * linear weights transposed to [in, out]; fp16 models store half floats; int8 models store a
 * linear weight as symmetric per-output-channel int8 values with a float32 `<base>.weight_scale`
 * tensor beside it (the weight is read and quantised once for both). A family says which tensors
 * it stores (its `storedTensors`); this module writes their bytes.
 */
import { byteView, float32ToFloat16 } from '../onnx';
import type { StoredTensor } from './family';

/** Name of the per-output-channel scales of an int8 linear weight (`base` without `.weight`). */
export const quantScaleName = (base: string): string => `${base}.weight_scale`;

/** The checkpoint weight an int8 scale tensor is computed from, or null for any other name. */
export function scaledWeightOf(name: string): string | null {
  return name.endsWith('.weight_scale') ? name.slice(0, -'_scale'.length) : null;
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[row + c]!;
  }
  return out;
}

/**
 * Symmetric per-output-channel int8 quantisation of a row-major [out, in] weight: scale = max|w| / 127
 * per row, q = round(w / scale). Returns q transposed to [in, out] (the stored layout) and the scales.
 */
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

/** The int8 values and scales of one weight, kept while its two stored tensors are written. */
export type Quantised = { name: string; values: Int8Array; scales: Float32Array };

/** What the bytes are read from: a family's opened checkpoint, one tensor at a time as float32 ([out, in] for linear weights). */
export interface Float32Source {
  readFloat32(name: string): Float32Array;
}

/** Bytes of a stored tensor, read from the checkpoint and laid out as the graph wants. */
export function storedWeightBytes(checkpoint: Float32Source, tensor: StoredTensor, last: { current: Quantised | null }): Uint8Array {
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
