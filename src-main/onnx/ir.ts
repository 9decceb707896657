/**
 * onnx/ir — a small graph IR: values with element type and (possibly symbolic) shape, nodes
 * (op, inputs, outputs, attributes) and initializers whose bytes are produced lazily or live in
 * an existing external data file. Knows nothing of proteins; `esm/` and `autodiff/` build on it.
 */
import type { DType } from './dtypes';

/** A dimension: a size, or a name for a size known only at run time ("batch", "tokens"). */
export type Dim = number | string;

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  /** Known shape, or undefined when the builder did not track it. */
  readonly shape?: readonly Dim[];
}

export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: InlineTensor };

export interface Node {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, Attribute>>;
  readonly domain?: string;
}

/** Raw little-endian bytes of a tensor. */
export type TensorBytes = Uint8Array;

/** A small tensor stored inside the .onnx file. */
export interface InlineTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly bytes: TensorBytes;
}

/** Where an initializer's bytes come from. */
export type InitializerSource =
  /** Produced on demand (read from a checkpoint, converted) when the model is written. */
  | { kind: 'lazy'; read: () => TensorBytes }
  /** Already written to an external data file (shared by several graphs of one model). */
  | { kind: 'external'; location: string; offset: number; length: number }
  | { kind: 'inline'; bytes: TensorBytes };

export interface Initializer {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly source: InitializerSource;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly nodes: readonly Node[];
  readonly initializers: readonly Initializer[];
}

export const int = (value: number): Attribute => ({ kind: 'int', value });
export const float = (value: number): Attribute => ({ kind: 'float', value });
export const str = (value: string): Attribute => ({ kind: 'string', value });
export const ints = (value: readonly number[]): Attribute => ({ kind: 'ints', value });
export const floats = (value: readonly number[]): Attribute => ({ kind: 'floats', value });

export function byteView(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}
