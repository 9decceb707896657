/**
 * models/formats/pickle — a restricted reader for the Python pickles inside PyTorch checkpoints
 * (`data.pkl` of a `.pth` / `pytorch_model.bin`). A pickle is a small program for a stack machine
 * that may import and call any Python function; this reader never runs anything. It interprets
 * only the opcodes `torch.save` emits for a state dict (protocols 2 to 4: containers, numbers,
 * strings, memo, persistent ids, REDUCE/BUILD) and resolves only the globals a state dict needs:
 * `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` and the
 * typed storage classes (`torch.FloatStorage`, …). Any other global (`os.system`,
 * `builtins.eval`, a model class, …) or opcode is refused with a message naming the file and what
 * it asked for, before anything else happens. The result is plain data: dicts, tuples, lists,
 * numbers, strings, and tensor descriptions (storage key, dtype, offset, size, stride) whose bytes
 * the caller reads from the archive.
 */
import { ApiError } from '../../api/errors';
import type { SafetensorsDtype } from './safetensors';

/** A tensor as `_rebuild_tensor_v2` describes it: a view of a storage record of the archive. */
export interface PickledTensor {
  kind: 'tensor';
  storage: PickledStorage;
  /** Offset into the storage, in elements. */
  offset: number;
  size: number[];
  stride: number[];
}

/** A persistent storage reference: record `key` holding `numel` elements of `dtype`. */
export interface PickledStorage {
  kind: 'storage';
  key: string;
  dtype: SafetensorsDtype;
  numel: number;
}

export interface PickledDict {
  kind: 'dict';
  entries: Map<PickleValue, PickleValue>;
  /** Whatever BUILD attached (an OrderedDict's `_metadata` of module versions). */
  state: PickleValue;
}

export interface PickledTuple {
  kind: 'tuple';
  items: PickleValue[];
}

/** An allowed global, as a marker: a callable (OrderedDict, _rebuild_tensor_v2, …) or a storage type. */
export interface PickledGlobal {
  kind: 'global';
  qualifiedName: string;
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickledTuple
  | PickledDict
  | PickledTensor
  | PickledStorage
  | PickledGlobal;

/** Storage classes `torch.save` names in persistent ids, and the element type of each. */
export const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
};

const CALLABLE_GLOBALS = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

/** Whether a state-dict pickle may name this global; everything else is refused. */
export const isAllowedGlobal = (qualifiedName: string): boolean => CALLABLE_GLOBALS.has(qualifiedName) || qualifiedName in STORAGE_DTYPES;

/** Turns a persistent id (a `('storage', type, key, location, numel)` tuple) into a value. */
export type PersistentLoad = (pid: PickleValue) => PickleValue;

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/** Opcodes with a name for messages; all others are refused as "unknown". */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT', 0x4b: 'BININT1',
  0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS',
  0x47: 'BINFLOAT', 0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/**
 * Reads a state-dict pickle without running it. `where` names the file in messages (e.g.
 * `model.pth (data.pkl)`); `persistentLoad` resolves storage references.
 */
export function readRestrictedPickle(bytes: Uint8Array, where: string, persistentLoad: PersistentLoad): PickleValue {
  return new Reader(bytes, where, persistentLoad).run();
}

class Reader {
  private at = 0;
  private stack: StackItem[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly where: string,
    private readonly persistentLoad: PersistentLoad,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleValue {
    for (;;) {
      const position = this.at;
      const opcode = this.u8();
      if (opcode === 0x2e /* STOP */) return this.pop();
      this.step(opcode, position);
    }
  }

  private step(opcode: number, position: number): void {
    switch (opcode) {
      case 0x80: this.u8(); return; // PROTO n
      case 0x95: this.take(8); return; // FRAME length: framing only
      case 0x28: this.stack.push(MARK); return;
      case 0x30: this.pop(); return; // POP
      case 0x31: this.popMark(); return; // POP_MARK
      case 0x32: this.push(this.top()); return; // DUP
      case 0x4e: this.push(null); return;
      case 0x88: this.push(true); return;
      case 0x89: this.push(false); return;
      case 0x4a: this.push(this.view.getInt32(this.advance(4), true)); return; // BININT
      case 0x4b: this.push(this.u8()); return; // BININT1
      case 0x4d: this.push(this.view.getUint16(this.advance(2), true)); return; // BININT2
      case 0x8a: this.push(this.long(this.u8())); return; // LONG1
      case 0x47: this.push(this.view.getFloat64(this.advance(8), false)); return; // BINFLOAT (big-endian)
      case 0x58: this.push(this.text(this.view.getUint32(this.advance(4), true))); return; // BINUNICODE
      case 0x8c: this.push(this.text(this.u8())); return; // SHORT_BINUNICODE
      case 0x8d: this.push(this.text(this.u64())); return; // BINUNICODE8
      case 0x54: this.push(this.latin1(this.view.getUint32(this.advance(4), true))); return; // BINSTRING (Python 2 str)
      case 0x55: this.push(this.latin1(this.u8())); return; // SHORT_BINSTRING
      case 0x42: this.push(this.take(this.view.getUint32(this.advance(4), true)).slice()); return; // BINBYTES
      case 0x43: this.push(this.take(this.u8()).slice()); return; // SHORT_BINBYTES
      case 0x29: this.push({ kind: 'tuple', items: [] }); return; // EMPTY_TUPLE
      case 0x74: this.push({ kind: 'tuple', items: this.popMark() }); return; // TUPLE
      case 0x85: this.push({ kind: 'tuple', items: this.popN(1) }); return;
      case 0x86: this.push({ kind: 'tuple', items: this.popN(2) }); return;
      case 0x87: this.push({ kind: 'tuple', items: this.popN(3) }); return;
      case 0x5d: this.push([]); return; // EMPTY_LIST
      case 0x6c: this.push(this.popMark()); return; // LIST
      case 0x61: { const value = this.pop(); this.listAt(position).push(value); return; } // APPEND
      case 0x65: { const items = this.popMark(); this.listAt(position).push(...items); return; } // APPENDS
      case 0x7d: this.push(newDict()); return; // EMPTY_DICT
      case 0x64: this.push(dictOf(this.popMark(), this, position)); return; // DICT
      case 0x73: { const value = this.pop(); const key = this.pop(); this.dictAt(position).entries.set(key, value); return; } // SETITEM
      case 0x75: { const items = this.popMark(); const dict = this.dictAt(position); for (let i = 0; i + 1 < items.length; i += 2) dict.entries.set(items[i]!, items[i + 1]!); return; } // SETITEMS
      case 0x71: this.memo.set(this.u8(), this.top()); return; // BINPUT
      case 0x72: this.memo.set(this.view.getUint32(this.advance(4), true), this.top()); return; // LONG_BINPUT
      case 0x94: this.memo.set(this.memo.size, this.top()); return; // MEMOIZE
      case 0x68: this.push(this.recall(this.u8(), position)); return; // BINGET
      case 0x6a: this.push(this.recall(this.view.getUint32(this.advance(4), true), position)); return; // LONG_BINGET
      case 0x63: this.push(this.global(this.line(), this.line())); return; // GLOBAL module\nname\n
      case 0x93: { const name = this.pop(); const module = this.pop(); this.push(this.global(String(module), String(name))); return; } // STACK_GLOBAL
      case 0x51: this.push(this.persistentLoad(this.pop())); return; // BINPERSID
      case 0x52: { const args = this.pop(); const callable = this.pop(); this.push(this.call(callable, args, position)); return; } // REDUCE
      case 0x62: { const state = this.pop(); this.build(this.top(), state, position); return; } // BUILD
      default:
        throw this.refuse(`it uses the pickle instruction ${OPCODE_NAMES[opcode] ?? `0x${opcode.toString(16).padStart(2, '0')}`} (at byte ${position}), which a plain file of weights never needs`);
    }
  }

  /** Only allowed globals become values; the check happens before anything else is read. */
  private global(module: string, name: string): PickledGlobal {
    const qualifiedName = `${module}.${name}`;
    if (!isAllowedGlobal(qualifiedName)) {
      throw new ApiError(
        'invalid-input',
        `${this.where}: the checkpoint asks Python to load "${qualifiedName}" while it is read. A file of weights only ever needs tensors and ` +
          'dictionaries, so ESM Studio refuses it and ran nothing from it. It may be harmful or not a plain state dict: use the model\'s ' +
          'official download (a .safetensors file, or the original .pth) instead.',
      );
    }
    return { kind: 'global', qualifiedName };
  }

  private call(callable: PickleValue, args: PickleValue, position: number): PickleValue {
    const name = isGlobal(callable) ? callable.qualifiedName : null;
    const items = isTuple(args) ? args.items : null;
    if (!name || !items || !CALLABLE_GLOBALS.has(name)) throw this.refuse(`it calls something other than an allowed constructor (at byte ${position})`);
    if (name === 'collections.OrderedDict') {
      if (items.length !== 0) throw this.refuse(`it builds an OrderedDict from arguments (at byte ${position})`);
      return newDict();
    }
    if (name === 'torch._utils._rebuild_parameter') {
      const data = items[0] ?? null;
      if (!isTensor(data)) throw this.refuse(`a parameter at byte ${position} does not wrap a tensor`);
      return data;
    }
    return this.tensor(items, position);
  }

  /** `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`. */
  private tensor(items: PickleValue[], position: number): PickledTensor {
    const [storage = null, offset, size, stride] = items;
    if (!isStorage(storage) || typeof offset !== 'number' || !isIntTuple(size) || !isIntTuple(stride) || size.items.length !== stride.items.length) {
      throw this.refuse(`the tensor at byte ${position} is not described the way torch.save describes one`);
    }
    return { kind: 'tensor', storage, offset, size: size.items as number[], stride: stride.items as number[] };
  }

  private build(target: PickleValue, state: PickleValue, position: number): void {
    if (!isDict(target)) throw this.refuse(`it sets the state of an object that is not a dictionary (at byte ${position})`);
    target.state = state;
  }

  // ---------- stack and memo ----------
  private push(value: PickleValue): void {
    this.stack.push(value);
  }

  private pop(): PickleValue {
    const value = this.stack.pop();
    if (value === undefined || value === MARK) throw this.refuse('its instructions take more values than it pushed');
    return value;
  }

  private top(): PickleValue {
    const value = this.stack[this.stack.length - 1];
    if (value === undefined || value === MARK) throw this.refuse('its instructions take more values than it pushed');
    return value;
  }

  private popN(count: number): PickleValue[] {
    const items = Array.from({ length: count }, () => this.pop());
    return items.reverse();
  }

  private popMark(): PickleValue[] {
    const mark = this.stack.lastIndexOf(MARK);
    if (mark < 0) throw this.refuse('it closes a group it never opened');
    const items = this.stack.splice(mark) as StackItem[];
    return items.slice(1) as PickleValue[];
  }

  private listAt(position: number): PickleValue[] {
    const list = this.top();
    if (!Array.isArray(list)) throw this.refuse(`it appends to something that is not a list (at byte ${position})`);
    return list;
  }

  private dictAt(position: number): PickledDict {
    const dict = this.top();
    if (!isDict(dict)) throw this.refuse(`it stores a key in something that is not a dictionary (at byte ${position})`);
    return dict;
  }

  private recall(index: number, position: number): PickleValue {
    if (!this.memo.has(index)) throw this.refuse(`it refers to a value it never stored (at byte ${position})`);
    return this.memo.get(index)!;
  }

  // ---------- reading bytes ----------
  private advance(count: number): number {
    const at = this.at;
    if (at + count > this.bytes.length) throw this.refuse('it ends in the middle of an instruction (damaged or truncated)');
    this.at += count;
    return at;
  }

  private u8(): number {
    return this.bytes[this.advance(1)]!;
  }

  private u64(): number {
    return Number(this.view.getBigUint64(this.advance(8), true));
  }

  private take(count: number): Uint8Array {
    const at = this.advance(count);
    return this.bytes.subarray(at, at + count);
  }

  private text(count: number): string {
    return new TextDecoder().decode(this.take(count));
  }

  private latin1(count: number): string {
    return String.fromCharCode(...this.take(count));
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.at);
    if (end < 0) throw this.refuse('it ends in the middle of an instruction (damaged or truncated)');
    const text = new TextDecoder().decode(this.bytes.subarray(this.at, end));
    this.at = end + 1;
    return text;
  }

  /** A little-endian two's-complement integer of `count` bytes (LONG1); a number when it fits exactly. */
  private long(count: number): number | bigint {
    const digits = this.take(count);
    let value = 0n;
    for (let i = count - 1; i >= 0; i--) value = (value << 8n) | BigInt(digits[i]!);
    if (count > 0 && digits[count - 1]! & 0x80) value -= 1n << BigInt(8 * count);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  refuse(problem: string): ApiError {
    return new ApiError('invalid-input', `${this.where}: ESM Studio cannot read this checkpoint: ${problem}. Nothing in it was run. Use the model's official download.`);
  }
}

function newDict(): PickledDict {
  return { kind: 'dict', entries: new Map(), state: null };
}

function dictOf(items: PickleValue[], reader: Reader, position: number): PickledDict {
  if (items.length % 2 !== 0) throw reader.refuse(`a dictionary at byte ${position} has a key without a value`);
  const dict = newDict();
  for (let i = 0; i < items.length; i += 2) dict.entries.set(items[i]!, items[i + 1]!);
  return dict;
}

const isObject = (value: PickleValue): value is Exclude<PickleValue, null | boolean | number | bigint | string | Uint8Array | PickleValue[]> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
export const isDict = (value: PickleValue): value is PickledDict => isObject(value) && value.kind === 'dict';
export const isTuple = (value: PickleValue): value is PickledTuple => isObject(value) && value.kind === 'tuple';
export const isTensor = (value: PickleValue): value is PickledTensor => isObject(value) && value.kind === 'tensor';
export const isStorage = (value: PickleValue): value is PickledStorage => isObject(value) && value.kind === 'storage';
export const isGlobal = (value: PickleValue): value is PickledGlobal => isObject(value) && value.kind === 'global';
const isIntTuple = (value: PickleValue | undefined): value is PickledTuple =>
  value !== undefined && isTuple(value) && value.items.every((item) => typeof item === 'number' && Number.isInteger(item) && item >= 0);
