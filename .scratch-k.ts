import { createArena, jsKernels, simdAvailable } from './src-main/learn/matrix';
console.log('simd', simdAvailable());
const ar = createArena(1e6);
console.log('arena simd', ar.simd);
const k = ar.kernels;
let worst = 0;
for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 100, 1001]) {
  const a = ar.alloc(n + 3), b = ar.alloc(n + 5);
  for (let i = 0; i < a.length; i++) a[i] = Math.random() - 0.5;
  for (let i = 0; i < b.length; i++) b[i] = Math.random() - 0.5;
  worst = Math.max(worst, Math.abs(k.dot(a, 1, b, 3, n) - jsKernels.dot(a, 1, b, 3, n)));
  const y1 = ar.alloc(n + 2), y2 = new Float64Array(n + 2);
  for (let i = 0; i < y1.length; i++) y2[i] = y1[i] = Math.random();
  k.axpy(n, 0.37, a, 2, y1, 1); jsKernels.axpy(n, 0.37, a, 2, y2, 1);
  for (let i = 0; i < y1.length; i++) if (y1[i] !== y2[i]) throw new Error('axpy mismatch ' + n);
}
console.log('dot worst', worst);
for (const [count, stride, k0, k1] of [[1, 3, 0, 3], [5, 7, 1, 6], [9, 1030, 3, 1029], [13, 600, 0, 600], [4, 4, 0, 4]]) {
  const a = ar.alloc(count * stride); for (let i = 0; i < a.length; i++) a[i] = Math.random() - 0.5;
  const o1 = ar.alloc(count * count), o2 = new Float64Array(count * count);
  k.gramUpper(a, count, stride, k0, k1, o1); jsKernels.gramUpper(a, count, stride, k0, k1, o2);
  let e = 0; for (let i = 0; i < count; i++) for (let j = i; j < count; j++) e = Math.max(e, Math.abs(o1[i*count+j]! - o2[i*count+j]!));
  console.log('gram', count, stride, k0, k1, e);
}
for (const [ac, bc, len] of [[1, 1, 1], [5, 6, 7], [9, 13, 1031], [4, 4, 2]]) {
  const a = ar.alloc(ac * len), b = ar.alloc(bc * len); for (let i = 0; i < a.length; i++) a[i] = Math.random(); for (let i = 0; i < b.length; i++) b[i] = Math.random();
  const o1 = ar.alloc(ac * bc), o2 = new Float64Array(ac * bc);
  k.crossProduct(a, ac, b, bc, len, o1); jsKernels.crossProduct(a, ac, b, bc, len, o2);
  let e = 0; for (let i = 0; i < o1.length; i++) e = Math.max(e, Math.abs(o1[i]! - o2[i]!)); console.log('cross', ac, bc, len, e);
}
