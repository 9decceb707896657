/**
 * The signal-peptide views' arithmetic (src-renderer/src/lib/signal-peptide): the region of every
 * residue from decoded segments, the sequence cut into coloured runs, the legend's regions, the
 * cleavage site in SignalP's words, the table sort (missing values last both ways), the plot's
 * geometry, the per-kingdom table's grouping and mean, the partitions of a SignalP dataset.
 */
import { describe, expect, it } from 'vitest';
import {
  cleavageText,
  isSignalpDataset,
  isSignalPeptideRun,
  kingdomGroups,
  legendRegions,
  meanDefined,
  metricText,
  partitionCounts,
  partitionProblems,
  probabilityPath,
  probabilityY,
  residueRegions,
  residueTicks,
  residueX,
  sequenceLines,
  sortRows,
  type KingdomCell,
} from '../../src-renderer/src/lib/signal-peptide';

describe('regions of a protein', () => {
  const segments = [
    { region: 'n', start: 1, end: 4 },
    { region: 'h', start: 5, end: 12 },
    { region: 'c', start: 13, end: 16 },
    { region: 'outside', start: 17, end: 20 },
  ];

  it('gives each residue the region of the segment that covers it (1-based, inclusive), null elsewhere', () => {
    const regions = residueRegions(22, segments);
    expect(regions.slice(0, 5)).toEqual(['n', 'n', 'n', 'n', 'h']);
    expect(regions[15]).toBe('c');
    expect(regions[16]).toBe('outside');
    expect(regions.slice(20)).toEqual([null, null]);
    // A segment running past the sequence is clipped, not grown.
    expect(residueRegions(3, [{ region: 'n', start: 2, end: 9 }])).toEqual([null, 'n', 'n']);
  });

  it('cuts the sequence into lines and same-region runs that rebuild it', () => {
    const sequence = 'MKKLLLAVAALLLSGCAQAEKD';
    const lines = sequenceLines(sequence, residueRegions(sequence.length, segments), 10);
    expect(lines).toHaveLength(3);
    expect(lines.flat().map((run) => run.text).join('')).toBe(sequence);
    // A region change and a line end both start a new run; each run knows its first position.
    expect(lines[0]).toEqual([
      { start: 1, text: 'MKKL', region: 'n' },
      { start: 5, text: 'LLAVAA', region: 'h' },
    ]);
    expect(lines[1]![0]).toEqual({ start: 11, text: 'LL', region: 'h' });
    expect(lines[2]).toEqual([{ start: 21, text: 'KD', region: null }]);
  });

  it('lists in the legend the coloured regions present, in legend order, without the uncoloured topology', () => {
    expect(legendRegions(['c', 'n', null, 'outside', 'h', 'n'])).toEqual(['n', 'h', 'c']);
    expect(legendRegions(['lipobox', 'cys', 'membrane', 'inside'])).toEqual(['lipobox', 'cys', 'membrane']);
    // An id a newer back end sends is still listed (last), not dropped.
    expect(legendRegions(['n', 'novel'])).toEqual(['n', 'novel']);
  });

  it('says where the signal peptide is cut as SignalP does, with the residues around the cut', () => {
    expect(cleavageText(22)).toBe('22–23');
    expect(cleavageText(4, 'MKLAVSQ')).toBe('4–5 (KLA-VS)');
    expect(cleavageText(null)).toBe('—');
    expect(cleavageText(-1)).toBe('—');
  });
});

describe('sorting the predictions', () => {
  const rows = [
    { id: 'b', p: 0.5, cs: 20 },
    { id: 'a', p: Number.NaN, cs: -1 },
    { id: 'c', p: 0.9, cs: null },
    { id: 'd', p: 0.1, cs: 18 },
  ];

  it('sorts numbers by value and text alphabetically, both ways', () => {
    expect(sortRows(rows, (r) => r.p, 'desc').map((r) => r.id)).toEqual(['c', 'b', 'd', 'a']);
    expect(sortRows(rows, (r) => r.id, 'asc').map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(sortRows(rows, (r) => r.id, 'desc').map((r) => r.id)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('puts missing values (null, NaN, a cleavage site of −1) last whichever the direction', () => {
    expect(sortRows(rows, (r) => r.cs, 'asc').map((r) => r.id)).toEqual(['d', 'b', 'a', 'c']);
    expect(sortRows(rows, (r) => r.cs, 'desc').map((r) => r.id)).toEqual(['b', 'd', 'a', 'c']);
    expect(sortRows(rows, (r) => r.p, 'asc').map((r) => r.id)).toEqual(['d', 'b', 'c', 'a']);
  });
});

describe('the probability plot', () => {
  const frame = { width: 110, height: 120, left: 10, right: 0, top: 10, bottom: 10 };

  it('puts residues at the centres of equal slots and probabilities between the axes', () => {
    expect(residueX(1, 10, frame)).toBeCloseTo(15);
    expect(residueX(10, 10, frame)).toBeCloseTo(105);
    expect(probabilityY(0, frame)).toBe(110);
    expect(probabilityY(1, frame)).toBe(10);
    expect(probabilityY(0.5, frame)).toBe(60);
    // Values outside [0, 1] (rounding) and non-numbers stay inside the frame.
    expect(probabilityY(1.0000001, frame)).toBe(10);
    expect(probabilityY(Number.NaN, frame)).toBe(110);
  });

  it('draws one path point per residue', () => {
    expect(probabilityPath([0, 1, 0.5], frame)).toBe('M26.7,110.0 L60.0,10.0 L93.3,60.0');
    expect(probabilityPath([], frame)).toBe('');
  });

  it('marks residue 1 and round positions along the axis', () => {
    expect(residueTicks(70)).toEqual([1, 10, 20, 30, 40, 50, 60, 70]);
    expect(residueTicks(7)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(residueTicks(0)).toEqual([]);
  });
});

describe('the per-kingdom table', () => {
  const cell = (kingdom: string, type: string, mcc2: number | null): KingdomCell => ({ kingdom, type, mcc1: mcc2, mcc2, recall: [0, 0, 0, 0], precision: [null, null, null, null] });

  it('groups the cells by kingdom in SignalP order, types in SignalP order', () => {
    const groups = kingdomGroups([cell('ARCHAEA', 'TAT', 0.5), cell('ARCHAEA', 'SP', 0.7), cell('EUKARYA', 'SP', 0.9), cell('NEGATIVE', 'PILIN', null), cell('NEGATIVE', 'LIPO', 0.8)]);
    expect(groups.map((g) => g.kingdom)).toEqual(['EUKARYA', 'NEGATIVE', 'ARCHAEA']);
    expect(groups[1]!.cells.map((c) => c.type)).toEqual(['LIPO', 'PILIN']);
    expect(groups[2]!.cells.map((c) => c.type)).toEqual(['SP', 'TAT']);
  });

  it('averages the defined MCC2 values only, and prints undefined metrics as a dash', () => {
    expect(meanDefined([0.5, null, 0.7, Number.NaN])).toBeCloseTo(0.6);
    expect(meanDefined([null])).toBeNaN();
    expect(metricText(0.83)).toBe('0.830');
    expect(metricText(null)).toBe('—');
    expect(metricText(Number.NaN)).toBe('—');
  });
});

describe('SignalP datasets and runs', () => {
  it('knows a SignalP dataset by its four columns', () => {
    const columns = (...names: string[]) => ({ labelColumns: names.map((name) => ({ name })) });
    expect(isSignalpDataset(columns('kingdom', 'type', 'partition', 'residue_labels'))).toBe(true);
    expect(isSignalpDataset(columns('kingdom', 'type', 'partition'))).toBe(false);
    expect(isSignalPeptideRun('train.signalPeptide')).toBe(true);
    expect(isSignalPeptideRun('train.signalPeptideCv')).toBe(true);
    expect(isSignalPeptideRun('train.finetune')).toBe(false);
  });

  it('counts the proteins of each partition, in order, skipping unreadable ones', () => {
    expect([...partitionCounts(['2', '0', 0, '1', '2', null, 'x', '-1', '1.5'])]).toEqual([
      [0, 2],
      [1, 1],
      [2, 2],
    ]);
  });

  it('refuses partition choices that cannot train or that test on the training proteins', () => {
    expect(partitionProblems({ 0: 'train', 1: 'validation', 2: 'test' })).toBeNull();
    expect(partitionProblems({ 0: 'test', 1: 'validation' })).toMatch(/at least one partition to train/);
    expect(partitionProblems({ 0: 'train', 1: 'train' })).toMatch(/Keep one partition out/);
  });
});
