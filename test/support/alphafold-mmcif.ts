/**
 * test/support/alphafold-mmcif — writes a 300-residue protein in AlphaFold DB's mmCIF layout
 * (the fixture test/fixtures/structures/AF-ESMSTUDIO300-F1-model_v4.cif): a full N, CA, C, O
 * backbone built from ideal bond geometry and (φ, ψ) torsions (α-helices, β-strands, loops,
 * disordered termini), helices listed in `_struct_conf`, pLDDT in the B-factor column and in
 * `_ma_qa_metric_local`, as AlphaFold writes them, graded by segment so that all four of AlphaFold's
 * confidence bands occur. Deterministic (core/rng), so the committed file can be checked against it.
 *
 * Regenerate: npx tsx test/support/alphafold-mmcif.ts > test/fixtures/structures/AF-ESMSTUDIO300-F1-model_v4.cif
 */
import { createRng } from '../../src-main/core/rng';

type Vec = [number, number, number];
export type SegmentKind = 'helix' | 'strand' | 'loop' | 'terminus';

export interface AlphaFoldResidue {
  code: string;
  kind: SegmentKind;
  plddt: number;
  atoms: { name: 'N' | 'CA' | 'C' | 'O'; at: Vec }[];
}

const THREE: Record<string, string> = {
  A: 'ALA', R: 'ARG', N: 'ASN', D: 'ASP', C: 'CYS', Q: 'GLN', E: 'GLU', G: 'GLY', H: 'HIS', I: 'ILE',
  L: 'LEU', K: 'LYS', M: 'MET', F: 'PHE', P: 'PRO', S: 'SER', T: 'THR', W: 'TRP', Y: 'TYR', V: 'VAL',
};

export const LENGTH = 300;
export const ENTRY = 'AF-ESMSTUDIO300-F1';

/** Residues each kind draws from, and its (φ, ψ) in degrees and pLDDT range (AlphaFold's bands: > 90, 70–90, 50–70, < 50). */
const KINDS: Record<SegmentKind, { letters: string; torsions: [number, number][]; plddt: [number, number] }> = {
  helix: { letters: 'AELKRQEMLAK', torsions: [[-57, -47]], plddt: [91, 98] },
  strand: { letters: 'VITYFKVTE', torsions: [[-120, 130]], plddt: [72, 89] },
  loop: { letters: 'GDNSPGTK', torsions: [[-70, 140], [80, 10], [-90, 0], [-65, 150]], plddt: [52, 69] },
  terminus: { letters: 'MSGSPTSEQK', torsions: [[-75, 145], [-65, 135]], plddt: [28, 48] },
};

/** The chain's segments: a disordered N-terminus, repeats of helix–loop–strand–loop–strand–loop, a disordered C-terminus. */
export function segmentKinds(): SegmentKind[] {
  const kinds: SegmentKind[] = Array<SegmentKind>(8).fill('terminus');
  const repeat: [SegmentKind, number][] = [['helix', 18], ['loop', 4], ['strand', 7], ['loop', 3], ['strand', 7], ['loop', 4]];
  while (kinds.length < LENGTH - 10) for (const [kind, n] of repeat) for (let k = 0; k < n && kinds.length < LENGTH - 10; k++) kinds.push(kind);
  while (kinds.length < LENGTH) kinds.push('terminus');
  return kinds;
}

const sub = (a: Vec, b: Vec): Vec => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec, b: Vec): Vec => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const unit = (a: Vec): Vec => {
  const n = Math.hypot(...a);
  return [a[0] / n, a[1] / n, a[2] / n];
};
const rad = (degrees: number): number => (degrees * Math.PI) / 180;

/** Atom D with |CD| = length, angle BCD and torsion ABCD (degrees): the NeRF construction. */
function place(a: Vec, b: Vec, c: Vec, length: number, angle: number, torsion: number): Vec {
  const bc = unit(sub(c, b));
  const n = unit(cross(sub(b, a), bc));
  const m = cross(n, bc);
  const [x, y, z] = [-length * Math.cos(rad(angle)), length * Math.sin(rad(angle)) * Math.cos(rad(torsion)), length * Math.sin(rad(angle)) * Math.sin(rad(torsion))];
  return [c[0] + x * bc[0] + y * m[0] + z * n[0], c[1] + x * bc[1] + y * m[1] + z * n[1], c[2] + x * bc[2] + y * m[2] + z * n[2]];
}

/** Ideal peptide geometry (Engh & Huber): bond lengths in Å, angles in degrees. */
const N_CA = 1.458;
const CA_C = 1.525;
const C_N = 1.329;
const C_O = 1.231;
const ANGLE_N_CA_C = 111.2;
const ANGLE_CA_C_N = 116.2;
const ANGLE_C_N_CA = 121.7;
const ANGLE_CA_C_O = 120.5;

export function alphaFoldResidues(seed = 300): AlphaFoldResidue[] {
  const rng = createRng(seed);
  const kinds = segmentKinds();
  const residues: AlphaFoldResidue[] = [];
  let n: Vec = [0, 0, 0];
  let ca: Vec = [N_CA, 0, 0];
  let c: Vec = place([0, 1, 0], n, ca, CA_C, ANGLE_N_CA_C, -60);
  kinds.forEach((kind, i) => {
    const spec = KINDS[kind];
    const [phi, psi] = spec.torsions[i % spec.torsions.length]!;
    if (i > 0) {
      const previous = residues[i - 1]!.atoms;
      const [pn, pca, pc] = [previous[0]!.at, previous[1]!.at, previous[2]!.at];
      const prevPsi = KINDS[kinds[i - 1]!].torsions[(i - 1) % KINDS[kinds[i - 1]!].torsions.length]![1];
      n = place(pn, pca, pc, C_N, ANGLE_CA_C_N, prevPsi);
      ca = place(pca, pc, n, N_CA, ANGLE_C_N_CA, 180);
      c = place(pc, n, ca, CA_C, ANGLE_N_CA_C, phi);
    }
    // The carbonyl O sits opposite the next residue's N (ψ + 180°).
    const nextN = place(n, ca, c, C_N, ANGLE_CA_C_N, psi);
    const o = place(nextN, ca, c, C_O, ANGLE_CA_C_O, 180);
    const [low, high] = spec.plddt;
    residues.push({
      code: spec.letters[rng.nextInt(spec.letters.length)]!,
      kind,
      plddt: Math.round((low + (high - low) * rng.next()) * 100) / 100,
      atoms: [{ name: 'N', at: n }, { name: 'CA', at: ca }, { name: 'C', at: c }, { name: 'O', at: o }],
    });
  });
  return residues;
}

/** Runs of helix residues as 1-based [start, end] pairs, for `_struct_conf`. */
function helixRanges(residues: readonly AlphaFoldResidue[]): [number, number][] {
  const ranges: [number, number][] = [];
  residues.forEach((r, i) => {
    if (r.kind !== 'helix') return;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else ranges.push([i + 1, i + 1]);
  });
  return ranges;
}

export function alphaFoldMmcif(residues: readonly AlphaFoldResidue[] = alphaFoldResidues()): string {
  const sequence = residues.map((r) => r.code).join('');
  const lines: string[] = [
    `data_${ENTRY}`,
    '#',
    `_entry.id ${ENTRY}`,
    '#',
    `_struct.entry_id ${ENTRY}`,
    "_struct.title 'AlphaFold-format test model (ideal backbone, 300 residues; ESM Studio test fixture)'",
    '#',
    '_entity.id 1',
    '_entity.type polymer',
    "_entity.pdbx_description 'Test protein'",
    '#',
    '_entity_poly.entity_id 1',
    '_entity_poly.type polypeptide(L)',
    `_entity_poly.pdbx_seq_one_letter_code ${sequence}`,
    '#',
    'loop_',
    '_entity_poly_seq.entity_id',
    '_entity_poly_seq.num',
    '_entity_poly_seq.mon_id',
    '_entity_poly_seq.hetero',
    ...residues.map((r, i) => `1 ${i + 1} ${THREE[r.code]} n`),
    '#',
    '_struct_asym.id A',
    '_struct_asym.entity_id 1',
    '#',
    'loop_',
    '_struct_conf.conf_type_id',
    '_struct_conf.id',
    '_struct_conf.beg_label_comp_id',
    '_struct_conf.beg_label_asym_id',
    '_struct_conf.beg_label_seq_id',
    '_struct_conf.end_label_comp_id',
    '_struct_conf.end_label_asym_id',
    '_struct_conf.end_label_seq_id',
    '_struct_conf.beg_auth_asym_id',
    '_struct_conf.beg_auth_seq_id',
    '_struct_conf.end_auth_asym_id',
    '_struct_conf.end_auth_seq_id',
    ...helixRanges(residues).map(([b, e], k) => `HELX_RH_AL_P HELX_RH_AL_P${k + 1} ${THREE[residues[b - 1]!.code]} A ${b} ${THREE[residues[e - 1]!.code]} A ${e} A ${b} A ${e}`),
    '#',
    '_ma_qa_metric.id 2',
    '_ma_qa_metric.mode local',
    '_ma_qa_metric.name pLDDT',
    '_ma_qa_metric.software_group_id 1',
    '_ma_qa_metric.type pLDDT',
    '#',
    'loop_',
    '_ma_qa_metric_local.label_asym_id',
    '_ma_qa_metric_local.label_comp_id',
    '_ma_qa_metric_local.label_seq_id',
    '_ma_qa_metric_local.metric_id',
    '_ma_qa_metric_local.metric_value',
    '_ma_qa_metric_local.model_id',
    '_ma_qa_metric_local.ordinal_id',
    ...residues.map((r, i) => `A ${THREE[r.code]} ${i + 1} 2 ${r.plddt.toFixed(2)} 1 ${i + 1}`),
    '#',
    'loop_',
    ...[
      'group_PDB', 'id', 'type_symbol', 'label_atom_id', 'label_alt_id', 'label_comp_id', 'label_asym_id', 'label_entity_id', 'label_seq_id',
      'pdbx_PDB_ins_code', 'Cartn_x', 'Cartn_y', 'Cartn_z', 'occupancy', 'B_iso_or_equiv', 'pdbx_formal_charge', 'auth_seq_id', 'auth_comp_id',
      'auth_asym_id', 'auth_atom_id', 'pdbx_PDB_model_num',
    ].map((column) => `_atom_site.${column}`),
  ];
  let id = 0;
  residues.forEach((r, i) => {
    for (const atom of r.atoms) {
      const [x, y, z] = atom.at.map((v) => v.toFixed(3));
      const name = THREE[r.code]!;
      lines.push(`ATOM ${++id} ${atom.name[0]} ${atom.name} . ${name} A 1 ${i + 1} ? ${x} ${y} ${z} 1.0 ${r.plddt.toFixed(2)} 0 ${i + 1} ${name} A ${atom.name} 1`);
    }
  });
  lines.push('#', '');
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('alphafold-mmcif.ts')) process.stdout.write(alphaFoldMmcif());
