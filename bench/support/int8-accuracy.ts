/**
 * bench/support/int8-accuracy — how close an int8 model's results are to its fp32 model's:
 * `node --import tsx bench/support/int8-accuracy.ts <fp32Dir> <int8Dir> <length> <count>`.
 * Embeds `count` random sequences of `length` residues with both (last layer, mean-pooled) and
 * gives the cosine similarity of each pair; scores a saturation scan (every residue to each of
 * the 20 amino acids) of one 120-residue protein with both through variants/ (wild-type marginal
 * and masked marginal) and gives Spearman's ρ between them. Prints one JSON line.
 */
import { cosineSimilarity, spearman } from '../../src-main/core/stats';
import { Embedder } from '../../src-main/engine/embed';
import { ZeroShotModel } from '../../src-main/variants/model';
import { saturationScores, type ScoreMethod } from '../../src-main/variants/score';
import { randomSequences } from './embed-one';

export interface Int8Accuracy {
  cosineMin: number;
  cosineMedian: number;
  rho: Record<'wt-marginal' | 'masked-marginal', number>;
}

const SCAN_LENGTH = 120;

async function meanEmbeddings(modelDir: string, sequences: string[]): Promise<Float32Array[]> {
  const embedder = Embedder.open(modelDir);
  const vectors: Float32Array[] = [];
  try {
    await embedder.run(sequences, { layers: [-1], pool: ['mean'] }, (result) => {
      vectors[result.index] = [...result.pooled.values()][0]!;
    });
  } finally {
    await embedder.close();
  }
  return vectors;
}


async function scores(modelDir: string, wildType: string, method: ScoreMethod): Promise<Float64Array> {
  const model = await ZeroShotModel.open(modelDir);
  try {
    return await saturationScores(model, wildType, method);
  } finally {
    await model.close();
  }
}

const [fp32Dir, int8Dir, length, count] = process.argv.slice(2);
if (!fp32Dir || !int8Dir || !(Number(length) > 0) || !(Number(count) > 0)) throw new Error('usage: int8-accuracy.ts <fp32Dir> <int8Dir> <length> <count>');
const sequences = randomSequences(Number(count), Number(length), 7);
const [reference, quantised] = [await meanEmbeddings(fp32Dir, sequences), await meanEmbeddings(int8Dir, sequences)];
const cosines = reference.map((vector, i) => cosineSimilarity(vector, quantised[i]!)).sort((a, b) => a - b);
const wildType = randomSequences(1, SCAN_LENGTH, 11)[0]!;
const rho = { 'wt-marginal': 0, 'masked-marginal': 0 };
for (const method of ['wt-marginal', 'masked-marginal'] as const) rho[method] = spearman(await scores(fp32Dir, wildType, method), await scores(int8Dir, wildType, method));
const result: Int8Accuracy = { cosineMin: cosines[0]!, cosineMedian: cosines[Math.floor(cosines.length / 2)]!, rho };
console.log(JSON.stringify(result));
