import { RidgeCV } from './src-main/learn/ridge';
import { matrix, symmetricEigen } from './src-main/learn/matrix';
import { createRng } from './src-main/learn/stats';
const rng = createRng(1); const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
for (const [n, p] of [[8000, 1280], [1600, 1280]]) {
  const X = matrix(n, p); for (let i = 0; i < X.data.length; i++) X.data[i] = normal();
  const y = Float64Array.from({ length: n }, (_, r) => X.data[r * p]! + normal());
  let t = performance.now(); let last = t;
  const m = new RidgeCV().fit(X, y, (f) => { const now = performance.now(); console.log(' progress', f, ((now - last) / 1000).toFixed(2)); last = now; });
  console.log(n, p, 'ridge total', ((performance.now() - t) / 1000).toFixed(2), m.alpha);
}
