/**
 * The restricted pickle reader (models/formats/pickle) and the `.pth` reader on crafted files: a
 * state dict built by hand reads back its tensors; pickles that ask for any other global
 * (`os.system`, `builtins.eval`, through GLOBAL, STACK_GLOBAL or INST) or call a non-constructor
 * are refused with the file and the global named, and nothing in them runs (their command would
 * create a marker file). The real `torch.save` files of esmc-tiny are read in esmc-checkpoint.test.ts.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/api/errors';
import { readRestrictedPickle } from '../../src-main/models/formats/pickle';
import { openTorchCheckpoint } from '../../src-main/models/formats/pth';
import { readFloat32 } from '../../src-main/models/formats/safetensors';
import { convertCheckpoint } from '../../src-main/models/installed';

/** Pickle opcodes, spelled out so each crafted file reads like pickletools' disassembly. */
const enc = new TextEncoder();
const op = {
  proto: (n: number) => [0x80, n],
  global: (module: string, name: string) => [0x63, ...enc.encode(`${module}\n${name}\n`)],
  stackGlobal: [0x93],
  inst: (module: string, name: string) => [0x69, ...enc.encode(`${module}\n${name}\n`)],
  text: (s: string) => {
    const bytes = enc.encode(s);
    return [0x58, bytes.length & 0xff, (bytes.length >> 8) & 0xff, 0, 0, ...bytes];
  },
  shortText: (s: string) => [0x8c, enc.encode(s).length, ...enc.encode(s)],
  int1: (n: number) => [0x4b, n],
  mark: [0x28],
  tuple: [0x74],
  tuple1: [0x85],
  tuple2: [0x86],
  emptyTuple: [0x29],
  reduce: [0x52],
  persid: [0x51],
  false: [0x89],
  setitems: [0x75],
  stop: [0x2e],
};
const bytesOf = (...parts: (number | number[])[]): Uint8Array => Uint8Array.from(parts.flat());

/** `OrderedDict(name → tensor)` as torch.save writes it: one float32 [rows, cols] tensor per storage key. */
function stateDictPickle(tensors: { name: string; key: string; rows: number; cols: number }[]): Uint8Array {
  const entries = tensors.flatMap((t) => [
    op.text(t.name),
    op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark,
    op.mark, op.text('storage'), op.global('torch', 'FloatStorage'), op.text(t.key), op.text('cpu'), op.int1(t.rows * t.cols), op.tuple, op.persid,
    op.int1(0), op.int1(t.rows), op.int1(t.cols), op.tuple2, op.int1(t.cols), op.int1(1), op.tuple2, op.false,
    op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce,
    op.tuple, op.reduce,
  ]);
  return bytesOf(op.proto(2), op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.mark, ...entries, op.setitems, op.stop);
}

/** A torch.save-style zip (stored records under one root folder) holding `pickle` and the storages. */
function writePth(dir: string, name: string, pickle: Uint8Array, storages: Record<string, Float32Array> = {}): string {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'archive/data.pkl': [pickle, { level: 0 }], 'archive/version': [enc.encode('3\n'), { level: 0 }] };
  for (const [key, data] of Object.entries(storages)) files[`archive/data/${key}`] = [new Uint8Array(data.buffer), { level: 0 }];
  const file = join(dir, name);
  writeFileSync(file, zipSync(files));
  return file;
}

const noStorage = () => {
  throw new Error('no persistent ids expected');
};

describe('restricted pickle reader', () => {
  it('reads a hand-built state dict into tensors that point at their records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'esmc-pth-'));
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([-1, 0.5]);
    const file = writePth(dir, 'ok.pth', stateDictPickle([{ name: 'a', key: '0', rows: 2, cols: 3 }, { name: 'b', key: '1', rows: 1, cols: 2 }]), { 0: a, 1: b });
    const checkpoint = openTorchCheckpoint(file);
    expect(checkpoint.root).toBe('archive');
    expect([...checkpoint.tensors.keys()]).toEqual(['a', 'b']);
    expect(checkpoint.tensors.get('a')!.shape).toEqual([2, 3]);
    expect(Array.from(readFloat32(checkpoint.tensors.get('a')!))).toEqual(Array.from(a));
    expect(Array.from(readFloat32(checkpoint.tensors.get('b')!))).toEqual(Array.from(b));
  });

  it('inflates a compressed data.pkl, and refuses compressed tensor data (which cannot be read lazily)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'esmc-deflate-'));
    const pickle = stateDictPickle([{ name: 'a', key: '0', rows: 1, cols: 2 }]);
    const data = new Uint8Array(Float32Array.from([3, 4]).buffer);
    const compressedIndex = join(dir, 'index.pth');
    writeFileSync(compressedIndex, zipSync({ 'm/data.pkl': [pickle, { level: 6 }], 'm/data/0': [data, { level: 0 }] }));
    expect(Array.from(readFloat32(openTorchCheckpoint(compressedIndex).tensors.get('a')!))).toEqual([3, 4]);
    const compressedData = join(dir, 'data.pth');
    writeFileSync(compressedData, zipSync({ 'm/data.pkl': [pickle, { level: 0 }], 'm/data/0': [new Uint8Array(64), { level: 9 }] }));
    expect(() => openTorchCheckpoint(compressedData)).toThrow(/data of tensor "a" is compressed/);
  });

  it.each([
    ['GLOBAL os.system', (cmd: string) => bytesOf(op.proto(2), op.global('os', 'system'), op.text(cmd), op.tuple1, op.reduce, op.stop), 'os.system'],
    ['GLOBAL posix.system', (cmd: string) => bytesOf(op.proto(2), op.global('posix', 'system'), op.text(cmd), op.tuple1, op.reduce, op.stop), 'posix.system'],
    [
      'STACK_GLOBAL builtins.eval',
      (cmd: string) => bytesOf(op.proto(4), op.shortText('builtins'), op.shortText('eval'), op.stackGlobal, op.text(`__import__('os').system(${JSON.stringify(cmd)})`), op.tuple1, op.reduce, op.stop),
      'builtins.eval',
    ],
  ])('refuses %s without running it, naming the file and the global', (_label, craft, global) => {
    const dir = mkdtempSync(join(tmpdir(), 'esmc-evil-'));
    const marker = join(dir, 'ran');
    const pickle = craft(`touch ${marker}`);
    expect(() => readRestrictedPickle(pickle, 'evil.pth', noStorage)).toThrow(new RegExp(`evil\\.pth.*"${global.replace('.', '\\.')}".*ran nothing`));
    const file = writePth(dir, 'evil.pth', pickle);
    expect(() => openTorchCheckpoint(file)).toThrow(ApiError);
    expect(() => openTorchCheckpoint(file)).toThrow(file);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses instructions a state dict never needs (INST) and calls of anything but the allowed constructors', () => {
    const inst = bytesOf(op.proto(2), op.mark, op.text('x'), op.inst('os', 'system'), op.stop);
    expect(() => readRestrictedPickle(inst, 'inst.pth', noStorage)).toThrow(/INST.*Nothing in it was run/);
    const callStorage = bytesOf(op.proto(2), op.global('torch', 'FloatStorage'), op.emptyTuple, op.reduce, op.stop);
    expect(() => readRestrictedPickle(callStorage, 'call.pth', noStorage)).toThrow(/calls something other than an allowed constructor/);
    const truncated = bytesOf(op.proto(2), op.global('collections', 'OrderedDict'), op.emptyTuple);
    expect(() => readRestrictedPickle(truncated, 'cut.pth', noStorage)).toThrow(/ends in the middle/);
  });

  it('refuses a malicious .pth given to install (convert) before anything is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esmc-evil-'));
    const marker = join(dir, 'ran');
    const file = writePth(dir, 'esmc_300m_2024_12_v0.pth', bytesOf(op.proto(2), op.global('os', 'system'), op.text(`touch ${marker}`), op.tuple1, op.reduce, op.stop));
    const out = join(dir, 'model');
    await expect(convertCheckpoint(file, out, { appVersion: 'test' })).rejects.toThrow(/asks Python to load "os\.system"/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('says a state dict of something else is not an ESM C checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esmc-other-'));
    const file = writePth(dir, 'other.pth', stateDictPickle([{ name: 'encoder.weight', key: '0', rows: 2, cols: 2 }]), { 0: new Float32Array(4) });
    await expect(convertCheckpoint(file, join(dir, 'model'), { appVersion: 'test' })).rejects.toThrow(/"embed\.weight".*missing.*not an ESM C checkpoint/);
  });
});
