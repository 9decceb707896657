/**
 * GO / EC labels (datasets/ontology): OBO parsing, GAF and table annotations, true-path and EC
 * propagation, the minimum-count filter and the multi-hot matrix — against propagation worked out
 * by hand on a small ontology written here — and the messages for bad files.
 */
import { describe, expect, it } from 'vitest';
import {
  buildLabelMatrix,
  ecAncestors,
  goAncestors,
  parseEcNumber,
  parseObo,
  propagateAnnotations,
  readAnnotationTable,
  readGaf,
  readLabelMatrix,
} from '../../src-main/datasets/ontology';

/*
 * MF: 1 (root) ← 2 catalytic ← 3 hydrolase (alt_id 99) ← 5; 1 ← 4 binding ← 5 (two parents).
 * BP: 10 (root) ← 11 metabolic ← 12 (part_of); 10 ← 13; 12 "regulates" 13 — not propagated.
 * CC: 20 (root) ← 21, which is part_of BP term 12 across namespaces — not propagated.
 * 30 obsolete, replaced by 4; 31 obsolete without replacement.
 */
const OBO = `format-version: 1.2
default-namespace: molecular_function
! a comment line

[Term]
id: GO:0000001
name: molecular_function

[Term]
id: GO:0000002
name: catalytic activity
is_a: GO:0000001 ! molecular_function

[Term]
id: GO:0000003
name: hydrolase activity
alt_id: GO:0000099
is_a: GO:0000002 ! catalytic activity

[Term]
id: GO:0000004
name: binding
is_a: GO:0000001

[Term]
id: GO:0000005
name: hydrolase binding
is_a: GO:0000003 {source="test"} ! hydrolase activity
is_a: GO:0000004 ! binding

[Term]
id: GO:0000010
name: biological_process
namespace: biological_process

[Term]
id: GO:0000011
name: metabolic process
namespace: biological_process
is_a: GO:0000010

[Term]
id: GO:0000012
name: catabolic step
namespace: biological_process
relationship: part_of GO:0000011 ! metabolic process
relationship: regulates GO:0000013

[Term]
id: GO:0000013
name: other process
namespace: biological_process
is_a: GO:0000010

[Term]
id: GO:0000020
name: cellular_component
namespace: cellular_component

[Term]
id: GO:0000021
name: complex
namespace: cellular_component
is_a: GO:0000020
relationship: part_of GO:0000012

[Term]
id: GO:0000030
name: old binding
is_obsolete: true
replaced_by: GO:0000004

[Term]
id: GO:0000031
name: old term without replacement
is_obsolete: true

[Typedef]
id: part_of
name: part of
`;

const sorted = (set: Iterable<string>): string[] => [...set].sort();
const go = (...n: number[]): string[] => n.map((k) => `GO:${String(k).padStart(7, '0')}`).sort();

describe('OBO ontology', () => {
  const ontology = parseObo('tiny.obo', OBO);

  it('reads terms, namespaces (default and explicit), alt ids and obsolete terms', () => {
    expect(ontology.terms.size).toBe(13);
    expect(ontology.terms.get('GO:0000002')).toMatchObject({ name: 'catalytic activity', namespace: 'molecular_function', parents: ['GO:0000001'] });
    expect(ontology.terms.get('GO:0000005')!.parents.sort()).toEqual(go(3, 4));
    expect(ontology.altIds.get('GO:0000099')).toBe('GO:0000003');
    expect(ontology.terms.get('GO:0000030')).toMatchObject({ obsolete: true, replacedBy: 'GO:0000004' });
    // part_of is followed, regulates is not; a part_of into another namespace is kept aside.
    expect(ontology.terms.get('GO:0000012')!.parents).toEqual(['GO:0000011']);
    expect(ontology.terms.get('GO:0000021')).toMatchObject({ parents: ['GO:0000020'], crossNamespaceParents: ['GO:0000012'] });
  });

  it('propagates along is_a and part_of within a namespace (hand-computed ancestor sets)', () => {
    expect(sorted(goAncestors(ontology, 'GO:0000005'))).toEqual(go(1, 2, 3, 4, 5));
    expect(sorted(goAncestors(ontology, 'GO:0000012'))).toEqual(go(10, 11, 12)); // not 13 (regulates)
    expect(sorted(goAncestors(ontology, 'GO:0000021'))).toEqual(go(20, 21)); // not BP's 12, 11, 10
  });
});

describe('EC numbers', () => {
  it('reads the written forms into EC:a.b.c.d and rejects what is not one', () => {
    expect(parseEcNumber('1.1.1.1')).toBe('EC:1.1.1.1');
    expect(parseEcNumber('EC:3.5.1.n3')).toBe('EC:3.5.1.n3');
    expect(parseEcNumber('EC 2.7.11.-')).toBe('EC:2.7.11.-');
    expect(parseEcNumber('1.1')).toBe('EC:1.1.-.-');
    expect(parseEcNumber('1.-.1.1')).toBeNull(); // a dash may only trail
    expect(parseEcNumber('1.1.1.1.1')).toBeNull();
    expect(parseEcNumber('kinase')).toBeNull();
  });

  it('propagates along the four levels', () => {
    expect(ecAncestors('EC:1.1.1.1')).toEqual(['EC:1.1.1.1', 'EC:1.1.1.-', 'EC:1.1.-.-', 'EC:1.-.-.-']);
    expect(ecAncestors('EC:2.7.-.-')).toEqual(['EC:2.7.-.-', 'EC:2.-.-.-']);
  });
});

describe('annotations → propagated terms → label matrix', () => {
  const ontology = parseObo('tiny.obo', OBO);
  const TABLE = ['id,terms', 'P1,GO:0000005', 'P2,GO:0000099;GO:0000012', 'P3,"GO:0000021|GO:0000030"', 'P4,GO:0000031', 'P5,', 'P7,1.1.1.1;EC:1.1.1.2'].join('\n');

  it('resolves alt ids and replaced obsolete terms, drops obsolete terms without replacement, and propagates', () => {
    const propagated = propagateAnnotations(readAnnotationTable('annotations.csv', TABLE), ontology);
    expect(propagated.proteins).toEqual(['P1', 'P2', 'P3', 'P4', 'P5', 'P7']);
    expect(sorted(propagated.terms.get('P1')!)).toEqual(go(1, 2, 3, 4, 5));
    expect(sorted(propagated.terms.get('P2')!)).toEqual(go(1, 2, 3, 10, 11, 12)); // alt id 99 → 3
    expect(sorted(propagated.terms.get('P3')!)).toEqual(go(1, 4, 20, 21)); // 30 → replaced by 4
    expect(propagated.terms.get('P4')!.size).toBe(0); // 31 dropped
    expect(propagated.terms.get('P5')!.size).toBe(0);
    expect(sorted(propagated.terms.get('P7')!)).toEqual(['EC:1.-.-.-', 'EC:1.1.-.-', 'EC:1.1.1.-', 'EC:1.1.1.1', 'EC:1.1.1.2']);
    expect(propagated.notices.join(' ')).toMatch(/1 obsolete term\(s\) without a replacement were dropped: GO:0000031/);
  });

  it('builds the multi-hot matrix: roots dropped, labels by namespace, parents as label indices, unknown proteins null', () => {
    const propagated = propagateAnnotations(readAnnotationTable('annotations.csv', TABLE), ontology);
    const m = buildLabelMatrix(['P1', 'P2', 'P3', 'P4', 'P5', 'P6'], propagated, ontology, { minCount: 1 });
    // Counts over P1–P5: MF 2,3,4 on two proteins, 5 on one; BP 11,12 and CC 21 on one. Roots 1, 10, 20 go.
    expect(m.labels).toEqual(['GO:0000011', 'GO:0000012', 'GO:0000021', 'GO:0000002', 'GO:0000003', 'GO:0000004', 'GO:0000005']);
    expect(m.namespaces).toEqual(['biological_process', 'biological_process', 'cellular_component', 'molecular_function', 'molecular_function', 'molecular_function', 'molecular_function']);
    expect(m.parents).toEqual([[], [0], [], [], [3], [], [4, 5]]);
    expect(m.counts).toEqual([1, 1, 1, 2, 2, 2, 1]);
    expect(m.rows.map((r) => (r ? Array.from(r) : null))).toEqual([
      [0, 0, 0, 1, 1, 1, 1], // P1: 5 and its ancestors 2, 3, 4
      [1, 1, 0, 1, 1, 0, 0], // P2: 3 (via alt id), 2; 12 and 11
      [0, 0, 1, 0, 0, 1, 0], // P3: 21; 4 (replacing 30)
      [0, 0, 0, 0, 0, 0, 0], // P4: only an obsolete term → listed, no terms
      [0, 0, 0, 0, 0, 0, 0],
      null, // P6: not in the annotation file → unknown
    ]);
    expect(m.notices.join(' ')).toMatch(/1 dataset protein\(s\) have no annotations/);
    expect(m.notices.join(' ')).toMatch(/1 annotated protein\(s\) are not in the dataset/); // P7
  });

  it('drops terms below the minimum count, and keeps only the namespaces asked for', () => {
    const propagated = propagateAnnotations(readAnnotationTable('annotations.csv', TABLE), ontology);
    const two = buildLabelMatrix(['P1', 'P2', 'P3', 'P4', 'P5'], propagated, ontology, { minCount: 2 });
    expect(two.labels).toEqual(go(2, 3, 4));
    expect(two.notices.join(' ')).toMatch(/on fewer than 2 proteins were dropped/);
    const ec = buildLabelMatrix(['P1', 'P7'], propagated, ontology, { minCount: 1, namespaces: ['ec'] });
    // EC top classes are labels (unlike GO roots) unless every annotated protein has them: here P1 has none.
    expect(ec.labels).toEqual(['EC:1.-.-.-', 'EC:1.1.-.-', 'EC:1.1.1.-', 'EC:1.1.1.1', 'EC:1.1.1.2']);
    expect(ec.parents).toEqual([[], [0], [1], [2], [2]]);
  });

  it('matches UniProt FASTA-header IDs by accession, and refuses a file that names none of the dataset\'s proteins', () => {
    const propagated = propagateAnnotations(readAnnotationTable('annotations.csv', TABLE), ontology);
    const m = buildLabelMatrix(['sp|P1|HBA_HUMAN', 'tr|P2|X_Y', 'P3', 'sp|Q9|NONE'], propagated, ontology, { minCount: 1 });
    expect(m.rows.map((r) => (r ? Array.from(r).reduce((a, b) => a + b, 0) : null))).toEqual([4, 4, 2, null]);
    expect(m.notices.join(' ')).toMatch(/2 dataset ID\(s\) were matched by their UniProt accession/);
    expect(() => buildLabelMatrix(['seq_1', 'seq_2'], propagated, ontology)).toThrow(/None of the dataset's 2 IDs \(such as "seq_1"\) is a protein of the annotation file \(such as "P1"\)/);
  });

  it('reads GAF: NOT qualifiers skipped, evidence filter, propagation as for a table', () => {
    const row = (protein: string, qualifier: string, term: string, evidence: string): string =>
      ['UniProtKB', protein, 'sym', qualifier, term, 'PMID:1', evidence, '', 'F', 'name', '', 'protein', 'taxon:9606', '20240101', 'UniProt', '', ''].join('\t');
    const gaf = ['!gaf-version: 2.2', row('Q1', 'enables', 'GO:0000005', 'IDA'), row('Q1', 'NOT|enables', 'GO:0000012', 'IDA'), row('Q2', 'enables', 'GO:0000004', 'IEA')].join('\n');
    const all = readGaf('goa.gaf', gaf);
    expect(all.annotations.map((a) => [a.protein, a.term, a.where.line])).toEqual([
      ['Q1', 'GO:0000005', 2],
      ['Q2', 'GO:0000004', 4],
    ]);
    expect(all.notices.join(' ')).toMatch(/1 annotation\(s\) qualified NOT/);
    const experimental = readGaf('goa.gaf', gaf, { evidence: ['IDA', 'EXP'] });
    expect(experimental.proteins).toEqual(['Q1']);
    const m = readLabelMatrix(['Q1', 'Q2'], { annotations: { path: '/data/goa.gaf', text: gaf }, ontology: { path: '/data/tiny.obo', text: OBO } }, { minCount: 1 });
    // Q1: 5 → 1..5; Q2: 4 → 1, 4. Term 4 is on both (every annotated protein) and 1 is the root: dropped.
    expect(m.labels).toEqual(go(2, 3, 5));
    expect(m.rows.map((r) => Array.from(r!))).toEqual([
      [1, 1, 1],
      [0, 0, 0],
    ]);
  });
});

describe('bad inputs name the file, line and field', () => {
  const ontology = parseObo('tiny.obo', OBO);

  it('rejects a term the ontology does not know, where it was written', () => {
    const table = ['id,terms', 'P1,GO:0000005', 'P2,GO:0000002;GO:0009999'].join('\n');
    expect(() => propagateAnnotations(readAnnotationTable('/home/me/annotations.csv', table), ontology)).toThrow(
      /annotations\.csv, line 3: GO:0009999 in field "terms" is not a term of tiny\.obo/,
    );
    expect(() => readAnnotationTable('ann.csv', 'id,terms\nP1,GO:12')).toThrow(/ann\.csv, line 2: "GO:12" in field "terms" is neither a GO id/);
    expect(() => propagateAnnotations(readAnnotationTable('ann.csv', 'id,terms\nP1,GO:0000005'), null)).toThrow(/ann\.csv, line 2: GO:0000005 .* need an ontology/);
  });

  it('rejects malformed OBO stanzas', () => {
    expect(() => parseObo('bad.obo', '[Term]\nid: GO:0000001\nnamespace: x\n[Term\nid: GO:0000002')).toThrow(/bad\.obo, line 4: "\[Term" is not a stanza header/);
    expect(() => parseObo('bad.obo', '[Term]\nid: GO:0000001\nnamespace: x\nthis line has no tag')).toThrow(/bad\.obo, line 4: .* has no tag/);
    expect(() => parseObo('bad.obo', '[Term]\nname: nameless\nnamespace: x')).toThrow(/bad\.obo, line 1: this \[Term\] stanza has no "id" field/);
    expect(() => parseObo('bad.obo', '[Term]\nid: GO:0000001\nnamespace: x\nis_a: GO:0000077')).toThrow(/bad\.obo, line 4: field "is_a" of GO:0000001 names GO:0000077/);
    expect(() => parseObo('bad.obo', '[Term]\nid: GO:0000001\n\n[Term]\nid: GO:0000002\nnamespace: x')).toThrow(/bad\.obo, line 1: term GO:0000001 has no "namespace" field/);
    expect(() => parseObo('bad.obo', 'format-version: 1.2\n')).toThrow(/bad\.obo: no \[Term\] stanza/);
  });

  it('says to unpack a compressed download instead of reading it as text', () => {
    const sources = { annotations: { path: '/data/goa_human.gaf.gz', text: '\u001f\uFFFD\b\u0000' }, ontology: null };
    expect(() => readLabelMatrix(['P1'], sources)).toThrow('goa_human.gaf.gz is compressed; unpack it first (e.g. "gunzip goa_human.gaf.gz") and choose the unpacked file.');
  });

  it('rejects a GAF line with the wrong number of columns, naming the first missing one', () => {
    const short = ['UniProtKB', 'Q1', 'sym', '', 'GO:0000005', 'PMID:1', 'IDA', '', 'F', 'name', '', 'protein'].join('\t');
    expect(() => readGaf('goa.gaf', `!gaf-version: 2.2\n${short}`)).toThrow(/goa\.gaf, line 2: 12 tab-separated fields, .* column 13 \(Taxon\)/);
    const badId = ['UniProtKB', 'Q1', 'sym', '', 'GO0000005', 'PMID:1', 'IDA', '', 'F', 'name', '', 'protein', 'taxon:1', '2024', 'UniProt'].join('\t');
    expect(() => readGaf('goa.gaf', badId)).toThrow(/goa\.gaf, line 1: column 5 \(GO ID\) is "GO0000005"/);
  });
});
