/**
 * cli/fit-annotations — `fit --annotations`: GO / EC labels for a multi-label fit straight from an
 * annotation file (GAF or a protein → terms table) and an ontology (go-basic.obo), through
 * datasets/ontology (true-path propagation, minimum count, multi-hot matrix). Returns the scan's
 * multi-label target columns and the labels' namespaces and parents (per-namespace CAFA scores).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApiError } from '../api/errors';
import { DEFAULT_MIN_COUNT, EXPERIMENTAL_EVIDENCE, readLabelMatrix, type LabelMatrix } from '../datasets/ontology';
import { CliExit } from './exit';

export interface AnnotationFlags {
  annotations?: string;
  ontology?: string;
  minCount?: string;
  namespace?: string;
  evidence?: string;
}

export interface AnnotationTargets {
  labels: string[];
  /** Per label, each row's 0/1, or null for a protein without annotations (left out). */
  targetColumns: (number | null)[][];
  structure: { namespaces: string[]; parents: number[][] };
  matrix: LabelMatrix;
}

const NAMESPACE_NAMES: Record<string, string> = { mf: 'molecular_function', bp: 'biological_process', cc: 'cellular_component', ec: 'ec' };

function readText(path: string, flag: string): { path: string; text: string } {
  const full = resolve(path);
  if (!existsSync(full)) throw new CliExit(`Cannot read ${path} (${flag}).`);
  return { path: full, text: readFileSync(full, 'utf8') };
}

/** "--evidence experimental" → CAFA's experimental codes; "all" → no filter; else a comma-separated list. */
function evidenceCodes(flag: string | undefined): readonly string[] | undefined {
  if (flag === undefined || flag === 'all') return undefined;
  if (flag === 'experimental') return EXPERIMENTAL_EVIDENCE;
  return flag.split(',').map((code) => code.trim()).filter(Boolean);
}

export function annotationTargets(flags: AnnotationFlags, ids: readonly string[]): AnnotationTargets {
  const minCount = flags.minCount === undefined ? DEFAULT_MIN_COUNT : Number(flags.minCount);
  if (!Number.isInteger(minCount) || minCount < 1) throw new CliExit(`--min-count must be a whole number of proteins ≥ 1, not "${flags.minCount}".`, 2);
  const namespaces = flags.namespace?.split(',').map((n) => {
    const name = NAMESPACE_NAMES[n.trim().toLowerCase()];
    if (!name) throw new CliExit(`--namespace "${n}" is not one of mf, bp, cc, ec.`, 2);
    return name;
  });
  let matrix: LabelMatrix;
  try {
    const sources = { annotations: readText(flags.annotations!, '--annotations'), ontology: flags.ontology ? readText(flags.ontology, '--ontology') : null };
    matrix = readLabelMatrix(ids, sources, { minCount, namespaces, evidence: evidenceCodes(flags.evidence) });
  } catch (error) {
    if (error instanceof ApiError) throw new CliExit(error.message);
    throw error;
  }
  for (const notice of matrix.notices) console.log(notice);
  if (matrix.labels.length < 2) {
    throw new CliExit(`Only ${matrix.labels.length} term(s) are on at least ${minCount} of the dataset's annotated proteins; a multi-label fit needs 2 or more. Lower --min-count or add proteins.`);
  }
  return {
    labels: matrix.labels,
    targetColumns: matrix.labels.map((_, l) => matrix.rows.map((row) => (row ? row[l]! : null))),
    structure: { namespaces: matrix.namespaces, parents: matrix.parents },
    matrix,
  };
}
