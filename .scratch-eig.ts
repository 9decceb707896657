import { EigenvalueDecomposition, Matrix as Ml } from 'ml-matrix';
import { symmetricEigen, createArena } from './src-main/learn/matrix';
for (const p of [1, 2, 3, 7, 50, 320, 1280]) {
  const A = new Float64Array(p * p); for (let i = 0; i < A.length; i++) A[i] = Math.random() - 0.3;
  const ar = createArena(3 * p * p + 16); const a = ar.alloc(p * p); a.set(A); const g = ar.alloc(p * p);
  ar.kernels.gramUpper(a, p, p, 0, p, g);
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) g[i * p + j] = g[j * p + i]!;
  if (p === 7) { for (let j = 0; j < p; j++) { g[3 * p + j] = 0; g[j * p + 3] = 0; } } // a zero row/col: exercises scale == 0
  let t = performance.now(); const e = symmetricEigen(g, p); const ours = (performance.now() - t) / 1000;
  // residual ‖G v − λ v‖ and orthogonality
  let res = 0, orth = 0;
  for (let k = 0; k < p; k++) {
    for (let i = 0; i < p; i++) { let s = 0; for (let j = 0; j < p; j++) s += g[i * p + j]! * e.vectors[k * p + j]!; res = Math.max(res, Math.abs(s - e.values[k]! * e.vectors[k * p + i]!)); }
    if (p <= 320) for (let l = 0; l < p; l++) { let s = 0; for (let j = 0; j < p; j++) s += e.vectors[k * p + j]! * e.vectors[l * p + j]!; orth = Math.max(orth, Math.abs(s - (k === l ? 1 : 0))); }
  }
  let mlT = NaN, dv = NaN;
  if (p <= 1280) { const m = new Ml(p, p); for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) m.set(i, j, g[i * p + j]!); t = performance.now(); const ev = new EigenvalueDecomposition(m, { assumeSymmetric: true }); mlT = (performance.now() - t) / 1000; dv = Math.max(...ev.realEigenvalues.map((v, i) => Math.abs(v - e.values[i]!))); }
  console.log(p, 'ours', ours.toFixed(3), 's ml', mlT.toFixed(3), 's', 'maxEig', e.values[p - 1]?.toExponential(3), 'res', res.toExponential(2), 'orth', orth.toExponential(2), 'dEig', dv.toExponential(2));
}
