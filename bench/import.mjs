// Dataset import speed through the built CLI: validation report + import of a large FASTA, and
// the compute process's matrix-product speed (the benchmark job).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = join(import.meta.dirname, '..', 'bin', 'esm-studio.js');
const home = mkdtempSync(join(tmpdir(), 'esm-bench-'));
const AMINO = 'ACDEFGHIKLMNPQRSTVWY';
const COUNT = 50_000;

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const lines = [];
for (let i = 0; i < COUNT; i++) {
  const length = 50 + Math.floor(random() * 450);
  let sequence = '';
  for (let j = 0; j < length; j++) sequence += AMINO[Math.floor(random() * 20)];
  lines.push(`>seq${i}`, ...sequence.match(/.{1,60}/g));
}
const fasta = join(home, 'bench.fasta');
writeFileSync(fasta, lines.join('\n') + '\n');
const megabytes = statSync(fasta).size / 1e6;

const run = (...args) => {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ESM_STUDIO_HOME: home }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr || result.stdout);
  return { seconds: (performance.now() - started) / 1000, out: result.stdout };
};

const imported = run('import', '--project', 'bench', '--fasta', fasta);
console.log(`import: ${COUNT} sequences (${megabytes.toFixed(1)} MB) in ${imported.seconds.toFixed(2)} s = ${(COUNT / imported.seconds).toFixed(0)} sequences/s, ${(megabytes / imported.seconds).toFixed(1)} MB/s (validation + SQLite, includes process start)`);
const speed = run('benchmark', '--project', 'bench', '--seconds', '3');
console.log(`compute process: ${speed.out.trim()}`);
