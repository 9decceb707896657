import { readFileSync } from 'node:fs';
import { decodeNpz } from './src-main/store/npy';
import { RidgeCV } from './src-main/learn/ridge';
import { fitScaler } from './src-main/learn/scale';
import { takeRows } from './src-main/learn/matrix';
const z = decodeNpz(readFileSync('test/fixtures/learn/sparse_2000x320.npz'));
const ref = JSON.parse(readFileSync('test/fixtures/learn/sklearn_reference.json', 'utf8'));
const X = { data: Float64Array.from(z.X!.data as Float32Array), rows: 2000, cols: 320 };
const y = z.y!.data as Float64Array;
const folds = Array.from(z.folds!.data as BigInt64Array, Number);
for (let k = 0; k < 5; k++) {
  const train = folds.flatMap((f, i) => (f !== k ? [i] : [])); const test = folds.flatMap((f, i) => (f === k ? [i] : []));
  const sc = fitScaler(takeRows(X, train), 'standard');
  for (const sub of [train, train.slice(0, 300)]) {
  const t = performance.now();
  const m = new RidgeCV().fit(sc.transform(takeRows(X, sub)), Float64Array.from(sub, (r) => y[r]!));
  const ms = performance.now() - t;
  const pred = m.predict(sc.transform(takeRows(X, test)));
  const yt = test.map((r) => y[r]!); const mu = yt.reduce((a, b) => a + b) / yt.length;
  let ss = 0, st = 0; yt.forEach((v, i) => { ss += (v - pred[i]!) ** 2; st += (v - mu) ** 2; });
  const r = ref.folds[k].ridge;
  let dc = 0; m.coef.forEach((c, j) => dc = Math.max(dc, Math.abs(c - r.coef[j])));
  console.log(k, sub.length, (1 - ss / st).toFixed(6), r.r2.toFixed(6), 'alpha', m.alpha, r.alpha, 'best', -Math.min(...m.looMse), r.best_score, 'coefdiff', dc.toExponential(2), ms.toFixed(0), 'ms', Array.from(m.looMse).map(v=>v.toFixed(4)).join(' '));
  }
}
