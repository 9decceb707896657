/**
 * datasets/ontology/label-matrix — from propagated annotations to the multi-hot label matrix a
 * multi-label fit learns: which terms become labels (a minimum number of proteins, namespaces
 * chosen, namespace roots left out), one 0/1 row per dataset protein, and each label's namespace
 * and parents (as label indices) for CAFA's per-namespace Fmax and Smin.
 *
 * Choices, and why:
 *  - Counts are over the dataset's annotated proteins (every fold's training rows would be the
 *    stricter choice, but the set of columns must be fixed before the folds exist).
 *  - A term below `minCount` is dropped: a model cannot learn (nor CV score) a label seen twice.
 *  - GO namespace roots (molecular_function, …) and any term every annotated protein carries are
 *    dropped: they are always "predicted right" and CAFA leaves roots out of its scores.
 *  - A dataset protein absent from the annotation file gets no row (null: unknown, left out);
 *    one listed with no terms gets an all-zero row.
 *  - A dataset ID written as a UniProt FASTA header (sp|P69905|HBA_HUMAN) is matched by its
 *    accession (P69905), the protein ID GAF files use, when the full ID is not in the file.
 */
import { ApiError } from '../../api/errors';
import type { Ontology } from './obo';
import { termInfo, type PropagatedAnnotations } from './propagate';

export interface LabelMatrixOptions {
  /** Keep a term only when at least this many annotated dataset proteins have it (default 10). */
  minCount?: number;
  /** Keep only these namespaces (e.g. ['molecular_function', 'ec']); all when absent. */
  namespaces?: readonly string[];
}

export interface LabelMatrix {
  /** Term ids, ordered by namespace then id: the label columns. */
  labels: string[];
  names: string[];
  namespaces: string[];
  /** For each label, the indices of its parents that are labels too. */
  parents: number[][];
  /** For each dataset row: 0/1 per label, or null when the protein has no annotations (unknown). */
  rows: (Uint8Array | null)[];
  /** How many annotated dataset proteins have each label. */
  counts: number[];
  notices: string[];
}

export const DEFAULT_MIN_COUNT = 10;

/** The annotation-file protein a dataset ID stands for: itself, else its UniProt accession; null when neither is there. */
function annotationKey(id: string, terms: ReadonlyMap<string, unknown>): string | null {
  if (terms.has(id)) return id;
  const accession = /^(?:sp|tr)\|([^|]+)\|/.exec(id)?.[1];
  return accession !== undefined && terms.has(accession) ? accession : null;
}

export function buildLabelMatrix(datasetIds: readonly string[], annotations: PropagatedAnnotations, ontology: Ontology | null, options: LabelMatrixOptions = {}): LabelMatrix {
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  const wanted = options.namespaces ? new Set(options.namespaces) : null;
  const keys = datasetIds.map((id) => annotationKey(id, annotations.terms));
  const annotated = keys.filter((key): key is string => key !== null);
  if (annotated.length === 0) {
    throw new ApiError(
      'invalid-input',
      `None of the dataset's ${datasetIds.length} IDs (such as "${datasetIds[0] ?? ''}") is a protein of the annotation file (such as "${annotations.proteins[0] ?? ''}"). The IDs must match, e.g. UniProt accessions in both.`,
    );
  }
  const notices = [...annotations.notices];
  const byAccession = keys.filter((key, i) => key !== null && key !== datasetIds[i]).length;
  if (byAccession > 0) notices.push(`${byAccession} dataset ID(s) were matched by their UniProt accession (sp|P69905|… → P69905).`);
  const unused = annotations.proteins.length - new Set(annotated).size;
  if (unused > 0) notices.push(`${unused} annotated protein(s) are not in the dataset and were not used.`);
  const missing = datasetIds.length - annotated.length;
  if (missing > 0) notices.push(`${missing} dataset protein(s) have no annotations and are left out of the fit.`);
  const counts = new Map<string, number>();
  for (const id of new Set(annotated)) for (const term of annotations.terms.get(id)!) counts.set(term, (counts.get(term) ?? 0) + 1);
  const everyone = new Set(annotated).size;
  const kept: { id: string; namespace: string; name: string; parents: string[]; count: number }[] = [];
  let rare = 0;
  let roots = 0;
  for (const [id, count] of counts) {
    const info = termInfo(ontology, id);
    if (wanted && !wanted.has(info.namespace)) continue;
    if (count < minCount) rare++;
    else if ((info.parents.length === 0 && !id.startsWith('EC:')) || count === everyone) roots++;
    else kept.push({ id, ...info, count });
  }
  kept.sort((a, b) => (a.namespace === b.namespace ? (a.id < b.id ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
  if (rare > 0) notices.push(`${rare} term(s) on fewer than ${minCount} proteins were dropped (minimum count).`);
  if (roots > 0) notices.push(`${roots} term(s) on every annotated protein or at a namespace root were dropped: they say nothing about a protein.`);
  const index = new Map(kept.map((k, i) => [k.id, i]));
  const rows = keys.map((key) => {
    if (key === null) return null;
    const terms = annotations.terms.get(key)!;
    const row = new Uint8Array(kept.length);
    for (const term of terms) {
      const i = index.get(term);
      if (i !== undefined) row[i] = 1;
    }
    return row;
  });
  return {
    labels: kept.map((k) => k.id),
    names: kept.map((k) => k.name),
    namespaces: kept.map((k) => k.namespace),
    parents: kept.map((k) => k.parents.flatMap((p) => (index.has(p) ? [index.get(p)!] : []))),
    rows,
    counts: kept.map((k) => k.count),
    notices,
  };
}
