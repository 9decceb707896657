/**
 * LoRA, prompt tuning and bottleneck adapters on the PEFT-SP task (issue 16): each trains the 8M
 * golden ESM-2 (random weights) with the emission head and the CRF on the golden SignalP file
 * (trained on partition 0, validated on 1, tested on 2), and the validation loss falls. The runs
 * predict the held-out partition; their detection MCC there (multiclass MCC of the six types,
 * averaged over kingdoms, as PEFT-SP selects models) is printed only: three epochs on 39 proteins
 * are too few for a random-weight model to separate the types. Measured once, too slow for a unit
 * test (35 minutes on the shared 2 cores): LoRA r 8, α 8 on q/k/v/o of all layers, head and CRF
 * trained, Adamax lr 0.005, partitions 0+1 for 25 epochs → detection MCC on partition 2 of 0.374
 * after the last epoch and 0.439 at the best epoch (23; CS MCC 0.367), against 0.35 for the same
 * setting in PEFT's PyTorch check (signalp-tiny README) and 0 for chance. A prompt run and an
 * adapter run reopened from their folders predict what they predicted at the end of training.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PeftChoice } from '../../src-main/api/schemas';
import { readSignalpFasta, type SignalpRecord } from '../../src-main/datasets/signalp';
import { selectionMetrics, type SignalPeptidePrediction } from '../../src-main/learn/signal-peptide-metrics';
import { convertCheckpoint } from '../../src-main/models/installed';
import { inputOfRecord, runSignalPeptideFinetune, SIGNAL_PEPTIDE_DEFAULTS, type SignalPeptideSummary } from '../../src-main/train/signal-peptide';
import { openTrainedSignalPeptide, predictSignalPeptideInputs } from '../../src-main/train/signal-peptide-model';
import { metricRow, readPredictions } from '../../src-main/train/signal-peptide-predictions';

const FIXTURES = join(__dirname, '..', 'fixtures', 'golden');
const DATA = join(FIXTURES, 'signalp-tiny', 'data.fasta');
const TEXT = readFileSync(DATA, 'utf8');
const EPOCHS = 3;

let modelDir: string;
let records: SignalpRecord[];

interface Run {
  outDir: string;
  summary: SignalPeptideSummary;
  detectionMcc: number;
}

async function train(name: string, peft: PeftChoice, lr: number): Promise<Run> {
  const outDir = mkdtempSync(join(tmpdir(), `peft-sp-${name}-`));
  const d = SIGNAL_PEPTIDE_DEFAULTS;
  const summary = await runSignalPeptideFinetune({
    modelDir,
    outDir,
    fileName: 'data.fasta',
    text: TEXT,
    settings: {
      lora: { r: d.loraR, alpha: d.loraAlpha, dropout: d.loraDropout, targets: d.loraTargets, layers: 2 },
      peft,
      epochs: EPOCHS,
      batchSize: d.batchSize,
      lr,
      maxGradNorm: d.maxGradNorm,
      seed: 1,
      trainPartitions: [0],
      validationPartitions: [1],
      testPartitions: [2],
      threads: 2,
    },
  });
  const rows = readPredictions(outDir).proteins.map(metricRow).filter((r): r is SignalPeptidePrediction => r !== null);
  return { outDir, summary, detectionMcc: selectionMetrics(rows)['Detection MCC']! };
}

const PEFT = (method: PeftChoice['method'], extra: Partial<PeftChoice> = {}): PeftChoice => ({ method, prompt: { length: 10, layers: 2 }, adapter: { size: 16, layers: 2 }, ...extra });
const runs = new Map<string, Run>();

beforeAll(async () => {
  modelDir = join(mkdtempSync(join(tmpdir(), 'peft-sp-model-')), 'model');
  await convertCheckpoint(join(FIXTURES, 'esm2-8M-random', 'checkpoint'), modelDir, { appVersion: 'test' });
  records = readSignalpFasta('data.fasta', TEXT).records;
  runs.set('lora', await train('lora', PEFT('lora'), SIGNAL_PEPTIDE_DEFAULTS.lr));
  runs.set('prompt', await train('prompt', PEFT('prompt'), SIGNAL_PEPTIDE_DEFAULTS.lr));
  runs.set('adapter', await train('adapter', PEFT('adapter'), SIGNAL_PEPTIDE_DEFAULTS.lr));
  for (const [name, run] of runs) {
    const losses = run.summary.history.map((e) => e.valLoss!.toFixed(2)).join(' → ');
    console.log(`PEFT-SP ${name} on the 8M golden model: validation loss ${losses}; held-out (partition 2) detection MCC ${run.detectionMcc.toFixed(3)}`);
  }
}, 600_000);

describe('the three PEFT methods on signal peptides', () => {
  for (const name of ['lora', 'prompt', 'adapter']) {
    it(`${name}: the validation loss falls`, () => {
      const { summary } = runs.get(name)!;
      const losses = summary.history.map((e) => e.valLoss!);
      expect(summary.history.length).toBe(EPOCHS + 1);
      expect(losses.at(-1)!, losses.join(', ')).toBeLessThan(0.8 * losses[0]!);
    });
  }

  it('saves each method in its own format', () => {
    const type = (name: string): unknown => (JSON.parse(readFileSync(join(runs.get(name)!.outDir, 'adapter_config.json'), 'utf8')) as { peft_type: string }).peft_type;
    expect([type('lora'), type('prompt'), type('adapter')]).toEqual(['LORA', 'PROMPT_TUNING', 'BOTTLENECK']);
  });

  it('a prompt run and an adapter run reopened from their folders predict what they predicted after training', { timeout: 120_000 }, async () => {
    const test = records.filter((r) => r.partition === 2);
    for (const name of ['prompt', 'adapter']) {
      const { outDir } = runs.get(name)!;
      const model = await openTrainedSignalPeptide(outDir, { baseModelDir: modelDir });
      try {
        const again = await predictSignalPeptideInputs(model, test.map(inputOfRecord));
        const stored = readPredictions(outDir).proteins;
        expect(again.proteins.map((p) => [p.id, p.predictedType, p.cleavageSite])).toEqual(stored.map((p) => [p.id, p.predictedType, p.cleavageSite]));
        again.proteins.forEach((p, i) => expect(Math.abs(p.probability - stored[i]!.probability), p.id).toBeLessThan(1e-3));
      } finally {
        await model.close();
      }
    }
  });
});
