/**
 * models/formats/pth — PyTorch's `torch.save` archives (`.pth`, `pytorch_model.bin`) as a tensor
 * table, without Python and without running the pickle: the zip's one `<root>/data.pkl` is read
 * by the restricted reader (formats/pickle), which accepts only a state dict; each tensor becomes
 * a `TensorInfo` pointing into its uncompressed `<root>/data/<key>` record, so tensors are then
 * read lazily exactly like safetensors ones (`readFloat32`). The root folder's name is not the
 * file's (ESM C's 300M file has `esmc_300m_v0_fp32/`), so it is found, not guessed.
 */
import { inflateSync } from 'fflate';
import { ApiError } from '../../api/errors';
import { isDict, isTensor, isTuple, readRestrictedPickle, STORAGE_DTYPES, type PickledStorage, type PickledTensor, type PickleValue } from './pickle';
import type { SafetensorsDtype, TensorInfo, TensorTable } from './safetensors';
import { readAt, readZipEntries, type ZipEntry } from './zip';

const BYTES: Record<SafetensorsDtype, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};
/** A state dict's pickle is kilobytes (one entry per tensor); refuse something absurd before reading it. */
const MAX_PICKLE_BYTES = 64_000_000;
const STORED = 0;
const DEFLATED = 8;

export interface TorchCheckpoint {
  /** Tensor name → where its bytes are, in the pickle's key order. */
  tensors: TensorTable;
  /** Keys whose values are not tensors (skipped). */
  otherKeys: string[];
  /** The archive's root folder (e.g. `esmc_300m_v0_fp32`). */
  root: string;
}

/** Opens a `torch.save` zip archive holding a state dict; throws a message naming the file for anything else. */
export function openTorchCheckpoint(file: string): TorchCheckpoint {
  const entries = readZipEntries(file);
  const pickles = entries.filter((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
  if (pickles.length !== 1) {
    throw new ApiError(
      'invalid-input',
      `${file}: not a PyTorch checkpoint saved by torch.save (${pickles.length === 0 ? 'no data.pkl inside' : 'several data.pkl inside'}). ` +
        'Choose the model\'s .pth file as downloaded, or its model.safetensors.',
    );
  }
  const root = pickles[0]!.name.slice(0, -'/data.pkl'.length);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  refuseBigEndian(file, byName.get(`${root}/byteorder`));
  const where = `${file} (${root}/data.pkl)`;
  const storages = new Map<string, PickledStorage>();
  const value = readRestrictedPickle(entryBytes(file, pickles[0]!), where, (pid) => storageOf(pid, where, storages));
  return toTable(file, where, value, (key) => byName.get(`${root}/data/${key}`), root);
}

function refuseBigEndian(file: string, entry: ZipEntry | undefined): void {
  if (!entry) return;
  const order = new TextDecoder().decode(entryBytes(file, entry)).trim();
  if (order !== 'little') {
    throw new ApiError('invalid-input', `${file}: the tensors are stored ${order}-endian; ESM Studio reads little-endian checkpoints only. Save the weights again on a usual computer.`);
  }
}

/** The bytes of a small entry (the pickle, `byteorder`), inflated if the archive compressed it. */
function entryBytes(file: string, entry: ZipEntry): Uint8Array {
  if (entry.compressedSize > MAX_PICKLE_BYTES) throw new ApiError('invalid-input', `${file}: ${entry.name} is ${entry.compressedSize} bytes, far too large for a state dict's index.`);
  const raw = readAt(file, entry.dataOffset, entry.compressedSize);
  if (entry.method === STORED) return raw;
  if (entry.method === DEFLATED) return inflateSync(raw, { out: new Uint8Array(entry.size) });
  throw new ApiError('invalid-input', `${file}: ${entry.name} uses zip compression method ${entry.method}, which torch.save never writes. Download the file again.`);
}

/** `('storage', torch.FloatStorage, '<key>', 'cpu', numel)` → a storage reference (one per key). */
function storageOf(pid: PickleValue, where: string, storages: Map<string, PickledStorage>): PickledStorage {
  const items = isTuple(pid) ? pid.items : [];
  const [tag, type, key, , numel] = items;
  const typeName = typeof type === 'object' && type !== null && 'kind' in type && type.kind === 'global' ? type.qualifiedName : '';
  const dtype = STORAGE_DTYPES[typeName];
  if (tag !== 'storage' || !dtype || typeof key !== 'string' || typeof numel !== 'number') {
    throw new ApiError('invalid-input', `${where}: a tensor refers to its data in a way torch.save does not write (${describe(pid)}). The file is damaged or not a PyTorch checkpoint.`);
  }
  const earlier = storages.get(key);
  if (earlier) return earlier;
  const storage: PickledStorage = { kind: 'storage', key, dtype, numel };
  storages.set(key, storage);
  return storage;
}

function toTable(file: string, where: string, value: PickleValue, record: (key: string) => ZipEntry | undefined, root: string): TorchCheckpoint {
  if (!isDict(value)) throw new ApiError('invalid-input', `${where}: the checkpoint holds ${describe(value)}, not a dictionary of tensors (a state dict).`);
  const tensors: TensorTable = new Map();
  const otherKeys: string[] = [];
  for (const [key, entry] of value.entries) {
    const name = String(key);
    if (!isTensor(entry)) {
      otherKeys.push(name);
      continue;
    }
    tensors.set(name, tensorInfo(file, name, entry, record(entry.storage.key)));
  }
  return { tensors, otherKeys, root };
}

/** A contiguous tensor as a byte range of its storage record. */
function tensorInfo(file: string, name: string, tensor: PickledTensor, entry: ZipEntry | undefined): TensorInfo {
  const { storage, size, stride, offset } = tensor;
  const itemBytes = BYTES[storage.dtype];
  if (!entry) throw new ApiError('invalid-input', `${file}: the data of tensor "${name}" (record ${storage.key}) is missing from the archive. Download the file again.`);
  if (entry.method !== STORED) throw new ApiError('invalid-input', `${file}: the data of tensor "${name}" is compressed, which torch.save never does. Download the file again.`);
  if (entry.size < storage.numel * itemBytes) throw new ApiError('invalid-input', `${file}: the data of tensor "${name}" is shorter than its storage says (truncated file). Download it again.`);
  const numel = size.reduce((n, s) => n * s, 1);
  if (numel > 0 && !isContiguous(size, stride)) {
    throw new ApiError('invalid-input', `${file}: tensor "${name}" is a strided view (size [${size.join(', ')}], stride [${stride.join(', ')}]); save the state dict with contiguous tensors (tensor.contiguous()) and try again.`);
  }
  if (offset + numel > storage.numel) throw new ApiError('invalid-input', `${file}: tensor "${name}" reaches past the end of its storage; the file is damaged.`);
  return { name, dtype: storage.dtype, shape: [...size], byteOffset: entry.dataOffset + offset * itemBytes, byteLength: numel * itemBytes, file };
}

/** Row-major strides, ignoring dimensions of size 1 (whose stride PyTorch leaves arbitrary). */
function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}

function describe(value: PickleValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && 'kind' in value) return `a ${value.kind}`;
  return `a ${typeof value}`;
}
