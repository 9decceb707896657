/**
 * datasets/ontology/propagate — the true-path rule: a protein annotated with a term also has every
 * ancestor of it (is_a and part_of, within the term's namespace), and an EC number implies its
 * more general levels. Resolves alt ids to primary ids and obsolete terms to their replacement;
 * an obsolete term without one is dropped (with a notice); a term the ontology does not know is
 * an error naming the file, line and field it came from.
 */
import { ApiError } from '../../api/errors';
import type { AnnotationFile, Annotation } from './annotations';
import { EC_NAMESPACE, ecAncestors, ecParent } from './ec';
import type { Ontology } from './obo';

export interface PropagatedAnnotations {
  /** Every protein of the file, in its order. */
  proteins: string[];
  /** protein → its terms, closed under ancestors. */
  terms: Map<string, Set<string>>;
  notices: string[];
}

/** What a label needs to know of its term: namespace, parents (same namespace) and a readable name. */
export interface TermInfo {
  namespace: string;
  parents: string[];
  name: string;
}

/** The ancestors of a GO term (itself included), following same-namespace parents only. */
export function goAncestors(ontology: Ontology, id: string, memo = new Map<string, Set<string>>()): Set<string> {
  const known = memo.get(id);
  if (known) return known;
  const out = new Set<string>([id]);
  memo.set(id, out); // set before recursing, so a cycle in a broken file ends instead of looping
  for (const parent of ontology.terms.get(id)?.parents ?? []) for (const a of goAncestors(ontology, parent, memo)) out.add(a);
  return out;
}

export function termInfo(ontology: Ontology | null, id: string): TermInfo {
  if (id.startsWith('EC:')) {
    const parent = ecParent(id);
    return { namespace: EC_NAMESPACE, parents: parent ? [parent] : [], name: id };
  }
  const term = ontology?.terms.get(id);
  if (!term) throw new Error(`${id} is not in the ontology.`);
  return { namespace: term.namespace, parents: term.parents, name: term.name };
}

export function propagateAnnotations(file: AnnotationFile, ontology: Ontology | null): PropagatedAnnotations {
  const terms = new Map<string, Set<string>>(file.proteins.map((p) => [p, new Set<string>()]));
  const memo = new Map<string, Set<string>>();
  const droppedObsolete = new Set<string>();
  const replaced = new Set<string>();
  for (const annotation of file.annotations) {
    const target = terms.get(annotation.protein)!;
    if (annotation.term.startsWith('EC:')) {
      for (const ec of ecAncestors(annotation.term)) target.add(ec);
      continue;
    }
    const primary = resolveGoTerm(ontology, annotation, { droppedObsolete, replaced });
    if (primary === null) continue;
    for (const a of goAncestors(ontology!, primary, memo)) target.add(a);
  }
  const notices = [...file.notices];
  if (replaced.size > 0) notices.push(`${replaced.size} obsolete term(s) were replaced by their "replaced_by" term: ${[...replaced].slice(0, 5).join(', ')}${replaced.size > 5 ? ', …' : ''}.`);
  if (droppedObsolete.size > 0) notices.push(`${droppedObsolete.size} obsolete term(s) without a replacement were dropped: ${[...droppedObsolete].slice(0, 5).join(', ')}${droppedObsolete.size > 5 ? ', …' : ''}.`);
  return { proteins: file.proteins, terms, notices };
}

/** The primary id an annotation's GO term stands for; null when it is obsolete without replacement. */
function resolveGoTerm(ontology: Ontology | null, annotation: Annotation, seen: { droppedObsolete: Set<string>; replaced: Set<string> }): string | null {
  const { where, term: written } = annotation;
  if (!ontology) throw new ApiError('invalid-input', `${where.file}, line ${where.line}: ${written} in field "${where.field}" is a GO term, and GO terms need an ontology (go-basic.obo) to propagate; choose one.`);
  let id = ontology.terms.has(written) ? written : ontology.altIds.get(written);
  if (id === undefined) {
    throw new ApiError('invalid-input', `${where.file}, line ${where.line}: ${written} in field "${where.field}" is not a term of ${ontology.file}. Is the ontology older than the annotations? Use a go-basic.obo at least as recent.`);
  }
  const term = ontology.terms.get(id)!;
  if (!term.obsolete) return id;
  const replacement = term.replacedBy === null ? undefined : ontology.terms.has(term.replacedBy) ? term.replacedBy : ontology.altIds.get(term.replacedBy);
  if (replacement === undefined) {
    seen.droppedObsolete.add(written);
    return null;
  }
  seen.replaced.add(written);
  id = replacement;
  return id;
}
