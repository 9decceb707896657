/**
 * bench/split — the similarity split (learn/homology) at the size issue 19 asks for: 20,000
 * sequences of ~300 residues in random planted families (test/support/planted-families: 2,000
 * ancestors × 10 members at 45–95 % identity to their ancestor, BLOSUM-like substitutions and
 * 1 % indels), searched on 2 worker threads (the query chunks shared out as workers free up).
 * Prints wall and CPU seconds (CPU of all threads), candidate pairs (aligned on their bands), related pairs, the
 * partition into 5 folds, and the prefilter's recall: 4,000 within-family pairs are aligned in
 * full, and of those that are related (≥ 30 % identity, ≥ 80 % coverage of both), the share the
 * search found, by identity. The machine may be shared: it prints the load average too.
 *
 *   node --import tsx bench/split.ts            20,000 × 300
 *   node --import tsx bench/split.ts --quick    2,000 × 300
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createRng } from '../src-main/core/rng';
import { alignLocal, DEFAULT_CRITERIA, encodeSequence, findRelatedPairs, isRelated, partition, type RelatedCriteria } from '../src-main/learn/homology';
import type { ChunkResult } from '../src-main/learn/homology/search';
import { plantedFamilies } from '../test/support/planted-families';
import { figure, markdownTable } from './support/table';

const QUICK = process.argv.includes('--quick');
const FAMILIES = QUICK ? 200 : 2000;
const THREADS = 2;

/** Runs the chunks on THREADS workers, each chunk to the next free worker. */
function workerChunks(sequences: string[]) {
  return (_index: unknown, ranges: [number, number][], criteria: RelatedCriteria, exhaustive: boolean, onDone: (i: number, result: ChunkResult) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      let next = 0;
      let finished = 0;
      // Worker threads do not inherit tsx's loader: register it in the worker, then load the worker script.
      const script = new URL('./support/homology-worker.ts', import.meta.url).href;
      const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); });`;
      const workers = Array.from({ length: THREADS }, () => new Worker(boot, { eval: true, workerData: { sequences, criteria, exhaustive } }));
      const feed = (worker: Worker): void => {
        if (next >= ranges.length) return void worker.postMessage('stop');
        const chunk = next++;
        worker.postMessage({ chunk, from: ranges[chunk]![0], to: ranges[chunk]![1] });
      };
      for (const worker of workers) {
        worker.on('message', ({ chunk, result }: { chunk: number; result: ChunkResult }) => {
          onDone(chunk, result);
          if (++finished === ranges.length) resolve();
          feed(worker);
        });
        worker.on('error', reject);
        feed(worker);
      }
    });
}

async function main(): Promise<void> {
  const set = plantedFamilies(19, { families: FAMILIES, membersPerFamily: 10, length: 300, identityToAncestor: [0.45, 0.95], indelRate: 0.01 });
  const n = set.sequences.length;
  console.log(`${n.toLocaleString('en-US')} sequences (${FAMILIES} planted families of 10, ~300 residues), ${THREADS} worker threads; load average before: ${loadavg()[0]!.toFixed(1)}`);
  let aligned = 0;
  let cells = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const runChunks = workerChunks(set.sequences);
  const found = await findRelatedPairs(set.sequences, {
    search: 'prefilter',
    chunks: 64,
    runChunks: (index, ranges, criteria, exhaustive, onDone) =>
      runChunks(index, ranges, criteria, exhaustive, (i, result) => {
        aligned += result.candidates;
        cells += result.cells;
        onDone(i, result);
      }),
  });
  const folds = partition(n, found.pairs, { shares: [1, 1, 1, 1, 1] });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(`load average after: ${loadavg()[0]!.toFixed(1)} (the machine is shared with other work)`);
  console.log(
    markdownTable(
      ['wall s', 'CPU s', 'candidate pairs', 'DP cells', 'related pairs', 'clusters', 'largest', 'fold sizes'],
      [[figure(wall), figure((cpu.user + cpu.system) / 1e6), aligned.toLocaleString('en-US'), `${figure(cells / 1e9)}·10⁹`, (found.pairs.length / 2).toLocaleString('en-US'), String(folds.clusterSizes.length), String(folds.clusterSizes[0]), folds.foldSizes.join(' ')]],
    ),
  );
  // Recall of the prefilter on planted pairs: a sample of within-family pairs aligned in full.
  const foundSet = new Set<number>();
  for (let i = 0; i < found.pairs.length; i += 2) foundSet.add(found.pairs[i]! * n + found.pairs[i + 1]!);
  const members = new Map<number, number[]>();
  set.family.forEach((f, i) => members.set(f, [...(members.get(f) ?? []), i]));
  const rng = createRng(7);
  const buckets = new Map<string, [number, number]>();
  const codes = set.sequences.map(encodeSequence);
  for (let s = 0; s < 4000; s++) {
    const group = members.get(rng.nextInt(FAMILIES))!;
    const x = group[rng.nextInt(group.length)]!;
    const y = group[rng.nextInt(group.length)]!;
    if (x === y) continue;
    const [a, b] = x < y ? [x, y] : [y, x];
    const alignment = alignLocal(codes[a]!, codes[b]!);
    if (!isRelated(alignment, DEFAULT_CRITERIA)) continue;
    const id = alignment.identity;
    const bucket = id < 0.35 ? '30–35 %' : id < 0.4 ? '35–40 %' : id < 0.5 ? '40–50 %' : '≥ 50 %';
    const counts = buckets.get(bucket) ?? [0, 0];
    counts[0]++;
    if (foundSet.has(a * n + b)) counts[1]++;
    buckets.set(bucket, counts);
  }
  const order = ['30–35 %', '35–40 %', '40–50 %', '≥ 50 %'];
  const all = [...buckets.values()].reduce((t, [p, f]) => [t[0]! + p, t[1]! + f], [0, 0]);
  console.log('\nPrefilter recall on planted related pairs (sample of within-family pairs aligned in full):');
  console.log(markdownTable(['identity', 'related pairs', 'found', 'recall'], [...order.filter((b) => buckets.has(b)).map((b) => {
    const [p, f] = buckets.get(b)!;
    return [b, String(p), String(f), `${((100 * f) / p).toFixed(1)} %`];
  }), ['all', String(all[0]), String(all[1]), `${((100 * all[1]!) / all[0]!).toFixed(1)} %`]]));
  // What matters for the split: planted families that ended up whole in one fold.
  const whole = [...members.values()].filter((group) => new Set(group.map((i) => folds.fold[i])).size === 1).length;
  console.log(`\n${whole} of ${FAMILIES} planted families lie whole in one fold.`);
}

await main();
