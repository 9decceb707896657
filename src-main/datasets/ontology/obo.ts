/**
 * datasets/ontology/obo — reads an OBO 1.2/1.4 ontology (GO's `go-basic.obo`, or a small test
 * ontology) into terms: id, name, namespace, the parents annotations propagate to, obsolete flag
 * and replacement, plus the alt_id → primary id map. Only `[Term]` stanzas matter; `[Typedef]` and
 * `[Instance]` stanzas are skipped. Pure text in, data out.
 *
 * Which edges propagate: `is_a` and `relationship: part_of` — GO's true-path rule as CAFA applies
 * it. Other relationships (regulates, has_part, occurs_in) do not imply the parent term and are
 * ignored. An edge into another namespace (the full go.obo has some; go-basic.obo has none) is kept
 * in `crossNamespaceParents` but not followed: CAFA scores each namespace on its own.
 */
import { ApiError } from '../../api/errors';
import { LINE_BREAK, stripByteOrderMark } from '../text';

export interface OntologyTerm {
  id: string;
  name: string;
  namespace: string;
  /** Primary ids of the is_a and part_of parents within the same namespace. */
  parents: string[];
  /** is_a / part_of parents in another namespace: recorded, never propagated to. */
  crossNamespaceParents: string[];
  obsolete: boolean;
  /** `replaced_by` of an obsolete term; null when none is given. */
  replacedBy: string | null;
}

export interface Ontology {
  /** The file it was read from, for messages. */
  file: string;
  terms: Map<string, OntologyTerm>;
  /** Secondary ids (alt_id) → primary id. */
  altIds: Map<string, string>;
}

/** A parent reference, remembered with its line so an unknown parent can be reported where it is. */
interface PendingEdge {
  child: string;
  parent: string;
  line: number;
  tag: string;
}

interface Stanza {
  kind: string;
  line: number;
  tags: { tag: string; value: string; line: number }[];
}

/** `tag: value ! comment {modifiers}` → value; names keep a `!` written as `\!`. */
function stripComment(value: string): string {
  const bang = value.search(/(?<!\\)\s!/);
  const withoutComment = bang >= 0 ? value.slice(0, bang) : value;
  return withoutComment.replace(/\s*\{[^}]*\}\s*$/, '').trim();
}

function splitStanzas(file: string, text: string): { header: Stanza; stanzas: Stanza[] } {
  const header: Stanza = { kind: 'header', line: 1, tags: [] };
  const stanzas: Stanza[] = [];
  let current = header;
  stripByteOrderMark(text)
    .split(LINE_BREAK)
    .forEach((raw, index) => {
      const line = index + 1;
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('!')) return;
      if (trimmed.startsWith('[')) {
        const match = /^\[([A-Za-z]+)\]$/.exec(trimmed);
        if (!match) throw new ApiError('invalid-input', `${file}, line ${line}: "${trimmed}" is not a stanza header; OBO stanzas start with [Term] or [Typedef] on a line of their own.`);
        current = { kind: match[1]!, line, tags: [] };
        stanzas.push(current);
        return;
      }
      const colon = trimmed.indexOf(':');
      if (colon <= 0) {
        throw new ApiError('invalid-input', `${file}, line ${line}: "${trimmed}" has no tag; every OBO line inside a stanza is "tag: value" (e.g. "is_a: GO:0008150").`);
      }
      current.tags.push({ tag: trimmed.slice(0, colon).trim(), value: trimmed.slice(colon + 1).trim(), line });
    });
  return { header, stanzas };
}

/** Reads an OBO file. Throws, naming the file, line and tag, on a malformed stanza or an unknown parent. */
export function parseObo(file: string, text: string): Ontology {
  const { header, stanzas } = splitStanzas(file, text);
  const defaultNamespace = header.tags.find((t) => t.tag === 'default-namespace')?.value ?? null;
  const terms = new Map<string, OntologyTerm>();
  const altIds = new Map<string, string>();
  const edges: PendingEdge[] = [];
  for (const stanza of stanzas) {
    if (stanza.kind !== 'Term') continue;
    const term = readTerm(file, stanza, defaultNamespace, edges);
    if (terms.has(term.id)) throw new ApiError('invalid-input', `${file}, line ${stanza.line}: term ${term.id} is defined twice (field "id"); each [Term] needs its own id.`);
    terms.set(term.id, term);
    for (const alt of stanza.tags.filter((t) => t.tag === 'alt_id')) altIds.set(stripComment(alt.value), term.id);
  }
  if (terms.size === 0) throw new ApiError('invalid-input', `${file}: no [Term] stanza found; is this an OBO ontology (such as go-basic.obo)?`);
  linkParents(file, terms, altIds, edges);
  return { file, terms, altIds };
}

function readTerm(file: string, stanza: Stanza, defaultNamespace: string | null, edges: PendingEdge[]): OntologyTerm {
  const value = (tag: string): string | null => {
    const found = stanza.tags.find((t) => t.tag === tag);
    return found ? stripComment(found.value) : null;
  };
  const id = value('id');
  if (!id) throw new ApiError('invalid-input', `${file}, line ${stanza.line}: this [Term] stanza has no "id" field.`);
  const namespace = value('namespace') ?? defaultNamespace;
  if (!namespace) throw new ApiError('invalid-input', `${file}, line ${stanza.line}: term ${id} has no "namespace" field and the file has no default-namespace.`);
  for (const t of stanza.tags) {
    if (t.tag === 'is_a') edges.push({ child: id, parent: stripComment(t.value).split(/\s+/)[0]!, line: t.line, tag: 'is_a' });
    if (t.tag === 'relationship') {
      const [relation, parent] = stripComment(t.value).split(/\s+/);
      if (!relation || !parent) throw new ApiError('invalid-input', `${file}, line ${t.line}: field "relationship" of ${id} should read "relationship: part_of GO:…", not "${t.value}".`);
      if (relation === 'part_of') edges.push({ child: id, parent, line: t.line, tag: 'relationship: part_of' });
    }
  }
  return {
    id,
    name: value('name') ?? id,
    namespace,
    parents: [],
    crossNamespaceParents: [],
    obsolete: value('is_obsolete') === 'true',
    replacedBy: value('replaced_by'),
  };
}

/** Resolves every parent (alt ids too) and files it as a same- or cross-namespace parent. */
function linkParents(file: string, terms: Map<string, OntologyTerm>, altIds: Map<string, string>, edges: readonly PendingEdge[]): void {
  for (const edge of edges) {
    const parentId = terms.has(edge.parent) ? edge.parent : altIds.get(edge.parent);
    const parent = parentId === undefined ? undefined : terms.get(parentId);
    if (!parent) throw new ApiError('invalid-input', `${file}, line ${edge.line}: field "${edge.tag}" of ${edge.child} names ${edge.parent}, which no [Term] in the file defines.`);
    const child = terms.get(edge.child)!;
    const list = parent.namespace === child.namespace ? child.parents : child.crossNamespaceParents;
    if (!list.includes(parent.id)) list.push(parent.id);
  }
}
