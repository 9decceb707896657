/**
 * onnx/writer — serialises a Graph to an ONNX model file. Initializers above a size threshold go
 * to an external data file, written one tensor at a time so a model larger than memory (or
 * than protobuf's 2 GB limit) never sits in memory at once. Files are written under temporary
 * names and renamed at the end, so a cancelled or failed write leaves nothing half-written.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { ONNX_TYPE_CODE } from './dtypes';
import type { Attribute, Dim, Graph, Initializer, InlineTensor, Value } from './ir';
import { ATTRIBUTE_TYPE, DATA_LOCATION, ModelProto } from './proto';

export const OPSET = 20;
/** ONNX IR version 9 goes with opset 20. */
const IR_VERSION = 9;

/** Where an initializer's bytes ended up in the external data file. */
export interface ExternalEntry {
  name: string;
  dtype: Initializer['dtype'];
  dims: number[];
  offset: number;
  length: number;
}

export interface WriteOptions {
  /** Path of the external data file for lazy initializers; required when the graph has any. */
  dataPath?: string;
  /** Initializers at least this large (bytes) go to the external file. */
  externalThreshold?: number;
  producerVersion?: string;
  metadata?: Record<string, string>;
  /** Called after each tensor is written: (tensors written, total). */
  onTensor?: (done: number, total: number) => void;
  /** Checked between tensors; when it returns true the write stops and cleans up. */
  isCancelled?: () => boolean;
}

export class WriteCancelled extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'WriteCancelled';
  }
}

/** writeSync may write less than asked for (large buffers); loop until all is written. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
}

/** Large tensors start at page boundaries so onnxruntime can map them instead of copying. */
function alignment(length: number): number {
  return length >= 1 << 20 ? 4096 : 64;
}

interface Placement {
  /** Tensors written to the external file. */
  external: Map<string, ExternalEntry>;
  /** Lazy tensors too small for the external file, already read, to store inline. */
  inline: Map<string, Uint8Array>;
}

/** Writes the lazy initializers to `dataPath` (temporary name) and returns where each went. */
async function writeExternalData(initializers: readonly Initializer[], partialPath: string, options: WriteOptions): Promise<Placement> {
  const entries = new Map<string, ExternalEntry>();
  const inline = new Map<string, Uint8Array>();
  const threshold = options.externalThreshold ?? 1024;
  const lazy = initializers.filter((init) => init.source.kind === 'lazy');
  const fd = openSync(partialPath, 'w');
  try {
    let offset = 0;
    for (const [index, init] of lazy.entries()) {
      // Let signals and messages (a cancel) through between tensors of a long write.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.isCancelled?.()) throw new WriteCancelled();
      const bytes = (init.source as { read: () => Uint8Array }).read();
      if (bytes.length < threshold) {
        inline.set(init.name, bytes);
        continue;
      }
      const aligned = Math.ceil(offset / alignment(bytes.length)) * alignment(bytes.length);
      writeAll(fd, bytes, aligned);
      entries.set(init.name, { name: init.name, dtype: init.dtype, dims: [...init.dims], offset: aligned, length: bytes.length });
      offset = aligned + bytes.length;
      options.onTensor?.(index + 1, lazy.length);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { external: entries, inline };
}

function tensorProto(init: Initializer, placement: Placement, dataFileName: string): object {
  const base = { name: init.name, dims: [...init.dims], dataType: ONNX_TYPE_CODE[init.dtype] };
  const placed = placement.external.get(init.name);
  if (placed) return externalProto(base, dataFileName, placed.offset, placed.length);
  const read = placement.inline.get(init.name);
  if (read) return { ...base, rawData: read };
  switch (init.source.kind) {
    case 'external':
      return externalProto(base, init.source.location, init.source.offset, init.source.length);
    case 'inline':
      return { ...base, rawData: init.source.bytes };
    case 'lazy':
      return { ...base, rawData: init.source.read() };
  }
}

function externalProto(base: object, location: string, offset: number, length: number): object {
  return {
    ...base,
    dataLocation: DATA_LOCATION.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

function inlineTensorProto(tensor: InlineTensor): object {
  return { dims: [...tensor.dims], dataType: ONNX_TYPE_CODE[tensor.dtype], rawData: tensor.bytes };
}

function attributeProto(name: string, attribute: Attribute): object {
  switch (attribute.kind) {
    case 'int':
      return { name, type: ATTRIBUTE_TYPE.INT, i: attribute.value };
    case 'float':
      return { name, type: ATTRIBUTE_TYPE.FLOAT, f: attribute.value };
    case 'string':
      return { name, type: ATTRIBUTE_TYPE.STRING, s: Buffer.from(attribute.value) };
    case 'ints':
      return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...attribute.value] };
    case 'floats':
      return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...attribute.value] };
    case 'tensor':
      return { name, type: ATTRIBUTE_TYPE.TENSOR, t: inlineTensorProto(attribute.value) };
  }
}

function valueInfo(value: Value): object {
  const dims = (value.shape ?? []).map((d: Dim) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return {
    name: value.name,
    type: { tensorType: { elemType: ONNX_TYPE_CODE[value.dtype], ...(value.shape ? { shape: { dim: dims } } : {}) } },
  };
}

/** The standard opset, plus onnxruntime's contrib domain (version 1) when a node uses it. */
function opsetImports(graph: Graph): { domain: string; version: number }[] {
  const domains = new Set(graph.nodes.map((node) => node.domain ?? '').filter((domain) => domain !== ''));
  return [{ domain: '', version: OPSET }, ...[...domains].sort().map((domain) => ({ domain, version: 1 }))];
}

const NOTHING_PLACED: Placement = { external: new Map(), inline: new Map() };

export function encodeModel(graph: Graph, placement: Placement, dataFileName: string, options: WriteOptions): Uint8Array {
  const model = {
    irVersion: IR_VERSION,
    producerName: 'ESM Studio',
    producerVersion: options.producerVersion ?? '',
    opsetImport: opsetImports(graph),
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      initializer: graph.initializers.map((init) => tensorProto(init, placement, dataFileName)),
      node: graph.nodes.map((node) => ({
        name: node.name,
        opType: node.op,
        domain: node.domain ?? '',
        input: [...node.inputs],
        output: [...node.outputs],
        attribute: Object.entries(node.attributes).map(([name, attribute]) => attributeProto(name, attribute)),
      })),
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/**
 * Writes `graph` to `modelPath` (and its lazy initializers to `options.dataPath`); returns the
 * table of external tensors so that other graphs of the same model can reference them.
 */
export async function writeModel(graph: Graph, modelPath: string, options: WriteOptions = {}): Promise<ExternalEntry[]> {
  const hasLazy = graph.initializers.some((init) => init.source.kind === 'lazy');
  if (hasLazy && !options.dataPath) throw new Error('writeModel: a dataPath is needed for lazy initializers.');
  const partialModel = `${modelPath}.partial`;
  const partialData = options.dataPath ? `${options.dataPath}.partial` : null;
  try {
    const placement = partialData ? await writeExternalData(graph.initializers, partialData, options) : NOTHING_PLACED;
    const bytes = encodeModel(graph, placement, options.dataPath ? basename(options.dataPath) : '', options);
    const fd = openSync(partialModel, 'w');
    try {
      writeAll(fd, bytes, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (partialData) renameSync(partialData, options.dataPath!);
    renameSync(partialModel, modelPath);
    return [...placement.external.values()];
  } catch (error) {
    rmSync(partialModel, { force: true });
    if (partialData) rmSync(partialData, { force: true });
    throw error;
  }
}

/** Parses a model file back into a plain object (tests and diagnostics). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Buffer, defaults: false }) as Record<string, unknown>;
}
