/**
 * learn/matrix — the dense row-major matrix every learner takes, the regressor interfaces shared
 * by learn/linear, learn/ridge and learn/knn, and the few numerical kernels they need: a
 * transposed ("feature-major") copy, Gram and cross products with register blocking, a symmetric
 * eigendecomposition, and scikit-learn's KFold block boundaries.
 *
 * The inner loops exist twice: plain JS, and WebAssembly SIMD (f64x2) emitted by a small
 * assembler in this file (no build step, no binary blob), ~2–5× faster in V8 (see
 * bench/learn.ts). The SIMD kernels work on arrays inside an Arena (one WebAssembly memory per
 * fit); anything else, or a runtime without WebAssembly SIMD, gets the JS loops.
 *
 * Float64Array throughout: the solvers mirror scikit-learn's float64 code paths, and their
 * stopping rules (duality gap < tol·‖y‖²) assume double precision. Pure numerics: no I/O.
 */
/** A dense matrix, row-major: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** A regressor after fitting: predicts new rows and describes itself for storage. */
export interface FittedRegressor {
  predict(X: Matrix): Float64Array;
  /** How many coefficients are non-zero (sparse linear models); learners without coefficients report every feature. */
  nonZero(): number;
  toJSON(): Record<string, unknown>;
  /** chosen hyper-parameters, e.g. { alpha } */
  chosen: Record<string, number>;
}

/** An estimator with scikit-learn-like defaults; `fit` does any inner cross-validation itself. */
export interface Regressor {
  readonly name: string;
  fit(X: Matrix, y: Float64Array, onProgress?: (fraction: number) => void): FittedRegressor;
}

/** A rows × cols matrix of zeros, or a copy of `data` (which must hold rows·cols values). */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`Invalid matrix shape ${rows} × ${cols}.`);
  }
  if (data !== undefined && data.length !== rows * cols) {
    throw new RangeError(`A ${rows} × ${cols} matrix needs ${rows * cols} values, got ${data.length}.`);
  }
  return { data: data === undefined ? new Float64Array(rows * cols) : Float64Array.from(data), rows, cols };
}

/** A new matrix of the given rows, in the order given (repeats allowed). */
export function takeRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = new Float64Array(rows.length * m.cols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= m.rows) throw new RangeError(`Row ${r} is outside 0..${m.rows - 1}.`);
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { data: out, rows: rows.length, cols: m.cols };
}

/** A copy of column j. */
export function column(m: Matrix, j: number): Float64Array {
  if (!Number.isInteger(j) || j < 0 || j >= m.cols) throw new RangeError(`Column ${j} is outside 0..${m.cols - 1}.`);
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.cols + j]!;
  return out;
}

/** Column means (what centering for an intercept subtracts). */
export function columnMeans(m: Matrix): Float64Array {
  const means = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    const row = r * m.cols;
    for (let c = 0; c < m.cols; c++) means[c]! += m.data[row + c]!;
  }
  for (let c = 0; c < m.cols; c++) means[c]! /= m.rows;
  return means;
}

/**
 * The transpose of (m − shift) as a flat cols × rows array: row j holds feature j of every
 * sample contiguously, which is what coordinate descent and Gram products stream through
 * (scikit-learn asks for Fortran-ordered X for the same reason).
 */
export function featureMajor(m: Matrix, shift?: Float64Array, out: Float64Array = new Float64Array(m.rows * m.cols)): Float64Array {
  const { rows, cols, data } = m;
  // Blocks of rows keep both the reads and the scattered writes cache-friendly.
  const BLOCK = 64;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c = 0; c < cols; c++) {
      const s = shift ? shift[c]! : 0;
      const o = c * rows;
      for (let r = r0; r < r1; r++) out[o + r] = data[r * cols + c]! - s;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kernels: the inner loops of the solvers, in plain JS and in WebAssembly SIMD

/**
 * The few vector operations the solvers spend their time in. `jsKernels` work on any arrays;
 * an Arena's kernels run as WebAssembly SIMD (f64x2) when every array they touch lives in that
 * arena, and fall back to the JS versions otherwise.
 */
export interface Kernels {
  /** y[yOffset + i] += alpha · x[xOffset + i] for i < n (BLAS axpy). */
  axpy(n: number, alpha: number, x: Float64Array, xOffset: number, y: Float64Array, yOffset: number): void;
  /** Σ a[aOffset + i]·b[bOffset + i] for i < n. */
  dot(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, n: number): number;
  /**
   * Adds to `out` (count × count, row-major) the products of rows of `a` over columns [k0, k1):
   * out[i][j] += Σ_k a[i·stride + k]·a[j·stride + k] for j ≥ i. Only the upper triangle is
   * meaningful afterwards (call mirrorUpper); a few lower entries next to the diagonal are
   * written too. With `a` feature-major this is XᵀX over the samples k0..k1 — the Gram matrix of
   * one block of rows, the expensive step of both the lasso (precompute) and ridge.
   */
  gramUpper(a: Float64Array, count: number, stride: number, k0: number, k1: number, out: Float64Array): void;
  /** out[i·bCount + j] += a_i · b_j for rows of `a` (aCount × len) and `b` (bCount × len), both row-major: A·Bᵀ. */
  crossProduct(a: Float64Array, aCount: number, b: Float64Array, bCount: number, len: number, out: Float64Array): void;
  /** The plane rotation of the QL algorithm: (x, y) ← (c·x − s·y, s·x + c·y) elementwise, n values. */
  rot(n: number, c: number, s: number, x: Float64Array, xOffset: number, y: Float64Array, yOffset: number): void;
}

/** Σ a[i]·b[i] over n values starting at the given offsets. */
export function dot(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  // Two accumulators shorten the add dependency chain; the JIT does not vectorise.
  for (; i + 1 < n; i += 2) {
    s0 += a[aOffset + i]! * b[bOffset + i]!;
    s1 += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
  }
  if (i < n) s0 += a[aOffset + i]! * b[bOffset + i]!;
  return s0 + s1;
}

/** y[yOffset + i] += alpha · x[xOffset + i] for i < n (BLAS axpy). */
export function axpy(n: number, alpha: number, x: Float64Array, xOffset: number, y: Float64Array, yOffset: number): void {
  let i = 0;
  // Unrolled by 4: fewer loop branches and bounds checks per element (~1.4× in V8).
  for (; i + 3 < n; i += 4) {
    const xi = xOffset + i;
    const yi = yOffset + i;
    y[yi]! += alpha * x[xi]!;
    y[yi + 1]! += alpha * x[xi + 1]!;
    y[yi + 2]! += alpha * x[xi + 2]!;
    y[yi + 3]! += alpha * x[xi + 3]!;
  }
  for (; i < n; i++) y[yOffset + i]! += alpha * x[xOffset + i]!;
}

/** (x, y) ← (c·x − s·y, s·x + c·y) for n values (see Kernels.rot). */
export function rot(n: number, c: number, s: number, x: Float64Array, xOffset: number, y: Float64Array, yOffset: number): void {
  for (let i = 0; i < n; i++) {
    const xi = x[xOffset + i]!;
    const yi = y[yOffset + i]!;
    x[xOffset + i] = c * xi - s * yi;
    y[yOffset + i] = s * xi + c * yi;
  }
}

/** Copies the upper triangle of a square n × n row-major matrix onto its lower triangle. */
export function mirrorUpper(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j]!;
}

/** Columns of k processed per pass: 4 KiB per row stays in L1/L2 while a row block is reused. */
const K_TILE = 512;

/** Adds rows i..i+3 of one operand times rows j..j+3 of the other over k in [t0, t1) into out. */
type Block4x4 = (i: number, j: number, t0: number, t1: number) => void;

/**
 * The loops around a 4 × 4 register-blocked kernel (each loaded value feeds four multiply-adds;
 * ~3× faster than plain dot products in V8, ~2× more with SIMD). `upper`: only blocks with
 * j ≥ i (a Gram matrix). Rows left over at the edges go through `edge` one product at a time.
 */
function blockedProduct(aCount: number, bCount: number, len: number, upper: boolean, block: Block4x4, edge: (i: number, j: number, t0: number, t1: number) => void): void {
  for (let t0 = 0; t0 < len; t0 += K_TILE) {
    const t1 = Math.min(len, t0 + K_TILE);
    let i = 0;
    for (; i + 3 < aCount; i += 4) {
      let j = upper ? i : 0;
      for (; j + 3 < bCount; j += 4) block(i, j, t0, t1);
      for (; j < bCount; j++) for (let ii = i; ii < i + 4; ii++) edge(ii, j, t0, t1);
    }
    for (; i < aCount; i++) for (let j = upper ? i : 0; j < bCount; j++) edge(i, j, t0, t1);
  }
}

function jsGramUpper(a: Float64Array, count: number, stride: number, k0: number, k1: number, out: Float64Array): void {
  blockedProduct(
    count,
    count,
    k1 - k0,
    true,
    (i, j, t0, t1) => jsBlock4x4(a, stride, i, a, stride, j, k0 + t0, k0 + t1, out, count),
    (i, j, t0, t1) => (out[i * count + j]! += dot(a, i * stride + k0 + t0, a, j * stride + k0 + t0, t1 - t0)),
  );
}

function jsCrossProduct(a: Float64Array, aCount: number, b: Float64Array, bCount: number, len: number, out: Float64Array): void {
  blockedProduct(
    aCount,
    bCount,
    len,
    false,
    (i, j, t0, t1) => jsBlock4x4(a, len, i, b, len, j, t0, t1, out, bCount),
    (i, j, t0, t1) => (out[i * bCount + j]! += dot(a, i * len + t0, b, j * len + t0, t1 - t0)),
  );
}

/** out[(i..i+3)·outStride + (j..j+3)] += rows i..i+3 of a · rows j..j+3 of b over k in [t0, t1). */
function jsBlock4x4(
  a: Float64Array,
  aStride: number,
  i: number,
  b: Float64Array,
  bStride: number,
  j: number,
  t0: number,
  t1: number,
  out: Float64Array,
  outStride: number,
): void {
  const a0 = i * aStride;
  const a1 = a0 + aStride;
  const a2 = a1 + aStride;
  const a3 = a2 + aStride;
  const b0 = j * bStride;
  const b1 = b0 + bStride;
  const b2 = b1 + bStride;
  const b3 = b2 + bStride;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let k = t0; k < t1; k++) {
    const y0 = b[b0 + k]!;
    const y1 = b[b1 + k]!;
    const y2 = b[b2 + k]!;
    const y3 = b[b3 + k]!;
    let x = a[a0 + k]!;
    s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
    x = a[a1 + k]!;
    s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
    x = a[a2 + k]!;
    s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
    x = a[a3 + k]!;
    s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
  }
  let o = i * outStride + j;
  out[o]! += s00; out[o + 1]! += s01; out[o + 2]! += s02; out[o + 3]! += s03;
  o += outStride;
  out[o]! += s10; out[o + 1]! += s11; out[o + 2]! += s12; out[o + 3]! += s13;
  o += outStride;
  out[o]! += s20; out[o + 1]! += s21; out[o + 2]! += s22; out[o + 3]! += s23;
  o += outStride;
  out[o]! += s30; out[o + 1]! += s31; out[o + 2]! += s32; out[o + 3]! += s33;
}

export const jsKernels: Kernels = { axpy, dot, gramUpper: jsGramUpper, crossProduct: jsCrossProduct, rot };

/** A·Bᵀ as a new aCount × bCount matrix (plain JS kernels). */
export function crossProduct(a: Float64Array, aCount: number, b: Float64Array, bCount: number, len: number): Float64Array {
  const out = new Float64Array(aCount * bCount);
  jsCrossProduct(a, aCount, b, bCount, len, out);
  return out;
}

/** The upper-triangular Gram product of rows of `a` (plain JS kernels); see Kernels.gramUpper. */
export function gramUpper(a: Float64Array, count: number, stride: number, k0: number, k1: number, out: Float64Array): void {
  jsGramUpper(a, count, stride, k0, k1, out);
}

// ---------------------------------------------------------------------------------------------
// Arena: float64 storage inside one WebAssembly memory, where the SIMD kernels can reach it

/**
 * Scratch storage for one fit. Views come from a single WebAssembly memory of fixed size (it is
 * never grown: growing would detach every view handed out), so the SIMD kernels can work on them
 * in place. mark()/release() reuse space stack-wise (e.g. per inner fold). When WebAssembly SIMD
 * is unavailable or the capacity exceeds what 32-bit pointers reach, or when a request does not
 * fit, alloc() returns ordinary arrays and the kernels run in JS: slower, same results.
 */
export interface Arena {
  readonly kernels: Kernels;
  /** True when the arrays live in WebAssembly memory and the kernels are SIMD. */
  readonly simd: boolean;
  /** A zero-filled view of `length` float64 values. */
  alloc(length: number): Float64Array;
  mark(): number;
  release(mark: number): void;
}

/** Pointers are compared as signed 32-bit integers in the kernels: stay below 2 GiB. */
const MAX_ARENA_BYTES = 2 ** 31 - 2 ** 16;
const WASM_PAGE = 2 ** 16;

export function createArena(capacity: number): Arena {
  const bytes = Math.ceil(capacity) * 8 + 16 * 64; // room for 16-byte alignment of up to 64 requests
  const module = simdModule();
  if (!module || bytes > MAX_ARENA_BYTES) return jsArena();
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return jsArena(); // the address space for a large memory can be refused
  }
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdExports;
  let offset = 0;
  return {
    kernels: simdKernels(memory, exports),
    simd: true,
    alloc(length: number): Float64Array {
      const size = length * 8;
      if (offset + size > memory.buffer.byteLength) return new Float64Array(length);
      const view = new Float64Array(memory.buffer, offset, length);
      offset += Math.ceil(size / 16) * 16;
      view.fill(0); // released space may hold old values
      return view;
    },
    mark: () => offset,
    release(mark: number): void {
      offset = mark;
    },
  };
}

function jsArena(): Arena {
  return { kernels: jsKernels, simd: false, alloc: (length) => new Float64Array(length), mark: () => 0, release: () => undefined };
}

interface SimdExports {
  axpy(n: number, alpha: number, x: number, y: number): void;
  rot(n: number, c: number, s: number, x: number, y: number): void;
  dot(n: number, a: number, b: number): number;
  block4x4(a: number, aStride: number, b: number, bStride: number, len: number, out: number, outStride: number): void;
}

/** Kernels that use WebAssembly when all their arrays are views into `memory`, JS otherwise. */
function simdKernels(memory: WebAssembly.Memory, wasm: SimdExports): Kernels {
  const inside = (...arrays: Float64Array[]): boolean => arrays.every((array) => array.buffer === memory.buffer);
  return {
    axpy(n, alpha, x, xOffset, y, yOffset) {
      if (inside(x, y)) wasm.axpy(n, alpha, x.byteOffset + xOffset * 8, y.byteOffset + yOffset * 8);
      else axpy(n, alpha, x, xOffset, y, yOffset);
    },
    dot(a, aOffset, b, bOffset, n) {
      return inside(a, b) ? wasm.dot(n, a.byteOffset + aOffset * 8, b.byteOffset + bOffset * 8) : dot(a, aOffset, b, bOffset, n);
    },
    rot(n, c, s, x, xOffset, y, yOffset) {
      if (inside(x, y)) wasm.rot(n, c, s, x.byteOffset + xOffset * 8, y.byteOffset + yOffset * 8);
      else rot(n, c, s, x, xOffset, y, yOffset);
    },
    gramUpper(a, count, stride, k0, k1, out) {
      if (!inside(a, out)) return jsGramUpper(a, count, stride, k0, k1, out);
      const base = a.byteOffset + k0 * 8;
      blockedProduct(
        count,
        count,
        k1 - k0,
        true,
        (i, j, t0, t1) => wasm.block4x4(base + (i * stride + t0) * 8, stride * 8, base + (j * stride + t0) * 8, stride * 8, t1 - t0, out.byteOffset + (i * count + j) * 8, count * 8),
        (i, j, t0, t1) => (out[i * count + j]! += wasm.dot(t1 - t0, base + (i * stride + t0) * 8, base + (j * stride + t0) * 8)),
      );
    },
    crossProduct(a, aCount, b, bCount, len, out) {
      if (!inside(a, b, out)) return jsCrossProduct(a, aCount, b, bCount, len, out);
      blockedProduct(
        aCount,
        bCount,
        len,
        false,
        (i, j, t0, t1) => wasm.block4x4(a.byteOffset + (i * len + t0) * 8, len * 8, b.byteOffset + (j * len + t0) * 8, len * 8, t1 - t0, out.byteOffset + (i * bCount + j) * 8, bCount * 8),
        (i, j, t0, t1) => (out[i * bCount + j]! += wasm.dot(t1 - t0, a.byteOffset + (i * len + t0) * 8, b.byteOffset + (j * len + t0) * 8)),
      );
    },
  };
}

let compiledSimd: WebAssembly.Module | null | undefined;

/** The SIMD kernels, compiled once; null where WebAssembly SIMD is not available. */
function simdModule(): WebAssembly.Module | null {
  if (compiledSimd !== undefined) return compiledSimd;
  try {
    const bytes = simdModuleBytes();
    compiledSimd = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiledSimd = null;
  }
  return compiledSimd;
}

/** Exposed for tests: whether the SIMD kernels are in use on this runtime. */
export const simdAvailable = (): boolean => simdModule() !== null;

// A tiny WebAssembly assembler: just enough to emit the three kernels below, so that no build
// step or binary blob is needed. Opcodes: https://webassembly.github.io/spec/core/binary/instructions.html
// (SIMD: the 0xFD prefix). Pointers are byte offsets into the imported memory.

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const asm = {
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  f64Zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32LtS: [0x48],
  i32GeS: [0x4e],
  f64Load: [0x2b, 3, 0],
  f64Store: [0x39, 3, 0],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  /** condition ? then : otherwise, as an f64 value; only the branch taken is evaluated. */
  ifF64: (condition: number[], then: number[], otherwise: number[]) => [...condition, 0x04, F64, ...then, 0x05, ...otherwise, 0x0b],
  v128Load: [0xfd, 0x00, 4, 0], // alignment hint 2^4; unaligned loads are still correct
  v128Store: [0xfd, 0x0b, 4, 0],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f64x2Splat: [0xfd, 0x14],
  f64x2Lane: (lane: number) => [0xfd, 0x21, lane],
  f64x2Add: [0xfd, ...uleb(240)],
  f64x2Sub: [0xfd, ...uleb(241)],
  f64x2Mul: [0xfd, ...uleb(242)],
  f64Sub: [0xa1],
  /** while (local < end) { body }, both i32 locals. */
  whileLess: (local: number, end: number, body: number[]) => [0x02, 0x40, 0x03, 0x40, ...asm.get(local), ...asm.get(end), ...asm.i32GeS, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b],
  /** local += bytes */
  bump: (local: number, bytes: number) => [...asm.get(local), ...asm.i32(bytes), ...asm.i32Add, ...asm.set(local)],
  /** local = base + (count & ~(multiple − 1))·8 */
  endOf: (local: number, base: number, count: number, multiple: number) => [
    ...asm.get(base), ...asm.get(count), ...asm.i32(-multiple), ...asm.i32And, ...asm.i32(3), ...asm.i32Shl, ...asm.i32Add, ...asm.set(local),
  ],
};

interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  locals: [count: number, type: number][];
  code: number[];
}

/** axpy(n, alpha, x, y): two lanes at a time, then the odd element; same rounding as the JS loop. */
function axpyKernel(): WasmFunction {
  const [n, alpha, x, y, a, endPair, end] = [0, 1, 2, 3, 4, 5, 6];
  const pairs = [...asm.get(y), ...asm.get(y), ...asm.v128Load, ...asm.get(x), ...asm.v128Load, ...asm.get(a), ...asm.f64x2Mul, ...asm.f64x2Add, ...asm.v128Store, ...asm.bump(x, 16), ...asm.bump(y, 16)];
  const tail = [...asm.get(y), ...asm.get(y), ...asm.f64Load, ...asm.get(x), ...asm.f64Load, ...asm.get(alpha), ...asm.f64Mul, ...asm.f64Add, ...asm.f64Store, ...asm.bump(x, 8), ...asm.bump(y, 8)];
  return {
    name: 'axpy',
    params: [I32, F64, I32, I32],
    results: [],
    locals: [[1, V128], [2, I32]],
    code: [...asm.get(alpha), ...asm.f64x2Splat, ...asm.set(a), ...asm.endOf(endPair, y, n, 2), ...asm.endOf(end, y, n, 1), ...asm.whileLess(y, endPair, pairs), ...asm.whileLess(y, end, tail)],
  };
}

/** rot(n, c, s, x, y): (x, y) ← (c·x − s·y, s·x + c·y), two lanes at a time; same rounding as the JS loop. */
function rotKernel(): WasmFunction {
  const [n, c, s, x, y, cv, sv, xv, yv, endPair, end, xs, ys] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const pairs = [
    ...asm.get(x), ...asm.v128Load, ...asm.set(xv), ...asm.get(y), ...asm.v128Load, ...asm.set(yv),
    ...asm.get(x), ...asm.get(cv), ...asm.get(xv), ...asm.f64x2Mul, ...asm.get(sv), ...asm.get(yv), ...asm.f64x2Mul, ...asm.f64x2Sub, ...asm.v128Store,
    ...asm.get(y), ...asm.get(sv), ...asm.get(xv), ...asm.f64x2Mul, ...asm.get(cv), ...asm.get(yv), ...asm.f64x2Mul, ...asm.f64x2Add, ...asm.v128Store,
    ...asm.bump(x, 16), ...asm.bump(y, 16),
  ];
  const tail = [
    ...asm.get(x), ...asm.f64Load, ...asm.set(xs), ...asm.get(y), ...asm.f64Load, ...asm.set(ys),
    ...asm.get(x), ...asm.get(c), ...asm.get(xs), ...asm.f64Mul, ...asm.get(s), ...asm.get(ys), ...asm.f64Mul, ...asm.f64Sub, ...asm.f64Store,
    ...asm.get(y), ...asm.get(s), ...asm.get(xs), ...asm.f64Mul, ...asm.get(c), ...asm.get(ys), ...asm.f64Mul, ...asm.f64Add, ...asm.f64Store,
    ...asm.bump(x, 8), ...asm.bump(y, 8),
  ];
  return {
    name: 'rot',
    params: [I32, F64, F64, I32, I32],
    results: [],
    locals: [[4, V128], [2, I32], [2, F64]],
    code: [
      ...asm.get(c), ...asm.f64x2Splat, ...asm.set(cv), ...asm.get(s), ...asm.f64x2Splat, ...asm.set(sv),
      ...asm.endOf(endPair, x, n, 2), ...asm.endOf(end, x, n, 1), ...asm.whileLess(x, endPair, pairs), ...asm.whileLess(x, end, tail),
    ],
  };
}

/** dot(n, a, b): two f64x2 accumulators (4 values per step), then pairs, then the odd element. */
function dotKernel(): WasmFunction {
  const [n, a, b, s0, s1, end4, end2, end] = [0, 1, 2, 3, 4, 5, 6, 7];
  const mulAdd = (acc: number, offset: number) => [...asm.get(acc), ...asm.get(a), ...asm.v128Load.slice(0, 3), offset, ...asm.get(b), ...asm.v128Load.slice(0, 3), offset, ...asm.f64x2Mul, ...asm.f64x2Add, ...asm.set(acc)];
  const quads = [...mulAdd(s0, 0), ...mulAdd(s1, 16), ...asm.bump(a, 32), ...asm.bump(b, 32)];
  const pairs = [...mulAdd(s0, 0), ...asm.bump(a, 16), ...asm.bump(b, 16)];
  const lanes = (acc: number) => [...asm.get(acc), ...asm.f64x2Lane(0), ...asm.get(acc), ...asm.f64x2Lane(1), ...asm.f64Add];
  // The last value when n is odd (a stopped short of end).
  const odd = asm.ifF64([...asm.get(a), ...asm.get(end), ...asm.i32LtS], [...asm.get(a), ...asm.f64Load, ...asm.get(b), ...asm.f64Load, ...asm.f64Mul], asm.f64Zero);
  return {
    name: 'dot',
    params: [I32, I32, I32],
    results: [F64],
    locals: [[2, V128], [3, I32]],
    code: [
      ...asm.v128Zero, ...asm.set(s0), ...asm.v128Zero, ...asm.set(s1),
      ...asm.endOf(end4, a, n, 4), ...asm.endOf(end2, a, n, 2), ...asm.endOf(end, a, n, 1),
      ...asm.whileLess(a, end4, quads), ...asm.whileLess(a, end2, pairs),
      ...lanes(s0), ...lanes(s1), ...asm.f64Add, ...odd, ...asm.f64Add,
    ],
  };
}

/**
 * block4x4(a, aStride, b, bStride, len, out, outStride): out[r][c] += Σ_k a_r[k]·b_c[k] for
 * r, c < 4 (strides in bytes), with 16 f64x2 accumulators over pairs of k and the odd k last.
 */
function block4x4Kernel(): WasmFunction {
  const [a, aStride, b, bStride, len, out, outStride, k, endPair, end] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ACC = 10;
  const Y = ACC + 16;
  const X = Y + 4;
  const row = (base: number, stride: number, r: number) => [...asm.get(base), ...(r ? [...asm.get(stride), ...asm.i32(r), ...asm.i32Mul, ...asm.i32Add] : [])];
  const body: number[] = [];
  for (let c = 0; c < 4; c++) body.push(...row(b, bStride, c), ...asm.get(k), ...asm.i32Add, ...asm.v128Load, ...asm.set(Y + c));
  for (let r = 0; r < 4; r++) {
    body.push(...row(a, aStride, r), ...asm.get(k), ...asm.i32Add, ...asm.v128Load, ...asm.set(X));
    for (let c = 0; c < 4; c++) body.push(...asm.get(ACC + 4 * r + c), ...asm.get(X), ...asm.get(Y + c), ...asm.f64x2Mul, ...asm.f64x2Add, ...asm.set(ACC + 4 * r + c));
  }
  body.push(...asm.bump(k, 16));
  const code: number[] = [];
  for (let i = 0; i < 16; i++) code.push(...asm.v128Zero, ...asm.set(ACC + i));
  code.push(...asm.i32(0), ...asm.set(k), ...asm.i32(0), ...asm.set(end), ...asm.endOf(endPair, end, len, 2), ...asm.endOf(end, end, len, 1));
  code.push(...asm.whileLess(k, endPair, body));
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      const target = [...row(out, outStride, r), ...(c ? [...asm.i32(8 * c), ...asm.i32Add] : [])];
      const acc = ACC + 4 * r + c;
      // The last k when len is odd.
      const odd = asm.ifF64(
        [...asm.get(endPair), ...asm.get(end), ...asm.i32LtS],
        [...row(a, aStride, r), ...asm.get(endPair), ...asm.i32Add, ...asm.f64Load, ...row(b, bStride, c), ...asm.get(endPair), ...asm.i32Add, ...asm.f64Load, ...asm.f64Mul],
        asm.f64Zero,
      );
      code.push(...target, ...target, ...asm.f64Load, ...asm.get(acc), ...asm.f64x2Lane(0), ...asm.f64Add, ...asm.get(acc), ...asm.f64x2Lane(1), ...asm.f64Add, ...odd, ...asm.f64Add, ...asm.f64Store);
    }
  }
  return { name: 'block4x4', params: [I32, I32, I32, I32, I32, I32, I32], results: [], locals: [[3, I32], [21, V128]], code };
}

/** A module importing its memory as env.memory and exporting the kernels. */
function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const functions = [axpyKernel(), dotKernel(), block4x4Kernel(), rotKernel()];
  const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (text: string) => [...uleb(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
  const types = vector(functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]));
  const imports = vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]]); // memory, min 1 page, no max
  const declarations = vector(functions.map((_, i) => uleb(i)));
  const exportList = vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const bodies = vector(
    functions.map((f) => {
      const body = [...vector(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.code, 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types), ...section(2, imports), ...section(3, declarations), ...section(7, exportList), ...section(10, bodies),
  ]);
}

/** Eigenvalues (ascending) and eigenvectors of a symmetric matrix; vectors[k·n + j] is component j of vector k. */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric n × n matrix (row-major, both triangles filled): Householder
 * tridiagonalisation and the implicit QL algorithm with shifts — JAMA's tred2 and tql2, the
 * algorithm ml-matrix's EigenvalueDecomposition also uses. Ported here onto one flat array
 * holding the eigenvector matrix transposed, so that every inner loop is a dot, axpy or plane
 * rotation over contiguous memory and runs as a SIMD kernel: ~4× faster than ml-matrix at
 * n = 1280 (whose result the tests compare against).
 */
export function symmetricEigen(g: Float64Array, n: number): SymmetricEigen {
  if (g.length < n * n) throw new RangeError(`symmetricEigen: ${g.length} values for ${n} × ${n}.`);
  const arena = createArena(n * n + 2 * n + 16);
  // W = Vᵀ: row k of W is column k of JAMA's V. G is symmetric, so it starts as W = G.
  const W = arena.alloc(n * n);
  W.set(g.subarray(0, n * n));
  const d = arena.alloc(n);
  const e = arena.alloc(n);
  tridiagonalize(W, n, d, e, arena.kernels);
  tridiagonalQL(W, n, d, e, arena.kernels);
  return { values: Float64Array.from(d), vectors: Float64Array.from(W) };
}

/** JAMA tred2 on W = Vᵀ: V[r][c] is W[c·n + r]. Leaves the diagonal in d, the sub-diagonal in e, and the transformation in W. */
function tridiagonalize(W: Float64Array, n: number, d: Float64Array, e: Float64Array, k: Kernels): void {
  for (let j = 0; j < n; j++) d[j] = W[j * n + n - 1]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let m = 0; m < i; m++) scale += Math.abs(d[m]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1]!;
        W[j * n + i] = 0;
        W[i * n + j] = 0;
      }
      d[i] = h;
      continue;
    }
    // The Householder vector, scaled against under/overflow.
    for (let m = 0; m < i; m++) {
      d[m]! /= scale;
      h += d[m]! * d[m]!;
    }
    let f = d[i - 1]!;
    let gg = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * gg;
    h -= f * gg;
    d[i - 1] = f - gg;
    e.fill(0, 0, i);
    // Similarity transformation of the remaining columns: e = A·u (column j of V is row j of W).
    for (let j = 0; j < i; j++) {
      f = d[j]!;
      W[i * n + j] = f;
      gg = e[j]! + W[j * n + j]! * f;
      const rest = i - 1 - j;
      if (rest > 0) {
        gg += k.dot(W, j * n + j + 1, d, j + 1, rest);
        k.axpy(rest, f, W, j * n + j + 1, e, j + 1);
      }
      e[j] = gg;
    }
    f = 0;
    for (let j = 0; j < i; j++) {
      e[j]! /= h;
      f += e[j]! * d[j]!;
    }
    const hh = f / (h + h);
    for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
    // The rank-2 update A −= u·eᵀ + e·uᵀ, one column of V (row of W) at a time.
    for (let j = 0; j < i; j++) {
      k.axpy(i - j, -d[j]!, e, j, W, j * n + j);
      k.axpy(i - j, -e[j]!, d, j, W, j * n + j);
      d[j] = W[j * n + i - 1]!;
      W[j * n + i] = 0;
    }
    d[i] = h;
  }
  accumulateHouseholder(W, n, d, k);
  for (let j = 0; j < n; j++) {
    d[j] = W[j * n + n - 1]!;
    W[j * n + n - 1] = 0;
  }
  W[n * n - 1] = 1;
  e[0] = 0;
}

/** The second half of tred2: builds the orthogonal matrix of the reduction in W from the stored Householder vectors. */
function accumulateHouseholder(W: Float64Array, n: number, d: Float64Array, k: Kernels): void {
  for (let i = 0; i < n - 1; i++) {
    W[i * n + n - 1] = W[i * n + i]!;
    W[i * n + i] = 1;
    const h = d[i + 1]!;
    const u = (i + 1) * n; // row i + 1 of W: the Householder vector
    if (h !== 0) {
      for (let m = 0; m <= i; m++) d[m] = W[u + m]! / h;
      for (let j = 0; j <= i; j++) k.axpy(i + 1, -k.dot(W, u, W, j * n, i + 1), d, 0, W, j * n);
    }
    W.fill(0, u, u + i + 1);
  }
}

/** JAMA tql2 on W = Vᵀ: diagonalises the tridiagonal (d, e), rotating the rows of W along; eigenvalues ascending. */
function tridiagonalQL(W: Float64Array, n: number, d: Float64Array, e: Float64Array, k: Kernels): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    // d[l] is an eigenvalue once e[l] is negligible; otherwise iterate with an implicit shift.
    for (let iteration = 0; m > l; iteration++) {
      if (iteration >= 100) throw new Error('symmetricEigen: the QL iteration did not converge.');
      let gg = d[l]!;
      let p = (d[l + 1]! - gg) / (2 * e[l]!);
      let r = hypot(p, 1);
      if (p < 0) r = -r;
      d[l] = e[l]! / (p + r);
      d[l + 1] = e[l]! * (p + r);
      const dl1 = d[l + 1]!;
      let h = gg - d[l]!;
      for (let i = l + 2; i < n; i++) d[i]! -= h;
      f += h;
      p = d[m]!;
      let c = 1;
      let c2 = c;
      let c3 = c;
      const el1 = e[l + 1]!;
      let s = 0;
      let s2 = 0;
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        gg = c * e[i]!;
        h = c * p;
        r = hypot(p, e[i]!);
        e[i + 1] = s * r;
        s = e[i]! / r;
        c = p / r;
        p = c * d[i]! - s * gg;
        d[i + 1] = h + s * (c * gg + s * d[i]!);
        k.rot(n, c, s, W, i * n, W, (i + 1) * n);
      }
      p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
      e[l] = s * p;
      d[l] = c * p;
      if (Math.abs(e[l]!) <= eps * tst1) break;
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  sortAscending(W, n, d);
}

/** Selection sort of the eigenvalues, swapping eigenvector rows along (n swaps at most). */
function sortAscending(W: Float64Array, n: number, d: Float64Array): void {
  for (let i = 0; i < n - 1; i++) {
    let min = i;
    for (let j = i + 1; j < n; j++) if (d[j]! < d[min]!) min = j;
    if (min === i) continue;
    [d[i], d[min]] = [d[min]!, d[i]!];
    const row = W.slice(i * n, (i + 1) * n);
    W.copyWithin(i * n, min * n, (min + 1) * n);
    W.set(row, min * n);
  }
}

/** √(a² + b²) without overflow or destructive underflow (JAMA's Maths.hypot). */
function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) return x * Math.sqrt(1 + (y / x) ** 2);
  return y === 0 ? 0 : y * Math.sqrt(1 + (x / y) ** 2);
}

/**
 * scikit-learn's KFold(k) without shuffling: k contiguous blocks [start, end) whose sizes differ
 * by at most one, the first n mod k blocks one row larger.
 */
export function kFoldBounds(n: number, k: number): [number, number][] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`Cross-validation needs at least 2 folds, got ${k}.`);
  if (k > n) throw new RangeError(`Cannot split ${n} rows into ${k} folds.`);
  const bounds: [number, number][] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    bounds.push([start, start + size]);
    start += size;
  }
  return bounds;
}

/** Throws unless X and y describe the same rows and hold only finite numbers. */
export function checkXy(X: Matrix, y: ArrayLike<number>, what: string): void {
  if (X.data.length !== X.rows * X.cols) throw new RangeError(`${what}: X has ${X.data.length} values for ${X.rows} × ${X.cols}.`);
  if (y.length !== X.rows) throw new RangeError(`${what}: X has ${X.rows} rows but y has ${y.length} values.`);
  if (X.rows === 0 || X.cols === 0) throw new RangeError(`${what}: X is empty (${X.rows} × ${X.cols}).`);
  for (let i = 0; i < X.data.length; i++) {
    if (!Number.isFinite(X.data[i]!)) throw new RangeError(`${what}: X has a non-finite value at row ${Math.floor(i / X.cols) + 1}.`);
  }
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i]!)) throw new RangeError(`${what}: y has a non-finite value at row ${i + 1}.`);
}
