/**
 * The Structure page's Mol* side, without a browser: the 300-residue AlphaFold-format fixture
 * (committed file = generator output; our reader and Mol*'s read the same chain, backbone geometry
 * and pLDDT), BinaryCIF (written by Mol* from the fixture, read back by the page's reader), the
 * pLDDT bands, the contact filter (threshold, top L / L/2 / L/5, sequence separation) and the
 * residue wording shared by the clicked line and the tooltips, and the lookups by residue key that the
 * Mol* colour theme reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIF } from 'molstar/lib/mol-io/reader/cif';
import { trajectoryFromMmCIF } from 'molstar/lib/mol-model-formats/structure/mmcif';
import { Structure, type Model, type Trajectory } from 'molstar/lib/mol-model/structure';
import { to_mmCIF } from 'molstar/lib/mol-model/structure/export/mmcif';
import { describe, expect, it } from 'vitest';
import { colorOf, MISSING, PLDDT_BANDS, plddtBand } from '../../src-renderer/src/lib/structure/colors';
import { effectiveThreshold, selectContacts, topCount } from '../../src-renderer/src/lib/structure/contacts';
import { describePair, describeResidue } from '../../src-renderer/src/lib/structure/labels';
import { openStructure, parseStructure } from '../../src-renderer/src/lib/structure/parse';
import { positionsByResidue, secondaryColorsByResidue, trackColorsByResidue } from '../../src-renderer/src/lib/structure/residue-maps';
import { chainSequence, traceResidues } from '../../src-renderer/src/lib/structure/types';
import { alphaFoldMmcif, alphaFoldResidues, LENGTH } from '../support/alphafold-mmcif';
import { ROOT } from '../support/serve';

/** A trajectory's first model (Mol* gives it directly or as a task). */
async function firstModel(trajectory: Trajectory): Promise<Model> {
  const frame = trajectory.getFrameAtIndex(0);
  return 'run' in frame ? frame.run() : frame;
}

const FIXTURE = join(ROOT, 'test', 'fixtures', 'structures', 'AF-ESMSTUDIO300-F1-model_v4.cif');
const text = readFileSync(FIXTURE, 'utf8');
const residues = alphaFoldResidues();

describe('the AlphaFold-format fixture', () => {
  it('is the generator’s output (regenerate with the command in test/support/alphafold-mmcif.ts)', () => {
    expect(text).toBe(alphaFoldMmcif());
  });

  it('reads as one 300-residue chain with a full backbone, ideal Cα spacing and the file’s helices', () => {
    const structure = parseStructure('AF-ESMSTUDIO300-F1-model_v4.cif', text);
    expect(structure.chains).toHaveLength(1);
    const chain = structure.chains[0]!;
    expect(chain.residues).toHaveLength(LENGTH);
    expect(structure.atomCount).toBe(4 * LENGTH);
    expect(chainSequence(chain)).toBe(residues.map((r) => r.code).join(''));
    expect(structure.ssSource).toBe('file');
    // Helices as the generator laid them out (the file lists helices only, as AlphaFold's files do for this test).
    expect(traceResidues(chain).map((r) => r.ss === 'helix')).toEqual(residues.map((r) => r.kind === 'helix'));
    // Consecutive Cα atoms of a trans peptide are 3.80 Å apart; no two Cα further along the chain clash.
    const ca = traceResidues(chain).map((r) => r.ca!);
    const d = (i: number, j: number): number => Math.hypot(ca[i]!.x - ca[j]!.x, ca[i]!.y - ca[j]!.y, ca[i]!.z - ca[j]!.z);
    for (let i = 1; i < LENGTH; i++) expect(d(i, i - 1)).toBeCloseTo(3.8, 1);
    let closest = Infinity;
    for (let i = 0; i < LENGTH; i++) for (let j = i + 3; j < LENGTH; j++) closest = Math.min(closest, d(i, j));
    expect(closest).toBeGreaterThan(3.5);
  });

  it('carries pLDDT in the B-factor column, equal to _ma_qa_metric_local, covering all four AlphaFold bands', async () => {
    const parsed = await CIF.parseText(text).run();
    if (parsed.isError) throw new Error(parsed.message);
    const block = parsed.result.blocks[0]!;
    const atoms = block.categories['atom_site']!;
    const b = atoms.getField('B_iso_or_equiv')!;
    const seqId = atoms.getField('label_seq_id')!;
    const local = block.categories['ma_qa_metric_local']!;
    const metric = local.getField('metric_value')!;
    for (let row = 0; row < atoms.rowCount; row++) expect(b.float(row)).toBe(metric.float(seqId.int(row) - 1));
    const bands = new Set(residues.map((r) => plddtBand(r.plddt)));
    expect([...bands].sort()).toEqual([0, 1, 2, 3]);
    // And Mol* builds its model from the file: 300 residues in one chain.
    const trajectory = await trajectoryFromMmCIF(block).run();
    const model = await firstModel(trajectory);
    const structure = Structure.ofModel(model);
    expect(structure.polymerResidueCount).toBe(LENGTH);
  });
});

describe('BinaryCIF', () => {
  it('opens a .bcif written by Mol* from the fixture: the same chain and sequence as the text file', async () => {
    const parsed = await CIF.parseText(text).run();
    if (parsed.isError) throw new Error(parsed.message);
    const trajectory = await trajectoryFromMmCIF(parsed.result.blocks[0]!).run();
    const model = await firstModel(trajectory);
    const binary = to_mmCIF('AF', Structure.ofModel(model), true) as Uint8Array<ArrayBuffer>;
    expect(binary[0]! & 0xf0).toBe(0x80); // MessagePack map: not text
    const fromBinary = await openStructure('model.bcif', binary);
    expect(fromBinary.source.format).toBe('bcif');
    const fromText = parseStructure('model.cif', text);
    expect(chainSequence(fromBinary.structure.chains[0]!)).toBe(chainSequence(fromText.chains[0]!));
    expect(fromBinary.structure.atomCount).toBe(fromText.atomCount);
    const a = traceResidues(fromBinary.structure.chains[0]!)[150]!.ca!;
    const t = traceResidues(fromText.chains[0]!)[150]!.ca!;
    expect([a.x, a.y, a.z]).toEqual([t.x, t.y, t.z].map((v) => expect.closeTo(v, 2)));
    // Binary content is recognised without the extension too.
    expect((await openStructure('download', binary)).source.format).toBe('bcif');
    expect((await openStructure('AF.cif', new TextEncoder().encode(text))).source.format).toBe('mmcif');
  });
});

describe('pLDDT bands', () => {
  it('follow AlphaFold DB: > 90 very high, 70–90 confident, 50–70 low, below very low', () => {
    expect([99, 90.01, 90, 70.01, 70, 50.01, 50, 12].map(plddtBand)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(PLDDT_BANDS.map((b) => b.label)).toEqual(['Very high (> 90)', 'Confident (70–90)', 'Low (50–70)', 'Very low (< 50)']);
  });
});

describe('the contact filter', () => {
  // 10 residues; p(i, j) = (i + j) / 100 for j − i ≥ 2, symmetric, so the ranking is known by hand.
  const L = 10;
  const p = new Float64Array(L * L);
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) if (Math.abs(i - j) >= 2) p[i * L + j] = (i + j) / 100;

  it('keeps pairs at least `separation` apart above the threshold, strongest first', () => {
    const kept = selectContacts(p, L, { mode: 'threshold', threshold: 0.1, separation: 6 });
    // By hand: j − i ≥ 6 and i + j ≥ 10 leaves (3,9) .12, (2,9) .11, then the ties (1,9) and (2,8) at .10 in row order.
    expect(kept.map((c) => [c.i, c.j])).toEqual([[3, 9], [2, 9], [1, 9], [2, 8]]);
    expect(selectContacts(p, L, { mode: 'threshold', threshold: 0.1, separation: 7 }).map((c) => [c.i, c.j])).toEqual([[2, 9], [1, 9]]);
    expect(effectiveThreshold(kept, { mode: 'threshold', threshold: 0.1, separation: 6 })).toBe(0.1);
  });

  it('keeps the top L, L/2 and L/5 pairs at the separation, and names the weakest kept as the cut-off', () => {
    expect([topCount('L', 300), topCount('L/2', 300), topCount('L/5', 300), topCount('L/5', 3)]).toEqual([300, 150, 60, 1]);
    const all = expectedPairs(0, 3);
    for (const mode of ['L/2', 'L/5'] as const) {
      const kept = selectContacts(p, L, { mode, threshold: 0.9, separation: 3 });
      expect(kept.length).toBe(topCount(mode, L));
      expect(kept.map((c) => c.p)).toEqual(all.slice(0, kept.length).map(([i, j]) => (i + j) / 100));
      expect(effectiveThreshold(kept, { mode, threshold: 0.9, separation: 3 })).toBe(kept[kept.length - 1]!.p);
    }
  });

  /** Pairs i < j, j − i ≥ separation, with (i + j)/100 ≥ threshold, by decreasing i + j (ties: file order). */
  function expectedPairs(threshold: number, separation: number): [number, number][] {
    const pairs: [number, number][] = [];
    for (let i = 0; i < L; i++) for (let j = i + separation; j < L; j++) if ((i + j) / 100 >= threshold) pairs.push([i, j]);
    return pairs.sort((a, b) => b[0] + b[1] - (a[0] + a[1]));
  }
});

describe('residue wording', () => {
  const aligned = { seqId: 'hairpin_l5i', sequence: 'MSAEELIKRAEELLGMPDKALEELAKKLLEGS' };
  it('names the file’s chain, residue and author number, then the aligned position with its own letter', () => {
    expect(describeResidue({ chain: 'A', seq: 36, icode: '', name: 'ASP' }, 37, { seqId: 'x', sequence: 'A'.repeat(37) + 'D' }, 'A')).toBe(
      'chain A · ASP 36 (file numbering) · position 38 (D) of x',
    );
    expect(describeResidue({ chain: 'A', seq: 52, icode: 'A', name: 'GLY' }, null, aligned, 'A')).toBe('chain A · GLY 52A (file numbering) · not aligned to the sequence');
    expect(describeResidue({ chain: 'B', seq: 3, icode: '', name: 'LYS' }, null, aligned, 'A')).toBe('chain B · LYS 3 (file numbering) · chain A is the one aligned to the sequence');
    expect(describePair(2, 8, aligned)).toBe('positions 3 (A) and 9 (R) of hairpin_l5i');
  });
});

describe('lookups by residue key (what the Mol* colour theme reads)', () => {
  it('places each aligned residue of the chain at its sequence position and colours it from the track', () => {
    const structure = parseStructure('hairpin.pdb', readFileSync(join(ROOT, 'test', 'fixtures', 'structures', 'hairpin.pdb'), 'utf8'));
    const chain = structure.chains.find((c) => c.id === 'A')!;
    // Residue k of the trace sits at position k + 2, except the first, left unaligned.
    const aToB = traceResidues(chain).map((_, k) => (k === 0 ? -1 : k + 2));
    const positions = positionsByResidue(chain, aToB);
    expect(positions.size).toBe(traceResidues(chain).length - 1);
    expect(positions.get(`A:${traceResidues(chain)[0]!.seq}`)).toBeUndefined();
    expect(positions.get(`A:${traceResidues(chain)[5]!.seq}${traceResidues(chain)[5]!.icode}`)).toBe(7);
    const values = Array.from({ length: 40 }, (_, p) => (p === 7 ? 1 : p === 8 ? null : 0));
    const colors = trackColorsByResidue(positions, values, { kind: 'sequential', min: 0, max: 1 });
    const key = (k: number): string => `A:${traceResidues(chain)[k]!.seq}${traceResidues(chain)[k]!.icode}`;
    expect(colors.get(key(5))).toEqual(colorOf(1, { kind: 'sequential', min: 0, max: 1 }));
    expect(colors.get(key(6))).toBe(MISSING); // no value at position 8
    // Secondary structure covers every chain's residues, ligands aside.
    const secondary = secondaryColorsByResidue(structure);
    expect(secondary.size).toBe(structure.chains.reduce((n, c) => n + traceResidues(c).length, 0));
  });
});
