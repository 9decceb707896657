/**
 * Signal peptides in the project (issue 16), prediction side: the per-residue decoding (region
 * tracks, cleavage probabilities against brute-force enumeration of every path, Viterbi segments),
 * SignalP 6.0's export formats against hand-written lines, PEFT-SP's six arrangements, and a tiny
 * run of the 8M golden model — test predictions consistent with the Viterbi path, the table equal to
 * learn/signal-peptide-metrics on those predictions, a resumed run equal to an uninterrupted one,
 * and a reopened run predicting new sequences as training did.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src-main/core/rng';
import { SIGNALP_TYPES } from '../../src-main/datasets/signalp';
import { signalpGff3Text, signalpSummaryText, signalPeptideCsvText, type SignalPeptideExportRow } from '../../src-main/exports/signal-peptide';
import { csF1, meanOverRuns, selectionMetrics, signalPeptideRunMetrics, type SignalPeptidePrediction } from '../../src-main/learn/signal-peptide-metrics';
import { convertCheckpoint } from '../../src-main/models/installed';
import { CLEAVAGE_STATES, crfMarginals, type EmissionBatch } from '../../src-main/train/crf';
import { cleavageProbabilities, regionTracks, SIGNALP_TRACKS, STATE_TRACK, viterbiSegments } from '../../src-main/train/crf/signalp-decode';
import { cvArrangements, runSignalPeptideCrossValidation } from '../../src-main/train/signal-peptide-cv';
import { openTrainedSignalPeptide, predictSignalPeptideInputs } from '../../src-main/train/signal-peptide-model';
import { benchmarkSummary, predictionInputsFromText, readPredictions, readTracks } from '../../src-main/train/signal-peptide-predictions';
import { runSignalPeptideFinetune, SIGNAL_PEPTIDE_DEFAULTS, type SignalPeptideSettings } from '../../src-main/train/signal-peptide';

const FIXTURES = join(__dirname, '..', 'fixtures', 'golden');
const DATA = join(FIXTURES, 'signalp-tiny', 'data.fasta');

describe('per-residue decoding', () => {
  const S = 37;
  const L = 3;
  const rng = new SeededRng(5);
  const random = (n: number, scale: number): Float64Array => Float64Array.from({ length: n }, () => scale * (rng.next() - 0.5));
  const params = { states: S, transitions: random(S * S, 4), start: random(S, 4), end: random(S, 4) };
  const batch: EmissionBatch = { batch: 1, steps: L, states: S, emissions: random(L * S, 6), lengths: [L] };

  it('gives P(the signal peptide ends at t) equal to brute-force enumeration of all 37³ paths', () => {
    const isCs = (s: number): boolean => CLEAVAGE_STATES.includes(s);
    const expected = new Float64Array(L);
    let z = 0;
    for (let a = 0; a < S; a++) {
      for (let b = 0; b < S; b++) {
        for (let c = 0; c < S; c++) {
          const path = [a, b, c];
          let score = params.start[a]! + params.end[c]!;
          path.forEach((s, t) => (score += batch.emissions[t * S + s]! + (t > 0 ? params.transitions[path[t - 1]! * S + s]! : 0)));
          const w = Math.exp(score);
          z += w;
          path.forEach((s, t) => {
            if (isCs(s) && (t === L - 1 || !isCs(path[t + 1]!))) expected[t]! += w;
          });
        }
      }
    }
    const got = cleavageProbabilities(batch, 0, params);
    expected.forEach((value, t) => expect(got[t]).toBeCloseTo(value / z, 12));
  });

  it('splits the marginals into seven region tracks that sum to 1 per residue', () => {
    const { marginals } = crfMarginals(batch, params);
    const tracks = regionTracks(marginals, 0, L);
    expect(tracks).toHaveLength(SIGNALP_TRACKS.length);
    for (let t = 0; t < L; t++) expect(tracks.reduce((sum, track) => sum + track[t]!, 0)).toBeCloseTo(1, 12);
    // The h track is the sum of the five h states' marginals.
    const h = [4, 10, 18, 25, 33].reduce((sum, s) => sum + marginals[s]!, 0);
    expect(tracks[SIGNALP_TRACKS.indexOf('h')]![0]).toBeCloseTo(h, 12);
    expect(STATE_TRACK[12]).toBe(SIGNALP_TRACKS.indexOf('other'));
  });

  it('cuts a Viterbi path into 1-based inclusive regions', () => {
    // LIPO: N N H H CS CS C1 O O M M I (states 9,9,10,10,11,11,12,15,15,14,14,13)
    const path = [9, 9, 10, 10, 11, 11, 12, 15, 15, 14, 14, 13, -1];
    expect(viterbiSegments(path, 12)).toEqual([
      { region: 'n', start: 1, end: 2 },
      { region: 'h', start: 3, end: 4 },
      { region: 'lipobox', start: 5, end: 6 },
      { region: 'cys', start: 7, end: 7 },
      { region: 'outside', start: 8, end: 9 },
      { region: 'membrane', start: 10, end: 11 },
      { region: 'inside', start: 12, end: 12 },
    ]);
  });
});

describe('SignalP 6.0 exports', () => {
  const probs = (p: Partial<Record<(typeof SIGNALP_TYPES)[number], number>>) => ({ NO_SP: 0, SP: 0, LIPO: 0, TAT: 0, TATLIPO: 0, PILIN: 0, ...p });
  const rows: SignalPeptideExportRow[] = [
    {
      id: 'SYN0001',
      kingdom: 'EUKARYA',
      partition: 0,
      arrangement: 0,
      trueType: 'SP',
      trueCleavageSite: 22,
      predictedType: 'SP',
      probability: 0.9512,
      typeProbabilities: probs({ NO_SP: 0.0488, SP: 0.9512 }),
      cleavageSite: 22,
      cleavageProbability: 0.8731,
      segments: [
        { region: 'n', start: 1, end: 5 },
        { region: 'h', start: 6, end: 16 },
        { region: 'c', start: 17, end: 22 },
        { region: 'outside', start: 23, end: 60 },
      ],
    },
    {
      id: 'my protein',
      kingdom: null,
      partition: null,
      arrangement: 0,
      trueType: null,
      trueCleavageSite: null,
      predictedType: 'NO_SP',
      probability: 0.99,
      typeProbabilities: probs({ NO_SP: 0.99, TAT: 0.01 }),
      cleavageSite: 12,
      cleavageProbability: 0.02,
      segments: [{ region: 'inside', start: 1, end: 40 }],
    },
  ];

  it('writes prediction_results.txt: header lines, six probabilities, the CS line only for a signal peptide', () => {
    const lines = signalpSummaryText(rows, { timestamp: '20261207120000' }).split('\n');
    expect(lines[0]).toBe('# SignalP-6.0 format (ESM Studio, PEFT-SP model)\tOrganism: Other\tTimestamp: 20261207120000');
    expect(lines[1]).toBe('# ID\tPrediction\tOTHER\tSP(Sec/SPI)\tLIPO(Sec/SPII)\tTAT(Tat/SPI)\tTATLIPO(Tat/SPII)\tPILIN(Sec/SPIII)\tCS Position');
    expect(lines[2]).toBe('SYN0001\tSP\t0.048800\t0.951200\t0.000000\t0.000000\t0.000000\t0.000000\tCS pos: 22-23. Pr: 0.8731');
    expect(lines[3]).toBe('my protein\tOTHER\t0.990000\t0.000000\t0.000000\t0.010000\t0.000000\t0.000000\t');
    expect(lines).toHaveLength(5);
  });

  it('writes the signal peptide and its regions as GFF3, none for a protein without one', () => {
    expect(signalpGff3Text(rows)).toBe(
      [
        '##gff-version 3',
        'SYN0001\tESM-Studio\tsignal_peptide\t1\t22\t0.8731\t.\t.\tNote=Sec/SPI',
        'SYN0001\tESM-Studio\tn-region\t1\t5\t.\t.\t.\t.',
        'SYN0001\tESM-Studio\th-region\t6\t16\t.\t.\t.\t.',
        'SYN0001\tESM-Studio\tc-region\t17\t22\t.\t.\t.\t.',
        '',
      ].join('\n'),
    );
  });

  it('writes every field as CSV (empty where unknown, 1-based arrangement)', () => {
    const lines = signalPeptideCsvText(rows).split('\n');
    expect(lines[0]).toBe('id,kingdom,partition,arrangement,true_type,true_cs,predicted_type,probability,p_NO_SP,p_SP,p_LIPO,p_TAT,p_TATLIPO,p_PILIN,cs_position,cs_probability');
    expect(lines[1]).toBe('SYN0001,EUKARYA,0,1,SP,22,SP,0.9512,0.0488,0.9512,0,0,0,0,22,0.8731');
    expect(lines[2]).toBe('my protein,,,1,,,NO_SP,0.99,0.99,0,0,0.01,0,0,12,0.02');
  });
});

describe("PEFT-SP's cross-validation arrangements", () => {
  it('are six, each a train/validation/test permutation, and test every partition exactly twice', () => {
    const arrangements = cvArrangements([0, 1, 2]);
    expect(arrangements).toHaveLength(6);
    for (const a of arrangements) expect(new Set([a.train, a.validation, a.test]).size).toBe(3);
    expect(new Set(arrangements.map((a) => `${a.train}${a.validation}${a.test}`)).size).toBe(6);
    for (const p of [0, 1, 2]) {
      expect(arrangements.filter((a) => a.test === p)).toHaveLength(2);
      expect(arrangements.filter((a) => a.train === p)).toHaveLength(2);
    }
    expect(() => cvArrangements([0, 1, 1])).toThrow(/three different partitions/);
  });
});

describe('a signal-peptide run of the 8M golden model', () => {
  let modelDir: string;
  const text = readFileSync(DATA, 'utf8');
  const d = SIGNAL_PEPTIDE_DEFAULTS;
  const settings: SignalPeptideSettings = {
    lora: { r: 4, alpha: 8, dropout: d.loraDropout, targets: ['query', 'value'], layers: 1 },
    epochs: 2,
    batchSize: d.batchSize,
    lr: 0.005,
    maxGradNorm: d.maxGradNorm,
    seed: 3,
    trainPartitions: [0],
    validationPartitions: [1],
    testPartitions: [2],
  };
  let outDir: string;

  beforeAll(async () => {
    modelDir = join(mkdtempSync(join(tmpdir(), 'signal-peptide-predict-')), 'model');
    await convertCheckpoint(join(FIXTURES, 'esm2-8M-random', 'checkpoint'), modelDir, { appVersion: 'test' });
    outDir = mkdtempSync(join(tmpdir(), 'signal-peptide-run-'));
    await runSignalPeptideFinetune({ modelDir, outDir, fileName: 'data.fasta', text, settings });
  }, 300_000);

  it('predicts the test partition: types from the probabilities, cleavage sites from the Viterbi regions', () => {
    const { proteins, arrangements } = readPredictions(outDir);
    expect(proteins).toHaveLength(39);
    expect(proteins.every((p) => p.partition === 2 && p.trueType !== null)).toBe(true);
    expect(arrangements).toEqual([{ train: [0], validation: [1], test: [2], state: 'done', bestEpoch: expect.any(Number) }]);
    proteins.forEach((protein, index) => {
      const best = SIGNALP_TYPES.reduce((a, b) => (protein.typeProbabilities[b] > protein.typeProbabilities[a] ? b : a));
      expect(protein.predictedType).toBe(best);
      expect(protein.probability).toBe(protein.typeProbabilities[best]);
      // The cleavage states are drawn as c, lipobox or pilin regions: the site is where the last of those ends.
      const last = protein.segments.filter((s) => ['c', 'lipobox', 'pilin'].includes(s.region)).at(-1);
      expect(protein.cleavageSite).toBe(last ? last.end : null);
      expect(protein.segments[0]!.start).toBe(1);
      expect(protein.segments.at(-1)!.end).toBe(protein.predictedLength);
      const tracks = readTracks(outDir, index, protein.predictedLength);
      for (let t = 0; t < protein.predictedLength; t++) expect(tracks.regions.reduce((sum, track) => sum + track[t]!, 0)).toBeCloseTo(1, 3);
      expect(tracks.cleavage.every((p) => p >= 0 && p <= 1)).toBe(true);
    });
  });

  it('scores them with learn/signal-peptide-metrics (one run: the table is that run)', () => {
    const { proteins } = readPredictions(outDir);
    const rows: SignalPeptidePrediction[] = proteins.map((p) => ({
      kingdom: p.kingdom!,
      trueType: SIGNALP_TYPES.indexOf(p.trueType!),
      predType: SIGNALP_TYPES.indexOf(p.predictedType),
      trueCs: p.trueCleavageSite ?? -1,
      predCs: p.cleavageSite ?? -1,
    }));
    const metrics = signalPeptideRunMetrics(rows);
    const f1 = csF1(metrics);
    const selection = selectionMetrics(rows);
    const table = benchmarkSummary(proteins)!;
    expect(table.runs).toBe(1);
    expect(table.cells).toHaveLength(16);
    const orNull = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? null : v);
    for (const cell of table.cells) {
      const prefix = `${cell.kingdom}_${cell.type}`;
      expect(cell.mcc2).toBe(orNull(metrics[`${prefix}_mcc2`]));
      expect(cell.mcc1).toBe(orNull(metrics[`${prefix}_mcc1`]));
      expect(cell.recall).toEqual([0, 1, 2, 3].map((w) => orNull(metrics[`${prefix}_recall_window_${w}`])));
      expect(cell.precision).toEqual([0, 1, 2, 3].map((w) => orNull(metrics[`${prefix}_precision_window_${w}`])));
      expect(cell.f1).toEqual([0, 1, 2, 3].map((w) => orNull(f1[`${prefix}_f1_window_${w}`])));
    }
    expect(table.selection.detectionMcc).toBe(orNull(selection['Detection MCC']));
    // Two runs of the same predictions average to themselves.
    expect(meanOverRuns([metrics, metrics])[`EUKARYA_SP_mcc2`]).toBe(metrics['EUKARYA_SP_mcc2']);
  });

  it('resumes after a cancel and ends exactly as the uninterrupted run', async () => {
    const resumedDir = mkdtempSync(join(tmpdir(), 'signal-peptide-resumed-'));
    const controller = new AbortController();
    await expect(
      runSignalPeptideFinetune({ modelDir, outDir: resumedDir, fileName: 'data.fasta', text, settings, signal: controller.signal, onEpoch: (entry) => entry.epoch === 1 && controller.abort() }),
    ).rejects.toThrow();
    const epochs: number[] = [];
    const summary = await runSignalPeptideFinetune({ modelDir, outDir: resumedDir, fileName: 'data.fasta', text, settings, onEpoch: (entry) => epochs.push(entry.epoch) });
    expect(epochs).toEqual([2]);
    const original = JSON.parse(readFileSync(join(outDir, 'training.json'), 'utf8')) as { history: unknown; steps: number };
    expect(summary.history).toEqual(original.history);
    expect(summary.steps).toBe(original.steps);
    expect(readFileSync(join(resumedDir, 'crf.safetensors')).equals(readFileSync(join(outDir, 'crf.safetensors')))).toBe(true);
    expect(readFileSync(join(resumedDir, 'adapter_model.safetensors')).equals(readFileSync(join(outDir, 'adapter_model.safetensors')))).toBe(true);
    expect(readPredictions(resumedDir).proteins).toEqual(readPredictions(outDir).proteins);
  }, 300_000);

  it('reopens the run and predicts new sequences (plain FASTA, no kingdom) as it predicted the test partition', async () => {
    const { proteins } = readPredictions(outDir);
    const fasta = proteins.slice(0, 5).map((p) => `>${p.id} new\n${p.sequence}\n`).join('');
    const inputs = predictionInputsFromText('new.fasta', fasta, null);
    expect(inputs.every((i) => i.kingdom === null && i.type === null)).toBe(true);
    const model = await openTrainedSignalPeptide(outDir, { baseModelDir: modelDir });
    try {
      expect(model.usesKingdom).toBe(false);
      const set = await predictSignalPeptideInputs(model, inputs);
      set.proteins.forEach((p, k) => {
        expect(p.predictedType).toBe(proteins[k]!.predictedType);
        expect(p.cleavageSite).toBe(proteins[k]!.cleavageSite);
        expect(p.segments).toEqual(proteins[k]!.segments);
        expect(p.trueType).toBeNull();
      });
      expect(benchmarkSummary(set.proteins)).toBeNull();
    } finally {
      await model.close();
    }
    expect(() => predictionInputsFromText('bad.fasta', '>a\nMKV1L\n', null)).toThrow(/bad\.fasta, line 1: a has "1" at position 4/);
  }, 120_000);

  it('cross-validates over the six arrangements, resumes after a cancel without redoing finished ones, and averages per run', async () => {
    const cvDir = mkdtempSync(join(tmpdir(), 'signal-peptide-cv-'));
    const { trainPartitions: _t, validationPartitions: _v, testPartitions: _x, ...rest } = settings;
    const cvSettings = { ...rest, epochs: 1, lora: { ...rest.lora, r: 2 } };
    const controller = new AbortController();
    const first: number[] = [];
    const options = { modelDir, outDir: cvDir, fileName: 'data.fasta', text, partitions: [0, 1, 2], settings: cvSettings };
    await expect(
      runSignalPeptideCrossValidation({ ...options, signal: controller.signal, onEpoch: (entry, _step, arrangement) => {
        first.push(arrangement);
        if (arrangement === 2 && entry.epoch === 1) controller.abort();
      } }),
    ).rejects.toThrow();
    expect([...new Set(first)]).toEqual([0, 1, 2]);
    const second: number[] = [];
    const summary = await runSignalPeptideCrossValidation({ ...options, onEpoch: (_entry, _step, arrangement) => second.push(arrangement) });
    // Arrangements 1 and 2 were finished, the third had finished its only epoch: only 4–6 train again.
    expect([...new Set(second)]).toEqual([3, 4, 5]);
    expect(summary.arrangements).toBe(6);
    const { proteins, arrangements } = readPredictions(cvDir);
    expect(arrangements.map((a) => a.test[0])).toEqual(cvArrangements([0, 1, 2]).map((a) => a.test));
    expect(proteins).toHaveLength(2 * 117);
    const seen = new Map<string, number>();
    for (const p of proteins) seen.set(p.id, (seen.get(p.id) ?? 0) + 1);
    expect([...seen.values()].every((n) => n === 2)).toBe(true);
    for (const p of proteins) expect(p.partition).toBe(arrangements[p.arrangement]!.test[0]);
    // The table is the mean over the six runs of each run's own metrics.
    const runs = [0, 1, 2, 3, 4, 5].map((a) => signalPeptideRunMetrics(proteins.filter((p) => p.arrangement === a).map((p) => ({
      kingdom: p.kingdom!, trueType: SIGNALP_TYPES.indexOf(p.trueType!), predType: SIGNALP_TYPES.indexOf(p.predictedType), trueCs: p.trueCleavageSite ?? -1, predCs: p.cleavageSite ?? -1,
    }))));
    const mean = meanOverRuns(runs);
    const table = benchmarkSummary(proteins)!;
    expect(table.runs).toBe(6);
    for (const cell of table.cells) {
      const expected = mean[`${cell.kingdom}_${cell.type}_mcc2`];
      expect(cell.mcc2).toBe(expected === undefined || Number.isNaN(expected) ? null : expected);
    }
    expect(summary.meanMcc2).toBe(table.meanMcc2);
  }, 600_000);
});
