/**
 * learn/kernels — the few vector operations the solvers spend their time in (axpy, dot, the QL
 * plane rotation, Gram and cross products with 4 × 4 register blocking), twice: plain JS, and
 * WebAssembly SIMD (f64x2) compiled from learn/kernels.wat (see scripts/build-kernels-wasm.ts),
 * ~2–5× faster in V8 (bench/learn.ts). The SIMD kernels work on arrays inside an Arena (one
 * WebAssembly memory per fit); anything else, or a runtime without WebAssembly SIMD, gets the
 * JS loops, with the same results up to rounding. Pure numerics: no I/O.
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm.generated';

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
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
    compiledSimd = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiledSimd = null;
  }
  return compiledSimd;
}

/** Exposed for tests: whether the SIMD kernels are in use on this runtime. */
export const simdAvailable = (): boolean => simdModule() !== null;
