import { symmetricEigen, createArena } from './src-main/learn/matrix';
const p = 1280; const A = new Float64Array(p * p); for (let i = 0; i < A.length; i++) A[i] = Math.random();
const ar = createArena(3 * p * p); const a = ar.alloc(p * p); a.set(A); const g = ar.alloc(p * p);
let t = performance.now(); ar.kernels.gramUpper(a, p, p, 0, p, g); console.log('gram', (performance.now() - t) / 1000);
for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) g[i * p + j] = g[j * p + i]!;
t = performance.now(); const e = symmetricEigen(g, p); console.log('eig', (performance.now() - t) / 1000, e.values[p - 1]);
