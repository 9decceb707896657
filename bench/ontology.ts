/**
 * bench/ontology — GO labels at GO's size: an ontology of 45,000 terms (go-basic.obo has about
 * 45k non-obsolete terms, depth ~15; this one is synthetic, depth ~8, is_a and part_of in each of
 * the three namespaces), 500,000 GAF lines over 20,000 proteins, then the label matrix (minimum
 * count 50), and CAFA's scores (Fmax, Smin, AUPRC, per namespace) of random predictions for
 * 5,000 proteins × 1,000 terms. Each stage runs twice; wall and CPU seconds (process.cpuUsage)
 * and the load average say how busy the machine was (it is often shared).
 *
 *   node --import tsx bench/ontology.ts
 */
import { cpus, loadavg } from 'node:os';
import { createRng } from '../src-main/core/rng';
import { buildLabelMatrix, parseObo, propagateAnnotations, readGaf } from '../src-main/datasets/ontology';
import { cafaMetrics, informationContent } from '../src-main/learn/cafa-metrics';
import { figure, markdownTable } from './support/table';

const TERMS = 45_000;
const GAF_LINES = 500_000;
const PROTEINS = 20_000;
const NAMESPACES = ['molecular_function', 'biological_process', 'cellular_component'];

const goId = (k: number): string => `GO:${String(k).padStart(7, '0')}`;

/** Terms 1..3 are the namespace roots; term k's parents are earlier terms of its namespace (k mod 3). */
function syntheticObo(): string {
  const lines = ['format-version: 1.2', 'data-version: bench', ''];
  const sameNamespace = (k: number, divisor: number): number => Math.max(1, 3 * Math.floor(k / divisor / 3) + (k % 3)) || 3;
  for (let k = 1; k <= TERMS; k++) {
    lines.push('[Term]', `id: ${goId(k)}`, `name: term ${k}`, `namespace: ${NAMESPACES[k % 3]}`, `def: "A made-up term." [GOC:bench]`, 'synonym: "another name" EXACT []');
    if (k > 3) lines.push(`is_a: ${goId(sameNamespace(k, 4))} ! parent`);
    if (k > 30) lines.push(`relationship: part_of ${goId(sameNamespace(k, 7))} ! whole`);
    lines.push('');
  }
  return lines.join('\n');
}

function syntheticGaf(): string {
  const rng = createRng(45);
  const lines = ['!gaf-version: 2.2'];
  for (let i = 0; i < GAF_LINES; i++) {
    const term = goId(4 + rng.nextInt(TERMS - 3));
    lines.push(['UniProtKB', `P${rng.nextInt(PROTEINS)}`, 'sym', 'enables', term, 'PMID:1', 'IDA', '', 'F', 'name', '', 'protein', 'taxon:9606', '20240101', 'UniProt', '', ''].join('\t'));
  }
  return lines.join('\n');
}

function timed<T>(work: () => T): { value: T; wall: number; cpu: number } {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const value = work();
  const cpu = process.cpuUsage(cpuStart);
  return { value, wall: (performance.now() - wallStart) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

function main(): void {
  const oboText = syntheticObo();
  const gafText = syntheticGaf();
  const ids = Array.from({ length: PROTEINS }, (_, i) => `P${i}`);
  const rows: string[][] = [];
  for (let run = 1; run <= 2; run++) {
    const obo = timed(() => parseObo('bench.obo', oboText));
    const gaf = timed(() => readGaf('bench.gaf', gafText));
    const propagated = timed(() => propagateAnnotations(gaf.value, obo.value));
    const matrix = timed(() => buildLabelMatrix(ids, propagated.value, obo.value, { minCount: 50 }));
    // CAFA scores of random predictions on 5,000 proteins × the first 1,000 labels.
    const n = 5000;
    const l = Math.min(1000, matrix.value.labels.length);
    const Y = new Uint8Array(n * l);
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) Y[i * l + j] = matrix.value.rows[i]?.[j] ?? 0;
    const rng = createRng(run);
    const P = { rows: n, cols: l, data: Float64Array.from({ length: n * l }, () => rng.next()) };
    const structure = { namespaces: matrix.value.namespaces.slice(0, l), parents: matrix.value.parents.slice(0, l).map((ps) => ps.filter((p) => p < l)) };
    const scores = timed(() => cafaMetrics(Y, P, { ic: informationContent(Y, l, structure), namespaces: structure.namespaces }));
    const stages: [string, { wall: number; cpu: number }][] = [
      [`parse OBO (${obo.value.terms.size} terms)`, obo],
      [`read GAF (${gaf.value.annotations.length} lines)`, gaf],
      ['propagate (true path)', propagated],
      [`label matrix (${matrix.value.labels.length} terms ≥ 50 proteins)`, matrix],
      [`CAFA scores, ${n} × ${l}, per namespace`, scores],
    ];
    for (const [stage, t] of stages) rows.push([String(run), stage, figure(t.wall), figure(t.cpu)]);
  }
  console.log(`GO labels at GO's size; ${cpus().length} CPU cores (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg().map((v) => v.toFixed(1)).join(' / ')} (1/5/15 min)`);
  console.log(markdownTable(['run', 'stage', 'wall s', 'CPU s'], rows));
}

main();
